package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file declares every record kind once: its names, its fields with
// their JSON types, which of them a new record must carry, where it belongs
// (its scope) and who may write each field. The rest of the program reads
// these declarations (New, KindName, HouseholdOf, CheckFields, the server's
// authorisation) instead of switching over kinds. Adding a field is one line
// here (and the struct field it describes; a test checks they agree); adding
// a kind is one entry here and its struct. See docs/ARCHITECTURE.md.

// Type is the JSON type a field's value must have on the wire.
type Type uint8

// The field types.
const (
	TString Type = iota + 1 // a JSON string
	TBool                   // true or false
	TInt                    // a JSON number without fraction or exponent
	TNumber                 // any JSON number
	TTime                   // a string in RFC 3339
	TID                     // a string holding a UUID (all zeros for none)
	TEnum                   // a string, one of Field.Values or "" (unset; Validate judges it)
	TJSON                   // any JSON value (a conflict's winner and loser)
)

// Who says who may write a field, or a record of a kind. The checks are
// made by an upstream for every change a device pushes (see sync/server);
// the rules live here so that the app can show the same ones.
type Who uint8

// The write rules, from the most open.
const (
	// WriteScope: anyone whose scope reaches the record (a household's cadres,
	// its village's and town's leads).
	WriteScope Who = iota
	// WriteSelf: as WriteScope, and the value set must be the writing cadre's own ID
	// (a visit's cadre, a review's reviewer) or, for "device", the
	// writing device's ID. A relay device that pushes for other cadres
	// would be allowed the IDs of the cadres it relays for (not built).
	WriteSelf
	// WriteRoster: the roster's owners only: leads (Role.Leads) of the
	// record's village or town, for places and assignments; any lead or
	// office for cadre records.
	WriteRoster
	// WriteApprovers: the approvers of the record's village (ApproverRoles, by
	// default DefaultApprovers), and never on a plan the writer created.
	WriteApprovers
	// WriteMerge: only the merge that detects a lost edit writes it; a device
	// never pushes a new value.
	WriteMerge
	// WriteResolvers: those who may write the field in conflict of the record
	// in conflict.
	WriteResolvers
	// WriteSteps: a problem's step (Step): once written it is never
	// changed, and its move must be one the writer may make (MayStep) from
	// where they stand towards the household.
	WriteSteps
)

// Scoping says how a kind's records belong to the hierarchy.
type Scoping uint8

// The scopings.
const (
	ByHousehold Scoping = iota + 1 // the household it is (household) or names in "household"
	ByPlace                        // a place: where it sits
	ByTarget                       // an assignment: its target, a household or a place
	ByCadre                        // a cadre: no place; read by those who work with the cadre
)

// Field declares one field of a kind: its JSON name, type, and rules.
type Field struct {
	Name     string
	Type     Type
	Values   []string       // Enum: the allowed values
	Required bool           // a change that creates the record must set it
	Who      Who            // who may set it
	Only     map[string]Who // values that need a stricter rule than Who
}

// Decl declares a record kind.
type Decl struct {
	Kind   Kind
	Zh, En string // its name, as a sentence names one record
	New    func() Record
	Scope  Scoping
	// Household returns the household a record of a ByHousehold kind
	// belongs to.
	Household func(Record) uuid.UUID
	// Write is who may write a record of this kind at all; a field's Who
	// narrows it further.
	Write Who
	// Merged kinds are made only by the merge that detects a lost edit:
	// a change creating one is refused from a device.
	Merged bool
	Fields []Field // besides MetaFields
}

