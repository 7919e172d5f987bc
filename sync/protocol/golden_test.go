package protocol_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// id returns a fixed UUID named by name, so that golden files are stable.
func id(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse("2b1f0a64-8c3e-4d57-9a6b-0e4c7d2f1a38"), []byte(name))
}

var (
	phone  = id("device: 马兴文的手机")
	tablet = id("device: 王队长的平板")
	cadre  = id("cadre: 马兴文")
	leader = id("cadre: 王队长")
	house  = id("household: 马进福")
	server = id("server: 临夏市")
	now    = time.Date(2025, 3, 1, 8, 30, 0, 125e6, time.UTC)
)

func stamp(wall time.Time, logical uint32, device uuid.UUID) domain.Stamp {
	return domain.Stamp{Wall: wall.UnixMilli(), Logical: logical, Device: device}
}

// goldenSync are the changes of the golden sync request: a new visit, an
// edit of a plan's measure with the stamps its editor saw, and a deletion.
func goldenChanges() []protocol.Change {
	return []protocol.Change{{
		ID:     id("change: visit").String(),
		Kind:   domain.KindVisit,
		Record: id("visit 1").String(),
		Author: cadre.String(),
		Stamp:  stamp(now.Add(-time.Hour), 0, phone).String(),
		Fields: map[string]json.RawMessage{
			"household": json.RawMessage(`"` + house.String() + `"`),
			"cadre":     json.RawMessage(`"` + cadre.String() + `"`),
			"at":        json.RawMessage(`"2025-03-01T07:10:00Z"`),
			"type":      json.RawMessage(`"routine"`),
			"notes":     json.RawMessage(`"家中4口人，儿子在兰州务工；散养鸡 35 只长势良好。"`),
			"policies":  json.RawMessage(`true`),
			"water":     json.RawMessage(`"safe"`),
			"fees":      json.RawMessage(`"paid"`),
		},
	}, {
		ID:     id("change: measure").String(),
		Kind:   domain.KindMeasure,
		Record: id("measure 1").String(),
		Author: leader.String(),
		Stamp:  stamp(now.Add(-time.Minute), 3, tablet).String(),
		Fields: map[string]json.RawMessage{
			"progress": json.RawMessage(`"in_progress"`),
			"target":   json.RawMessage(`"散养鸡 50 只 & 花椒 2 亩, 年增收 <3000> 元"`),
		},
		Base: map[string]string{
			"progress": stamp(now.Add(-48*time.Hour), 0, phone).String(),
			"target":   stamp(now.Add(-48*time.Hour), 1, phone).String(),
		},
	}, {
		ID:     id("change: delete problem").String(),
		Kind:   domain.KindProblem,
		Record: id("problem 1").String(),
		Author: cadre.String(),
		Stamp:  stamp(now.Add(-30*time.Second), 0, phone).String(),
		Fields: map[string]json.RawMessage{"deleted": json.RawMessage(`true`)},
		Base:   map[string]string{"deleted": stamp(now.Add(-72*time.Hour), 0, phone).String()},
	}}
}

// goldenState is the state of a household in a catch-up: its fields set
// when the roster was imported, and the phone number a cadre corrected
// since, each with the stamp and author of the edit that set it.
func goldenState() []protocol.Change {
	imported := stamp(now.Add(-90*24*time.Hour), 0, server)
	corrected := stamp(now.Add(-48*time.Hour), 2, phone)
	return []protocol.Change{{
		ID:     id("state: household imported").String(),
		Kind:   domain.KindHousehold,
		Record: house.String(),
		Author: leader.String(),
		Stamp:  imported.String(),
		Fields: map[string]json.RawMessage{
			"head_name": json.RawMessage(`"马进福"`),
			"group":     json.RawMessage(`"` + id("group: 一社").String() + `"`),
			"size":      json.RawMessage(`4`),
			"deleted":   json.RawMessage(`false`),
		},
	}, {
		ID:     id("state: household phone").String(),
		Kind:   domain.KindHousehold,
		Record: house.String(),
		Author: cadre.String(),
		Stamp:  corrected.String(),
		Fields: map[string]json.RawMessage{"phone": json.RawMessage(`"13909301234"`)},
	}}
}

