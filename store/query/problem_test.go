package query_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// TestProblemLife: a problem waiting at the village without response shows
// as quiet; the team leader moves it to the town; its history, the town's
// inbox, the village's list, the cadres' news and each viewer's level read
// back what happened.
func TestProblemLife(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	office := &domain.Cadre{Name: "周文", Rank: domain.RankOther, Unit: "枹罕镇人民政府"}
	mustPut(t, db, v.Office, office)
	mustPut(t, db, v.Office, &domain.Assignment{Cadre: office.ID, Role: domain.Office, Target: v.Town.ID, Since: v.DaysAgo(300)})
	wall := v.Problems[2] // 王小红's, at the village since 9 days ago

	rows, err := query.ProblemsAt(db, v.Vil.ID, fixtureNow)
	must(t, err)
	if len(rows) != 2 || rows[0].Problem.ID != wall.ID || rows[1].Problem.ID != v.Problems[0].ID {
		t.Fatalf("the village's list: %+v, want the wall then the open problem", rows)
	}
	if !rows[0].Quiet || rows[0].Waiting != 10 || rows[1].Quiet {
		t.Errorf("quiet: wall %v (%d days), open %v; want the wall quiet for 10 days (no step: since found)", rows[0].Quiet, rows[0].Waiting, rows[1].Quiet)
	}
	if rows[0].Village == nil || rows[0].Village.ID != v.Vil.ID || rows[0].AgeDays != 10 {
		t.Errorf("the wall's row: village %v, age %d", rows[0].Village, rows[0].AgeDays)
	}

	at := v.DaysAgo(2)
	p := *wall
	step, err := domain.Move(&p, domain.ProblemTown, v.Zhao.ID, at, "村里无力维修，报镇里", fixtureNow)
	must(t, err)
	mustPut(t, db, v.Zhao.ID, &p, step)

	d, err := query.ProblemHistory(db, wall.ID, v.He.ID, fixtureNow)
	must(t, err)
	if len(d.Steps) != 1 || d.Steps[0].Step.ID != step.ID || d.Steps[0].By == nil || d.Steps[0].By.Name != "赵德明" {
		t.Fatalf("history: %+v", d.Steps)
	}
	if d.Problem.Status != domain.ProblemTown || d.Waiting != 2 || d.Quiet || d.AgeDays != 10 {
		t.Errorf("detail: status %s, waiting %d, quiet %v, age %d", d.Problem.Status, d.Waiting, d.Quiet, d.AgeDays)
	}
	if d.Village == nil || d.Village.ID != v.Vil.ID || d.Town == nil || d.Town.ID != v.Town.ID || d.Household.HeadName != "王小红" {
		t.Errorf("where: %v %v %q", d.Village, d.Town, d.Household.HeadName)
	}

	for _, c := range []struct {
		who  string
		id   uuid.UUID
		want domain.StepLevel
	}{
		{"the group cadre of 二社", v.He.ID, domain.StepHousehold},
		{"a helper of the household", v.Li.ID, domain.StepHousehold},
		{"the team leader", v.Zhao.ID, domain.StepVillage},
		{"the town office", office.ID, domain.StepTown},
		{"a cadre paired elsewhere", v.Zhang.ID, domain.StepNone},
	} {
		d, err := query.ProblemHistory(db, wall.ID, c.id, fixtureNow)
		must(t, err)
		if d.Level != c.want {
			t.Errorf("%s stands at %d, want %d", c.who, d.Level, c.want)
		}
	}

	inbox, err := query.ProblemsAt(db, v.Town.ID, fixtureNow, domain.ProblemTown)
	must(t, err)
	if len(inbox) != 1 || inbox[0].Problem.ID != wall.ID || inbox[0].Waiting != 2 || inbox[0].Quiet {
		t.Errorf("the town's inbox: %+v", inbox)
	}
	if all, _ := query.ProblemsAt(db, uuid.Nil, fixtureNow, domain.ProblemTown); len(all) != 1 {
		t.Errorf("everywhere at the town: %d problems", len(all))
	}
	if none, _ := query.ProblemsAt(db, v.Town.ID, fixtureNow.AddDate(0, 0, 6), domain.ProblemTown); len(none) != 1 || !none[0].Quiet || none[0].Waiting != 8 {
		t.Errorf("a week later the inbox row is %+v, want quiet for 8 days", none)
	}

	news, err := query.ProblemNews(db, v.He.ID, v.DaysAgo(5))
	must(t, err)
	if len(news) != 1 || news[0].Step.ID != step.ID || news[0].HeadName != "王小红" || news[0].By == nil {
		t.Errorf("the group cadre's news: %+v", news)
	}
	if news, _ := query.ProblemNews(db, v.Zhao.ID, v.DaysAgo(5)); len(news) != 0 {
		t.Errorf("the team leader is told of their own move: %+v", news)
	}
	if news, _ := query.ProblemNews(db, v.He.ID, v.DaysAgo(1)); len(news) != 0 {
		t.Errorf("news since yesterday: %+v", news)
	}

	res, err := query.ResolvedProblems(db, v.Mayu.ID, 5)
	must(t, err)
	if len(res) != 1 || res[0].Resolution != "已更换管道" {
		t.Errorf("resolved problems of 马玉兰: %+v", res)
	}
	if res, _ := query.ResolvedProblems(db, v.Wang.ID, 5); len(res) != 0 {
		t.Errorf("王兴文 has resolved problems: %+v", res)
	}
}

