package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/seal"
	"bangfu/store"
	"bangfu/store/query"
)

// testPIN and otherPIN pass seal.CheckPIN.
const (
	testPIN  = "402719"
	otherPIN = "385027"
)

// cheap keeps Argon2id out of the tests' time; the benchmarks use the
// default.
var cheap = &seal.Params{Time: 1, Memory: 64, Threads: 1}

func openSealed(tb testing.TB, path string, now time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(path, &store.Options{Now: clockAt(now), PINParams: cheap})
	must(tb, err)
	return db
}

// demoSecrets are what must not be readable in a sealed file: every ID
// number, phone and name of the demo's people (heads, members, cadres).
func demoSecrets(d *demo.Data) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, h := range d.Households {
		add(h.HeadName)
		add(h.Phone)
		add(h.IDNumber)
	}
	for _, m := range d.Members {
		add(m.Name)
		add(m.IDNumber)
	}
	for _, c := range d.Cadres {
		add(c.Name)
		add(c.Phone)
	}
	return out
}

// finder finds any of a set of strings in bytes in one pass: at each
// position that could start one, a map lookup per length.
type finder struct {
	set     map[string]bool
	lengths []int
	starts  [256]bool
}

func newFinder(secrets []string) *finder {
	f := &finder{set: map[string]bool{}}
	lens := map[int]bool{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		f.set[s] = true
		lens[len(s)] = true
		f.starts[s[0]] = true
	}
	for l := range lens {
		f.lengths = append(f.lengths, l)
	}
	return f
}

// find adds to found the secrets b holds.
func (f *finder) find(b []byte, found map[string]bool) {
	for i := range b {
		if !f.starts[b[i]] {
			continue
		}
		for _, l := range f.lengths {
			if i+l <= len(b) && f.set[string(b[i:i+l])] {
				found[string(b[i:i+l])] = true
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// leaks returns the secrets found in the file's bytes, and, walking every
// bucket with bbolt, in any key or value.
func leaks(tb testing.TB, path string, secrets []string) (inFile, inBuckets []string) {
	tb.Helper()
	f := newFinder(secrets)
	raw, err := os.ReadFile(path)
	must(tb, err)
	found := map[string]bool{}
	f.find(raw, found)
	inFile = keys(found)
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	must(tb, err)
	defer db.Close()
	found = map[string]bool{}
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			f.find(k, found)
			f.find(v, found)
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return walk(sub)
				}
			}
			return nil
		})
	}
	must(tb, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { f.find(name, found); return walk(b) })
	}))
	return inFile, keys(found)
}

// draftOf is a visit typed as a draft about h: it names the head and the
// phone, as the app's drafts do.
func draftOf(h *domain.Household) []byte {
	return fmt.Appendf(nil, `{"household":%q,"notes":"%s 说电话 %s 常打不通，身份证 %s 待复印"}`, h.ID, h.HeadName, h.Phone, h.IDNumber)
}

