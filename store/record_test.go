package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// compactJSON returns v in compact form, for comparing field values.
func compactJSON(tb testing.TB, v json.RawMessage) string {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		tb.Fatalf("compact %s: %v", v, err)
	}
	return b.String()
}

// TestRoundTrip writes one record of every kind and reads it back: every
// field, and every field's stamp and author.
func TestRoundTrip(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	conflict := &domain.Conflict{Household: v.Wang.ID, RecordKind: domain.KindHousehold, Record: v.Wang.ID,
		Field: "phone", Winner: json.RawMessage(`"13800000001"`), WinnerStamp: "1.0." + uuid.Nil.String(),
		WinnerAuthor: v.Li.ID, Loser: json.RawMessage(`"13900000009"`), LoserStamp: "0.5." + uuid.Nil.String(),
		LoserAuthor: v.He.ID}
	mustPut(t, db, v.Office, conflict)
	step := &domain.Step{Problem: v.Problems[2].ID, Household: v.Problems[2].Household, From: domain.ProblemOpen,
		To: domain.ProblemVillage, By: v.Li.ID, At: v.DaysAgo(1), Note: "请村里协调"}
	mustPut(t, db, v.Li.ID, step)

	pic := fakeJPEG(1)
	photo := &domain.Photo{Household: v.Visits[1].Household, OfKind: domain.KindVisit, Of: v.Visits[1].ID, Cadre: v.Visits[1].Cadre,
		Hash: pic.Hash, Size: len(pic.Data), Width: 1600, Height: 1200, Taken: v.DaysAgo(2), Lat: 35.6, Lon: 103.2, Caption: "新建大棚"}
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{pic}, photo))

	recs := []domain.Record{v.City, v.Wang, v.Members[1], v.Li, v.Assignments[3], v.Visits[1],
		v.Problems[2], step, v.Plan, v.Measures[0], v.Reviews[0], conflict, photo}
	kinds := map[domain.Kind]bool{}
	for _, want := range recs {
		kinds[want.Kind()] = true
		id := want.Metadata().ID
		if id == uuid.Nil {
			t.Fatalf("%s: Put did not set the ID", want.Kind())
		}
		got, err := db.Get(want.Kind(), id)
		if err != nil {
			t.Fatalf("Get(%s, %s): %v", want.Kind(), id, err)
		}
		if got.Metadata().ID != id {
			t.Errorf("%s: Get returned ID %s", want.Kind(), got.Metadata().ID)
		}
		if d := sameFields(t, got, want); d != nil {
			t.Errorf("%s round trip differs: %v", want.Kind(), d)
		}
		if m := got.Metadata(); !m.Created.Equal(want.Metadata().Created) || m.Device != db.Device() || m.Author == uuid.Nil {
			t.Errorf("%s meta = %+v", want.Kind(), m)
		}
		if up := got.Metadata().Updated; !up.Equal(fixtureNow.Truncate(time.Millisecond)) {
			t.Errorf("%s Updated = %v, want the clock's %v", want.Kind(), up, fixtureNow)
		}
		fs, err := db.FieldStates(want.Kind(), id)
		must(t, err)
		wf, _ := domain.Encode(want)
		if len(fs) != len(wf) {
			t.Errorf("%s: %d field states for %d fields", want.Kind(), len(fs), len(wf))
		}
		for name, value := range wf {
			st, ok := fs[name]
			if !ok || compactJSON(t, st.Value) != compactJSON(t, value) {
				t.Errorf("%s.%s state %s, want %s", want.Kind(), name, st.Value, value)
			}
			if st.Stamp.Device != db.Device() || st.Stamp.Wall != fixtureNow.UnixMilli() || st.Author == uuid.Nil {
				t.Errorf("%s.%s stamp %s author %s", want.Kind(), name, st.Stamp, st.Author)
			}
		}
	}
	if len(kinds) != len(domain.Kinds) {
		t.Errorf("round trip covered %d kinds of %d", len(kinds), len(domain.Kinds))
	}

	// An edit changes one field: only that field's stamp and author move.
	before, _ := db.FieldStates(domain.KindHousehold, v.Wang.ID)
	h, _ := db.Get(domain.KindHousehold, v.Wang.ID)
	h.(*domain.Household).Notes = "低保户"
	mustPut(t, db, v.Li.ID, h)
	after, _ := db.FieldStates(domain.KindHousehold, v.Wang.ID)
	for name, st := range after {
		moved := st.Stamp != before[name].Stamp
		if moved != (name == "notes") {
			t.Errorf("field %s: stamp moved %v", name, moved)
		}
	}
	if after["notes"].Author != v.Li.ID || compactJSON(t, after["notes"].Value) != `"低保户"` {
		t.Errorf("notes = %+v", after["notes"])
	}
	// Saving the same record again writes nothing.
	seq, _ := db.LastSeq()
	mustPut(t, db, v.Li.ID, h)
	if s, _ := db.LastSeq(); s != seq {
		t.Errorf("an unchanged Put logged %d entries", s-seq)
	}
}

