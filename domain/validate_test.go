package domain_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"bangfu/domain"

	"github.com/google/uuid"
)

// cst is China Standard Time, where the app is used.
var cst = time.FixedZone("CST", 8*3600)

// now is the time the validation tests run at: 10:00 on 1 June 2024, Linxia.
var now = time.Date(2024, 6, 1, 10, 0, 0, 0, cst)

func id(n int) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "test-%d", n)) }

// checkDigit computes an ID number's check character the textbook way (ISO
// 7064 MOD 11-2, weights 2^(17-i) mod 11), independently of the package.
func checkDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// Resident ID numbers with correct check characters.
const (
	idX     = "11010519491231002X" // the textbook example from GB 11643
	idDigit = "622901199001011232"
)

func checkInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want an error for field %q", what, field)
		return
	}
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %T %v is not a *domain.Error", what, err, err)
		return
	}
	if e.Code != domain.EINVALID {
		t.Errorf("%s: code %q, want %q", what, e.Code, domain.EINVALID)
	}
	if e.Field != field {
		t.Errorf("%s: field %q, want %q (%v)", what, e.Field, field, err)
	}
	if !hasHan(e.Zh) {
		t.Errorf("%s: Chinese message %q has no Chinese", what, e.Zh)
	}
	if e.En == "" || e.En == e.Zh || !strings.ContainsAny(e.En, "aeiou") {
		t.Errorf("%s: English message %q", what, e.En)
	}
	if !utf8.ValidString(e.Zh) || !utf8.ValidString(e.En) {
		t.Errorf("%s: messages are not valid UTF-8", what)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

type validateCase struct {
	name  string
	rec   domain.Record
	field string // "" when the record is valid
}

func runValidate(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		err := tc.rec.Validate(now)
		what := fmt.Sprintf("%s %s", tc.rec.Kind(), tc.name)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v, want it accepted", what, err)
			}
			continue
		}
		checkInvalid(t, what, err, tc.field)
	}
}

func with[T any](base func() *T, edit func(*T)) *T {
	v := base()
	edit(v)
	return v
}

func validPlace() *domain.Place {
	return &domain.Place{Level: domain.Group, Name: "一社", Parent: id(1)}
}

func validHousehold() *domain.Household {
	return &domain.Household{HeadName: "王兴文", Phone: "13893012345", IDNumber: idDigit, Group: id(2),
		Status: domain.Registered, Farmland: 6.3, Size: 5, Notes: "种植花椒"}
}

func validMember() *domain.Member {
	return &domain.Member{Household: id(3), Name: "马秀兰", Relation: "配偶", Gender: "女", BirthYear: 1975, IDNumber: idX}
}

func validCadre() *domain.Cadre {
	return &domain.Cadre{Name: "李明", Phone: "0930-6212345", Rank: domain.RankSection, Unit: "市农业农村局"}
}

func validAssignment() *domain.Assignment {
	return &domain.Assignment{Cadre: id(4), Role: domain.Helper, Target: id(5)}
}

func validVisit() *domain.Visit {
	return &domain.Visit{Household: id(3), Cadre: id(4), At: now.Add(-2 * time.Hour), Type: domain.VisitRoutine,
		Notes: "家中养鸡 40 只，饮水正常", Fees: domain.FeesPaid, Water: domain.WaterSafe}
}

func validProblem() *domain.Problem {
	return &domain.Problem{Household: id(3), Visit: id(6), Text: "屋顶漏雨", Status: domain.ProblemOpen}
}

func validPlan() *domain.Plan {
	return &domain.Plan{Household: id(3), Goal: "年增收 3000 元", Start: time.Date(2024, 3, 1, 0, 0, 0, 0, cst), Status: domain.PlanDraft}
}

func validMeasure() *domain.Measure {
	return &domain.Measure{Plan: id(7), Household: id(3), Type: domain.MeasureFarming, Description: "生态散养鸡",
		Owner: id(4), Target: "散养鸡 50 只", Due: time.Date(2024, 12, 31, 0, 0, 0, 0, cst), Progress: domain.InProgress}
}

func validReview() *domain.Review {
	return &domain.Review{Plan: id(7), Household: id(3), Reviewer: id(8), Verdict: domain.VerdictComment,
		Comment: "措施具体，可行", At: now.Add(-time.Hour)}
}

func validConflict() *domain.Conflict {
	return &domain.Conflict{Household: id(3), RecordKind: domain.KindMeasure, Record: id(9), Field: "target",
		Winner: []byte(`"a"`), Loser: []byte(`"b"`)}
}

var (
	longName = strings.Repeat("王", domain.MaxName+1)
	maxName  = strings.Repeat("王", domain.MaxName)
	longText = strings.Repeat("情", domain.MaxText+1)
	maxText  = strings.Repeat("情", domain.MaxText)
)

func TestValidatePlace(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid group", validPlace(), ""},
		{"city without parent", &domain.Place{Level: domain.City, Name: "临夏市"}, ""},
		{"name of MaxName characters", with(validPlace, func(p *domain.Place) { p.Name = maxName }), ""},
		{"empty name", with(validPlace, func(p *domain.Place) { p.Name = "" }), "name"},
		{"blank name", with(validPlace, func(p *domain.Place) { p.Name = " \t　" }), "name"},
		{"name too long", with(validPlace, func(p *domain.Place) { p.Name = longName }), "name"},
		{"unknown level", with(validPlace, func(p *domain.Place) { p.Level = "province" }), "level"},
		{"no level", with(validPlace, func(p *domain.Place) { p.Level = "" }), "level"},
		{"village without parent", &domain.Place{Level: domain.Village, Name: "王坪村"}, "parent"},
	})
}

