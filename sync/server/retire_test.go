package server_test

import (
	"net/http"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/server"
)

// TestLeadRetiresCadre: a team leader may record that a cadre who works
// only in the leader's village retired, and end their pairing there; not a
// cadre who also holds a current pairing in another village (that is the
// town's or the city's to record, as it ends duties there too), nor one who
// works only elsewhere; the city office may retire either.
func TestLeadRetiresCadre(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	start := time.Now().AddDate(0, -3, 0)
	here := &domain.Cadre{Name: "本村干部", Rank: domain.RankOther, Phone: "13909301021"}
	both := &domain.Cadre{Name: "两村干部", Rank: domain.RankOther, Phone: "13909301022"}
	away := &domain.Cadre{Name: "外村干部", Rank: domain.RankOther, Phone: "13909301023"}
	if err := db.Put(w.Admin, here, both, away); err != nil {
		t.Fatal(err)
	}
	hereP := &domain.Assignment{Cadre: here.ID, Role: domain.Helper, Target: w.Households[1].ID, Since: start}
	bothHere := &domain.Assignment{Cadre: both.ID, Role: domain.Helper, Target: w.Households[2].ID, Since: start}
	bothAway := &domain.Assignment{Cadre: both.ID, Role: domain.Helper, Target: w.Households[8].ID, Since: start}
	awayP := &domain.Assignment{Cadre: away.ID, Role: domain.Helper, Target: w.Households[9].ID, Since: start}
	if err := db.Put(w.Admin, hereP, bothHere, bothAway, awayP); err != nil {
		t.Fatal(err)
	}
	dev, token := e.enroll(t, w.Leader.ID)
	day := time.Now().Truncate(24 * time.Hour)
	stamp := `"` + day.UTC().Format(time.RFC3339) + `"`
	retire := func(c *domain.Cadre) domain.Change {
		return setField(dev, w.Leader.ID, domain.KindCadre, c.ID, "left", `"retired"`, "left_on", stamp, "left_reason", `"到龄退休"`)
	}
	left := func(c *domain.Cadre) domain.Departure {
		r, err := db.Get(domain.KindCadre, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*domain.Cadre).Left
	}

	end := setField(dev, w.Leader.ID, domain.KindAssignment, hereP.ID, "until", stamp, "end_reason", `"干部退休"`)
	if status, _, bad := e.push(t, token, retire(here), end); status != http.StatusOK {
		t.Fatalf("the leader retiring a cadre of the village: %d %+v", status, bad)
	}
	if left(here) != domain.Retired {
		t.Error("the server does not hold the village cadre as retired")
	}
	if r, _ := db.Get(domain.KindAssignment, hereP.ID); r.(*domain.Assignment).Current() {
		t.Error("the retired cadre's pairing still holds on the server")
	}

	for _, c := range []*domain.Cadre{both, away} {
		ch := retire(c)
		status, _, bad := e.push(t, token, ch)
		if status != http.StatusForbidden || bad.Error.Field != "role" || len(bad.Error.Changes) != 1 || bad.Error.Changes[0] != ch.ID.String() {
			t.Errorf("the leader retiring %s: %d %+v, want 403 role naming the change", c.Name, status, bad.Error)
		}
		if left(c) != "" {
			t.Errorf("%s is retired on the server", c.Name)
		}
	}
	// The rank too is the roster's, by the same rule.
	if status, _, _ := e.push(t, token, setField(dev, w.Leader.ID, domain.KindCadre, both.ID, "rank", `"section"`)); status != http.StatusForbidden {
		t.Errorf("the leader changing the rank of a cadre who works elsewhere too: %d, want 403", status)
	}

	odev, otoken := e.enroll(t, w.Office.ID)
	ch := setField(odev, w.Office.ID, domain.KindCadre, both.ID, "left", `"transferred"`, "left_on", stamp, "left_reason", `"调任外县"`)
	if status, _, bad := e.push(t, otoken, ch); status != http.StatusOK {
		t.Fatalf("the city office transferring a cadre: %d %+v", status, bad)
	}
	if left(both) != domain.Transferred {
		t.Error("the city office's transfer is not stored")
	}
}