// MetaFields are the fields of Meta, which every kind has.
var MetaFields = []Field{
	{Name: "created", Type: TTime},
	{Name: "author", Type: TID, Who: WriteSelf},
	{Name: "device", Type: TID, Who: WriteSelf},
	{Name: "deleted", Type: TBool},
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Decls declares every kind, in the order a roster is best applied (parents
// first). Kinds lists the same order.
var Decls = []*Decl{
	{Kind: KindPlace, Zh: "地点", En: "place", New: func() Record { return new(Place) },
		Scope: ByPlace, Write: WriteRoster, Fields: []Field{
			{Name: "level", Type: TEnum, Values: strs(City, Town, Village, NaturalVillage, Group), Required: true},
			{Name: "name", Type: TString, Required: true},
			{Name: "parent", Type: TID},
			{Name: "code", Type: TString},
			{Name: "rules", Type: TJSON}, // a village's or town's Rules, or null
		}},
	{Kind: KindCadre, Zh: "干部信息", En: "cadre", New: func() Record { return new(Cadre) },
		Scope: ByCadre, Write: WriteScope, Fields: []Field{
			{Name: "name", Type: TString, Required: true},
			{Name: "phone", Type: TString},
			{Name: "rank", Type: TEnum, Values: strs(RankCounty, RankSection, RankOther), Who: WriteRoster},
			{Name: "unit", Type: TString},
			{Name: "title", Type: TString},
			{Name: "left", Type: TEnum, Values: strs(Retired, Transferred), Who: WriteRoster},
			{Name: "left_on", Type: TTime, Who: WriteRoster},
			{Name: "left_reason", Type: TString, Who: WriteRoster},
		}},
	{Kind: KindHousehold, Zh: "农户信息", En: "household", New: func() Record { return new(Household) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Household).ID }, Fields: []Field{
			{Name: "head_name", Type: TString, Required: true},
			{Name: "phone", Type: TString},
			{Name: "id_number", Type: TString},
			{Name: "group", Type: TID, Required: true},
			{Name: "natural_village", Type: TID},
			{Name: "address", Type: TString},
			// The town decides a household's status (纳入监测、退出监测、建档立卡):
			// a cadre asks with a status_request; see sync/server's check.
			{Name: "status", Type: TEnum, Values: strs(Registered, Lifted, Monitored, Ordinary)},
			{Name: "farmland", Type: TNumber},
			{Name: "size", Type: TInt},
			{Name: "income", Type: TString},
			{Name: "notes", Type: TString},
			{Name: "exit", Type: TEnum, Values: strs(MovedOut, Merged, Gone), Who: WriteRoster},
			{Name: "exit_on", Type: TTime, Who: WriteRoster},
			{Name: "exit_reason", Type: TString, Who: WriteRoster},
			{Name: "status_request", Type: TJSON}, // a cadre's StatusRequest, or null
		}},
	{Kind: KindMember, Zh: "家庭成员", En: "household member", New: func() Record { return new(Member) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Member).Household }, Fields: []Field{
			{Name: "household", Type: TID, Required: true},
			{Name: "name", Type: TString, Required: true},
			{Name: "relation", Type: TString},
			{Name: "gender", Type: TEnum, Values: []string{"", "男", "女"}},
			{Name: "birth_year", Type: TInt},
			{Name: "birth", Type: TTime},
			{Name: "id_number", Type: TString},
			{Name: "health", Type: TString},
			{Name: "work", Type: TString},
			{Name: "education", Type: TString},
			{Name: "gone", Type: TEnum, Values: strs(Deceased, MovedAway)},
			{Name: "gone_on", Type: TTime},
			{Name: "gone_note", Type: TString},
		}},
	{Kind: KindAssignment, Zh: "帮扶安排", En: "assignment", New: func() Record { return new(Assignment) },
		Scope: ByTarget, Write: WriteRoster, Fields: []Field{
			{Name: "cadre", Type: TID, Required: true},
			{Name: "role", Type: TEnum, Values: strs(PairCounty, PairSection, Helper, GroupCadre,
				GroupCadreLead, FirstSecretary, TeamLeader, TeamMember, VillageLead, VillageCommittee,
				CityContact, TownLead, Office), Required: true},
			{Name: "target", Type: TID, Required: true},
			{Name: "title", Type: TString},
			{Name: "since", Type: TTime},
			{Name: "until", Type: TTime},
			{Name: "end_reason", Type: TString},
		}},
	{Kind: KindPlan, Zh: "帮扶计划", En: "plan", New: func() Record { return new(Plan) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Plan).Household }, Fields: []Field{
			{Name: "household", Type: TID, Required: true},
			{Name: "goal", Type: TString},
			{Name: "start", Type: TTime},
			{Name: "status", Type: TEnum, Values: strs(PlanDraft, PlanSubmitted, PlanApproved, PlanReturned),
				Only: map[string]Who{string(PlanApproved): WriteApprovers, string(PlanReturned): WriteApprovers}},
		}},
	{Kind: KindMeasure, Zh: "措施", En: "measure", New: func() Record { return new(Measure) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Measure).Household }, Fields: []Field{
			{Name: "plan", Type: TID, Required: true},
			{Name: "household", Type: TID, Required: true},
			{Name: "type", Type: TEnum, Values: strs(MeasureKinds...)},
			{Name: "description", Type: TString},
			{Name: "owner", Type: TID},
			{Name: "target", Type: TString},
			{Name: "due", Type: TTime},
			{Name: "progress", Type: TEnum, Values: strs(NotStarted, InProgress, Done, Stuck)},
		}},
	{Kind: KindReview, Zh: "审核意见", En: "review", New: func() Record { return new(Review) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Review).Household }, Write: WriteApprovers, Fields: []Field{
			{Name: "plan", Type: TID, Required: true},
			{Name: "household", Type: TID, Required: true},
			{Name: "reviewer", Type: TID, Required: true, Who: WriteSelf},
			{Name: "verdict", Type: TEnum, Values: strs(VerdictComment, VerdictApprove, VerdictReturn)},
			{Name: "comment", Type: TString},
			{Name: "at", Type: TTime},
			{Name: "snapshot", Type: TJSON}, // an approval's PlanSnapshot
		}},
	{Kind: KindVisit, Zh: "走访记录", En: "visit", New: func() Record { return new(Visit) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Visit).Household }, Fields: []Field{
			{Name: "household", Type: TID, Required: true},
			{Name: "cadre", Type: TID, Required: true, Who: WriteSelf},
			{Name: "at", Type: TTime, Required: true},
			{Name: "type", Type: TEnum, Values: strs(VisitKinds...)},
			{Name: "notes", Type: TString},
			{Name: "policies", Type: TBool},
			{Name: "policy", Type: TString},
			{Name: "fees", Type: TEnum, Values: strs(FeesUnknown, FeesPaid, FeesPartly, FeesUnpaid, FeesExempt)},
			{Name: "water", Type: TEnum, Values: strs(WaterUnknown, WaterSafe, WaterUnsafe)},
			{Name: "follow_up", Type: TString},
			{Name: "due", Type: TTime},
			{Name: "companions", Type: TJSON}, // a list of cadre IDs
			{Name: "met", Type: TID},
			{Name: "absent", Type: TBool},
			{Name: "follow_up_done", Type: TTime},
			{Name: "corrections", Type: TJSON}, // the visit before each correction (VisitCorrection)
		}},
	{Kind: KindProblem, Zh: "问题", En: "problem", New: func() Record { return new(Problem) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Problem).Household }, Fields: []Field{
			{Name: "household", Type: TID, Required: true},
			{Name: "visit", Type: TID},
			{Name: "text", Type: TString},
			{Name: "status", Type: TEnum, Values: strs(ProblemOpen, ProblemVillage, ProblemTown, ProblemResolved)},
			{Name: "reported_by", Type: TID, Who: WriteSelf},
			{Name: "reported_at", Type: TTime},
			{Name: "resolved_by", Type: TID, Who: WriteSelf},
			{Name: "resolved_at", Type: TTime},
			{Name: "resolution", Type: TString},
		}},
	{Kind: KindStep, Zh: "问题处理记录", En: "problem step", New: func() Record { return new(Step) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Step).Household }, Write: WriteSteps, Fields: []Field{
			{Name: "problem", Type: TID, Required: true},
			{Name: "household", Type: TID, Required: true},
			{Name: "from", Type: TEnum, Required: true, Values: strs(ProblemOpen, ProblemVillage, ProblemTown, ProblemResolved)},
			{Name: "to", Type: TEnum, Required: true, Values: strs(ProblemOpen, ProblemVillage, ProblemTown, ProblemResolved)},
			{Name: "by", Type: TID, Required: true, Who: WriteSelf},
			{Name: "at", Type: TTime, Required: true},
			{Name: "note", Type: TString},
		}},
	{Kind: KindPhoto, Zh: "照片", En: "photo", New: func() Record { return new(Photo) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Photo).Household }, Fields: []Field{
			{Name: "household", Type: TID, Required: true},
			{Name: "of_kind", Type: TEnum, Values: strs(PhotoOf...), Required: true},
			{Name: "of", Type: TID, Required: true},
			{Name: "cadre", Type: TID, Required: true, Who: WriteSelf},
			{Name: "hash", Type: TString, Required: true},
			{Name: "size", Type: TInt, Required: true},
			{Name: "width", Type: TInt},
			{Name: "height", Type: TInt},
			{Name: "taken", Type: TTime},
			{Name: "lat", Type: TNumber},
			{Name: "lon", Type: TNumber},
			{Name: "caption", Type: TString},
		}},
	{Kind: KindConflict, Zh: "冲突记录", En: "conflict record", New: func() Record { return new(Conflict) },
		Scope: ByHousehold, Household: func(r Record) uuid.UUID { return r.(*Conflict).Household },
		Write: WriteResolvers, Merged: true, Fields: []Field{
			{Name: "household", Type: TID, Who: WriteMerge},
			{Name: "record_kind", Type: TString, Who: WriteMerge},
			{Name: "record", Type: TID, Who: WriteMerge},
			{Name: "field", Type: TString, Who: WriteMerge},
			{Name: "winner", Type: TJSON, Who: WriteMerge},
			{Name: "winner_stamp", Type: TString, Who: WriteMerge},
			{Name: "winner_author", Type: TID, Who: WriteMerge},
			{Name: "loser", Type: TJSON, Who: WriteMerge},
			{Name: "loser_stamp", Type: TString, Who: WriteMerge},
			{Name: "loser_author", Type: TID, Who: WriteMerge},
			{Name: "resolved", Type: TBool},
			{Name: "resolved_by", Type: TID, Who: WriteSelf},
			{Name: "resolved_at", Type: TTime},
		}},
}