func TestPlaceValidParent(t *testing.T) {
	city := &domain.Place{Level: domain.City}
	town := &domain.Place{Level: domain.Town}
	village := &domain.Place{Level: domain.Village}
	cases := []struct {
		child, parent *domain.Place
		ok            bool
	}{
		{town, city, true},
		{village, town, true},
		{&domain.Place{Level: domain.NaturalVillage}, village, true},
		{&domain.Place{Level: domain.Group}, village, true},
		{&domain.Place{Level: domain.Group}, town, false},
		{village, city, false},
		{town, village, false},
	}
	for _, tc := range cases {
		err := tc.child.ValidParent(tc.parent)
		what := fmt.Sprintf("%s under %s", tc.child.Level, tc.parent.Level)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
			continue
		}
		checkInvalid(t, what, err, "parent")
	}
}

func TestValidateHousehold(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validHousehold(), ""},
		{"no phone, no ID", with(validHousehold, func(h *domain.Household) { h.Phone, h.IDNumber = "", "" }), ""},
		{"ID ending in X", with(validHousehold, func(h *domain.Household) { h.IDNumber = idX }), ""},
		{"ID ending in lower-case x", with(validHousehold, func(h *domain.Household) { h.IDNumber = strings.ToLower(idX) }), ""},
		{"landline", with(validHousehold, func(h *domain.Household) { h.Phone = "09306212345" }), ""},
		{"landline with area code", with(validHousehold, func(h *domain.Household) { h.Phone = "0930-6212345" }), ""},
		{"no farmland", with(validHousehold, func(h *domain.Household) { h.Farmland = 0 }), ""},
		{"notes of MaxText characters", with(validHousehold, func(h *domain.Household) { h.Notes = maxText }), ""},
		{"lifted", with(validHousehold, func(h *domain.Household) { h.Status = domain.Lifted }), ""},
		{"empty head name", with(validHousehold, func(h *domain.Household) { h.HeadName = "" }), "head_name"},
		{"blank head name", with(validHousehold, func(h *domain.Household) { h.HeadName = "   " }), "head_name"},
		{"head name too long", with(validHousehold, func(h *domain.Household) { h.HeadName = longName }), "head_name"},
		{"no group", with(validHousehold, func(h *domain.Household) { h.Group = uuid.Nil }), "group"},
		{"phone with letters", with(validHousehold, func(h *domain.Household) { h.Phone = "1389301234a" }), "phone"},
		{"mobile too short", with(validHousehold, func(h *domain.Household) { h.Phone = "1389301234" }), "phone"},
		{"mobile too long", with(validHousehold, func(h *domain.Household) { h.Phone = "138930123456" }), "phone"},
		{"landline too short", with(validHousehold, func(h *domain.Household) { h.Phone = "621234" }), "phone"},
		{"phone starting with a dash", with(validHousehold, func(h *domain.Household) { h.Phone = "-6212345" }), "phone"},
		{"ID check digit wrong", with(validHousehold, func(h *domain.Household) { h.IDNumber = idDigit[:17] + "3" }), "id_number"},
		{"ID of 17 characters", with(validHousehold, func(h *domain.Household) { h.IDNumber = idDigit[:17] }), "id_number"},
		{"ID with a letter inside", with(validHousehold, func(h *domain.Household) { h.IDNumber = "6229011990A1011232" }), "id_number"},
		{"no status", with(validHousehold, func(h *domain.Household) { h.Status = "" }), "status"},
		{"unknown status", with(validHousehold, func(h *domain.Household) { h.Status = "poor" }), "status"},
		{"negative farmland", with(validHousehold, func(h *domain.Household) { h.Farmland = -1 }), "farmland"},
		{"too much farmland", with(validHousehold, func(h *domain.Household) { h.Farmland = 10001 }), "farmland"},
		{"farmland not a number", with(validHousehold, func(h *domain.Household) { h.Farmland = math.NaN() }), "farmland"},
		{"infinite farmland", with(validHousehold, func(h *domain.Household) { h.Farmland = math.Inf(1) }), "farmland"},
		{"nobody lives there", with(validHousehold, func(h *domain.Household) { h.Size = 0 }), "size"},
		{"too many people", with(validHousehold, func(h *domain.Household) { h.Size = 51 }), "size"},
		{"notes too long", with(validHousehold, func(h *domain.Household) { h.Notes = longText }), "notes"},
	})
}

func TestValidateMember(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validMember(), ""},
		{"only a name", &domain.Member{Household: id(3), Name: "王小明"}, ""},
		{"born this year", with(validMember, func(m *domain.Member) { m.BirthYear = now.Year() }), ""},
		{"no household", with(validMember, func(m *domain.Member) { m.Household = uuid.Nil }), "household"},
		{"empty name", with(validMember, func(m *domain.Member) { m.Name = "" }), "name"},
		{"name too long", with(validMember, func(m *domain.Member) { m.Name = longName }), "name"},
		{"gender in English", with(validMember, func(m *domain.Member) { m.Gender = "F" }), "gender"},
		{"born before 1900", with(validMember, func(m *domain.Member) { m.BirthYear = 1899 }), "birth_year"},
		{"born next year", with(validMember, func(m *domain.Member) { m.BirthYear = now.Year() + 1 }), "birth_year"},
		{"bad ID", with(validMember, func(m *domain.Member) { m.IDNumber = idX[:17] + "1" }), "id_number"},
	})
}