// goldens are the golden files: each a fixed value and a fresh value to
// decode into.
var goldens = []struct {
	file  string
	value any
	fresh func() any
}{
	{"enroll_request.json",
		&protocol.EnrollRequest{V: 1, Code: "7QK4-M2PX", Name: "马兴文的手机", Device: phone},
		func() any { return new(protocol.EnrollRequest) }},
	{"enroll_response.json",
		&protocol.EnrollResponse{V: 1, Device: phone, Token: "bft1.q8Zr0uXo2m5d7Kc3PzVwYg", Cadre: cadre, Now: protocol.At(now), Server: server},
		func() any { return new(protocol.EnrollResponse) }},
	{"sync_request.json",
		&protocol.SyncRequest{V: 1, Cursor: "c1.4211", Through: 57, Changes: goldenChanges()},
		func() any { return new(protocol.SyncRequest) }},
	{"sync_request_noop.json",
		&protocol.SyncRequest{V: 1, Cursor: "c1.4242", Through: 57, Changes: []protocol.Change{}},
		func() any { return new(protocol.SyncRequest) }},
	{"sync_response.json",
		&protocol.SyncResponse{V: 1, Now: protocol.At(now), Acked: 57, Changes: goldenChanges()[1:], Cursor: "c1.4242", More: true,
			Rejected: []protocol.Rejection{protocol.RejectionOf(id("change: visit"),
				domain.Errorf(domain.EINVALID, "fields", "变更无法合并：字段“at”的值类型不符（发出它的应用可能有误或版本过旧）",
					`the change cannot be merged: the value of field "at" has the wrong type (the app that sent it may be faulty or out of date)`))}},
		func() any { return new(protocol.SyncResponse) }},
	{"sync_response_catchup.json",
		&protocol.SyncResponse{V: 1, Now: protocol.At(now), Acked: 0, Changes: []protocol.Change{}, Reset: true, Settled: true,
			State: goldenState(), Cursor: "4242@77e0a1b2~9c1f4e0b7d2a6c35", More: false},
		func() any { return new(protocol.SyncResponse) }},
	{"error.json",
		&protocol.ErrorBody{V: 1, Error: protocol.ErrorInfo{Code: "invalid", Field: "stamp",
			Zh: `第 0 条更改：时间戳无效："yesterday"`,
			En: `change 0: bad stamp "yesterday" (want <wall ms>.<logical>.<device uuid>)`}},
		func() any { return new(protocol.ErrorBody) }},
	{"error_scope.json",
		&protocol.ErrorBody{V: 1, Error: protocol.ErrorInfo{Code: "forbidden", Field: "scope",
			Zh:      "超出您的负责范围：本设备无权修改这条走访记录（" + id("visit 1").String()[:8] + "）等 2 条更改，服务器未保存这些更改。请联系驻村工作队长。",
			En:      "outside your responsibilities: this device may not change this visit (" + id("visit 1").String()[:8] + ") and 1 other change; the server did not save them. Contact your team leader.",
			Changes: []string{id("change: visit").String(), id("change: delete problem").String()}}},
		func() any { return new(protocol.ErrorBody) }},
	{"health.json", &protocol.Health{OK: true, V: 1}, func() any { return new(protocol.Health) }},
	{"sync_response_replaced.json",
		&protocol.SyncResponse{V: 1, Now: protocol.At(now), Acked: 57, Changes: []protocol.Change{}, Cursor: "c1.4211", Revoked: "replaced"},
		func() any { return new(protocol.SyncResponse) }},
	{"error_lost.json", ptr(protocol.ErrorBodyOf(protocol.ErrLost)), func() any { return new(protocol.ErrorBody) }},
	{"error_locked.json", ptr(protocol.ErrorBodyOf(protocol.ErrLocked)), func() any { return new(protocol.ErrorBody) }},
	{"error_busy.json", ptr(protocol.ErrorBodyOf(protocol.ErrBusy)), func() any { return new(protocol.ErrorBody) }},
	{"error_device_taken.json",
		&protocol.ErrorBody{V: 1, Error: protocol.ErrorInfo{Code: "unauthorized", Field: "device_taken",
			Zh: "此设备标识已属于另一台设备或已被停用，不能再注册；请清除应用数据后重新注册",
			En: "this device ID belongs to another device or was revoked and cannot enrol again; clear the app's data and enrol afresh"}},
		func() any { return new(protocol.ErrorBody) }},
	{"escrow_request.json", &protocol.EscrowRequest{V: 1, Key: []byte("0123456789abcdef0123456789abcdef")},
		func() any { return new(protocol.EscrowRequest) }},
	{"escrow_response.json", &protocol.EscrowResponse{V: 1, Now: protocol.At(now)},
		func() any { return new(protocol.EscrowResponse) }},
	{"photos_have_request.json", &protocol.HaveRequest{V: 1, Hashes: []string{
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"}},
		func() any { return new(protocol.HaveRequest) }},
	{"photos_have_response.json", &protocol.HaveResponse{V: 1,
		Have:    []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Offsets: map[string]int64{"3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b": 65536}},
		func() any { return new(protocol.HaveResponse) }},
	{"error_photo_offset.json", ptr(protocol.ErrorBodyOf(protocol.ErrOffset)), func() any { return new(protocol.ErrorBody) }},
	{"error_photo_quota.json", ptr(protocol.ErrorBodyOf(protocol.ErrPhotoQuota)), func() any { return new(protocol.ErrorBody) }},
	{"release_request.json", &protocol.ReleaseRequest{V: 1, Code: "7QK4-M2PX"},
		func() any { return new(protocol.ReleaseRequest) }},
	{"release_response.json", &protocol.ReleaseResponse{V: 1, Key: []byte("0123456789abcdef0123456789abcdef")},
		func() any { return new(protocol.ReleaseResponse) }},
	{"audit_request.json", &protocol.AuditRequest{V: 1, Entries: []protocol.AuditEntry{
		{At: protocol.At(now), Action: "reveal-id", Target: house.String(), Detail: "**************123X"}}},
		func() any { return new(protocol.AuditRequest) }},
	// The refusals of a push, each as the server answers it.
	{"error_role.json",
		&protocol.ErrorBody{V: 1, Error: protocol.ErrorInfo{Code: "forbidden", Field: "role",
			Zh:      "无权这样修改：只有本村的驻村工作队长或第一书记可以审核帮扶计划。本设备对这条审核意见（" + id("review 1").String()[:8] + "）的更改服务器未保存。",
			En:      "not allowed: only the village's work team leader or first secretary may review plans. The server did not save this device's change of this review (" + id("review 1").String()[:8] + ").",
			Changes: []string{id("change: review").String()}}},
		func() any { return new(protocol.ErrorBody) }},
	{"error_utf8.json", refusedBody(`{"v":1,"cursor":"","through":1,"changes":[{"notes":"` + "\xff\xfe" + `"}]}`),
		func() any { return new(protocol.ErrorBody) }},
	{"error_duplicate.json", duplicateBody(),
		func() any { return new(protocol.ErrorBody) }},
	{"error_base_ahead.json", baseAheadBody(),
		func() any { return new(protocol.ErrorBody) }},
	{"sync_response_rejected.json",
		&protocol.SyncResponse{V: 1, Now: protocol.At(now), Acked: 57, Changes: []protocol.Change{}, Cursor: "c1.4242",
			Rejected: []protocol.Rejection{
				protocol.RejectionOf(id("change: visit"), checkFields(`{"zzz_not_a_visit_field":"x"}`)),
				protocol.RejectionOf(id("change: visit 2"), checkFields(`{"policies":"yes"}`)),
				protocol.RejectionOf(id("change: problem"), domain.Errorf(domain.EINVALID, "record",
					"记录 %[3]s 已是一条%[1]s，不能再用作其他类型的记录", "record %[3]s is already a %[2]s; its ID cannot name a record of another kind",
					"走访记录", "visit", id("visit 1"))),
			}},
		func() any { return new(protocol.SyncResponse) }},
}

// refusedBody is the error answer to a request body the server refuses
// whole.
func refusedBody(body string) *protocol.ErrorBody {
	err := protocol.Unmarshal([]byte(body), new(protocol.SyncRequest))
	if err == nil {
		panic("accepted: " + body)
	}
	b := protocol.ErrorBodyOf(err)
	return &b
}

// duplicateBody is the answer to a push with two changes of one ID.
func duplicateBody() *protocol.ErrorBody {
	ch := goldenChanges()
	ch[1].ID = ch[0].ID
	body, err := protocol.Marshal(protocol.SyncRequest{V: 1, Cursor: "c1.4211", Through: 57, Changes: ch})
	if err != nil {
		panic(err)
	}
	return refusedBody(string(body))
}

// baseAheadBody is the answer to a push whose base stamp is an hour ahead.
func baseAheadBody() *protocol.ErrorBody {
	ch, err := protocol.DecodeChanges(goldenChanges()[1:2])
	if err != nil {
		panic(err)
	}
	ch[0].Base["target"] = stamp(now.Add(time.Hour), 0, phone)
	b := protocol.ErrorBodyOf(protocol.CheckStamps(ch, now))
	return &b
}

// checkFields is the reason a visit change setting fields is rejected.
func checkFields(fields string) error {
	var f domain.Fields
	if err := json.Unmarshal([]byte(fields), &f); err != nil {
		panic(err)
	}
	return domain.CheckFields(domain.Change{Kind: domain.KindVisit, Fields: f}, false)
}

func readGolden(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			got, err := protocol.Marshal(g.value)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", g.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readGolden(t, g.file)
			if !bytes.Equal(got, want) {
				t.Errorf("encoding differs from %s (run go test -update if the change is intended)\ngot:  %s\nwant: %s", path, got, want)
			}
		})
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			got := g.fresh()
			if err := protocol.Unmarshal(readGolden(t, g.file), got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, g.value) {
				t.Errorf("decoding %s:\ngot:  %+v\nwant: %+v", g.file, got, g.value)
			}
		})
	}
}

