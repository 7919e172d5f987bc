package server_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestCrossDutiesConverge: a team leader's tablet reads the current duties
// in other villages of the cadres of its village — only those assignments:
// not the other village, its groups, households, members or other cadres —
// so that it does not offer to retire such a cadre, which the server would
// refuse. Reading such a duty gives no right to change it: an end pushed
// from the tablet is set aside. When the duty ends the tablet drops it;
// when a cadre joins the village their duty elsewhere, written long
// before, arrives in a catch-up; when the assignment that made them a
// cadre of the village is deleted (entered by mistake), it leaves again.
// After every step the tablet holds exactly what the server's readable
// predicate accepts.
func TestCrossDutiesConverge(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	start := time.Now().AddDate(0, -1, 0).Truncate(24 * time.Hour)
	put := func(recs ...domain.Record) {
		t.Helper()
		if err := db.Put(w.Admin, recs...); err != nil {
			t.Fatal(err)
		}
	}
	// 李明 (二社's group cadre) is also a team member in 石头村; 马兴文
	// (一社's) sits on its village committee, and his duty there ended once.
	there := &domain.Assignment{Cadre: w.Cadre2.ID, Role: domain.TeamMember, Target: w.Village2.ID, Since: start}
	committee := &domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.VillageCommittee, Target: w.Village2.ID, Since: start}
	before := &domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.GroupCadre, Target: w.G3.ID, Since: start.AddDate(-1, 0, 0),
		Until: start, EndReason: "帮扶力量调整"}
	put(there, committee, before)
	member := &domain.Member{Household: w.Group(w.G3)[0].ID, Name: "石小军", Relation: "子", Gender: "男", BirthYear: 2001}
	put(member)

	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	sync := func() {
		t.Helper()
		syncs(t, tablet, 3)
	}
	held := func(a *domain.Assignment) *domain.Assignment { return heldAssignment(tablet, a.ID) }
	// exact checks that the tablet holds what the server's rules let it
	// read, and nothing of 石头村 but the duties of the village's cadres.
	exact := func(step string) {
		t.Helper()
		keep := map[uuid.UUID]bool{}
		for _, r := range tablet.Client.Status().Rejected {
			keep[r.Record] = true
		}
		exactScope(t, db, tablet, w.Leader.ID, keep, step)
		for _, id := range append([]uuid.UUID{w.Village2.ID, w.G3.ID, member.ID, w.Cadre3.ID}, ids(w.Group(w.G3))...) {
			for _, kind := range []domain.Kind{domain.KindPlace, domain.KindHousehold, domain.KindMember, domain.KindCadre} {
				if _, err := tablet.DB.Get(kind, id); err == nil {
					t.Errorf("%s: the tablet holds %s %s of 石头村", step, kind, id)
				}
			}
		}
	}
	sync()
	exact("first sync")
	if got := held(there); got == nil || !got.Current() {
		t.Fatalf("the tablet lacks 李明's duty in 石头村: %+v", got)
	}
	if held(before) != nil {
		t.Error("the tablet holds 马兴文's ended duty in 石头村")
	}
	rights, err := query.RightsOf(tablet.DB, w.Leader.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := rights.MayChangeCadre(w.Cadre2.ID); !errors.Is(err, domain.ErrCadreElsewhere) {
		t.Errorf("the team leader may retire 李明, who also works in 石头村: %v", err)
	}

	// The tablet cannot even write an end of 马兴文's duty in 石头村 (it
	// lacks the place); a device of the team leader that pushes one anyway
	// is refused, and the server's stays current.
	end := *held(committee)
	end.End(start.AddDate(0, 0, 20), "帮扶力量调整")
	if err := tablet.DB.Put(w.Leader.ID, &end); err == nil {
		t.Error("the tablet wrote an end of a duty in 石头村, whose place it does not hold")
	}
	dev, token := e.enroll(t, w.Leader.ID)
	push := domain.Change{ID: uuid.New(), Kind: domain.KindAssignment, Record: committee.ID, Author: w.Leader.ID,
		Stamp:  domain.Stamp{Wall: time.Now().UnixMilli(), Device: dev},
		Fields: domain.Fields{"until": []byte(`"` + end.Until.Format(time.RFC3339) + `"`), "end_reason": []byte(`"帮扶力量调整"`)}}
	if status, _, bad := e.push(t, token, push); status != http.StatusForbidden || bad.Error.Field != "scope" {
		t.Errorf("an end of a duty in 石头村 pushed by the team leader: %d %+v, want 403 scope", status, bad)
	}
	if got, err := db.Get(domain.KindAssignment, committee.ID); err != nil || !got.(*domain.Assignment).Current() {
		t.Errorf("the server took the team leader's end of a duty in 石头村: %+v %v", got, err)
	}

	// 李明's duty there ends: the tablet drops it, and may now record
	// that 李明 retired.
	there.End(start.AddDate(0, 0, 25), "帮扶力量调整")
	put(there)
	sync()
	exact("duty ended")
	if got := held(there); got != nil {
		t.Errorf("the tablet keeps 李明's ended duty in 石头村: %+v", got)
	}
	if rights, err = query.RightsOf(tablet.DB, w.Leader.ID); err != nil {
		t.Fatal(err)
	} else if err := rights.MayChangeCadre(w.Cadre2.ID); err != nil {
		t.Errorf("the team leader may not retire 李明, who now works only in the village: %v", err)
	}

	// 石磊, 石头村's group cadre, helps a household of the village: his
	// group there comes to the tablet (written long before), not his
	// group's households.
	var g3duty *domain.Assignment
	db.Each(domain.KindAssignment, func(r domain.Record) error {
		if a := r.(*domain.Assignment); a.Cadre == w.Cadre3.ID && a.Target == w.G3.ID {
			g3duty = a
		}
		return nil
	})
	if g3duty == nil {
		t.Fatal("石磊 has no group")
	}
	joins := &domain.Assignment{Cadre: w.Cadre3.ID, Role: domain.Helper, Target: w.Households[0].ID, Since: start}
	put(joins)
	sync()
	if got := held(g3duty); got == nil || !got.Current() {
		t.Errorf("the tablet lacks the duty in 石头村 of 石磊, now helping in the village: %+v", got)
	}
	if _, err := tablet.DB.Get(domain.KindCadre, w.Cadre3.ID); err != nil {
		t.Errorf("the tablet lacks 石磊, now helping in the village: %v", err)
	}
	// Entered by mistake: deleted, and 石磊's group leaves the tablet.
	joins.Deleted = true
	put(joins)
	sync()
	if got := held(g3duty); got != nil {
		t.Errorf("the tablet keeps the duty in 石头村 of 石磊, who no longer works in the village: %+v", got)
	}
	// What 石磊's record leaves is the tablet's to drop too; exact says so.
	exact("cadre left")
}

// ids returns the IDs of households.
func ids(hs []*domain.Household) []uuid.UUID {
	out := make([]uuid.UUID, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}
