package query_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

func TestCard(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	c, err := query.Card(db, v.Wang.ID, v.Now)
	must(t, err)
	if d := sameFields(t, c.Household, v.Wang); d != nil {
		t.Errorf("card household differs: %v", d)
	}
	if c.Group.ID != v.G1.ID || c.Village.ID != v.Vil.ID || c.NaturalVillage == nil || c.NaturalVillage.ID != v.North.ID {
		t.Errorf("card places: %v %v %v", c.Group, c.Village, c.NaturalVillage)
	}
	var members []string
	for _, m := range c.Members {
		members = append(members, m.Name)
	}
	// Head first, then by birth year.
	if want := []string{"王兴文", "刘桂兰", "马秀英", "王小军"}; !reflect.DeepEqual(members, want) {
		t.Errorf("members = %v, want %v", members, want)
	}
	type helper struct {
		role domain.Role
		name string
	}
	var helpers []helper
	for _, h := range c.Helpers {
		helpers = append(helpers, helper{h.Role, h.Cadre.Name})
	}
	wantHelpers := []helper{{domain.GroupCadre, "李建国"}, {domain.PairCounty, "马福林"}, {domain.PairSection, "张志明"}, {domain.Helper, "李建国"}}
	if !reflect.DeepEqual(helpers, wantHelpers) {
		t.Errorf("helpers = %v, want %v", helpers, wantHelpers)
	}
	if len(c.Visits) != 2 || c.Visits[0].ID != v.Visits[1].ID || c.Visits[1].ID != v.Visits[0].ID {
		t.Errorf("visits not newest first: %v", c.Visits)
	}
	if !c.LastVisit.Equal(v.DaysAgo(3)) || c.DaysSince != 3 {
		t.Errorf("last visit %v, %d days", c.LastVisit, c.DaysSince)
	}
	if c.Plan == nil || c.Plan.ID != v.Plan.ID || c.Plan.Status != domain.PlanSubmitted {
		t.Fatalf("plan = %+v", c.Plan)
	}
	// By due date: training (1 month), handicraft (2), farming (4).
	if len(c.Measures) != 3 || c.Measures[0].ID != v.Measures[1].ID || c.Measures[1].ID != v.Measures[2].ID || c.Measures[2].ID != v.Measures[0].ID {
		t.Errorf("measures not by due date: %v", c.Measures)
	}
	if len(c.Reviews) != 2 || c.Reviews[0].ID != v.Reviews[1].ID {
		t.Errorf("reviews not newest first: %v", c.Reviews)
	}
	if len(c.Problems) != 1 || c.Problems[0].ID != v.Problems[0].ID {
		t.Errorf("open problems = %v", c.Problems)
	}

	// The card's records are the caller's copies.
	c.Household.HeadName, c.Group.Name, c.Helpers[0].Cadre.Name = "改掉", "改掉", "改掉"
	again, err := query.Card(db, v.Wang.ID, v.Now)
	must(t, err)
	if again.Household.HeadName != "王兴文" || again.Group.Name != "一社" || again.Helpers[0].Cadre.Name != "李建国" {
		t.Errorf("editing a returned card changed the next one: %s %s %s", again.Household.HeadName, again.Group.Name, again.Helpers[0].Cadre.Name)
	}
	// An edit shows on the next card.
	h, err := db.Get(domain.KindHousehold, v.Wang.ID)
	must(t, err)
	h.(*domain.Household).Phone = "13800000099"
	mustPut(t, db, v.Li.ID, h)
	if again, _ = query.Card(db, v.Wang.ID, v.Now); again.Household.Phone != "13800000099" {
		t.Errorf("card after an edit shows phone %s", again.Household.Phone)
	}

	// A household with nothing: only its group cadre helps.
	c, err = query.Card(db, v.Han.ID, v.Now)
	must(t, err)
	if c.NaturalVillage != nil || c.Plan != nil || len(c.Visits) != 0 || len(c.Members) != 0 ||
		len(c.Problems) != 0 || !c.LastVisit.IsZero() || c.DaysSince != -1 {
		t.Errorf("empty card = %+v", c)
	}
	if len(c.Helpers) != 1 || c.Helpers[0].Role != domain.GroupCadre || c.Helpers[0].Cadre.ID != v.He.ID {
		t.Errorf("helpers of 韩东生 = %+v", c.Helpers)
	}

	// Only the last ten visits, newest first; problems oldest first.
	for i := 12; i >= 1; i-- {
		x := &domain.Visit{Household: v.Han.ID, Cadre: v.He.ID, At: v.DaysAgo(i), Type: domain.VisitRoutine, Notes: fmt.Sprint("第", 13-i, "次")}
		mustPut(t, db, v.He.ID, x)
		if i%4 == 0 {
			p := &domain.Problem{Household: v.Han.ID, Visit: x.ID, Text: fmt.Sprint("问题", i), Status: domain.ProblemOpen}
			p.Created = x.At
			mustPut(t, db, v.He.ID, p)
		}
	}
	c, err = query.Card(db, v.Han.ID, v.Now)
	must(t, err)
	if len(c.Visits) != query.CardVisits {
		t.Fatalf("%d visits on the card, want %d", len(c.Visits), query.CardVisits)
	}
	for i, x := range c.Visits {
		if want := v.DaysAgo(i + 1); !x.At.Equal(want) {
			t.Errorf("visit %d at %v, want %v", i, x.At, want)
		}
	}
	if c.DaysSince != 1 {
		t.Errorf("DaysSince = %d", c.DaysSince)
	}
	var texts []string
	for _, p := range c.Problems {
		texts = append(texts, p.Text)
	}
	if want := []string{"问题12", "问题8", "问题4"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("problems = %v, want oldest first %v", texts, want)
	}

	if _, err := query.Card(db, uuid.New(), v.Now); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Card of nobody: %v, want not found", err)
	}
	var e *domain.Error
	if _, err := query.Card(db, uuid.New(), v.Now); !errors.As(err, &e) || e.Zh == "" || e.En == "" {
		t.Errorf("Card error is not bilingual: %v", err)
	}
}

