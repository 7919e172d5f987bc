package e2e_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestRosterRightsAgree: for every role, and for what a tablet offers with
// the roster — ending a pairing or a town-level duty, recording that a cadre
// retired (one of the village, one of the town, one of two villages),
// approving a plan where the town lead is among the approvers, setting a
// household's status — the tablet offers it (query.Rights on the device's
// replica, which the app's screens ask) exactly when the server accepts it
// pushed from that device. Each role in a world of its own; the table of
// both answers is printed.
//
// A village's lead is not offered to retire a cadre who also works in
// another village, as the server refuses it: the server sends a village's
// tablet the pairings and the current duties of its cadres elsewhere
// (domain.Post.Pairings), not the places those name, and a duty at a place
// the tablet does not hold is one where its lead leads nothing.
func TestRosterRightsAgree(t *testing.T) {
	type post struct {
		role  domain.Role
		level string // where: "household", "group", "village", "town", "city"
	}
	posts := []post{
		{domain.PairCounty, "household"}, {domain.PairSection, "household"}, {domain.Helper, "household"},
		{domain.GroupCadre, "group"}, {domain.GroupCadreLead, "village"}, {domain.FirstSecretary, "village"},
		{domain.TeamLeader, "village"}, {domain.TeamMember, "village"}, {domain.VillageLead, "village"},
		{domain.VillageCommittee, "village"}, {domain.CityContact, "village"}, {domain.TownLead, "town"},
		{domain.Office, "town"}, {domain.Office, "city"},
	}
	actions := []string{"end pairing", "end town duty", "retire village cadre", "retire town cadre",
		"retire two-village cadre", "retire two-town cadre", "approve plan", "set status"}
	var table []string
	disagree := 0
	for _, p := range posts {
		row := fmt.Sprintf("%-18s %-9s", p.role, p.level)
		t.Run(string(p.role)+"@"+p.level, func(t *testing.T) {
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
			since := now.AddDate(-1, 0, 0)
			// The town lead approves plans in 王坪村 too.
			rules := domain.DefaultRules()
			rules.Approvers = []domain.Role{domain.FirstSecretary, domain.TeamLeader, domain.TownLead}
			village := *w.Village
			village.Rules = &rules
			put(&village)
			// The cadres acted on: a clerk of the town office, a team member
			// of both villages, a team member of 王坪村 and of a village of
			// another town; the actor in the role under test.
			clerk := &domain.Cadre{Name: "镇文书", Rank: domain.RankOther}
			both := &domain.Cadre{Name: "两村队员", Rank: domain.RankOther}
			towns := &domain.Cadre{Name: "两镇队员", Rank: domain.RankOther}
			actor := &domain.Cadre{Name: "测试干部", Rank: domain.RankSection}
			put(clerk, both, towns, actor)
			town2 := &domain.Place{Level: domain.Town, Name: "南龙镇", Parent: w.City.ID}
			put(town2)
			village3 := &domain.Place{Level: domain.Village, Name: "罗家湾村", Parent: town2.ID}
			put(village3)
			clerkDuty := &domain.Assignment{Cadre: clerk.ID, Role: domain.Office, Target: w.Town.ID, Since: since}
			put(clerkDuty,
				&domain.Assignment{Cadre: both.ID, Role: domain.TeamMember, Target: w.Village.ID, Since: since},
				&domain.Assignment{Cadre: both.ID, Role: domain.TeamMember, Target: w.Village2.ID, Since: since},
				&domain.Assignment{Cadre: towns.ID, Role: domain.TeamMember, Target: w.Village.ID, Since: since},
				&domain.Assignment{Cadre: towns.ID, Role: domain.TeamMember, Target: village3.ID, Since: since})
			target := map[string]uuid.UUID{"household": w.Households[0].ID, "group": w.G1.ID, "village": w.Village.ID,
				"town": w.Town.ID, "city": w.City.ID}[p.level]
			put(&domain.Assignment{Cadre: actor.ID, Role: p.role, Target: target, Since: since})
			// The household acted on: the actor's if they are paired or its
			// group cadre, one every device here holds; Cadre2 helps it too.
			statusOf := w.Households[0]
			pairing := &domain.Assignment{Cadre: w.Cadre2.ID, Role: domain.Helper, Target: statusOf.ID, Since: since}
			put(pairing)

			dev := synctest.NewDevice(t, dir, "tablet", srv, actor.ID, client.Options{}, nil)
			if err := dev.Sync(); err != nil {
				t.Fatal(err)
			}
			rights := must(query.RightsOf(dev.DB, actor.ID))
			may := func(target uuid.UUID) bool { return must(rights.MayRoster(target)) }
			offered := map[string]bool{
				"end pairing":              may(pairing.Target),
				"end town duty":            may(clerkDuty.Target),
				"retire village cadre":     rights.MayChangeCadre(w.Cadre2.ID) == nil,
				"retire town cadre":        rights.MayChangeCadre(clerk.ID) == nil,
				"retire two-village cadre": rights.MayChangeCadre(both.ID) == nil,
				"retire two-town cadre":    rights.MayChangeCadre(towns.ID) == nil,
				"approve plan":             must(rights.Approves(w.Village.ID)),
				"set status":               may(statusOf.ID),
			}

			// Each action pushed alone from the device, built on the server's
			// record (the device may not hold it); the server's record after
			// the sync says whether it was accepted.
			day := now.AddDate(0, 0, -1).Truncate(24 * time.Hour)
			push := func(recs ...domain.Record) {
				t.Helper()
				if err := dev.DB.Put(actor.ID, recs...); err != nil {
					t.Fatal(err)
				}
				dev.Sync() // a refusal sets the change aside: the server's record tells
			}
			ended := func(a *domain.Assignment) bool {
				x := *a
				x.End(day, "帮扶力量调整")
				push(&x)
				return !must(srv.DB.Get(domain.KindAssignment, a.ID)).(*domain.Assignment).Current()
			}
			retired := func(c *domain.Cadre) bool {
				x := *must(srv.DB.Get(domain.KindCadre, c.ID)).(*domain.Cadre)
				x.Left, x.LeftOn, x.LeftReason = domain.Retired, day, "到龄退休"
				push(&x)
				return must(srv.DB.Get(domain.KindCadre, c.ID)).(*domain.Cadre).Left == domain.Retired
			}
			accepted := map[string]bool{}
			accepted["end pairing"] = ended(pairing)
			accepted["end town duty"] = ended(clerkDuty)
			accepted["retire village cadre"] = retired(w.Cadre2)
			accepted["retire town cadre"] = retired(clerk)
			accepted["retire two-village cadre"] = retired(both)
			accepted["retire two-town cadre"] = retired(towns)
			plan := w.Plans[0] // of statusOf
			review := &domain.Review{Plan: plan.ID, Household: plan.Household, Reviewer: actor.ID, Verdict: domain.VerdictApprove, At: now}
			push(review)
			_, err = srv.DB.Get(domain.KindReview, review.ID)
			accepted["approve plan"] = err == nil
			h := *must(srv.DB.Get(domain.KindHousehold, statusOf.ID)).(*domain.Household)
			h.Status = domain.Monitored
			if h.Status == statusOf.Status {
				h.Status = domain.Lifted
			}
			push(&h)
			accepted["set status"] = must(srv.DB.Get(domain.KindHousehold, statusOf.ID)).(*domain.Household).Status == h.Status

			for _, a := range actions {
				mark := map[[2]bool]string{{true, true}: "yes", {false, false}: "no", {true, false}: "OFFERED-REFUSED", {false, true}: "HIDDEN-ACCEPTED"}[[2]bool{offered[a], accepted[a]}]
				row += fmt.Sprintf(" %s=%s", a, mark)
				if offered[a] != accepted[a] {
					disagree++
					t.Errorf("%s: the tablet offers it: %v; the server accepts it: %v", a, offered[a], accepted[a])
				}
			}
		})
		table = append(table, row)
	}
	t.Logf("role × action (tablet offers / server accepts):\n%s", strings.Join(table, "\n"))
	if disagree > 0 {
		t.Errorf("%d disagreements", disagree)
	}
}

// must returns v, panicking on err (a test's own setup).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