// TestSealedFileHoldsNoPeople writes the demo village and drafts in clear,
// checks that the file shows the people (so the check can fail), seals it,
// writes more (a visit naming a head, a new draft, an edited household),
// locks, and finds none of the demo's ID numbers, phones or names in the
// file's bytes or in any bucket.
func TestSealedFileHoldsNoPeople(t *testing.T) {
	d := demo.Village(1, demoNow)
	secrets := demoSecrets(d)
	path := filepath.Join(t.TempDir(), "demo.db")
	db := loadDemo(t, path, d, demoNow)
	h0, h1 := d.Households[0], d.Households[1]
	must(t, db.SaveDraft("visit/"+h0.ID.String(), draftOf(h0)))
	must(t, db.Close())
	inFile, inBuckets := leaks(t, path, secrets)
	if len(inFile) < len(secrets)/2 || len(inBuckets) < len(secrets)/2 {
		t.Fatalf("the clear file shows only %d (bytes) and %d (buckets) of %d secrets: the check cannot tell", len(inFile), len(inBuckets), len(secrets))
	}

	db = openSealed(t, path, demoNow)
	must(t, db.Seal(testPIN))
	if !db.Sealed() || db.Locked() {
		t.Fatalf("after Seal: sealed %v locked %v", db.Sealed(), db.Locked())
	}
	if _, err := os.Stat(path + ".sealing"); !os.IsNotExist(err) {
		t.Errorf("the sealing copy is left: %v", err)
	}
	// Everything reads back.
	if n, err := db.Count(domain.KindHousehold); err != nil || n != len(d.Households) {
		t.Fatalf("households after Seal: %d, %v", n, err)
	}
	got, err := db.Draft("visit/" + h0.ID.String())
	if err != nil || !bytes.Equal(got, draftOf(h0)) {
		t.Fatalf("draft after Seal: %q, %v", got, err)
	}
	// Writes after sealing.
	must(t, db.SaveDraft("visit/"+h1.ID.String(), draftOf(h1)))
	mustPut(t, db, d.GroupCadre.ID, &domain.Visit{Household: h1.ID, Cadre: d.GroupCadre.ID, At: demoNow.Add(-time.Hour),
		Type: domain.VisitRoutine, Notes: h1.HeadName + " 家新装了自来水，电话 " + h1.Phone})
	edited := *h1
	edited.HeadName = h1.HeadName + "明"
	secrets = append(secrets, edited.HeadName)
	mustPut(t, db, d.GroupCadre.ID, &edited)
	must(t, db.Close())

	inFile, inBuckets = leaks(t, path, secrets)
	if len(inFile) > 0 || len(inBuckets) > 0 {
		t.Errorf("a sealed file shows %d secrets in its bytes (%q...) and %d in its buckets (%q...)",
			len(inFile), first(inFile), len(inBuckets), first(inBuckets))
	}

	// And it opens locked, then reads with the PIN.
	db = openSealed(t, path, demoNow)
	defer db.Close()
	if !db.Locked() {
		t.Fatal("a sealed file opened unlocked")
	}
	must(t, db.Unlock(testPIN, demoNow))
	rec, err := db.Get(domain.KindHousehold, h1.ID)
	if err != nil || rec.(*domain.Household).HeadName != edited.HeadName {
		t.Fatalf("after unlock: %v, %v", rec, err)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestLockedRefusesEverything: a locked store answers every read and write,
// sync's included, with ErrNeedPIN; the PIN's own state still reads.
func TestLockedRefusesEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	defer db.Close()
	v := buildVillage(t, db, fixtureNow)
	must(t, db.Seal(testPIN))
	db.Lock()
	if !db.Locked() {
		t.Fatal("not locked after Lock")
	}
	calls := map[string]func() error{
		"Get":    func() error { _, err := db.Get(domain.KindHousehold, v.Wang.ID); return err },
		"Search": func() error { _, err := query.Search(db, uuid.Nil, "wxw", fixtureNow, 10); return err },
		"MyHH":   func() error { _, err := query.MyHouseholds(db, v.Li.ID, fixtureNow); return err },
		"Put": func() error {
			return db.Put(v.Li.ID, &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: fixtureNow})
		},
		"Draft":     func() error { _, err := db.Draft("visit/x"); return err },
		"SaveDraft": func() error { return db.SaveDraft("visit/x", []byte("x")) },
		"Outbox":    func() error { _, err := db.Outbox(uuid.New(), 0, 0); return err },
		"Apply":     func() error { _, err := db.Apply(uuid.New(), nil); return err },
		"DataKey":   func() error { _, err := db.DataKey(); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrNeedPIN) {
			t.Errorf("%s while locked: %v, want ErrNeedPIN", name, err)
		}
	}
	if _, err := db.PINState(); err != nil {
		t.Errorf("PINState while locked: %v", err)
	}
	must(t, db.Unlock(testPIN, fixtureNow))
	for name, call := range calls {
		if err := call(); errors.Is(err, store.ErrNeedPIN) {
			t.Errorf("%s after unlock: %v", name, err)
		}
	}
}

