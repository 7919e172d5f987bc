package domain_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

var (
	created = time.Date(2024, 5, 20, 8, 30, 0, 0, time.UTC)
	updated = time.Date(2024, 5, 21, 9, 0, 0, 0, time.UTC)
)

func meta(n int) domain.Meta {
	return domain.Meta{ID: id(1000 + n), Created: created, Updated: updated, Author: id(1), Device: devLow, Deleted: n%2 == 0}
}

// samples returns one record of every kind with every field set, so that a
// round trip that drops a field shows.
func samples() []domain.Record {
	return []domain.Record{
		&domain.Place{Meta: meta(1), Level: domain.Village, Name: "王坪村", Parent: id(10), Code: "622901101201",
			Rules: &domain.Rules{County: 3, Section: 2, Other: 1, Statuses: []domain.Status{domain.Registered}, Stationed: 80,
				OverdueDays: 45, Approvers: []domain.Role{domain.TeamLeader}}},
		&domain.Cadre{Meta: meta(4), Name: "李明", Phone: "0930-6212345", Rank: domain.RankCounty, Unit: "市财政局", Title: "副局长",
			Left: domain.Transferred, LeftOn: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), LeftReason: "调任市发改委"},
		&domain.Household{Meta: meta(2), HeadName: "王兴文", Phone: "13893012345", IDNumber: idDigit, Group: id(11),
			NaturalVillage: id(12), Address: "王坪村一社 8 号", Status: domain.Monitored, Farmland: 1.4, Size: 5,
			Income: "务工、养殖", Notes: "长子在外务工",
			Exit: domain.Merged, ExitOn: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), ExitReason: "并入父母户",
			Request: &domain.StatusRequest{To: domain.Lifted, Reason: "人均纯收入已达标", By: id(14), At: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}},
		&domain.Member{Meta: meta(3), Household: id(13), Name: "马秀兰", Relation: "配偶", Gender: "女", BirthYear: 1975,
			Birth: time.Date(1975, 6, 1, 0, 0, 0, 0, time.UTC), IDNumber: idX, Health: "慢性病", Work: "务农", Education: "初中",
			Gone: domain.MovedAway, GoneOn: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), GoneNote: "婚出"},
		&domain.Assignment{Meta: meta(5), Cadre: id(14), Role: domain.VillageCommittee, Target: id(15), Title: "支部书记",
			Since: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			EndReason: "换届"},
		&domain.Plan{Meta: meta(6), Household: id(13), Goal: "年增收 3000 元", Start: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			Status: domain.PlanSubmitted},
		&domain.Measure{Meta: meta(7), Plan: id(16), Household: id(13), Type: domain.MeasureHandicraft, Description: "绣花鞋垫",
			Owner: id(14), Target: "每月 20 双", Due: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), Progress: domain.Stuck},
		&domain.Review{Meta: meta(8), Plan: id(16), Household: id(13), Reviewer: id(17), Verdict: domain.VerdictReturn,
			Comment: "补充销售渠道", At: time.Date(2024, 5, 22, 10, 0, 0, 0, time.UTC),
			Snapshot: &domain.PlanSnapshot{Goal: "年增收 5000 元", Measures: []domain.MeasureSnapshot{{ID: id(19), Type: domain.MeasureKinds[0],
				Description: "养殖散养鸡", Owner: id(14), Target: "50 只", Due: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}}}},
		&domain.Visit{Meta: meta(9), Household: id(13), Cadre: id(14), At: time.Date(2024, 5, 22, 15, 4, 5, 0, time.UTC),
			Type: domain.VisitFollowUp, Notes: "饮水问题已反映", Policies: true, Policy: "医疗保险", Fees: domain.FeesPartly,
			Water: domain.WaterUnsafe, FollowUp: "回访饮水", Due: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
			Companions: []uuid.UUID{id(17)}, Met: id(20), Absent: true, FollowUpDone: time.Date(2024, 5, 30, 9, 0, 0, 0, time.UTC),
			Corrections: []domain.VisitCorrection{{At: time.Date(2024, 5, 23, 8, 0, 0, 0, time.UTC), Before: domain.VisitContent{
				At: time.Date(2024, 5, 22, 16, 4, 5, 0, time.UTC), Type: domain.VisitRoutine, Notes: "饮水问题", Companions: []uuid.UUID{id(17)}}}}},
		&domain.Problem{Meta: meta(10), Household: id(13), Visit: id(18), Text: "自来水浑浊", Status: domain.ProblemResolved,
			ReportedBy: id(14), ReportedAt: time.Date(2024, 5, 22, 16, 0, 0, 0, time.UTC), ResolvedBy: id(17),
			ResolvedAt: time.Date(2024, 5, 25, 9, 0, 0, 0, time.UTC), Resolution: "更换过滤设备"},
		&domain.Step{Meta: meta(12), Problem: id(10), Household: id(13), From: domain.ProblemTown, To: domain.ProblemResolved,
			By: id(17), At: time.Date(2024, 5, 25, 9, 0, 0, 0, time.UTC), Note: "更换过滤设备"},
		&domain.Photo{Meta: meta(21), Household: id(13), OfKind: domain.KindVisit, Of: id(18), Cadre: id(14),
			Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 245_760, Width: 1600, Height: 1200,
			Taken: time.Date(2024, 5, 22, 15, 50, 0, 0, time.UTC), Lat: 33.62, Lon: 106.91, Caption: "水管破裂处"},
		&domain.Conflict{Meta: meta(11), Household: id(13), RecordKind: domain.KindMeasure, Record: id(19), Field: "target",
			Winner: json.RawMessage(`"每月 20 双"`), WinnerStamp: stamp(2, 0, devHigh).String(), WinnerAuthor: id(14),
			Loser: json.RawMessage(`"每月 30 双"`), LoserStamp: stamp(1, 0, devLow).String(), LoserAuthor: id(17),
			Resolved: true, ResolvedBy: id(17), ResolvedAt: time.Date(2024, 5, 26, 9, 0, 0, 0, time.UTC)},
	}
}

