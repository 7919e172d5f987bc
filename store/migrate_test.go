package store_test

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// schemaOf reads the schema version and the index names of a closed file.
func schemaOf(tb testing.TB, path string) (version uint32, indexes []string) {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(tb, err)
	defer raw.Close()
	must(tb, raw.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("schema")); len(v) == 4 {
			version = binary.BigEndian.Uint32(v)
		}
		if idx := tx.Bucket([]byte("idx")); idx != nil {
			return idx.ForEach(func(k, _ []byte) error { indexes = append(indexes, string(k)); return nil })
		}
		return nil
	}))
	return version, indexes
}

// setSchema rewrites a closed file as an older version would have left it:
// the given schema number, and no indexes at all.
func setSchema(tb testing.TB, path string, version uint32, dropIndexes bool) {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, nil)
	must(tb, err)
	defer raw.Close()
	must(tb, raw.Update(func(tx *bolt.Tx) error {
		if dropIndexes {
			if err := tx.DeleteBucket([]byte("idx")); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, version))
	}))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestMigrateFromSchema2 opens a file written by the schema-2 code (see
// testdata/README.md): the migration builds the version-3 indexes and the
// queries find the fixture village in it.
func TestMigrateFromSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	gunzip(t, "testdata/schema2.db.gz", path)
	version, idx := schemaOf(t, path)
	if version != 2 || contains(idx, "hh_search") || !contains(idx, "hh_group") {
		t.Fatalf("test data: schema %d, indexes %v; want a schema-2 file", version, idx)
	}

	logged := logLen(t, path)

	db := mustOpenAt(t, path, fixtureNow)
	if seq, _ := db.LastSeq(); seq != logged {
		t.Errorf("the migration changed the log: %d entries, then LastSeq %d", logged, seq)
	}
	vs, err := query.Places(db, domain.Village, uuid.Nil)
	must(t, err)
	if len(vs) != 1 || vs[0].Name != "王坪村" {
		t.Fatalf("villages = %v", vs)
	}
	vil := vs[0].ID
	rows, err := query.VillageHouseholds(db, vil, fixtureNow)
	must(t, err)
	wantNames(t, "VillageHouseholds", rows, "张海军", "韩东生", "马玉兰", "王兴文", "王小红")
	open := 0
	for _, r := range rows {
		open += r.OpenProblems
	}
	if open != 2 {
		t.Errorf("open problems on the rows: %d, want 2 (the new problem_open_hh index)", open)
	}
	found, err := query.Search(db, vil, "wxw", fixtureNow, 10)
	must(t, err)
	wantNames(t, "Search(wxw)", found, "王兴文")

	cadres, err := query.Cadres(db)
	must(t, err)
	var li *domain.Cadre
	for _, c := range cadres {
		if c.Name == "李建国" {
			li = c
		}
	}
	if li == nil {
		t.Fatal("no 李建国 in the old file")
	}
	mine, err := query.MyHouseholds(db, li.ID, fixtureNow)
	must(t, err)
	wantNames(t, "MyHouseholds(李建国)", mine, "张海军", "马玉兰", "王兴文", "王小红")
	card, err := query.Card(db, found[0].ID, fixtureNow)
	must(t, err)
	if len(card.Members) != 4 || len(card.Helpers) != 4 || len(card.Visits) != 2 || len(card.Measures) != 3 ||
		len(card.Reviews) != 2 || len(card.Problems) != 1 || card.DaysSince != 3 {
		t.Errorf("card: %d members, %d helpers, %d visits, %d measures, %d reviews, %d problems, %d days",
			len(card.Members), len(card.Helpers), len(card.Visits), len(card.Measures), len(card.Reviews),
			len(card.Problems), card.DaysSince)
	}
	// The migrated file takes new writes, and they are indexed.
	mustPut(t, db, li.ID, &domain.Household{HeadName: "吴晓伟", Group: rows[0].Group, Status: domain.Ordinary, Size: 2})
	found, err = query.Search(db, vil, "wxw", fixtureNow, 10)
	must(t, err)
	wantNames(t, "Search(wxw) after a new household", found, "吴晓伟", "王兴文")
	must(t, db.Close())

	version, idx = schemaOf(t, path)
	if version != store.SchemaVersion || !contains(idx, "hh_search") || !contains(idx, "problem_open_hh") {
		t.Errorf("after migration: schema %d, indexes %v", version, idx)
	}
}

// TestMigrateRebuildsIndexes takes a file written now, makes it look like one
// of an older version without indexes, and checks that reopening it gives
// the same answers as before.
func TestMigrateRebuildsIndexes(t *testing.T) {
	for _, old := range []uint32{1, 2} {
		path := filepath.Join(t.TempDir(), "db")
		db := mustOpenAt(t, path, fixtureNow)
		v := buildVillage(t, db, fixtureNow)
		before := answers(t, db, v)
		must(t, db.Close())

		setSchema(t, path, old, true)
		if _, idx := schemaOf(t, path); len(idx) != 0 {
			t.Fatalf("indexes left: %v", idx)
		}
		db = mustOpenAt(t, path, fixtureNow)
		after := answers(t, db, v)
		if !reflect.DeepEqual(before, after) {
			t.Errorf("from schema %d: answers differ after the migration\nbefore %+v\nafter  %+v", old, before, after)
		}
		must(t, db.Close())
	}
}