// TestPINBackoffAndLockout: three wrong PINs are free, then each try waits
// longer, across a restart; the tenth locks the store out whatever the PIN,
// until the escrowed key opens it with a new PIN.
func TestPINBackoffAndLockout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	buildVillage(t, db, fixtureNow)
	must(t, db.Seal(testPIN))
	key, err := db.DataKey()
	must(t, err)
	must(t, db.Close())

	db = openSealed(t, path, fixtureNow)
	now := fixtureNow
	for i := 1; i <= store.FreePINTries+1; i++ {
		if err := db.Unlock("111333", now); !errors.Is(err, seal.ErrWrongPIN) {
			t.Fatalf("wrong PIN %d: %v, want ErrWrongPIN", i, err)
		}
	}
	// The 4th wrong PIN makes the next try wait 30 s, even the right one.
	err = db.Unlock(testPIN, now.Add(10*time.Second))
	if domain.ErrorCode(err) != domain.EUNAVAILABLE || !strings.Contains(err.Error(), "20 s") {
		t.Fatalf("try during the wait: %v, want EUNAVAILABLE, 20 s left", err)
	}
	// The wait survives a restart.
	must(t, db.Close())
	db = openSealed(t, path, fixtureNow)
	defer func() { db.Close() }()
	st, err := db.PINState()
	must(t, err)
	if st.Failed != 4 || !st.Until.Equal(now.Add(30*time.Second).Truncate(time.Millisecond)) || st.TriesLeft() != 6 {
		t.Fatalf("state after restart: %+v", st)
	}
	if err := db.Unlock(testPIN, now.Add(29*time.Second)); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("after restart, during the wait: %v", err)
	}
	// Each further wrong PIN waits longer, up to the lock-out.
	for failed := 4; failed < store.MaxPINTries; failed++ {
		now = now.Add(store.PINDelay(failed))
		if err := db.Unlock("111333", now); !errors.Is(err, seal.ErrWrongPIN) {
			t.Fatalf("wrong PIN %d: %v", failed+1, err)
		}
	}
	for _, pin := range []string{testPIN, "111333"} {
		if err := db.Unlock(pin, now.Add(24*time.Hour)); !errors.Is(err, store.ErrLockedOut) {
			t.Fatalf("after %d wrong PINs, %s a day later: %v, want ErrLockedOut", store.MaxPINTries, pin, err)
		}
	}
	if err := db.ChangePIN(testPIN, otherPIN, now.Add(24*time.Hour)); !errors.Is(err, store.ErrLockedOut) {
		t.Fatalf("ChangePIN when locked out: %v", err)
	}
	// The escrowed key: a wrong one is refused, the right one opens and
	// sets the new PIN.
	wrong, _ := seal.NewKey()
	if err := db.UnlockWithKey(wrong, otherPIN); !errors.Is(err, store.ErrWrongKey) || !db.Locked() {
		t.Fatalf("UnlockWithKey with another key: %v", err)
	}
	must(t, db.UnlockWithKey(key, otherPIN))
	if db.Locked() {
		t.Fatal("locked after UnlockWithKey")
	}
	db.Lock()
	if err := db.Unlock(testPIN, now); !errors.Is(err, seal.ErrWrongPIN) {
		t.Fatalf("the old PIN after UnlockWithKey: %v", err)
	}
	must(t, db.Unlock(otherPIN, now))
	if st, _ := db.PINState(); st.Failed != 0 {
		t.Errorf("count after a right PIN: %+v", st)
	}
}

func TestPINDelay(t *testing.T) {
	want := []time.Duration{0, 0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for failed, w := range want {
		if got := store.PINDelay(failed); got != w {
			t.Errorf("PINDelay(%d) = %v, want %v", failed, got, w)
		}
	}
}

// values returns every key/value of the file's buckets but meta, by bucket
// path.
func values(tb testing.TB, path string) map[string]string {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	must(tb, err)
	defer db.Close()
	out := map[string]string{}
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil && b.Bucket(k) != nil {
				return walk(prefix+"/"+string(k), b.Bucket(k))
			}
			out[prefix+"/"+string(k)] = string(v)
			return nil
		})
	}
	must(tb, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if string(name) == "meta" {
				return nil
			}
			return walk(string(name), b)
		})
	}))
	return out
}

