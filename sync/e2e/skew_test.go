package e2e_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// clocks is a controlled true time and, per device, how far its own clock is
// off.
type clocks struct {
	base time.Time
	real atomic.Int64 // true time elapsed since base, ns
}

func (c *clocks) now() time.Time { return c.base.Add(time.Duration(c.real.Load())) }

func (c *clocks) advance(d time.Duration) { c.real.Add(int64(d)) }

// skewed returns a clock that runs *skew ahead of true time.
func (c *clocks) skewed(skew *atomic.Int64) func() time.Time {
	return func() time.Time { return c.now().Add(time.Duration(skew.Load())) }
}

// TestClockSkew: a phone whose clock jumps five hours ahead does not win
// every concurrent edit — the server refuses its stamps, it restamps to the
// server's time and its edits order by when they were really made — and one
// whose clock jumps five hours back does not lose everything: its edits
// after values it has seen still win (its clock never runs behind what it
// saw), and its concurrent edits that lose are kept as conflicts. A visit
// recorded on the fast phone, its time hours ahead by the phone's clock,
// reaches the server all the same: the server merges it and leaves the
// record's content to the phone that made it.
func TestClockSkew(t *testing.T) {
	ck := &clocks{base: time.Now().Truncate(time.Second)}
	dir := t.TempDir()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{Now: ck.now}, &store.Options{Now: ck.now})
	w, err := synctest.BuildWorld(srv.DB, ck.now())
	if err != nil {
		t.Fatal(err)
	}
	var fastSkew, slowSkew, tabletSkew atomic.Int64
	fast := synctest.NewDevice(t, dir, "fast", srv, w.Cadre1.ID, client.Options{}, &store.Options{Now: ck.skewed(&fastSkew)})
	slow := synctest.NewDevice(t, dir, "slow", srv, w.Cadre2.ID, client.Options{}, &store.Options{Now: ck.skewed(&slowSkew)})
	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, client.Options{}, &store.Options{Now: ck.skewed(&tabletSkew)})
	for _, d := range []*synctest.Device{fast, slow, tablet} {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(d *synctest.Device, id uuid.UUID, fn func(*domain.Household)) {
		t.Helper()
		r, err := d.DB.Get(domain.KindHousehold, id)
		if err != nil {
			t.Fatal(err)
		}
		fn(r.(*domain.Household))
		if err := d.DB.Put(d.Cadre, r); err != nil {
			t.Fatal(err)
		}
	}
	get := func(db *store.DB, id uuid.UUID) *domain.Household {
		t.Helper()
		r, err := db.Get(domain.KindHousehold, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*domain.Household)
	}
	sync := func(d *synctest.Device) {
		t.Helper()
		if err := d.Sync(); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
	}

	// The clocks jump after the first sync, so the offsets measured then are wrong.
	fastSkew.Store(int64(5 * time.Hour))
	slowSkew.Store(int64(-5 * time.Hour))
	H := w.Group(w.G1)[0] // fast's
	K := w.Group(w.G2)[0] // slow's

	// True time +1m: the fast phone edits; +2m: the tablet edits the same
	// field, later in truth though earlier by the phone's clock.
	ck.advance(time.Minute)
	edit(fast, H.ID, func(h *domain.Household) { h.Phone, h.Notes = "13800000001", "快钟手机的备注" })
	fastVisit := &domain.Visit{Household: H.ID, Cadre: fast.Cadre, At: fast.DB.Now().Add(-10 * time.Minute),
		Type: domain.VisitRoutine, Notes: "快钟手机记录的走访"}
	if err := fast.DB.Put(fast.Cadre, fastVisit); err != nil {
		t.Fatal(err)
	}
	edit(slow, K.ID, func(h *domain.Household) { h.Income, h.Address = "慢钟：养殖", "二社 8 号（慢钟）" })
	ck.advance(time.Minute)
	edit(tablet, H.ID, func(h *domain.Household) { h.Phone = "13800000002" })
	ck.advance(time.Second)
	edit(tablet, K.ID, func(h *domain.Household) { h.Income = "队长：务工" })
	sync(tablet)

	// +3m: the fast phone syncs: refused, restamped, pushed again, in one Sync.
	ck.advance(time.Minute)
	sync(fast)
	if off := fast.DB.Clock().Offset(); (off + 5*time.Hour).Abs() > 2*time.Second {
		t.Fatalf("fast phone's offset %s, want about -5h", off)
	}
	h := get(srv.DB, H.ID)
	if h.Phone != "13800000002" {
		t.Fatalf("phone %s: the fast clock won over a later edit", h.Phone)
	}
	if h.Notes != "快钟手机的备注" {
		t.Fatalf("notes %q: the fast phone's uncontested edit was lost", h.Notes)
	}
	if cs := conflictsOn(t, srv.DB, H.ID, "phone"); len(cs) != 1 || string(cs[0].Loser) != `"13800000001"` {
		t.Fatalf("the fast phone's overridden value is not kept: %+v", cs)
	}
	r, err := srv.DB.Get(domain.KindVisit, fastVisit.ID)
	if err != nil {
		t.Fatalf("the visit recorded on the fast phone did not reach the server: %v (rejected %+v)", err, fast.Client.Status().Rejected)
	}
	if v := r.(*domain.Visit); !v.At.Equal(fastVisit.At) || v.At.Before(ck.now().Add(4*time.Hour)) {
		t.Fatalf("the fast phone's visit on the server at %s, recorded at %s (true time %s)", v.At, fastVisit.At, ck.now())
	}
	if st := fast.Client.Status(); len(st.Rejected) != 0 || st.Pending != 0 {
		t.Fatalf("fast phone after its sync: %d waiting, rejected %+v", st.Pending, st.Rejected)
	}
	limit := ck.now().Add(domain.MaxSkew).UnixMilli()
	srv.DB.Log(0, func(e store.Entry) (bool, error) {
		if e.Change.Stamp.Wall > limit {
			t.Errorf("server holds a stamp %s ahead", time.Duration(e.Change.Stamp.Wall-ck.now().UnixMilli())*time.Millisecond)
		}
		return true, nil
	})

	// The slow phone syncs: its edit of a field nobody else touched wins
	// (after the value it had seen), and its income, written later in truth
	// than the tablet's but stamped earlier, loses and is kept.
	sync(slow)
	k := get(srv.DB, K.ID)
	if k.Address != "二社 8 号（慢钟）" {
		t.Fatalf("address %q: the slow phone's edit lost to the value it had seen", k.Address)
	}
	if k.Income != "队长：务工" {
		t.Fatalf("income %q", k.Income)
	}
	if cs := conflictsOn(t, srv.DB, K.ID, "income"); len(cs) != 1 || string(cs[0].Loser) != `"慢钟：养殖"` {
		t.Fatalf("the slow phone's overridden income is not kept: %+v", cs)
	}
	if off := slow.DB.Clock().Offset(); (off - 5*time.Hour).Abs() > 2*time.Second {
		t.Fatalf("slow phone's offset %s, want about +5h", off)
	}
	// Corrected, its next edit after seeing the tablet's wins.
	ck.advance(time.Minute)
	edit(slow, K.ID, func(h *domain.Household) { h.Income = "务工、养殖" })
	sync(slow)
	if k := get(srv.DB, K.ID); k.Income != "务工、养殖" {
		t.Fatalf("income %q after the corrected edit", k.Income)
	}

	for _, d := range []*synctest.Device{tablet, fast, slow, tablet} {
		sync(d)
	}
	visits := map[uuid.UUID]string{fastVisit.ID: fastVisit.Notes}
	c := converged(t, srv.DB, map[string]*store.DB{"fast": fast.DB, "slow": slow.DB, "tablet": tablet.DB}, map[string]sees{
		"fast":   seesOf(w, append(w.Group(w.G1), w.Paired), w.Village),
		"slow":   seesOf(w, w.Group(w.G2), w.Village),
		"tablet": seesOf(w, append(w.Group(w.G1), w.Group(w.G2)...), w.Village),
	}, nil, visits)
	t.Logf("converged: %s", c)
}
