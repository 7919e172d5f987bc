package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// gapsOf renders a village's three-level check for comparison.
func gapsOf(t *testing.T, db *store.DB, village uuid.UUID) []string {
	t.Helper()
	g, err := query.Assistance(db, village)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range g.Households {
		out = append(out, fmt.Sprintf("household %s %v", x.Household.HeadName, x.Missing))
	}
	for _, x := range g.Cadres {
		out = append(out, fmt.Sprintf("cadre %s %d/%d", x.Cadre.Name, x.Have, x.Want))
	}
	for _, x := range g.Mismatches {
		out = append(out, fmt.Sprintf("mismatch %s", x.Assignment.ID))
	}
	return out
}

// TestCrossVillagePairings: a county-level leader paired with one household
// of 王坪村 and two of 石头村 is no gap on 王坪村's team leader's tablet, as on
// the server; the tablet holds those pairings but not the other village's
// households; and when one of them ends on the server, the tablet and the
// server agree again (2/3).
func TestCrossVillagePairings(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{}, nil)
	w, err := synctest.BuildWorld(srv.DB, now)
	if err != nil {
		t.Fatal(err)
	}
	put := func(recs ...domain.Record) {
		t.Helper()
		if err := srv.DB.Put(w.Admin, recs...); err != nil {
			t.Fatal(err)
		}
	}
	ma := &domain.Cadre{Name: "马县长", Rank: domain.RankCounty}
	other := &domain.Cadre{Name: "石县长", Rank: domain.RankCounty} // of 石头村 only
	put(ma, other)
	here := w.Households[0]                                        // 王兴文, registered, in 王坪村
	there := []*domain.Household{w.Households[8], w.Households[9]} // 石头村, registered and lifted
	var elsewhere []*domain.Assignment
	put(&domain.Assignment{Cadre: ma.ID, Role: domain.PairCounty, Target: here.ID})
	for _, h := range there {
		a := &domain.Assignment{Cadre: ma.ID, Role: domain.PairCounty, Target: h.ID}
		put(a)
		elsewhere = append(elsewhere, a)
	}
	notOurs := &domain.Assignment{Cadre: other.ID, Role: domain.PairCounty, Target: w.Households[10].ID}
	put(notOurs)

	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, client.Options{}, nil)
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	onServer, onTablet := gapsOf(t, srv.DB, w.Village.ID), gapsOf(t, tablet.DB, w.Village.ID)
	if !slices.Equal(onServer, onTablet) {
		t.Fatalf("the tablet's check differs from the server's:\ntablet %q\nserver %q", onTablet, onServer)
	}
	for _, g := range onTablet {
		if g == "cadre 马县长 1/3" || g == "cadre 马县长 3/3" {
			t.Errorf("马县长 shows as a gap: %s", g)
		}
	}
	for _, a := range elsewhere {
		if _, err := tablet.DB.Get(domain.KindAssignment, a.ID); err != nil {
			t.Errorf("the tablet lacks 马县长's pairing in 石头村: %v", err)
		}
	}
	if _, err := tablet.DB.Get(domain.KindAssignment, notOurs.ID); err == nil {
		t.Errorf("the tablet holds a pairing of a cadre who is not of its village")
	}
	for _, h := range there {
		if _, err := tablet.DB.Get(domain.KindHousehold, h.ID); err == nil {
			t.Errorf("the tablet holds household %s of 石头村", h.HeadName)
		}
	}

	// A round of adjustments ends one pairing in 石头村.
	elsewhere[0].End(now, "帮扶力量调整")
	put(elsewhere[0])
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	onServer, onTablet = gapsOf(t, srv.DB, w.Village.ID), gapsOf(t, tablet.DB, w.Village.ID)
	if !slices.Equal(onServer, onTablet) {
		t.Fatalf("after the adjustment the tablet's check differs from the server's:\ntablet %q\nserver %q", onTablet, onServer)
	}
	if !slices.Contains(onTablet, "cadre 马县长 2/3") {
		t.Errorf("after the adjustment the tablet shows %q, want 马县长 2/3", onTablet)
	}
}