// TestChangePINRewrapsOnly: changing the PIN rewrites the wrapped key and
// nothing else: every row, log entry and draft keeps its bytes (each was
// sealed with a random nonce, so re-encrypting would change them all), and
// the transaction writes a handful of pages.
func TestChangePINRewrapsOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	must(t, db.Seal(testPIN))
	must(t, db.SaveDraft("visit/a", []byte("draft")))
	must(t, db.Close())
	before := values(t, path)

	db = openSealed(t, path, fixtureNow)
	if err := db.ChangePIN(otherPIN, "583920", fixtureNow); !errors.Is(err, seal.ErrWrongPIN) {
		t.Fatalf("ChangePIN with a wrong old PIN: %v", err)
	}
	if err := db.ChangePIN(testPIN, "123456", fixtureNow); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("ChangePIN to a weak PIN: %v", err)
	}
	st := db.BoltStats()
	writes := st.TxStats.GetWrite()
	must(t, db.ChangePIN(testPIN, otherPIN, fixtureNow))
	st = db.BoltStats()
	pages := st.TxStats.GetWrite() - writes
	t.Logf("ChangePIN wrote %d pages (the tries count, then the wrapped key)", pages)
	if pages > 12 {
		t.Errorf("ChangePIN wrote %d pages", pages)
	}
	must(t, db.Close())
	after := values(t, path)
	if len(before) == 0 || len(after) != len(before) {
		t.Fatalf("%d values before, %d after", len(before), len(after))
	}
	changed := 0
	for k, v := range before {
		if after[k] != v {
			changed++
		}
	}
	if changed > 0 {
		t.Errorf("ChangePIN changed %d of %d stored values", changed, len(before))
	}

	db = openSealed(t, path, fixtureNow)
	defer db.Close()
	if err := db.Unlock(testPIN, fixtureNow); !errors.Is(err, seal.ErrWrongPIN) {
		t.Fatalf("old PIN after change: %v", err)
	}
	must(t, db.Unlock(otherPIN, fixtureNow))
	if _, err := db.Get(domain.KindHousehold, v.Wang.ID); err != nil {
		t.Fatal(err)
	}
}

// TestForgottenPINKeepsUnsynced: a visit saved and not yet synced is still
// there, unsent, after the cadre forgot the PIN, was locked out, and the
// office released the escrowed key.
func TestForgottenPINKeepsUnsynced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	must(t, db.Seal(testPIN))
	escrow, err := db.DataKey() // sent to the office at enrolment
	must(t, err)
	upstream := uuid.New()
	outbox, err := db.Outbox(upstream, 0, 0)
	must(t, err)
	visit := &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: fixtureNow.Add(-time.Hour),
		Type: domain.VisitRoutine, Notes: "王兴文家的低保材料已交村委"}
	mustPut(t, db, v.Li.ID, visit)
	must(t, db.SaveDraft("visit/"+v.Han.ID.String(), []byte("韩家的草稿")))
	must(t, db.Close())

	db = openSealed(t, path, fixtureNow)
	defer db.Close()
	now := fixtureNow
	for i := 0; i < store.MaxPINTries; i++ {
		now = now.Add(time.Hour)
		if err := db.Unlock("918273", now); !errors.Is(err, seal.ErrWrongPIN) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	must(t, db.UnlockWithKey(escrow, otherPIN))
	after, err := db.Outbox(upstream, 0, 0)
	must(t, err)
	if len(after) != len(outbox)+1 || after[len(after)-1].Change.Record != visit.ID {
		t.Fatalf("outbox after recovery: %d entries (was %d), want the visit at the end", len(after), len(outbox))
	}
	got, err := db.Get(domain.KindVisit, visit.ID)
	if err != nil || got.(*domain.Visit).Notes != visit.Notes {
		t.Fatalf("visit after recovery: %v, %v", got, err)
	}
	if d, err := db.Draft("visit/" + v.Han.ID.String()); err != nil || string(d) != "韩家的草稿" {
		t.Fatalf("draft after recovery: %q, %v", d, err)
	}
}

