package protocol_test

import (
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/sync/protocol"
)

// demoChanges returns the changes that create every record of d, as a
// server's log would hold them after an import, on the wire.
func demoChanges(tb testing.TB, d *demo.Data) []protocol.Change {
	tb.Helper()
	clock := domain.NewClock(demo.Device, func() time.Time { return now })
	var out []protocol.Change
	for _, r := range d.Records() {
		f, err := domain.Encode(r)
		if err != nil {
			tb.Fatal(err)
		}
		m := r.Metadata()
		c, err := protocol.FromDomain(domain.Change{ID: id("create " + m.ID.String()), Kind: r.Kind(), Record: m.ID,
			Author: m.Author, Stamp: clock.Now(), Fields: f})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// pages splits changes the way a server fills pages: up to PageBytes by
// Change.Size, at least one change a page.
func pages(changes []protocol.Change) [][]protocol.Change {
	var out [][]protocol.Change
	for len(changes) > 0 {
		n, size := 0, 0
		for n < len(changes) && (n == 0 || size+changes[n].Size() <= protocol.PageBytes) {
			size += changes[n].Size()
			n++
		}
		out = append(out, changes[:n])
		changes = changes[n:]
	}
	return out
}

// TestPageBudget measures a first sync of the demo village and of a town
// through pages of PageBytes: every full page must carry at least 1 MB
// compressed, so that a first sync needs at most one request per MB.
func TestPageBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("generates and encodes a town: slow in -short and -race")
	}
	town := demo.Town(1, now, 5000)
	for _, tc := range []struct {
		name string
		data *demo.Data
	}{
		{"王坪村", demo.Village(1, now)},
		{"town of 5000 households", town},
		{"10,000 visits", &demo.Data{Visits: town.Visits[:10000]}},
	} {
		changes := demoChanges(t, tc.data)
		ps := pages(changes)
		var plain, wire int
		for i, p := range ps {
			resp := protocol.SyncResponse{V: 1, Now: protocol.At(now), Changes: p, Cursor: "c1.123456", More: i < len(ps)-1}
			b := mustMarshal(t, resp)
			z := gz(t, b)
			plain += len(b)
			wire += len(z)
			if resp.More && len(z) < 1e6 {
				t.Errorf("%s: full page %d is %d bytes compressed (%d plain), under 1 MB: raise PageBytes", tc.name, i, len(z), len(b))
			}
			if len(b) > protocol.MaxResponseBytes {
				t.Errorf("%s: page %d is %d bytes", tc.name, i, len(b))
			}
		}
		t.Logf("%s: %d changes, %.1f MB JSON, %.2f MB gzip (%.1fx), %d pages, %.0f bytes/change on the wire",
			tc.name, len(changes), float64(plain)/1e6, float64(wire)/1e6, float64(plain)/float64(wire), len(ps), float64(wire)/float64(len(changes)))
	}
}

func BenchmarkEncodePage(b *testing.B) {
	ps := pages(demoChanges(b, demo.Town(1, now, 5000)))
	resp := protocol.SyncResponse{V: 1, Now: protocol.At(now), Changes: ps[0], Cursor: "c1.123456", More: true}
	b.ReportAllocs()
	for b.Loop() {
		mustMarshal(b, resp)
	}
	b.ReportMetric(float64(len(ps[0])), "changes/page")
}

func BenchmarkDecodePage(b *testing.B) {
	ps := pages(demoChanges(b, demo.Town(1, now, 5000)))
	body := mustMarshal(b, protocol.SyncRequest{V: 1, Through: 1, Changes: ps[0]})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req protocol.SyncRequest
		if err := protocol.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
