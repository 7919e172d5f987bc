package domain_test

import (
	"errors"
	"testing"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// TestCheckVisitTime: a visit may be back-dated up to the rule's days, never
// set in the future, and an unset rule means the default week.
func TestCheckVisitTime(t *testing.T) {
	now := time.Date(2026, 11, 30, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for _, c := range []struct {
		name string
		at   time.Time
		days int
		ok   bool
	}{
		{"now", now, 7, true},
		{"this morning", now.Add(-10 * time.Hour), 7, true},
		{"six days back", now.AddDate(0, 0, -6), 7, true},
		{"eight days back", now.AddDate(0, 0, -8), 7, false},
		{"eight days back, default", now.AddDate(0, 0, -8), 0, false},
		{"eight days back, rule 10", now.AddDate(0, 0, -8), 10, true},
		{"an hour ahead", now.Add(time.Hour), 7, false},
	} {
		err := domain.CheckVisitTime(c.at, now, c.days)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok %v", c.name, err, c.ok)
		}
		var de *domain.Error
		if err != nil && (!errors.As(err, &de) || de.Field != "at") {
			t.Errorf("%s: %v is not a domain error on at", c.name, err)
		}
	}
}

// TestRulesBackdate: the back-dating days default to 7 and are validated.
func TestRulesBackdate(t *testing.T) {
	r := domain.DefaultRules()
	if r.Backdate() != 7 || r.Validate() != nil {
		t.Fatalf("defaults: %d, %v", r.Backdate(), r.Validate())
	}
	r.BackdateDays = 0
	if r.Backdate() != domain.DefaultBackdateDays || r.Validate() != nil {
		t.Errorf("0 means the default: %d, %v", r.Backdate(), r.Validate())
	}
	for _, bad := range []int{-1, 366} {
		r.BackdateDays = bad
		if r.Validate() == nil {
			t.Errorf("backdate_days %d accepted", bad)
		}
	}
}

// TestVisitCompanionsAndMet: a companion is not the visitor, and a visit
// that met nobody names nobody.
func TestVisitCompanionsAndMet(t *testing.T) {
	now := time.Now()
	cadre, other, member := uuid.New(), uuid.New(), uuid.New()
	v := domain.Visit{Household: uuid.New(), Cadre: cadre, At: now, Type: domain.VisitRoutine, Notes: "正常",
		Companions: []uuid.UUID{other}, Met: member}
	if err := v.Validate(now); err != nil {
		t.Fatal(err)
	}
	v.Companions = []uuid.UUID{other, cadre}
	if v.Validate(now) == nil {
		t.Error("the visitor as their own companion accepted")
	}
	v.Companions, v.Absent = nil, true
	if v.Validate(now) == nil {
		t.Error("未遇到 with a member met accepted")
	}
	v.Met = uuid.Nil
	if err := v.Validate(now); err != nil {
		t.Errorf("未遇到: %v", err)
	}
}