// jsonNames returns the JSON names of a struct's fields, embedded structs
// flattened, and the names of the fields tagged "-".
func jsonNames(t reflect.Type) (names, hidden []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			n, h := jsonNames(f.Type)
			names, hidden = append(names, n...), append(hidden, h...)
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			hidden = append(hidden, f.Name)
			continue
		}
		names = append(names, tag)
	}
	return names, hidden
}

// zeroFields lists the fields of v (a struct, embedded structs flattened) that
// hold their zero value.
func zeroFields(v reflect.Value) []string {
	var out []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Anonymous {
			out = append(out, zeroFields(v.Field(i))...)
			continue
		}
		if v.Field(i).IsZero() {
			out = append(out, f.Name)
		}
	}
	return out
}

func TestSamplesCoverEveryKindAndField(t *testing.T) {
	var kinds []domain.Kind
	for _, r := range samples() {
		kinds = append(kinds, r.Kind())
		for _, name := range zeroFields(reflect.ValueOf(r).Elem()) {
			if name != "Deleted" {
				t.Errorf("sample %s leaves %s empty: a round trip would not test it", r.Kind(), name)
			}
		}
	}
	if !reflect.DeepEqual(kinds, domain.Kinds) {
		t.Errorf("samples cover %v, want %v", kinds, domain.Kinds)
	}
}

func TestNew(t *testing.T) {
	for _, k := range domain.Kinds {
		r, err := domain.New(k)
		if err != nil {
			t.Errorf("New(%s): %v", k, err)
			continue
		}
		if r.Kind() != k {
			t.Errorf("New(%s).Kind() = %s", k, r.Kind())
		}
		if r.Metadata() == nil || r.Metadata().ID != uuid.Nil {
			t.Errorf("New(%s) is not empty: %+v", k, r.Metadata())
		}
	}
	_, err := domain.New("province")
	checkInvalid(t, "New(province)", err, "kind")
	if _, err := domain.Decode("province", id(1), domain.Fields{}); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("Decode of an unknown kind: %v", err)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, r := range samples() {
		k := r.Kind()
		f, err := domain.Encode(r)
		if err != nil {
			t.Errorf("Encode(%s): %v", k, err)
			continue
		}
		names, hidden := jsonNames(reflect.TypeOf(r).Elem())
		var keys []string
		for key := range f {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		sort.Strings(names)
		if !reflect.DeepEqual(keys, names) {
			t.Errorf("Encode(%s) fields %v, want %v", k, keys, names)
		}
		sort.Strings(hidden)
		if !reflect.DeepEqual(hidden, []string{"ID", "Updated"}) {
			t.Errorf("%s: fields kept out of the encoding: %v, want ID and Updated", k, hidden)
		}
		for _, key := range []string{"id", "ID", "updated", "Updated"} {
			if _, ok := f[key]; ok {
				t.Errorf("Encode(%s) has field %q", k, key)
			}
		}
		if _, ok := f["deleted"]; !ok {
			t.Errorf("Encode(%s) has no deleted field", k)
		}

		f["added_by_a_newer_app"] = json.RawMessage(`{"x":[1,2,3]}`)
		back, err := domain.Decode(k, r.Metadata().ID, f)
		if err != nil {
			t.Errorf("Decode(%s): %v", k, err)
			continue
		}
		if back.Kind() != k || back.Metadata().ID != r.Metadata().ID {
			t.Errorf("Decode(%s) = %s with ID %s, want ID %s", k, back.Kind(), back.Metadata().ID, r.Metadata().ID)
		}
		if !back.Metadata().Updated.IsZero() {
			t.Errorf("Decode(%s) set Updated: it is not a field", k)
		}
		back.Metadata().Updated = r.Metadata().Updated
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", k, back, r)
		}
	}
}