// TestGoldenShapes checks the golden files against the documented shapes
// without this package's types, as a second implementation would read them.
func TestGoldenShapes(t *testing.T) {
	var req map[string]any
	if err := json.Unmarshal(readGolden(t, "sync_request.json"), &req); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"v", "cursor", "through", "changes"} {
		if _, ok := req[key]; !ok {
			t.Errorf("sync request has no %q", key)
		}
	}
	if len(req) != 4 {
		t.Errorf("sync request has %d keys, want 4: %v", len(req), req)
	}
	changes := req["changes"].([]any)
	first := changes[0].(map[string]any)
	if _, ok := first["base"]; ok {
		t.Error("an empty base is written")
	}
	if first["stamp"] != "1740814200125.0."+phone.String() {
		t.Errorf("stamp = %v", first["stamp"])
	}
	var resp map[string]any
	if err := json.Unmarshal(readGolden(t, "sync_response.json"), &resp); err != nil {
		t.Fatal(err)
	}
	if resp["now"] != "2025-03-01T08:30:00.125Z" || resp["more"] != true || resp["acked"] != 57.0 {
		t.Errorf("sync response = %v", resp)
	}
	if !bytes.Contains(readGolden(t, "sync_request.json"), []byte(`<3000> 元`)) {
		t.Error("HTML characters are escaped on the wire")
	}
	var scope struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(readGolden(t, "error_scope.json"), &scope); err != nil {
		t.Fatal(err)
	}
	if ids, ok := scope.Error["changes"].([]any); !ok || len(ids) != 2 || ids[0] != id("change: visit").String() ||
		scope.Error["code"] != "forbidden" || scope.Error["field"] != "scope" {
		t.Errorf("scope error = %v", scope.Error)
	}
	if bytes.Contains(readGolden(t, "error.json"), []byte(`"changes"`)) {
		t.Error("an error about no changes lists them")
	}
	if got := string(readGolden(t, "health.json")); got != `{"ok":true,"v":1}` {
		t.Errorf("health = %s", got)
	}
}

func ptr[T any](v T) *T { return &v }