var declOf = func() map[Kind]*Decl {
	m := make(map[Kind]*Decl, len(Decls))
	for _, d := range Decls {
		m[d.Kind] = d
	}
	return m
}()

// Declared returns the declaration of kind, nil for an unknown kind.
func Declared(kind Kind) *Decl { return declOf[kind] }

// Field returns the declaration of the field name of d, Meta's included. The
// Meta fields of a Merged kind are written by merging only.
func (d *Decl) Field(name string) (Field, bool) {
	if i := slices.IndexFunc(d.Fields, func(f Field) bool { return f.Name == name }); i >= 0 {
		return d.Fields[i], true
	}
	if i := slices.IndexFunc(MetaFields, func(f Field) bool { return f.Name == name }); i >= 0 {
		f := MetaFields[i]
		if d.Merged {
			f.Who = WriteMerge
		}
		return f, true
	}
	return Field{}, false
}

// Rule returns who may set field f to the JSON value v: f.Who, or the
// stricter rule f.Only names for that value.
func (f Field) Rule(v json.RawMessage) Who {
	if len(f.Only) > 0 {
		var s string
		if json.Unmarshal(v, &s) == nil {
			if w, ok := f.Only[s]; ok {
				return w
			}
		}
	}
	return f.Who
}

// ApproverRoles returns the roles that may approve plans (write reviews,
// move a plan to approved or returned) in a village.
type ApproverRoles func(village uuid.UUID) []Role