func TestValidateCadre(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validCadre(), ""},
		{"county leader without phone", &domain.Cadre{Name: "张华", Rank: domain.RankCounty}, ""},
		{"empty name", with(validCadre, func(c *domain.Cadre) { c.Name = "" }), "name"},
		{"name too long", with(validCadre, func(c *domain.Cadre) { c.Name = longName }), "name"},
		{"no rank", with(validCadre, func(c *domain.Cadre) { c.Rank = "" }), "rank"},
		{"unknown rank", with(validCadre, func(c *domain.Cadre) { c.Rank = "province" }), "rank"},
		{"bad phone", with(validCadre, func(c *domain.Cadre) { c.Phone = "0930 6212345" }), "phone"},
	})
}

func TestValidateAssignment(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validAssignment(), ""},
		{"office", with(validAssignment, func(a *domain.Assignment) { a.Role = domain.Office }), ""},
		{"no cadre", with(validAssignment, func(a *domain.Assignment) { a.Cadre = uuid.Nil }), "cadre"},
		{"no target", with(validAssignment, func(a *domain.Assignment) { a.Target = uuid.Nil }), "target"},
		{"no role", with(validAssignment, func(a *domain.Assignment) { a.Role = "" }), "role"},
		{"unknown role", with(validAssignment, func(a *domain.Assignment) { a.Role = "boss" }), "role"},
	})
}

func TestValidateVisit(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validVisit(), ""},
		{"within clock skew ahead", with(validVisit, func(v *domain.Visit) { v.At = now.Add(domain.MaxSkew) }), ""},
		{"policy visit without notes", with(validVisit, func(v *domain.Visit) { v.Type, v.Notes = domain.VisitPolicy, "" }), ""},
		{"nothing asked", with(validVisit, func(v *domain.Visit) { v.Fees, v.Water = domain.FeesUnknown, domain.WaterUnknown }), ""},
		{"follow-up due the next day", with(validVisit, func(v *domain.Visit) {
			v.FollowUp, v.Due = "回访饮水", time.Date(2024, 6, 2, 0, 0, 0, 0, cst)
		}), ""},
		{"notes of MaxText characters", with(validVisit, func(v *domain.Visit) { v.Notes = maxText }), ""},
		// Dates are calendar days where they were entered (UTC+8), not in UTC.
		{"follow-up due the same day", with(validVisit, func(v *domain.Visit) { v.Due = time.Date(2024, 6, 1, 0, 0, 0, 0, cst) }), ""},
		{"early visit, follow-up due the same day", with(validVisit, func(v *domain.Visit) {
			v.At, v.Due = time.Date(2024, 6, 1, 7, 0, 0, 0, cst), time.Date(2024, 6, 1, 0, 0, 0, 0, cst)
		}), ""},
		{"follow-up due the same day, picked as a UTC date", with(validVisit, func(v *domain.Visit) {
			v.At, v.Due = time.Date(2024, 6, 1, 7, 0, 0, 0, cst), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		}), ""},
		{"no household", with(validVisit, func(v *domain.Visit) { v.Household = uuid.Nil }), "household"},
		{"no cadre", with(validVisit, func(v *domain.Visit) { v.Cadre = uuid.Nil }), "cadre"},
		{"no time", with(validVisit, func(v *domain.Visit) { v.At = time.Time{} }), "at"},
		{"in the future beyond clock skew", with(validVisit, func(v *domain.Visit) { v.At = now.Add(domain.MaxSkew + time.Second) }), "at"},
		{"tomorrow", with(validVisit, func(v *domain.Visit) { v.At = now.AddDate(0, 0, 1) }), "at"},
		{"before 2010", with(validVisit, func(v *domain.Visit) { v.At = time.Date(2009, 12, 31, 0, 0, 0, 0, cst) }), "at"},
		{"no type", with(validVisit, func(v *domain.Visit) { v.Type = "" }), "type"},
		{"unknown type", with(validVisit, func(v *domain.Visit) { v.Type = "party" }), "type"},
		{"unknown fees", with(validVisit, func(v *domain.Visit) { v.Fees = "some" }), "fees"},
		{"unknown water", with(validVisit, func(v *domain.Visit) { v.Water = "muddy" }), "water"},
		{"empty notes", with(validVisit, func(v *domain.Visit) { v.Notes = "" }), "notes"},
		{"blank notes", with(validVisit, func(v *domain.Visit) { v.Notes = " \n " }), "notes"},
		{"notes too long", with(validVisit, func(v *domain.Visit) { v.Notes = longText }), "notes"},
		{"follow-up due the day before", with(validVisit, func(v *domain.Visit) { v.Due = time.Date(2024, 5, 31, 0, 0, 0, 0, cst) }), "due"},
		{"early visit, follow-up due the afternoon before", with(validVisit, func(v *domain.Visit) {
			v.At, v.Due = time.Date(2024, 6, 1, 7, 0, 0, 0, cst), time.Date(2024, 5, 31, 12, 0, 0, 0, cst)
		}), "due"},
		{"follow-up too long", with(validVisit, func(v *domain.Visit) { v.FollowUp = longText }), "follow_up"},
	})
}

