package server_test

import (
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestCrossPairingsConverge: a team leader's tablet reads the pairings, in
// other villages too, of the cadres of its village (the three-level check).
// When such a cadre's duty in the village ends, the ending of its pairing
// elsewhere still reaches the tablet (no stale current pairing), and one
// entered by mistake and deleted leaves it (or is held deleted); when a
// cadre joins the village, its pairings elsewhere, written long before,
// reach the tablet in a catch-up.
func TestCrossPairingsConverge(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	start := time.Now().AddDate(0, -1, 0)
	x := &domain.Cadre{Name: "县级领导甲", Rank: domain.RankCounty, Phone: "13909301011", Unit: "市政府"}
	y := &domain.Cadre{Name: "县级领导乙", Rank: domain.RankCounty, Phone: "13909301012", Unit: "市政府"}
	here := &domain.Assignment{Cadre: x.ID, Role: domain.PairCounty, Target: w.Households[0].ID, Since: start}
	if err := db.Put(w.Admin, x, y); err != nil {
		t.Fatal(err)
	}
	here.Cadre = x.ID
	away := &domain.Assignment{Cadre: x.ID, Role: domain.PairCounty, Target: w.Households[8].ID, Since: start}
	yAway := &domain.Assignment{Cadre: y.ID, Role: domain.PairCounty, Target: w.Households[9].ID, Since: start}
	// y leads the town: its cadre record is on the tablet from the start, so
	// only the pairings elsewhere tell the scope changed when y is paired in
	// the village (store.ScopePrint covers them).
	yTown := &domain.Assignment{Cadre: y.ID, Role: domain.TownLead, Target: w.Town.ID, Since: start}
	gone := &domain.Assignment{Cadre: x.ID, Role: domain.Helper, Target: w.Households[10].ID, Since: start}
	if err := db.Put(w.Admin, here, away, gone, yAway, yTown); err != nil {
		t.Fatal(err)
	}
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	sync := func() {
		t.Helper()
		syncs(t, tablet, 3)
	}
	held := func(a *domain.Assignment) *domain.Assignment { return heldAssignment(tablet, a.ID) }
	sync()
	if got := held(gone); got == nil || !got.Current() {
		t.Fatalf("the tablet does not hold the village cadre's second pairing in 石头村: %+v", got)
	}
	if got := held(away); got == nil || !got.Current() {
		t.Fatalf("the tablet does not hold the village cadre's current pairing in 石头村: %+v", got)
	}
	if held(yAway) != nil {
		t.Fatal("the tablet holds the pairing of a cadre with no duty in its village")
	}
	if r, err := tablet.DB.Get(domain.KindCadre, y.ID); err != nil || r == nil {
		t.Fatalf("the tablet lacks the town lead's cadre record: %v", err)
	}

	// x's pairings end, here and elsewhere: x has no current duty in the
	// village any more.
	end := time.Now().Truncate(24 * time.Hour)
	for _, a := range []*domain.Assignment{here, away} {
		a.Until, a.EndReason = end, "帮扶力量调整"
	}
	gone.Deleted = true // entered by mistake
	if err := db.Put(w.Admin, here, away, gone); err != nil {
		t.Fatal(err)
	}
	sync()
	if got := held(away); got == nil || got.Current() {
		t.Errorf("the tablet does not hold the end of the pairing in 石头村 (kept as current, or dropped from its history): %+v", got)
	}
	if got := held(gone); got != nil && !got.Deleted {
		t.Errorf("the tablet keeps a deleted pairing in 石头村: %+v", got)
	}
	// y is paired with a household of the village: its pairing elsewhere
	// comes into the tablet's scope.
	yHere := &domain.Assignment{Cadre: y.ID, Role: domain.PairCounty, Target: w.Households[1].ID, Since: end}
	if err := db.Put(w.Admin, yHere); err != nil {
		t.Fatal(err)
	}
	sync()
	if got := held(away); got != nil && got.Current() {
		t.Errorf("the tablet keeps the ended pairing in 石头村 as current: %+v", got)
	}
	if got := held(yAway); got == nil || !got.Current() {
		t.Errorf("the tablet lacks the pairing in 石头村 of a cadre now paired in its village: %+v", got)
	}
	if got := held(yHere); got == nil {
		t.Error("the tablet lacks the new pairing in its village")
	}
}

// TestCrossPairingComesHome: a pairing of a village cadre with a household
// of another village is on the tablet as a pairing elsewhere. Between two
// of the tablet's syncs one such pairing is deleted (entered by mistake),
// another ended, and both households move into the village. What was
// written about the pairings names the other village, where the tablet
// reads nothing; the pairings are now the tablet's through their
// households. It ends holding them as the server does: one deleted, one
// ended.
func TestCrossPairingComesHome(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	start := time.Now().AddDate(0, -1, 0)
	x := &domain.Cadre{Name: "县级领导甲", Rank: domain.RankCounty, Phone: "13909301011", Unit: "市政府"}
	if err := db.Put(w.Admin, x); err != nil {
		t.Fatal(err)
	}
	here := &domain.Assignment{Cadre: x.ID, Role: domain.PairCounty, Target: w.Households[0].ID, Since: start}
	mistaken := &domain.Assignment{Cadre: x.ID, Role: domain.Helper, Target: w.Households[8].ID, Since: start}
	ended := &domain.Assignment{Cadre: x.ID, Role: domain.PairCounty, Target: w.Households[9].ID, Since: start}
	if err := db.Put(w.Admin, here, mistaken, ended); err != nil {
		t.Fatal(err)
	}
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	sync := func() {
		t.Helper()
		syncs(t, tablet, 3)
	}
	held := func(a *domain.Assignment) *domain.Assignment { return heldAssignment(tablet, a.ID) }
	sync()
	for _, a := range []*domain.Assignment{mistaken, ended} {
		if got := held(a); got == nil || !got.Current() {
			t.Fatalf("the tablet does not hold the village cadre's pairing in 石头村: %+v", got)
		}
	}

	if err := db.Delete(w.Admin, domain.KindAssignment, mistaken.ID); err != nil {
		t.Fatal(err)
	}
	ended.Until, ended.EndReason = time.Now().Truncate(24*time.Hour), "帮扶力量调整"
	if err := db.Put(w.Admin, ended); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*domain.Household{w.Households[8], w.Households[9]} {
		moveHousehold(t, db, w.Admin, h.ID, w.G1.ID)
	}
	sync()
	if got := held(mistaken); got != nil {
		t.Errorf("the tablet holds the pairing deleted while its household was elsewhere as current: %+v", got)
	}
	if got := held(ended); got == nil || got.Current() {
		t.Errorf("the tablet holds the pairing ended while its household was elsewhere as current: %+v", got)
	}
	exactScope(t, db, tablet, w.Leader.ID, nil, "households moved into the village")
}

// TestPairingStaysWhenHouseholdLeaves: a village cadre's pairing with a
// household of the village stays on the tablet when the household moves to
// another village: the tablet no longer holds the household, and reads the
// pairing as one of its cadres' pairings elsewhere.
func TestPairingStaysWhenHouseholdLeaves(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	x := &domain.Cadre{Name: "县级领导甲", Rank: domain.RankCounty, Phone: "13909301011", Unit: "市政府"}
	if err := db.Put(w.Admin, x); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, -1, 0)
	h := w.Group(w.G1)[1]
	here := &domain.Assignment{Cadre: x.ID, Role: domain.PairCounty, Target: w.Group(w.G1)[0].ID, Since: start}
	moving := &domain.Assignment{Cadre: x.ID, Role: domain.Helper, Target: h.ID, Since: start}
	if err := db.Put(w.Admin, here, moving); err != nil {
		t.Fatal(err)
	}
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	syncs(t, tablet, 3)
	moveHousehold(t, db, w.Admin, h.ID, w.G3.ID) // 石头村
	syncs(t, tablet, 3)
	if _, err := tablet.DB.Get(domain.KindHousehold, h.ID); err == nil {
		t.Error("the household moved away is still on the tablet")
	}
	if _, err := tablet.DB.Get(domain.KindAssignment, moving.ID); err != nil {
		t.Errorf("the village cadre's pairing with the household moved away left the tablet: %v", err)
	}
	exactScope(t, db, tablet, w.Leader.ID, nil, "household moved away")
}
