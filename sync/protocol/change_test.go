package protocol_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// samples returns one record of every kind, with Chinese text and characters
// JSON is tempted to escape.
func samples() []domain.Record {
	day := time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC)
	meta := func(name string) domain.Meta {
		return domain.Meta{ID: id(name), Created: day, Author: cadre, Device: phone}
	}
	group, plan := id("place: 三社"), id("plan 1")
	return []domain.Record{
		&domain.Place{Meta: meta("place: 三社"), Level: domain.Group, Name: "王坪村三社", Parent: id("place: 王坪村"), Code: "622901"},
		&domain.Household{Meta: meta("household: 马进福"), HeadName: "马进福", Phone: "13893012345",
			IDNumber: "622921198001011234", Group: group, NaturalVillage: id("place: 阳洼"), Address: "王坪村三社 12 号",
			Status: domain.Status("registered"), Farmland: 6.4, Size: 4, Income: "种植花椒、外出务工", Notes: "儿子在兰州 <建筑工地> 务工 & 寄钱"},
		&domain.Member{Meta: meta("member 1"), Household: house, Name: "马小梅", Relation: "女", Gender: "女", BirthYear: 2009, Health: "健康", Work: "在校生"},
		&domain.Cadre{Meta: meta("cadre: 马兴文"), Name: "马兴文", Phone: "13993055678", Rank: domain.RankSection, Unit: "临夏市农业农村局", Title: "副局长"},
		&domain.Assignment{Meta: meta("assignment 1"), Cadre: cadre, Role: domain.Helper, Target: house, Since: day},
		&domain.Visit{Meta: meta("visit 1"), Household: house, Cadre: cadre, At: day.Add(10 * time.Hour), Type: domain.VisitRoutine,
			Notes: "宣讲了医保政策；\"两不愁三保障\"已落实。", Policies: true, Policy: "医保、低保", Fees: domain.FeesPaid, Water: domain.WaterSafe,
			FollowUp: "下周回访", Due: day.Add(7 * 24 * time.Hour)},
		&domain.Problem{Meta: meta("problem 1"), Household: house, Visit: id("visit 1"), Text: "自来水管冬季冻裂", Status: domain.ProblemVillage,
			ReportedBy: cadre, ReportedAt: day.Add(11 * time.Hour)},
		&domain.Step{Meta: meta("step 1"), Problem: id("problem 1"), Household: house, From: domain.ProblemOpen, To: domain.ProblemVillage,
			By: cadre, At: day.Add(11 * time.Hour), Note: "冬季前需村里统一更换"},
		&domain.Plan{Meta: meta("plan 1"), Household: house, Goal: "年人均纯收入超过 8000 元", Start: day, Status: domain.PlanSubmitted},
		&domain.Measure{Meta: meta("measure 1"), Plan: plan, Household: house, Type: domain.MeasureFarming, Description: "生态散养鸡",
			Owner: cadre, Target: "散养鸡 50 只", Due: day.AddDate(0, 6, 0), Progress: domain.InProgress},
		&domain.Review{Meta: meta("review 1"), Plan: plan, Household: house, Reviewer: leader, Verdict: domain.VerdictComment,
			Comment: "措施可行，注意防疫。", At: day.Add(30 * time.Hour)},
		&domain.Photo{Meta: meta("photo 1"), Household: house, OfKind: domain.KindVisit, Of: id("visit 1"), Cadre: id("cadre 1"),
			Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 245_760, Width: 1600, Height: 1200, Caption: "水管"},
		domain.NewConflict(domain.KindMeasure, id("measure 1"), house, "progress",
			domain.FieldState{Value: json.RawMessage(`"done"`), Stamp: stamp(now, 0, tablet), Author: leader},
			domain.FieldState{Value: json.RawMessage(`"stuck"`), Stamp: stamp(now.Add(-time.Minute), 0, phone), Author: cadre}),
	}
}

// changeOf returns the change that creates r, with a base for one field.
func changeOf(t *testing.T, r domain.Record) domain.Change {
	t.Helper()
	f, err := domain.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metadata()
	return domain.Change{
		ID:     id("change of " + m.ID.String()),
		Kind:   r.Kind(),
		Record: m.ID,
		Author: m.Author,
		Stamp:  stamp(now, 7, m.Device),
		Fields: f,
		Base:   map[string]domain.Stamp{"created": stamp(now.Add(-time.Hour), 0, tablet)},
	}
}

func TestSamplesCoverEveryKind(t *testing.T) {
	seen := map[domain.Kind]bool{}
	for _, r := range samples() {
		seen[r.Kind()] = true
	}
	for _, k := range domain.Kinds {
		if !seen[k] {
			t.Errorf("no sample of kind %s", k)
		}
	}
}

