package app_test

import (
	"context"
	"strings"
	"testing"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestCoverageAndHistoryOnTablet: the office ends a group cadre's assignment
// and a helper's pairing on the server; after a sync, the team leader's gaps
// list names the 社 left without a group cadre and the household left
// without a helper, and the history (帮扶力量调整记录) lists both endings
// with their reasons.
func TestCoverageAndHistoryOnTablet(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	as, err := query.Assignments(e.db, e.data.GroupCadre.ID)
	if err != nil {
		t.Fatal(err)
	}
	var group *domain.Place
	var pairing *domain.Assignment
	for _, x := range as {
		switch {
		case x.Role == domain.GroupCadre && group == nil:
			rec := must(e.db.Get(domain.KindPlace, x.Target))
			group = rec.(*domain.Place)
			x.End(demoNow, "调任镇党政办")
			if err := e.db.Put(e.data.TeamLeader.ID, x); err != nil {
				t.Fatal(err)
			}
		case x.Role.IsPairing() && pairing == nil:
			pairing = x
		}
	}
	if group == nil {
		t.Fatal("the demo's group cadre has no group")
	}
	if pairing == nil {
		// Any helper pairing of the village will do.
		for _, c := range must(query.Cadres(e.db)) {
			for _, x := range must(query.Assignments(e.db, c.ID)) {
				if x.Role == domain.Helper && pairing == nil {
					pairing = x
				}
			}
		}
	}
	pairing.End(demoNow, "帮扶力量调整")
	if err := e.db.Put(e.data.TeamLeader.ID, pairing); err != nil {
		t.Fatal(err)
	}
	if err := d.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}

	a.Menu.List.Select(3)
	a.Wait()
	gaps := a.Nav().Top().(*app.ListScreen)
	text := ""
	for _, it := range gaps.Items {
		text += it.Title + "\n" + it.Detail + "\n"
	}
	if !strings.Contains(text, group.Name+"\n这个社没有包社干部") {
		t.Errorf("the gaps list does not name %s without a group cadre:\n%s", group.Name, text)
	}

	a.Menu.List.Select(7)
	a.Wait()
	hist := a.Nav().Top().(*app.ListScreen)
	if hist.Title() != "帮扶力量调整记录" {
		t.Fatalf("menu item 7 opens %q", hist.Title())
	}
	text = ""
	for _, it := range hist.Items {
		text += it.Title + "\n" + it.Detail + "\n"
	}
	for _, want := range []string{"：调任镇党政办", "：帮扶力量调整", group.Name + " · 包社干部 · " + e.data.GroupCadre.Name} {
		if !strings.Contains(text, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
}