func TestValidateProblem(t *testing.T) {
	resolved := func() *domain.Problem {
		p := validProblem()
		p.Status, p.ResolvedBy, p.ResolvedAt, p.Resolution = domain.ProblemResolved, id(8), now.Add(-time.Hour), "已修缮屋顶"
		return p
	}
	escalated := func() *domain.Problem {
		p := validProblem()
		p.Status, p.ReportedBy, p.ReportedAt = domain.ProblemTown, id(4), now.Add(-time.Hour)
		return p
	}
	runValidate(t, []validateCase{
		{"valid open", validProblem(), ""},
		{"escalated to the town", escalated(), ""},
		{"resolved", resolved(), ""},
		{"no household", with(validProblem, func(p *domain.Problem) { p.Household = uuid.Nil }), "household"},
		{"no text", with(validProblem, func(p *domain.Problem) { p.Text = " " }), "text"},
		{"text too long", with(validProblem, func(p *domain.Problem) { p.Text = longText }), "text"},
		{"unknown status", with(validProblem, func(p *domain.Problem) { p.Status = "closed" }), "status"},
		{"escalated by nobody", with(escalated, func(p *domain.Problem) { p.ReportedBy = uuid.Nil }), "reported_by"},
		{"escalated to the village at no time", with(escalated, func(p *domain.Problem) {
			p.Status, p.ReportedAt = domain.ProblemVillage, time.Time{}
		}), "reported_by"},
		{"resolved by nobody", with(resolved, func(p *domain.Problem) { p.ResolvedBy = uuid.Nil }), "resolved_by"},
		{"resolved at no time", with(resolved, func(p *domain.Problem) { p.ResolvedAt = time.Time{} }), "resolved_by"},
		{"resolved without resolution", with(resolved, func(p *domain.Problem) { p.Resolution = "" }), "resolution"},
		{"resolved in the future", with(resolved, func(p *domain.Problem) { p.ResolvedAt = now.Add(time.Hour) }), "resolved_at"},
	})
}

func validPhoto() *domain.Photo {
	return &domain.Photo{Household: id(3), OfKind: domain.KindVisit, Of: id(5), Cadre: id(4),
		Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 300_000, Width: 1600, Height: 1200}
}

func TestValidatePhoto(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validPhoto(), ""},
		{"on a problem with a caption", with(validPhoto, func(p *domain.Photo) { p.OfKind, p.Caption = domain.KindProblem, "墙体裂缝" }), ""},
		{"with where it was taken", with(validPhoto, func(p *domain.Photo) { p.Lat, p.Lon = 33.6, 106.9 }), ""},
		{"no household", with(validPhoto, func(p *domain.Photo) { p.Household = uuid.Nil }), "household"},
		{"on a plan", with(validPhoto, func(p *domain.Photo) { p.OfKind = domain.KindPlan }), "of_kind"},
		{"on nothing", with(validPhoto, func(p *domain.Photo) { p.Of = uuid.Nil }), "of"},
		{"by nobody", with(validPhoto, func(p *domain.Photo) { p.Cadre = uuid.Nil }), "cadre"},
		{"upper-case hash", with(validPhoto, func(p *domain.Photo) { p.Hash = strings.ToUpper(p.Hash) }), "hash"},
		{"short hash", with(validPhoto, func(p *domain.Photo) { p.Hash = p.Hash[:63] }), "hash"},
		{"empty", with(validPhoto, func(p *domain.Photo) { p.Size = 0 }), "size"},
		{"too large", with(validPhoto, func(p *domain.Photo) { p.Size = domain.MaxPhotoBytes + 1 }), "size"},
		{"too wide", with(validPhoto, func(p *domain.Photo) { p.Width = domain.MaxPhotoSide + 1 }), "width"},
		{"taken tomorrow", with(validPhoto, func(p *domain.Photo) { p.Taken = now.Add(24 * time.Hour) }), "taken"},
		{"off the globe", with(validPhoto, func(p *domain.Photo) { p.Lat = 91 }), "lat"},
		{"long caption", with(validPhoto, func(p *domain.Photo) { p.Caption = strings.Repeat("图", domain.MaxCaption+1) }), "caption"},
	})
}

func validStep() *domain.Step {
	return &domain.Step{Problem: id(5), Household: id(3), From: domain.ProblemOpen, To: domain.ProblemVillage,
		By: id(4), At: now.Add(-time.Hour), Note: "需要村里协调"}
}