// CheckFields checks a change against its kind's declaration, as an
// upstream does for every change a device pushes: the kind is known, every
// field name is declared for it and valid UTF-8, every value has the
// declared JSON type (and is valid UTF-8: Go's decoder would silently
// replace invalid bytes), an enum holds one of its values or "", and a change
// that creates a record (create) sets every required field. The error names
// the first fault.
func CheckFields(ch Change, create bool) error {
	d := Declared(ch.Kind)
	if d == nil {
		return Errorf(EINVALID, "kind", "未知的记录类型 %q", "unknown record kind %q", ch.Kind)
	}
	zh, en := d.Zh, d.En
	for _, name := range sortedNames(ch.Fields) {
		v := ch.Fields[name]
		if !utf8.ValidString(name) {
			return Errorf(EINVALID, "fields", "字段名不是有效的 UTF-8 文本", "a field name is not valid UTF-8")
		}
		f, ok := d.Field(name)
		if !ok {
			return Errorf(EINVALID, "fields", "%[1]s没有“%[3]s”这个字段", "a %[2]s has no field %[3]q", zh, en, clipName(name))
		}
		if err := f.check(v); err != nil {
			return &Error{Code: EINVALID, Field: "fields",
				Zh: fmt.Sprintf("%s的字段“%s”的值无效：%s", zh, name, err.Zh),
				En: fmt.Sprintf("the value of field %q of a %s is invalid: %s", name, en, err.En)}
		}
	}
	if create {
		for _, f := range d.Fields {
			if _, ok := ch.Fields[f.Name]; f.Required && !ok {
				return Errorf(EINVALID, "fields", "新建%[1]s缺少字段“%[3]s”", "a new %[2]s lacks field %[3]q", zh, en, f.Name)
			}
		}
	}
	return nil
}

func sortedNames(f Fields) []string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func clipName(s string) string {
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

// check reports whether v has f's type.
func (f Field) check(v json.RawMessage) *Error {
	bad := func(zh, en string) *Error { return &Error{Code: EINVALID, Zh: zh, En: en} }
	if !utf8.Valid(v) {
		return bad("不是有效的 UTF-8 文本", "not valid UTF-8")
	}
	v = bytes.TrimSpace(v)
	if !json.Valid(v) {
		return bad("不是 JSON", "not JSON")
	}
	var s string
	isString := len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil
	switch f.Type {
	case TString:
		if !isString {
			return bad("应为文本", "want a string")
		}
	case TBool:
		if string(v) != "true" && string(v) != "false" {
			return bad("应为 true 或 false", "want true or false")
		}
	case TInt, TNumber:
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return bad("应为数字", "want a number")
		}
		if f.Type == TInt {
			if _, err := n.Int64(); err != nil {
				return bad("应为整数", "want an integer")
			}
		}
	case TTime:
		if !isString {
			return bad("应为时间", "want a time")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad("时间格式不对", "want an RFC 3339 time")
		}
	case TID:
		if !isString {
			return bad("应为标识", "want an ID")
		}
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return bad("标识格式不对", "want a UUID")
		}
	case TEnum:
		if !isString || (s != "" && !slices.Contains(f.Values, s)) {
			return bad("不是允许的取值", "not one of the allowed values")
		}
	case TJSON:
	}
	return nil
}
