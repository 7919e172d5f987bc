package app_test

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestHouseholdExitOnTablet: on the team leader's tablet (and at phone
// width) a household is recorded as moved out from its correction form,
// with a reason; its pairings end in the same save, it leaves the village's
// list, and a sync takes it to the server, which accepts it from a lead. A
// group cadre's correction form has no such section.
func TestHouseholdExitOnTablet(t *testing.T) {
	for _, size := range []fyne.Size{tablet, phone} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			p, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
			p.Households.List.Select(0)
			p.Wait()
			test.Tap(p.Nav().Top().(*app.Card).Correct)
			p.Wait()
			if f := p.Nav().Top().(*app.CorrectForm); f.Exit != nil || f.Leave != nil || f.Group != nil {
				t.Error("a group cadre's correction form records a household's leaving")
			}

			a, d := e.enrolled("tablet", e.data.TeamLeader.ID, size)
			a.Menu.List.Select(6)
			a.Wait()
			list := a.Nav().Top().(*app.Households)
			before := len(list.Rows())
			household := list.Rows()[0].ID
			list.List.Select(0)
			a.Wait()
			card := a.Nav().Top().(*app.Card)
			paired := 0
			for _, x := range must(query.History(d.db, e.data.Village.ID)).Adjustments {
				if x.Assignment.Target == household && x.Assignment.Current() {
					paired++
				}
			}
			if paired == 0 {
				t.Fatal("the first household has no pairing to end")
			}
			test.Tap(card.Correct)
			a.Wait()
			f := a.Nav().Top().(*app.CorrectForm)
			if f.Exit == nil {
				t.Fatal("the team leader's correction form cannot record a household's leaving")
			}
			test.Tap(f.Leave)
			a.Wait()
			if got := labelText(t, f.Error); got != "请选择迁出、并户或注销" {
				t.Errorf("no exit chosen: %q", got)
			}
			f.Exit.SetSelected("已迁出")
			test.Tap(f.Leave)
			a.Wait()
			if got := labelText(t, f.Error); got != "请填写原因" {
				t.Errorf("no reason: %q", got)
			}
			test.Type(f.ExitReason, "全家迁往兰州")
			test.Tap(f.Leave)
			a.Wait()
			if a.Nav().Top() == f {
				t.Fatalf("the form stays: %s", f.Error.Text)
			}
			h := must(d.db.Get(domain.KindHousehold, household)).(*domain.Household)
			if h.Exit != domain.MovedOut || h.ExitReason != "全家迁往兰州" || h.ExitOn.Format("2006-01-02") != "2025-03-12" {
				t.Errorf("the tablet's household: %q %v %q", h.Exit, h.ExitOn, h.ExitReason)
			}
			for _, x := range must(query.History(d.db, e.data.Village.ID)).Adjustments {
				if x.Assignment.Target == household && x.Assignment.Current() {
					t.Errorf("the household that left keeps its %s", x.Assignment.Role)
				}
			}
			if rows := must(query.VillageHouseholds(d.db, e.data.Village.ID, demoNow)); len(rows) != before-1 {
				t.Errorf("the village lists %d households, %d before", len(rows), before)
			}

			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := d.client.Status(); len(st.Rejected) > 0 || st.Pending > 0 {
				t.Errorf("after the sync: %d rejected (%v), %d pending", len(st.Rejected), st.Rejected, st.Pending)
			}
			if on := must(e.db.Get(domain.KindHousehold, household)).(*domain.Household); on.Exit != domain.MovedOut {
				t.Errorf("the server's household: %q", on.Exit)
			}
			for _, x := range must(query.History(e.db, e.data.Village.ID)).Adjustments {
				if x.Assignment.Target == household && x.Assignment.Current() {
					t.Errorf("the server keeps the household's %s", x.Assignment.Role)
				}
			}
		})
	}
}

// TestMoveHouseholdOnTablet: on the team leader's tablet (and at phone
// width) the correction form moves a household to another 社 of the
// village; the tablet's list shows it there, and a sync takes the move to
// the server, which accepts it from a lead.
func TestMoveHouseholdOnTablet(t *testing.T) {
	for _, size := range []fyne.Size{tablet, phone} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled("tablet", e.data.TeamLeader.ID, size)
			a.Menu.List.Select(6)
			a.Wait()
			list := a.Nav().Top().(*app.Households)
			household, from := list.Rows()[0].ID, list.Rows()[0].Group
			list.List.Select(0)
			a.Wait()
			test.Tap(a.Nav().Top().(*app.Card).Correct)
			a.Wait()
			f := a.Nav().Top().(*app.CorrectForm)
			if f.Group == nil || len(f.Group.Options) < 2 {
				t.Fatalf("the team leader's form offers no other group: %v", f.Group)
			}
			groups := must(query.Places(d.db, domain.Group, e.data.Village.ID))
			if f.Group.Selected != placeName(groups, from) {
				t.Errorf("the form shows the household in %q", f.Group.Selected)
			}
			to := groups[0]
			if to.ID == from {
				to = groups[1]
			}
			f.Group.SetSelected(to.Name)
			test.Tap(f.Save)
			a.Wait()
			if a.Nav().Top() == f {
				t.Fatalf("the form stays: %s", f.Error.Text)
			}
			if h := must(d.db.Get(domain.KindHousehold, household)).(*domain.Household); h.Group != to.ID {
				t.Errorf("the tablet's household is in %s, want %s", placeName(groups, h.Group), to.Name)
			}
			moved := false
			for _, r := range must(query.GroupHouseholds(d.db, to.ID, demoNow)) {
				moved = moved || r.ID == household
			}
			if !moved {
				t.Errorf("%s does not list the household", to.Name)
			}
			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := d.client.Status(); len(st.Rejected) > 0 || st.Pending > 0 {
				t.Errorf("after the sync: %d rejected (%v), %d pending", len(st.Rejected), st.Rejected, st.Pending)
			}
			if on := must(e.db.Get(domain.KindHousehold, household)).(*domain.Household); on.Group != to.ID {
				t.Errorf("the server's household is in %s", placeName(groups, on.Group))
			}
		})
	}
}

func placeName(ps []*domain.Place, id uuid.UUID) string {
	for _, p := range ps {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}