func TestValidateStep(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validStep(), ""},
		{"escalated without a note", with(validStep, func(s *domain.Step) { s.Note = "" }), ""},
		{"no problem", with(validStep, func(s *domain.Step) { s.Problem = uuid.Nil }), "problem"},
		{"no household", with(validStep, func(s *domain.Step) { s.Household = uuid.Nil }), "household"},
		{"unknown from", with(validStep, func(s *domain.Step) { s.From = "closed" }), "from"},
		{"unknown to", with(validStep, func(s *domain.Step) { s.To = "" }), "to"},
		{"no move", with(validStep, func(s *domain.Step) { s.To = domain.ProblemOpen }), "to"},
		{"by nobody", with(validStep, func(s *domain.Step) { s.By = uuid.Nil }), "by"},
		{"at no time", with(validStep, func(s *domain.Step) { s.At = time.Time{} }), "at"},
		{"in the future", with(validStep, func(s *domain.Step) { s.At = now.Add(time.Hour) }), "at"},
		{"resolved without a note", with(validStep, func(s *domain.Step) { s.To, s.Note = domain.ProblemResolved, " " }), "note"},
		{"note too long", with(validStep, func(s *domain.Step) { s.Note = longText }), "note"},
	})
}

// TestMove moves a problem along open → village → town → resolved → open
// and checks the steps and the problem's own fields at each move.
func TestMove(t *testing.T) {
	p := validProblem()
	p.ID = id(5)
	at := now.Add(-time.Hour)
	for _, c := range []struct {
		to   domain.ProblemStatus
		note string
	}{{domain.ProblemVillage, "需要村里协调"}, {domain.ProblemTown, ""}, {domain.ProblemResolved, "已修缮屋顶"}, {domain.ProblemOpen, "又漏了"}} {
		from := p.Status
		s, err := domain.Move(p, c.to, id(4), at, " "+c.note+" ", now)
		if err != nil {
			t.Fatalf("move to %s: %v", c.to, err)
		}
		if s.Problem != p.ID || s.Household != p.Household || s.From != from || s.To != c.to || s.By != id(4) || s.Note != c.note {
			t.Errorf("step to %s = %+v", c.to, s)
		}
		if p.Status != c.to {
			t.Errorf("status %s, want %s", p.Status, c.to)
		}
		switch c.to {
		case domain.ProblemTown:
			if p.ReportedBy != id(4) || !p.ReportedAt.Equal(at) {
				t.Errorf("escalated: reported %s at %v", p.ReportedBy, p.ReportedAt)
			}
		case domain.ProblemResolved:
			if p.ResolvedBy != id(4) || !p.ResolvedAt.Equal(at) || p.Resolution != c.note {
				t.Errorf("resolved: %s at %v %q", p.ResolvedBy, p.ResolvedAt, p.Resolution)
			}
		}
	}
	before := *p
	if _, err := domain.Move(p, domain.ProblemResolved, id(4), at, "", now); err == nil {
		t.Error("resolved without a note: no error")
	}
	if _, err := domain.Move(p, domain.ProblemOpen, id(4), at, "x", now); err == nil {
		t.Error("a move to the same status: no error")
	}
	if *p != before {
		t.Errorf("a refused move changed the problem: %+v", p)
	}
}

// TestMayStep checks every move at every level against the rules written
// out as a table: who may move a problem from where to where.
func TestMayStep(t *testing.T) {
	const (
		o = domain.ProblemOpen
		v = domain.ProblemVillage
		w = domain.ProblemTown
		r = domain.ProblemResolved
	)
	type move struct{ from, to domain.ProblemStatus }
	allowed := map[domain.StepLevel][]move{
		domain.StepHousehold: {{o, v}, {o, w}, {o, r}, {v, r}, {r, o}},
		domain.StepVillage:   {{o, v}, {o, w}, {o, r}, {v, r}, {r, o}, {v, w}, {v, o}},
		domain.StepTown:      {{o, v}, {o, w}, {o, r}, {v, r}, {r, o}, {v, w}, {v, o}, {w, r}, {w, v}, {w, o}},
	}
	all := []domain.ProblemStatus{o, v, w, r}
	for _, level := range []domain.StepLevel{domain.StepNone, domain.StepHousehold, domain.StepVillage, domain.StepTown} {
		for _, from := range all {
			for _, to := range all {
				want := slices.Contains(allowed[level], move{from, to})
				if got := domain.MayStep(level, from, to); got != want {
					t.Errorf("MayStep(%d, %s, %s) = %v, want %v", level, from, to, got, want)
				}
			}
		}
	}
}

func TestValidatePlan(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validPlan(), ""},
		{"approved, no goal", with(validPlan, func(p *domain.Plan) { p.Status, p.Goal = domain.PlanApproved, "" }), ""},
		{"no household", with(validPlan, func(p *domain.Plan) { p.Household = uuid.Nil }), "household"},
		{"no start", with(validPlan, func(p *domain.Plan) { p.Start = time.Time{} }), "start"},
		{"goal too long", with(validPlan, func(p *domain.Plan) { p.Goal = longText }), "goal"},
		{"no status", with(validPlan, func(p *domain.Plan) { p.Status = "" }), "status"},
	})
}

func TestValidateMeasure(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validMeasure(), ""},
		{"every kind", with(validMeasure, func(m *domain.Measure) { m.Type = domain.MeasureKinds[len(domain.MeasureKinds)-1] }), ""},
		{"no plan", with(validMeasure, func(m *domain.Measure) { m.Plan = uuid.Nil }), "plan"},
		{"no household", with(validMeasure, func(m *domain.Measure) { m.Household = uuid.Nil }), "plan"},
		{"unknown kind", with(validMeasure, func(m *domain.Measure) { m.Type = "lottery" }), "type"},
		{"no description", with(validMeasure, func(m *domain.Measure) { m.Description = "" }), "description"},
		{"description too long", with(validMeasure, func(m *domain.Measure) { m.Description = longText }), "description"},
		{"no due date", with(validMeasure, func(m *domain.Measure) { m.Due = time.Time{} }), "due"},
		{"no progress", with(validMeasure, func(m *domain.Measure) { m.Progress = "" }), "progress"},
	})
	for _, k := range domain.MeasureKinds {
		m := validMeasure()
		m.Type = k
		if err := m.Validate(now); err != nil {
			t.Errorf("measure of kind %s: %v", k, err)
		}
	}
}