// TestCardMembersByBirthDate: after the head, a card lists members by their
// full birth date (the date, else the ID number's, else the year alone),
// those with none last, same days by name: two born the same year come in
// the order of their birthdays, whatever order they were written in.
func TestCardMembersByBirthDate(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }
	ms := []*domain.Member{
		{Household: v.Han.ID, Name: "韩小雨", Relation: "女", Gender: "女"}, // nothing known: last
		{Household: v.Han.ID, Name: "韩冬梅", Relation: "女", Gender: "女", Birth: day(2001, 12, 30), BirthYear: 2001},
		{Household: v.Han.ID, Name: "韩春生", Relation: "子", Gender: "男", Birth: day(2001, 2, 3), BirthYear: 2001},
		{Household: v.Han.ID, Name: "韩秋实", Relation: "子", Gender: "男", IDNumber: idNumber("20010815", "031")}, // the ID number's date
		{Household: v.Han.ID, Name: "韩老太", Relation: "母", Gender: "女", BirthYear: 1950},                       // the year alone
		{Household: v.Han.ID, Name: "韩东生", Relation: "户主", Gender: "男", Birth: day(1975, 5, 6), BirthYear: 1975},
		{Household: v.Han.ID, Name: "韩夏至", Relation: "子", Gender: "男", Birth: day(2001, 6, 21)},
	}
	for _, m := range ms {
		mustPut(t, db, v.He.ID, m)
	}
	c, err := query.Card(db, v.Han.ID, v.Now)
	must(t, err)
	var got []string
	for _, m := range c.Members {
		got = append(got, m.Name)
	}
	want := []string{"韩东生", "韩老太", "韩春生", "韩夏至", "韩秋实", "韩冬梅", "韩小雨"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
}