// TestSealedSearch: search, lists and their member names answer the same on
// a sealed store as on a clear one, follow edits, and ignore a write that
// failed.
func TestSealedSearch(t *testing.T) {
	d := demo.Village(1, demoNow)
	dir := t.TempDir()
	clear := loadDemo(t, filepath.Join(dir, "clear.db"), d, demoNow)
	defer clear.Close()
	sealedPath := filepath.Join(dir, "sealed.db")
	must(t, loadDemo(t, sealedPath, d, demoNow).Close())
	sealed := openSealed(t, sealedPath, demoNow)
	defer sealed.Close()
	must(t, sealed.Seal(testPIN))
	sealed.Lock()
	must(t, sealed.Unlock(testPIN, demoNow))

	queries := []string{"", "wxw", "王", "马建", "wangxing", "1389", "138-9", d.Households[3].IDNumber[14:], d.Members[5].Name, "zzzz"}
	same := func(what string) {
		t.Helper()
		for _, q := range queries {
			a, err := query.Search(clear, uuid.Nil, q, demoNow, 0)
			must(t, err)
			b, err := query.Search(sealed, uuid.Nil, q, demoNow, 0)
			must(t, err)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s: Search(%q): clear %d rows, sealed %d rows, or different", what, q, len(a), len(b))
			}
		}
		a, err := query.MyHouseholds(clear, d.GroupCadre.ID, demoNow)
		must(t, err)
		b, err := query.MyHouseholds(sealed, d.GroupCadre.ID, demoNow)
		must(t, err)
		if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: MyHouseholds differ (%d, %d rows)", what, len(a), len(b))
		}
	}
	same("after unlock")

	// An edit reaches the in-memory index at commit.
	h := *d.Households[7]
	old := h.HeadName
	h.HeadName = "欧阳晓峰"
	for _, db := range []*store.DB{clear, sealed} {
		c := h
		mustPut(t, db, d.Cadres[0].ID, &c)
	}
	queries = append(queries, "欧阳", "oyxf", old)
	same("after an edit")
	rows, err := query.Search(sealed, uuid.Nil, "欧阳晓峰", demoNow, 0)
	must(t, err)
	if len(rows) != 1 || rows[0].ID != h.ID {
		t.Fatalf("the new name: %v", rows)
	}
	// A failed write changes nothing.
	bad := h
	bad.HeadName = "司马光"
	bad.Phone = "not a phone"
	if err := sealed.Put(d.Cadres[0].ID, &bad); err == nil {
		t.Fatal("an invalid household was saved")
	}
	if rows, _ := query.Search(sealed, uuid.Nil, "司马光", demoNow, 0); len(rows) != 0 {
		t.Fatalf("a rolled-back edit is in the index: %v", rows)
	}
}

// TestSealedValuesStayInPlace: a sealed row copied over another record's
// does not open as that record.
func TestSealedValuesStayInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	must(t, db.Seal(testPIN))
	must(t, db.Close())

	raw, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("rec")).Bucket([]byte(domain.KindHousehold))
		return b.Put(v.Han.ID[:], bytes.Clone(b.Get(v.Wang.ID[:])))
	}))
	must(t, raw.Close())

	db = openSealed(t, path, fixtureNow)
	defer db.Close()
	must(t, db.Unlock(testPIN, fixtureNow))
	if rec, err := db.Get(domain.KindHousehold, v.Han.ID); err == nil {
		t.Fatalf("a row moved to another ID opened: %s", rec.(*domain.Household).HeadName)
	}
	if _, err := db.Get(domain.KindHousehold, v.Wang.ID); err != nil {
		t.Fatal(err)
	}
}

func TestSealRefusesWeakPINAndTwice(t *testing.T) {
	db := openSealed(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	defer db.Close()
	if err := db.Seal("123456"); domain.ErrorCode(err) != domain.EINVALID || db.Sealed() {
		t.Fatalf("Seal(123456): %v", err)
	}
	if err := db.Unlock(testPIN, fixtureNow); !errors.Is(err, store.ErrNotSealed) {
		t.Fatalf("Unlock without a PIN: %v", err)
	}
	db.Lock() // no PIN: nothing happens
	if db.Locked() {
		t.Fatal("a store without a PIN locked")
	}
	must(t, db.Seal(testPIN))
	if err := db.Seal(otherPIN); !errors.Is(err, store.ErrSealed) {
		t.Fatalf("Seal twice: %v", err)
	}
}