func TestMeasureCheckDue(t *testing.T) {
	plan := validPlan() // starts 2024-03-01 in Linxia
	cases := []struct {
		name string
		due  time.Time
		ok   bool
	}{
		{"the day the plan starts", time.Date(2024, 3, 1, 0, 0, 0, 0, cst), true},
		{"the afternoon the plan starts", time.Date(2024, 3, 1, 15, 0, 0, 0, cst), true},
		{"a year later", time.Date(2025, 3, 1, 0, 0, 0, 0, cst), true},
		{"the day before", time.Date(2024, 2, 29, 0, 0, 0, 0, cst), false},
		{"noon the day before", time.Date(2024, 2, 29, 12, 0, 0, 0, cst), false},
		{"late the day before", time.Date(2024, 2, 29, 23, 59, 0, 0, cst), false},
		{"a month before", time.Date(2024, 2, 1, 0, 0, 0, 0, cst), false},
	}
	for _, tc := range cases {
		m := validMeasure()
		m.Due = tc.due
		err := m.CheckDue(plan)
		if tc.ok {
			if err != nil {
				t.Errorf("due %s: %v", tc.name, err)
			}
			continue
		}
		checkInvalid(t, "due "+tc.name, err, "due")
		if err != nil && !strings.Contains(err.Error(), "2024-03-01") {
			t.Errorf("due %s: message %q does not name the plan's start", tc.name, err)
		}
	}
}

func TestValidateReview(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid comment", validReview(), ""},
		{"approve without comment", with(validReview, func(r *domain.Review) { r.Verdict, r.Comment = domain.VerdictApprove, "" }), ""},
		{"return with comment", with(validReview, func(r *domain.Review) { r.Verdict = domain.VerdictReturn }), ""},
		{"return without comment", with(validReview, func(r *domain.Review) { r.Verdict, r.Comment = domain.VerdictReturn, "" }), "comment"},
		{"comment without comment", with(validReview, func(r *domain.Review) { r.Comment = "  " }), "comment"},
		{"comment too long", with(validReview, func(r *domain.Review) { r.Comment = longText }), "comment"},
		{"no plan", with(validReview, func(r *domain.Review) { r.Plan = uuid.Nil }), "plan"},
		{"no reviewer", with(validReview, func(r *domain.Review) { r.Reviewer = uuid.Nil }), "reviewer"},
		{"unknown verdict", with(validReview, func(r *domain.Review) { r.Verdict = "maybe" }), "verdict"},
		{"in the future", with(validReview, func(r *domain.Review) { r.At = now.Add(time.Hour) }), "at"},
	})
	for _, tc := range []struct {
		v        domain.Verdict
		cur, out domain.PlanStatus
	}{
		{domain.VerdictApprove, domain.PlanSubmitted, domain.PlanApproved},
		{domain.VerdictReturn, domain.PlanSubmitted, domain.PlanReturned},
		{domain.VerdictComment, domain.PlanSubmitted, domain.PlanSubmitted},
		{domain.VerdictComment, domain.PlanDraft, domain.PlanDraft},
	} {
		if got := domain.PlanStatusAfter(tc.v, tc.cur); got != tc.out {
			t.Errorf("PlanStatusAfter(%s, %s) = %s, want %s", tc.v, tc.cur, got, tc.out)
		}
	}
}

func TestValidateConflict(t *testing.T) {
	runValidate(t, []validateCase{
		{"valid", validConflict(), ""},
		{"resolved", with(validConflict, func(c *domain.Conflict) { c.Resolved, c.ResolvedBy = true, id(8) }), ""},
		{"no record", with(validConflict, func(c *domain.Conflict) { c.Record = uuid.Nil }), "record"},
		{"no field", with(validConflict, func(c *domain.Conflict) { c.Field = "" }), "record"},
		{"resolved by nobody", with(validConflict, func(c *domain.Conflict) { c.Resolved = true }), "resolved_by"},
	})
}

// TestValidateEveryKind makes sure a new kind cannot arrive without a valid
// example here.
func TestValidateEveryKind(t *testing.T) {
	valid := map[domain.Kind]domain.Record{}
	for _, r := range []domain.Record{validPlace(), validHousehold(), validMember(), validCadre(), validAssignment(),
		validVisit(), validProblem(), validStep(), validPhoto(), validPlan(), validMeasure(), validReview(), validConflict()} {
		valid[r.Kind()] = r
	}
	for _, k := range domain.Kinds {
		r, ok := valid[k]
		if !ok {
			t.Errorf("no valid example of kind %s", k)
			continue
		}
		if err := r.Validate(now); err != nil {
			t.Errorf("valid %s: %v", k, err)
		}
		empty, err := domain.New(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := empty.Validate(now); err == nil {
			t.Errorf("an empty %s validates", k)
		} else if domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("an empty %s: code %q", k, domain.ErrorCode(err))
		}
	}
}