// TestRoundTrip sends a change of every kind through the wire and back, and
// decodes the record it carries.
func TestRoundTrip(t *testing.T) {
	for _, r := range samples() {
		t.Run(string(r.Kind()), func(t *testing.T) {
			want := changeOf(t, r)
			w, err := protocol.FromDomain(want)
			if err != nil {
				t.Fatal(err)
			}
			b, err := protocol.Marshal(protocol.SyncRequest{V: protocol.Version, Through: 1, Changes: []protocol.Change{w}})
			if err != nil {
				t.Fatal(err)
			}
			var req protocol.SyncRequest
			if err := protocol.Unmarshal(b, &req); err != nil {
				t.Fatal(err)
			}
			got, err := protocol.DecodeChanges(req.Changes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, []domain.Change{want}) {
				t.Fatalf("round trip:\ngot:  %+v\nwant: %+v", got[0], want)
			}
			rec, err := domain.Decode(got[0].Kind, got[0].Record, got[0].Fields)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec, r) {
				t.Errorf("record after the round trip:\ngot:  %+v\nwant: %+v", rec, r)
			}
			if n := w.Size(); n != len(mustMarshal(t, w)) {
				t.Errorf("Size = %d, encoding is %d bytes", n, len(mustMarshal(t, w)))
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := protocol.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSize(t *testing.T) {
	for _, c := range goldenChanges() {
		if got, want := c.Size(), len(mustMarshal(t, c)); got != want {
			t.Errorf("%s: Size = %d, encoding is %d bytes", c.Kind, got, want)
		}
	}
	empty := protocol.Change{ID: id("x").String(), Kind: domain.KindVisit, Record: id("y").String(),
		Author: uuid.Nil.String(), Stamp: stamp(now, 0, phone).String(), Fields: map[string]json.RawMessage{}}
	if got, want := empty.Size(), len(mustMarshal(t, empty)); got != want {
		t.Errorf("no fields: Size = %d, encoding is %d bytes", got, want)
	}
}

// TestFromDomainRefuses checks that a change that cannot be sent is refused
// where it is converted, with a reason in both languages.
func TestFromDomainRefuses(t *testing.T) {
	good := func() domain.Change { return changeOf(t, samples()[5]) }
	tests := []struct {
		name  string
		edit  func(*domain.Change)
		field string
	}{
		{"nil id", func(c *domain.Change) { c.ID = uuid.Nil }, "id"},
		{"nil record", func(c *domain.Change) { c.Record = uuid.Nil }, "record"},
		{"unknown kind", func(c *domain.Change) { c.Kind = "video" }, "kind"},
		{"empty field name", func(c *domain.Change) { c.Fields[""] = json.RawMessage(`1`) }, "fields"},
		{"long field name", func(c *domain.Change) { c.Fields[strings.Repeat("x", protocol.MaxFieldName+1)] = json.RawMessage(`1`) }, "fields"},
		{"invalid value", func(c *domain.Change) { c.Fields["notes"] = json.RawMessage(`{"unterminated`) }, "fields"},
		{"empty value", func(c *domain.Change) { c.Fields["notes"] = nil }, "fields"},
		{"long base name", func(c *domain.Change) { c.Base[strings.Repeat("b", 65)] = c.Stamp }, "base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			_, err := protocol.FromDomain(c)
			checkInvalid(t, err, tt.field)
			_, err = protocol.EncodeChanges([]domain.Change{good(), c})
			checkInvalid(t, err, tt.field)
			if e := err.(*domain.Error); !strings.HasPrefix(e.En, "change 1: ") || !strings.HasPrefix(e.Zh, "第 1 条更改：") {
				t.Errorf("the index is not named: %q / %q", e.Zh, e.En)
			}
		})
	}
	if _, err := protocol.FromDomain(good()); err != nil {
		t.Fatalf("the good change is refused: %v", err)
	}
	long := good()
	long.Fields[strings.Repeat("x", protocol.MaxFieldName)] = json.RawMessage(` [ 1 , 2 ] `)
	w, err := protocol.FromDomain(long)
	if err != nil {
		t.Fatalf("a %d-byte field name is refused: %v", protocol.MaxFieldName, err)
	}
	if got := string(w.Fields[strings.Repeat("x", protocol.MaxFieldName)]); got != "[1,2]" {
		t.Errorf("value not compacted: %s", got)
	}
}

// checkInvalid checks that err is an EINVALID *domain.Error about field,
// with a message in each language.
func checkInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if e.Code != domain.EINVALID {
		t.Errorf("code = %q, want invalid: %v", e.Code, e)
	}
	if field != "" && e.Field != field {
		t.Errorf("field = %q, want %q: %v", e.Field, field, e)
	}
	checkBilingual(t, e)
}

// checkBilingual checks that e says something in Chinese and in English.
func checkBilingual(t *testing.T, e *domain.Error) {
	t.Helper()
	hasHan := strings.ContainsFunc(e.Zh, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff })
	if !hasHan || e.En == "" || e.Zh == e.En || strings.Contains(e.Zh+e.En, "%!") {
		t.Errorf("messages not in both languages: zh %q, en %q", e.Zh, e.En)
	}
}

func TestCheckStamps(t *testing.T) {
	serverNow := now
	at := func(d time.Duration) domain.Change {
		c := changeOf(t, samples()[5])
		c.Stamp = domain.Stamp{Wall: serverNow.Add(d).UnixMilli(), Logical: 9, Device: phone}
		return c
	}
	ok := []domain.Change{at(-72 * time.Hour), at(0), at(domain.MaxSkew)}
	if err := protocol.CheckStamps(ok, serverNow); err != nil {
		t.Fatalf("stamps within the skew are refused: %v", err)
	}
	for _, ahead := range []time.Duration{domain.MaxSkew + time.Millisecond, 3 * time.Hour} {
		err := protocol.CheckStamps(append(ok, at(ahead)), serverNow)
		checkInvalid(t, err, "clock")
		if !errors.Is(err, protocol.ErrClockAhead) {
			t.Errorf("%v ahead: %v does not match ErrClockAhead", ahead, err)
		}
		if !strings.Contains(err.Error(), "change 3") {
			t.Errorf("the change is not named: %v", err)
		}
	}
	if err := protocol.CheckStamps(nil, serverNow); err != nil {
		t.Fatal(err)
	}
}