func TestEncodeNotDeleted(t *testing.T) {
	for _, k := range domain.Kinds {
		r, _ := domain.New(k)
		f, err := domain.Encode(r)
		if err != nil {
			t.Fatalf("Encode(empty %s): %v", k, err)
		}
		if got := string(f["deleted"]); got != "false" {
			t.Errorf("Encode(empty %s) deleted = %s, want false", k, got)
		}
	}
}

func TestDecodeBadField(t *testing.T) {
	_, err := domain.Decode(domain.KindHousehold, id(1), domain.Fields{"size": json.RawMessage(`"five"`)})
	if err == nil {
		t.Fatal("Decode accepted a string for an int field")
	}
	if !strings.Contains(err.Error(), "household") {
		t.Errorf("error %q does not say what was being decoded", err)
	}
}

func TestDiff(t *testing.T) {
	h := samples()[2].(*domain.Household)
	prev, err := domain.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	if d := domain.Diff(prev, prev); len(d) != 0 {
		t.Errorf("Diff of a record with itself: %v", d)
	}
	if d := domain.Diff(nil, prev); !reflect.DeepEqual(d, prev) {
		t.Errorf("Diff(nil, next) = %v, want all of next", d)
	}

	h.HeadName = "王兴武"
	h.Notes = ""   // back to the zero value
	h.Farmland = 0 // likewise
	h.Size++
	h.Deleted = !h.Deleted
	next, err := domain.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Diff(prev, next)
	want := domain.Fields{
		"head_name": json.RawMessage(`"王兴武"`),
		"notes":     json.RawMessage(`""`),
		"farmland":  json.RawMessage(`0`),
		"size":      json.RawMessage(`6`),
		"deleted":   json.RawMessage(strconv.FormatBool(h.Deleted)),
	}
	if len(d) != len(want) {
		t.Errorf("Diff = %v, want only %v", d, want)
	}
	for k, v := range want {
		if string(d[k]) != string(v) {
			t.Errorf("Diff[%s] = %s, want %s", k, d[k], v)
		}
	}

	// Values are compared as JSON: spacing does not make a change.
	spaced := domain.Fields{"goal": json.RawMessage(`{ "a" : [1, 2] }`), "status": json.RawMessage(`"draft"`)}
	compact := domain.Fields{"goal": json.RawMessage(`{"a":[1,2]}`), "status": json.RawMessage(`"submitted"`)}
	if d := domain.Diff(spaced, compact); len(d) != 1 || string(d["status"]) != `"submitted"` {
		t.Errorf("Diff with reformatted JSON = %v, want only status", d)
	}
}

func TestHouseholdOf(t *testing.T) {
	for _, r := range samples() {
		var want uuid.UUID
		switch r.Kind() {
		case domain.KindHousehold:
			want = r.Metadata().ID
		case domain.KindMember, domain.KindVisit, domain.KindProblem, domain.KindPlan, domain.KindMeasure,
			domain.KindReview, domain.KindConflict, domain.KindStep, domain.KindPhoto:
			want = id(13)
		case domain.KindPlace, domain.KindCadre, domain.KindAssignment:
			want = uuid.Nil
		default:
			t.Errorf("HouseholdOf: no expectation for kind %s", r.Kind())
			continue
		}
		if got := domain.HouseholdOf(r); got != want {
			t.Errorf("HouseholdOf(%s) = %s, want %s", r.Kind(), got, want)
		}
	}
	roster := &domain.Conflict{RecordKind: domain.KindCadre, Record: id(20)}
	if got := domain.HouseholdOf(roster); got != uuid.Nil {
		t.Errorf("HouseholdOf(conflict on a cadre) = %s, want nil", got)
	}
}

func TestKindNameCoversEveryKind(t *testing.T) {
	for _, k := range domain.Kinds {
		zh, en := domain.KindName(k)
		if zh == string(k) || en == "" || zh == "" {
			t.Errorf("KindName(%q) = %q, %q: no Chinese name", k, zh, en)
		}
	}
}