var phoneCases = []struct {
	phone string
	ok    bool
}{
	{"", true},
	{"13893012345", true},
	{"19912345678", true},
	{"6212345", true},
	{"09306212345", true},
	{"0930-6212345", true},
	{"010-12345678", true},
	{"1389301234", false},
	{"138930123456", false},
	{"138-93012345", true},
	{"138-9301-2345", true}, // mobile numbers are often written 3-4-4
	{"138-9301-234", false}, // a mobile number short of a digit, dashes or not
	{"138-9301-23456", false},
	{"1-6212345", false}, // no landline starts with 1
	{"621234", false},
	{"0930-621234567", false},
	{"-6212345", false},
	{"0930 6212345", false},
	{"+8613893012345", false},
	{"１３８９３０１２３４５", false},
	{"138九三012345", false},
}

func TestCheckPhone(t *testing.T) {
	for _, tc := range phoneCases {
		err := domain.CheckPhone("phone", tc.phone)
		if tc.ok {
			if err != nil {
				t.Errorf("CheckPhone(%q): %v", tc.phone, err)
			}
			continue
		}
		checkInvalid(t, fmt.Sprintf("CheckPhone(%q)", tc.phone), err, "phone")
	}
}

func FuzzCheckPhone(f *testing.F) {
	for _, tc := range phoneCases {
		f.Add(tc.phone)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := domain.CheckPhone("phone", v)
		if err != nil {
			if domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("CheckPhone(%q): code %q", v, domain.ErrorCode(err))
			}
			var e *domain.Error
			if errors.As(err, &e); e.Field != "phone" || e.Zh == "" || e.En == "" {
				t.Fatalf("CheckPhone(%q): %+v", v, e)
			}
			return
		}
		if v == "" {
			return
		}
		digits := 0
		for i, r := range v {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '-' && i > 0:
			default:
				t.Fatalf("CheckPhone(%q) accepted %q", v, r)
			}
		}
		if digits < 7 || digits > 12 {
			t.Fatalf("CheckPhone(%q) accepted %d digits", v, digits)
		}
		if v[0] == '1' && digits != 11 {
			t.Fatalf("CheckPhone(%q) accepted a mobile number of %d digits", v, digits)
		}
	})
}

var idCases = []struct {
	id string
	ok bool
}{
	{"", true},
	{idX, true},
	{strings.ToLower(idX), true},
	{idDigit, true},
	{"440524188001010014", true},
	{"11010519491231002Y", false},
	{"110105194912310021", false},
	{idDigit[:17] + "X", false},
	{"11010519491231002", false},
	{"11010519491231002XX", false},
	{"1101051949123100２X", false},
	{"A10105194912310021", false},
	{"110105 94912310021", false},
	{"身份证号码身份证", false},
}

func TestCheckIDNumber(t *testing.T) {
	for _, tc := range idCases {
		err := domain.CheckIDNumber("id_number", tc.id)
		if tc.ok {
			if err != nil {
				t.Errorf("CheckIDNumber(%q): %v", tc.id, err)
			}
			continue
		}
		checkInvalid(t, fmt.Sprintf("CheckIDNumber(%q)", tc.id), err, "id_number")
	}
}

func TestIDCheckDigit(t *testing.T) {
	for _, v := range []string{idX, idDigit, "440524188001010014", "000000000000000000", "999999999999999999"} {
		if got, want := domain.IDCheckDigit(v[:17]), checkDigit(v[:17]); got != want {
			t.Errorf("IDCheckDigit(%s) = %c, want %c", v[:17], got, want)
		}
	}
	// Every check character comes up, each from one of these prefixes.
	seen := map[byte]bool{}
	for n := 0; n < 200; n++ {
		first := fmt.Sprintf("62290119900101%03d", n)
		got := domain.IDCheckDigit(first)
		if got != checkDigit(first) {
			t.Fatalf("IDCheckDigit(%s) = %c, want %c", first, got, checkDigit(first))
		}
		seen[got] = true
		if err := domain.CheckIDNumber("id", first+string(got)); err != nil {
			t.Errorf("CheckIDNumber rejects %s%c made with IDCheckDigit: %v", first, got, err)
		}
	}
	if len(seen) != 11 {
		t.Errorf("check characters seen: %d, want all 11", len(seen))
	}
}

func FuzzCheckIDNumber(f *testing.F) {
	for _, tc := range idCases {
		f.Add(tc.id)
	}
	f.Fuzz(func(t *testing.T, v string) {
		_ = domain.IDCheckDigit(v) // must not panic on any input
		err := domain.CheckIDNumber("id_number", v)
		if err != nil {
			if domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("CheckIDNumber(%q): code %q", v, domain.ErrorCode(err))
			}
			return
		}
		if v == "" {
			return
		}
		if len(v) != 18 {
			t.Fatalf("CheckIDNumber(%q) accepted %d bytes", v, len(v))
		}
		for i := 0; i < 17; i++ {
			if v[i] < '0' || v[i] > '9' {
				t.Fatalf("CheckIDNumber(%q) accepted a non-digit at %d", v, i)
			}
		}
		last := v[17]
		if last == 'x' {
			last = 'X'
		}
		if want := domain.IDCheckDigit(v[:17]); last != want || last != checkDigit(v[:17]) {
			t.Fatalf("CheckIDNumber(%q) accepted check character %c, want %c", v, v[17], want)
		}
	})
}