// answers collects the queries' results, to compare a file before and after
// a migration.
func answers(tb testing.TB, db *store.DB, v *village) []any {
	tb.Helper()
	var out []any
	add := func(x any, err error) {
		tb.Helper()
		must(tb, err)
		out = append(out, x)
	}
	add(query.VillageHouseholds(db, v.Vil.ID, v.Now))
	add(query.MyHouseholds(db, v.Li.ID, v.Now))
	add(query.Search(db, uuid.Nil, "w", v.Now, 0))
	add(query.Overview(db, v.Vil.ID, v.Now))
	add(query.OpenProblems(db, uuid.Nil, v.Now))
	add(query.PlansAwaitingReview(db, uuid.Nil, v.Now))
	add(query.Summary(db))
	card, err := query.Card(db, v.Wang.ID, v.Now)
	must(tb, err)
	out = append(out, len(card.Members), len(card.Helpers), len(card.Visits), len(card.Measures), len(card.Problems))
	return out
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := mustOpenAt(t, path, fixtureNow)
	must(t, db.Close())
	setSchema(t, path, store.SchemaVersion+1, false)
	if _, err := store.Open(path, nil); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("Open of a newer file: %v, want ErrNewerSchema", err)
	}
}

// logLen counts the log entries of a closed file.
func logLen(tb testing.TB, path string) uint64 {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(tb, err)
	defer raw.Close()
	var n uint64
	must(tb, raw.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("log")).ForEach(func(_, _ []byte) error { n++; return nil })
	}))
	return n
}

func gunzip(tb testing.TB, src, dst string) {
	tb.Helper()
	f, err := os.Open(src)
	must(tb, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	must(tb, err)
	out, err := os.Create(dst)
	must(tb, err)
	if _, err := io.Copy(out, z); err != nil {
		tb.Fatal(err)
	}
	must(tb, out.Close())
}

// indexKeys reads the keys of the named indexes of a closed file.
func indexKeys(tb testing.TB, path string, names ...string) map[string][]string {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(tb, err)
	defer raw.Close()
	out := map[string][]string{}
	must(tb, raw.View(func(tx *bolt.Tx) error {
		for _, name := range names {
			b := tx.Bucket([]byte("idx")).Bucket([]byte(name))
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, _ []byte) error { out[name] = append(out[name], string(k)); return nil }); err != nil {
				return err
			}
		}
		return nil
	}))
	return out
}

// TestMigrateBuildsPartitions opens a schema-7 file, as the code before
// the partition indexes left it (written now, those indexes dropped): the
// migration builds them from every row, deleted records and households
// that are history included, with the keys the writes themselves make;
// and the walk of a village's state through them is the whole walk's.
func TestMigrateBuildsPartitions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := mustOpenAt(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit, member, pairing, post := *v.Visits[1], *v.Members[1], *v.Assignments[3], *v.Assignments[0]
	visit.Deleted, member.Deleted, pairing.Deleted, post.Deleted = true, true, true, true
	gone, out := *v.Han, *v.Zhanghj
	gone.Deleted = true
	out.Exit, out.ExitOn = domain.MovedOut, v.DaysAgo(2)
	mustPut(t, db, v.Office, &visit, &member, &pairing, &post, &gone, &out)
	vil := v.Vil.ID
	readable := func(e *store.Entry) bool { return e.Village == vil }
	in := store.Within{Villages: map[uuid.UUID]bool{vil: true}}
	state := func(db *store.DB, in *store.Within) []domain.Change {
		var chs []domain.Change
		fn := func(_ store.StatePos, changes []domain.Change) (bool, error) {
			chs = append(chs, changes...)
			return true, nil
		}
		var err error
		if in != nil {
			_, err = db.StateIn(*in, store.StatePos{}, readable, fn)
		} else {
			_, err = db.State(store.StatePos{}, readable, fn)
		}
		must(t, err)
		return chs
	}
	whole := state(db, nil)
	must(t, db.Close())

	parts := []string{"part_group", "part_hh", "part_place"}
	want := indexKeys(t, path, parts...)
	if len(want) != len(parts) {
		t.Fatalf("written now, the file has the partition indexes %v", slices.Collect(maps.Keys(want)))
	}
	raw, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, raw.Update(func(tx *bolt.Tx) error {
		for _, name := range parts {
			if err := tx.Bucket([]byte("idx")).DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, 7))
	}))
	must(t, raw.Close())
	if got := indexKeys(t, path, parts...); len(got) != 0 {
		t.Fatalf("indexes left: %v", slices.Collect(maps.Keys(got)))
	}

	db = mustOpenAt(t, path, fixtureNow)
	got := state(db, &in)
	must(t, db.Close())
	if version, _ := schemaOf(t, path); version != store.SchemaVersion {
		t.Errorf("after migration: schema %d", version)
	}
	if built := indexKeys(t, path, parts...); !reflect.DeepEqual(built, want) {
		for _, name := range parts {
			t.Errorf("%s: the migration built %d keys, the writes made %d", name, len(built[name]), len(want[name]))
		}
	}
	held := map[uuid.UUID]bool{}
	for _, ch := range whole {
		held[ch.Record] = true
	}
	for _, id := range []uuid.UUID{visit.ID, member.ID, pairing.ID, post.ID, gone.ID, out.ID} {
		if !held[id] {
			t.Errorf("the village's state lacks %s", id)
		}
	}
	if !reflect.DeepEqual(got, whole) {
		t.Errorf("after the migration the partitions' state has %d changes, the whole walk's %d", len(got), len(whole))
	}
}
