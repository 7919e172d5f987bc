package app_test

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestPairOnTablet: a household the gaps list names as missing a level is
// opened from the list; on the team leader's tablet (and at phone width)
// its card offers to add the missing pairing; the form refuses no cadre,
// offers only cadres of the rank the level needs, and saves; the card and
// the three-level check then count the new pairing, and a sync takes it to
// the server. A group cadre's card offers nothing of the kind.
func TestPairOnTablet(t *testing.T) {
	for _, size := range []fyne.Size{tablet, phone} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			var gap *demoGap
			for _, g := range e.data.Gaps {
				if g.Household != nil {
					gap = &demoGap{g.Household, g.Missing[0]}
					break
				}
			}
			if gap == nil {
				t.Fatal("the demo has no household gap")
			}
			a, d := e.enrolled("tablet", e.data.TeamLeader.ID, size)
			a.Menu.List.Select(3)
			a.Wait()
			gaps := a.Nav().Top().(*app.ListScreen)
			var card *app.Card
			for i, it := range gaps.Items {
				if strings.HasPrefix(it.Title, gap.h.HeadName+" · ") {
					gaps.Open(i)
					a.Wait()
					if c, ok := a.Nav().Top().(*app.Card); ok && c.Data != nil && c.Data.Household.ID == gap.h.ID {
						card = c
						break
					}
					a.Nav().Pop()
					a.Wait()
				}
			}
			if card == nil {
				t.Fatalf("the gaps list does not open %s's card", gap.h.HeadName)
			}
			var add *app.PairForm
			for _, b := range card.Pair {
				if b.Text == "补充"+roleName(gap.role) {
					test.Tap(b)
					a.Wait()
					add = a.Nav().Top().(*app.PairForm)
				}
			}
			if add == nil {
				t.Fatalf("the card offers no button to add the missing %s (%d buttons)", gap.role, len(card.Pair))
			}
			test.Tap(add.Save)
			a.Wait()
			if got := labelText(t, add.Error); got != "请选择结对的干部" {
				t.Errorf("no cadre: %q", got)
			}
			if len(add.Cadre.Options) == 0 {
				t.Fatal("no cadre offered")
			}
			if gap.role == domain.PairCounty {
				for _, o := range add.Cadre.Options {
					if !strings.Contains(o, " · 县级领导") {
						t.Errorf("a county pairing offers %s", o)
					}
				}
			}
			add.Cadre.SetSelectedIndex(0)
			name := strings.Split(add.Cadre.Selected, " · ")[0]
			test.Tap(add.Save)
			a.Wait()
			if a.Nav().Top() != card {
				t.Fatalf("after saving, the top screen is %T (%s)", a.Nav().Top(), add.Error.Text)
			}
			found := false
			for _, hp := range card.Data.Helpers {
				found = found || hp.Role == gap.role && hp.Cadre.Name == name
			}
			if !found {
				t.Errorf("the card does not name %s as %s", name, gap.role)
			}
			for _, g := range must(query.Assistance(d.db, e.data.Village.ID)).Households {
				if g.Household.ID == gap.h.ID {
					for _, r := range g.Missing {
						if r == gap.role {
							t.Errorf("the three-level check still misses %s", r)
						}
					}
				}
			}
			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := d.client.Status(); len(st.Rejected) > 0 || st.Pending > 0 {
				t.Errorf("after the sync: %d rejected (%v), %d pending", len(st.Rejected), st.Rejected, st.Pending)
			}
			found = false
			for _, hp := range must(query.Card(e.db, gap.h.ID, demoNow)).Helpers {
				found = found || hp.Role == gap.role && hp.Cadre.Name == name
			}
			if !found {
				t.Errorf("the server's card does not name %s", name)
			}

			p, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
			p.Households.List.Select(0)
			p.Wait()
			if c := p.Nav().Top().(*app.Card); len(c.Pair) != 0 {
				t.Errorf("a group cadre's card offers %d pairing buttons", len(c.Pair))
			}
		})
	}
}

type demoGap struct {
	h    *domain.Household
	role domain.Role
}

func roleName(r domain.Role) string {
	zh, _ := domain.RoleName(r)
	return zh
}