func TestMaskID(t *testing.T) {
	cases := []struct{ in, out string }{
		{"", ""},
		{"002X", "002X"},
		{"1002X", "*002X"},
		{idX, "**************002X"},
		{idDigit, "**************1232"},
		// Characters, not bytes: a value typed with full-width digits (not a
		// valid ID, but it may reach the screen) is not cut mid-character.
		{"６２２９０１１２３２", "******１２３２"},
		{"身份证号1232", "****1232"},
	}
	for _, tc := range cases {
		got := domain.MaskID(tc.in)
		if got != tc.out {
			t.Errorf("MaskID(%q) = %q, want %q", tc.in, got, tc.out)
		}
		if !utf8.ValidString(got) {
			t.Errorf("MaskID(%q) is not valid UTF-8", tc.in)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	notFound := domain.Errorf(domain.ENOTFOUND, "", "没有找到走访记录 %s", "visit %s not found", "v1")
	invalidPhone := domain.Errorf(domain.EINVALID, "phone", "电话不对", "bad phone")
	cases := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"the sentinel itself", domain.ErrNotFound, domain.ErrNotFound, true},
		{"another not-found error", notFound, domain.ErrNotFound, true},
		{"wrapped once", fmt.Errorf("store: get visit: %w", notFound), domain.ErrNotFound, true},
		{"wrapped twice", fmt.Errorf("app: %w", fmt.Errorf("store: %w", domain.ErrNotFound)), domain.ErrNotFound, true},
		{"joined", errors.Join(errors.New("other"), notFound), domain.ErrNotFound, true},
		{"invalid is not not-found", invalidPhone, domain.ErrNotFound, false},
		{"plain error", errors.New("record not found"), domain.ErrNotFound, false},
		{"nil", nil, domain.ErrNotFound, false},
		{"by code and field", invalidPhone, &domain.Error{Code: domain.EINVALID, Field: "phone"}, true},
		{"by code, any field", invalidPhone, &domain.Error{Code: domain.EINVALID}, true},
		{"other field", invalidPhone, &domain.Error{Code: domain.EINVALID, Field: "head_name"}, false},
		{"not-found does not match a field", notFound, &domain.Error{Code: domain.ENOTFOUND, Field: "visit"}, false},
	}
	var unset *domain.Error // a typed nil target must not panic
	cases = append(cases, struct {
		name   string
		err    error
		target error
		want   bool
	}{"typed nil target", invalidPhone, unset, false})
	for _, tc := range cases {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", tc.name, tc.err, tc.target, got, tc.want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("disk on fire"), domain.EINTERNAL},
		{domain.ErrNotFound, domain.ENOTFOUND},
		{fmt.Errorf("sync: %w", domain.Errorf(domain.EUNAVAILABLE, "", "网络不通", "no network")), domain.EUNAVAILABLE},
	}
	for _, tc := range cases {
		if got := domain.ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	e := domain.Errorf(domain.EINVALID, "head_name", "%s不能为空", "%s must not be empty", "户主姓名")
	if e.Zh != "户主姓名不能为空" || e.En != "户主姓名 must not be empty" {
		t.Errorf("Errorf applied the arguments as %q / %q", e.Zh, e.En)
	}
	wrapped := fmt.Errorf("store: put household: %w", domain.Errorf(domain.EINVALID, "phone", "电话号码不对", "the phone number is wrong"))
	internal := fmt.Errorf("store: put household: %w", errors.New("bbolt: database not open at /data/x.db"))
	cases := []struct {
		err      error
		lang     string
		want     string
		generic  bool
		internal bool
	}{
		{nil, "zh", "", false, false},
		{wrapped, "zh", "电话号码不对", false, false},
		{wrapped, "en", "the phone number is wrong", false, false},
		{wrapped, "", "电话号码不对", false, false},
		{domain.ErrNotFound, "en", "record not found", false, false},
		{internal, "zh", "", true, true},
		{internal, "en", "", true, true},
	}
	for _, tc := range cases {
		got := domain.Message(tc.err, tc.lang)
		if tc.generic {
			if got == "" || strings.Contains(got, "bbolt") || strings.Contains(got, "/data") {
				t.Errorf("Message(%v, %q) = %q, want a generic message", tc.err, tc.lang, got)
			}
			if tc.lang == "zh" && !hasHan(got) || tc.lang == "en" && hasHan(got) {
				t.Errorf("Message(%v, %q) = %q is in the wrong language", tc.err, tc.lang, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Message(%v, %q) = %q, want %q", tc.err, tc.lang, got, tc.want)
		}
	}
	if got := domain.Message(internal, "zh"); got == domain.Message(internal, "en") {
		t.Errorf("the generic message is the same in both languages: %q", got)
	}

	both := (&domain.Error{Zh: "记录不存在", En: "record not found"}).Error()
	if !strings.Contains(both, "记录不存在") || !strings.Contains(both, "record not found") {
		t.Errorf("Error() = %q, want both languages", both)
	}
	if got := (&domain.Error{En: "only English"}).Error(); got != "only English" {
		t.Errorf("Error() without Chinese = %q", got)
	}
}