// TestTombstones deletes one record of every kind that a query shows and
// checks that it is gone from Get, Each, every query and every index, and
// that the deletion is logged for sync.
func TestTombstones(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/t.db"
	db := mustOpenAt(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	seq0, _ := db.LastSeq()

	type del struct {
		kind domain.Kind
		id   uuid.UUID
	}
	dels := []del{
		{domain.KindVisit, v.Visits[1].ID},     // 王兴文's latest visit
		{domain.KindProblem, v.Problems[2].ID}, // 王小红's open problem
		{domain.KindMeasure, v.Measures[1].ID},
		{domain.KindReview, v.Reviews[1].ID},
		{domain.KindMember, v.Members[0].ID},
		{domain.KindAssignment, v.Assignments[4].ID}, // 张志明 pairs with 王兴文
		{domain.KindHousehold, v.Zhanghj.ID},
		{domain.KindCadre, v.Zhang.ID},
		{domain.KindPlace, v.South.ID},
		{domain.KindConflict, uuid.Nil}, // filled below
	}
	c := &domain.Conflict{Household: v.Wang.ID, RecordKind: domain.KindHousehold, Record: v.Wang.ID, Field: "notes",
		Winner: json.RawMessage(`"a"`), Loser: json.RawMessage(`"b"`)}
	mustPut(t, db, v.Office, c)
	dels[len(dels)-1].id = c.ID
	seq0, _ = db.LastSeq()
	for _, d := range dels {
		must(t, db.Delete(v.Office, d.kind, d.id))
	}
	// The plan goes last: its measures and reviews were checked against it.
	must(t, db.Delete(v.Office, domain.KindPlan, v.Plan.ID))
	dels = append(dels, del{domain.KindPlan, v.Plan.ID})

	for _, d := range dels {
		if _, err := db.Get(d.kind, d.id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Get(%s) after Delete: %v", d.kind, err)
		}
		must(t, db.Each(d.kind, func(r domain.Record) error {
			if r.Metadata().ID == d.id {
				t.Errorf("Each(%s) still yields the deleted record", d.kind)
			}
			return nil
		}))
		// The tombstone stays for sync.
		fs, err := db.FieldStates(d.kind, d.id)
		if err != nil || string(fs["deleted"].Value) != "true" {
			t.Errorf("FieldStates(%s) after Delete: %v %s", d.kind, err, fs["deleted"].Value)
		}
		if err := db.Delete(v.Office, d.kind, d.id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("deleting a deleted %s: %v", d.kind, err)
		}
	}
	if seq, _ := db.LastSeq(); seq != seq0+uint64(len(dels)) {
		t.Errorf("%d deletions logged %d entries", len(dels), seq-seq0)
	}

	// Queries.
	rows, err := query.VillageHouseholds(db, v.Vil.ID, v.Now)
	must(t, err)
	wantNames(t, "VillageHouseholds after deletions", rows, "韩东生", "王兴文", "马玉兰", "王小红")
	for _, r := range rows {
		if r.HeadName == "王兴文" && (r.DaysSince != 40 || r.OpenProblems != 1) {
			t.Errorf("王兴文 after deleting the latest visit: %d days, %d problems", r.DaysSince, r.OpenProblems)
		}
		if r.HeadName == "王小红" && r.OpenProblems != 0 {
			t.Errorf("王小红 still has %d open problems", r.OpenProblems)
		}
	}
	if rows, _ := query.Search(db, uuid.Nil, "张海军", v.Now, 0); len(rows) != 0 {
		t.Errorf("Search finds a deleted household: %v", names(rows))
	}
	if rows, _ := query.Search(db, uuid.Nil, "zhj", v.Now, 0); len(rows) != 0 {
		t.Errorf("Search by initials finds a deleted household: %v", names(rows))
	}
	if _, err := query.Card(db, v.Zhanghj.ID, v.Now); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Card of a deleted household: %v", err)
	}
	card, err := query.Card(db, v.Wang.ID, v.Now)
	must(t, err)
	if len(card.Visits) != 1 || len(card.Members) != 3 || card.Plan != nil || len(card.Measures) != 0 || len(card.Reviews) != 0 {
		t.Errorf("card after deletions: %d visits, %d members, plan %v, %d measures, %d reviews",
			len(card.Visits), len(card.Members), card.Plan, len(card.Measures), len(card.Reviews))
	}
	for _, h := range card.Helpers {
		if h.Cadre.ID == v.Zhang.ID {
			t.Errorf("card lists a deleted pairing's cadre")
		}
	}
	if ps, _ := query.OpenProblems(db, uuid.Nil, v.Now); len(ps) != 1 {
		t.Errorf("OpenProblems after deleting one: %d", len(ps))
	}
	if pl, _ := query.PlansAwaitingReview(db, uuid.Nil, v.Now); len(pl) != 0 {
		t.Errorf("PlansAwaitingReview lists a deleted plan")
	}
	if cs, _ := query.Conflicts(db, uuid.Nil, false); len(cs) != 0 {
		t.Errorf("Conflicts lists a deleted conflict")
	}
	if cs, _ := query.Cadres(db); len(cs) != 4 {
		t.Errorf("Cadres after deleting one: %d", len(cs))
	}
	if ps, _ := query.Places(db, domain.NaturalVillage, v.Vil.ID); len(ps) != 1 {
		t.Errorf("natural villages after deleting one: %d", len(ps))
	}
	if vs, _ := query.VisitsBy(db, v.Li.ID, 0); len(vs) != 1 {
		t.Errorf("VisitsBy after deleting a visit: %d", len(vs))
	}
	if mine, _ := query.MyHouseholds(db, v.Zhang.ID, v.Now); len(mine) != 0 {
		t.Errorf("a deleted cadre still has households: %v", names(mine))
	}
	if s, _ := query.Summary(db); s.Households != 4 || s.Visits != len(v.Visits)-1 || s.OpenProblems != 1 || s.AwaitingReview != 0 {
		t.Errorf("Summary after deletions: %+v", s)
	}

	// No index holds a key of a deleted record, but the partition indexes,
	// which hold every record but places and cadres (a first sync sends
	// tombstones too).
	db.Close()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer raw.Close()
	deleted := map[uuid.UUID]bool{}
	for _, d := range dels {
		deleted[d.id] = true
	}
	parted := map[uuid.UUID]bool{}
	must(t, raw.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte("idx"))
		if idx == nil {
			t.Fatal("no idx bucket")
		}
		return idx.ForEach(func(name, _ []byte) error {
			return idx.Bucket(name).ForEach(func(k, _ []byte) error {
				id := uuid.UUID(k[len(k)-16:])
				switch {
				case len(k) < 16 || !deleted[id]:
				case strings.HasPrefix(string(name), "part_"):
					parted[id] = true
				default:
					t.Errorf("index %s still holds deleted %s", name, id)
				}
				return nil
			})
		})
	}))
	for _, d := range dels {
		if !parted[d.id] && d.kind != domain.KindPlace && d.kind != domain.KindCadre {
			t.Errorf("no partition index holds the deleted %s %s", d.kind, d.id)
		}
	}
}

func TestOpenTwiceIsLocked(t *testing.T) {
	path := t.TempDir() + "/x.db"
	db := mustOpenAt(t, path, fixtureNow)
	start := time.Now()
	_, err := store.Open(path, &store.Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v", d)
	}
	var e *domain.Error
	if !errors.As(err, &e) || e.Zh == "" || e.En == "" {
		t.Errorf("ErrLocked is not a bilingual *domain.Error: %v", err)
	}
	dev := db.Device()
	db.Close()
	// The file keeps its device; another device ID is refused.
	db2, err := store.Open(path, nil)
	must(t, err)
	if db2.Device() != dev {
		t.Errorf("device after reopen %s, want %s", db2.Device(), dev)
	}
	db2.Close()
	if _, err := store.Open(path, &store.Options{Device: uuid.New()}); err == nil {
		t.Error("a file opened as another device")
	}
}
