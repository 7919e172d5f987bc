package protocol_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/sync/protocol"
)

// answer returns an HTTP answer with body, gzip-compressed if gz.
func answer(body []byte, gz bool) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

type handed struct {
	state   bool
	changes []domain.Change
}

// TestReadSyncStreams reads answers through ReadSync: as a server encodes
// them, every change is handed over as it is decoded, State's first, and
// none is kept; in the order of older servers (changes before the cursor),
// Changes are kept and State, after the cursor, is handed over; a wrong
// version, an answer cut short and a bad change hand over nothing wrong and
// fail as ReadResponse would.
func TestReadSyncStreams(t *testing.T) {
	all := demoChanges(t, demo.Village(1, now))
	state, tail := all[:300], all[300:420]
	resp := protocol.SyncResponse{V: protocol.Version, Now: protocol.At(now), Cursor: "c.1", Reset: true, State: state, Changes: tail}
	body, err := protocol.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	read := func(body []byte, gz bool) (*protocol.SyncResponse, []domain.Change, []bool, error) {
		var got protocol.SyncResponse
		var chs []domain.Change
		var st []bool
		err := protocol.ReadSync(answer(body, gz), &got, func(s bool, c domain.Change) error {
			chs, st = append(chs, c), append(st, s)
			return nil
		})
		return &got, chs, st, err
	}
	for _, gz := range []bool{false, true} {
		got, chs, st, err := read(body, gz)
		if err != nil {
			t.Fatalf("gzip %v: %v", gz, err)
		}
		if len(got.State)+len(got.Changes) != 0 || len(chs) != len(all[:420]) {
			t.Fatalf("gzip %v: %d changes handed over, %d+%d kept; want all %d handed over", gz, len(chs), len(got.State), len(got.Changes), 420)
		}
		for i, c := range chs {
			want, _ := all[i].Domain()
			if c.ID != want.ID || st[i] != (i < 300) {
				t.Fatalf("gzip %v: change %d is %s (state %v), want %s (state %v)", gz, i, c.ID, st[i], want.ID, i < 300)
			}
		}
		if !got.Reset || got.Cursor != "c.1" || !got.Now.Equal(now.Truncate(1e6)) {
			t.Errorf("gzip %v: answer read as %+v", gz, got)
		}
	}

	// An older server's order: changes before the cursor.
	s := string(body)
	i, j := strings.Index(s, `"cursor"`), strings.Index(s, `,"reset"`)
	k := strings.Index(s, `,"changes"`)
	old := `{"v":1,"now":"` + now.UTC().Format("2006-01-02T15:04:05.000Z") + `","acked":0` + s[k:len(s)-1] + `,` + s[i:j] + s[j:k] + `}`
	got, chs, st, err := read([]byte(old), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Changes) != 120 || len(chs) != 300 || !st[0] {
		t.Errorf("older order: %d changes kept, %d handed over; want 120 kept and the 300 of State handed over", len(got.Changes), len(chs))
	}

	// Another version: nothing handed over.
	v2 := strings.Replace(s, `{"v":1,`, `{"v":`+strconv.Itoa(protocol.Version+1)+`,`, 1)
	_, chs, _, err = read([]byte(v2), true)
	if !errors.Is(err, protocol.ErrVersion) || len(chs) != 0 {
		t.Errorf("another version: %d handed over, err %v", len(chs), err)
	}

	// Cut short: what was handed over is whole, and the error says retry.
	_, chs, _, err = read(body[:len(body)/2], false)
	if domain.ErrorCode(err) != domain.EUNAVAILABLE || len(chs) == 0 || len(chs) >= 420 {
		t.Errorf("cut short: %d handed over, err %v", len(chs), err)
	}

	// A bad change: refused as Validate refuses it.
	bad := strings.Replace(s, all[5].Stamp, "not-a-stamp", 1)
	_, chs, _, err = read([]byte(bad), false)
	if domain.ErrorCode(err) != domain.EINVALID || len(chs) != 5 {
		t.Errorf("bad stamp in change 5: %d handed over, err %v", len(chs), err)
	}

	// The caller's error ends the read.
	stop := errors.New("disk full")
	var n int
	err = protocol.ReadSync(answer(body, true), &protocol.SyncResponse{}, func(bool, domain.Change) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("stopped at 10: %d handed over, err %v", n, err)
	}
}