// TestTownOverview: the town's row for its village agrees with the
// village's own overview, and the visits behind "visits this month" are as
// many as the number.
func TestTownOverview(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	p := *v.Problems[2]
	step, err := domain.Move(&p, domain.ProblemTown, v.Zhao.ID, v.DaysAgo(1), "", fixtureNow)
	must(t, err)
	mustPut(t, db, v.Zhao.ID, &p, step)
	empty := &domain.Place{Level: domain.Village, Name: "阳山村", Parent: v.Town.ID}
	mustPut(t, db, v.Office, empty)

	o, err := query.TownOverview(db, v.Town.ID, fixtureNow)
	must(t, err)
	if len(o.Villages) != 2 || o.Villages[0].Village.Name != "王坪村" || o.Villages[1].Village.Name != "阳山村" {
		t.Fatalf("rows: %+v", o.Villages)
	}
	ov, err := query.Overview(db, v.Vil.ID, fixtureNow)
	must(t, err)
	got, want := o.Villages[0], ov.Total
	if got.Households != want.Households || got.VisitsThisMonth != want.VisitsThisMonth || got.Overdue != want.Overdue ||
		got.OpenProblems != want.OpenProblems || got.AwaitingReview != want.AwaitingReview || got.Gaps != want.Gaps {
		t.Errorf("town row %+v, village overview %+v", got, want)
	}
	if got.AtTown != 1 || got.Households != 5 || got.VisitsThisMonth != 3 {
		t.Errorf("at town %d, households %d, visits %d", got.AtTown, got.Households, got.VisitsThisMonth)
	}
	if e := o.Villages[1]; e.Village.ID != empty.ID || (e != query.VillageStats{Village: e.Village}) {
		t.Errorf("the empty village: %+v", o.Villages[1])
	}
	tot := o.Total
	tot.Village = nil
	if g := got; tot.Households != g.Households || tot.AtTown != g.AtTown || tot.Gaps != g.Gaps {
		t.Errorf("total %+v", o.Total)
	}
	visits, err := query.VillageVisits(db, v.Vil.ID, time.Date(2024, 6, 1, 0, 0, 0, 0, cst), fixtureNow)
	must(t, err)
	if len(visits) != got.VisitsThisMonth || visits[0].Visit.At.Before(visits[len(visits)-1].Visit.At) || visits[0].Cadre == nil {
		t.Errorf("visits this month: %d rows for %d", len(visits), got.VisitsThisMonth)
	}
	if _, err := query.TownOverview(db, v.Vil.ID, fixtureNow); err == nil {
		t.Error("a village read as a town")
	}
}
