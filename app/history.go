package app

import (
	"github.com/google/uuid"

	"fyne.io/fyne/v2/lang"

	"bangfu/domain"
	"bangfu/store/query"
)

// coverageItems are the rows of the gaps list for the coverage checks
// (domain.CheckCoverage): a 社 without a group cadre, a village without a
// work team leader or county-level contact, a town without a lead.
func coverageItems(c domain.Coverage) []Item {
	var items []Item
	add := func(ps []*domain.Place, detail string) {
		for _, p := range ps {
			items = append(items, Item{Title: p.Name, Detail: detail, Warn: true})
		}
	}
	add(c.GroupsWithoutCadre, lang.L("gaps.no_group_cadre"))
	add(c.VillagesWithoutLeader, lang.L("gaps.no_team_leader"))
	add(c.VillagesWithoutContact, lang.L("gaps.no_county_contact"))
	add(c.TownsWithoutLead, lang.L("gaps.no_town_lead"))
	for _, s := range c.Stationed {
		if s.Low {
			items = append(items, Item{Title: s.Town.Name, Warn: true, Detail: lang.L("gaps.stationed",
				map[string]any{"Stationed": s.Stationed, "Total": s.Total, "Percent": s.Percent(), "Want": s.Want})})
		}
	}
	return items
}

// rosterHistory lists the history of the village's helpers (帮扶力量调整记录):
// every assignment, current and ended, with its dates and why it ended, then
// the households that left and the cadres who retired or were transferred.
// Tapping a current assignment opens its adjustment (AdjustForm): end it, or
// record that its cadre left — where the leader may write the roster, as the
// server decides it (query.Rights). For a town (a town lead's or the
// office's tablet) the list is the town's own duties and its villages'.
func rosterHistory(a *App, place uuid.UUID) Screen {
	return rosterHistoryTitled(a, lang.L("history.title"), place)
}

func rosterHistoryTitled(a *App, title string, village uuid.UUID) Screen {
	me := a.cadre
	return newListScreen(a, title, func() ([]Item, error) {
		h, err := query.History(a.db, village)
		if err != nil {
			return nil, err
		}
		rights, err := query.RightsOf(a.db, me)
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, x := range h.Adjustments {
			as := x.Assignment
			name := ""
			if x.Cadre != nil {
				name = x.Cadre.Name
			}
			it := Item{Title: join(x.TargetName(), roleText(as.Role), name)}
			if as.Until.IsZero() {
				it.Detail = lang.L("history.since", map[string]any{"Since": dateText(as.Since)})
				x := x
				if may, err := rights.MayRoster(as.Target); err != nil {
					return nil, err
				} else if may {
					it.open = func() { a.nav.Push(newAdjustForm(a, x)) }
				}
			} else {
				it.Detail = lang.L("history.ended", map[string]any{"Since": dateText(as.Since), "Until": dateText(as.Until), "Reason": as.EndReason})
				it.Warn = true
			}
			items = append(items, it)
		}
		for _, hh := range h.Households {
			items = append(items, Item{Title: hh.HeadName, Warn: true,
				Detail: join(exitText(hh.Exit), dateText(hh.ExitOn), hh.ExitReason)})
		}
		for _, c := range h.Cadres {
			items = append(items, Item{Title: c.Name, Warn: true,
				Detail: join(departureText(c.Left), dateText(c.LeftOn), c.LeftReason)})
		}
		return items, nil
	})
}

func exitText(e domain.Exit) string {
	zh, en := domain.ExitName(e)
	if Language() == English {
		return en
	}
	return zh
}

func departureText(d domain.Departure) string {
	zh, en := domain.DepartureName(d)
	if Language() == English {
		return en
	}
	return zh
}
