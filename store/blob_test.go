package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// fakeJPEG returns bytes standing for a photo (the store does not look
// inside), marked so that a test can find them in a file, and their blob.
func fakeJPEG(n int) store.Blob {
	data := bytes.Repeat([]byte(fmt.Sprintf("照片内容-%04d|", n)), 2000)
	sum := sha256.Sum256(data)
	return store.Blob{Hash: hex.EncodeToString(sum[:]), Data: data, Thumb: []byte(fmt.Sprintf("缩略图-%04d", n))}
}

func photoOf(v *village, visit *domain.Visit, b store.Blob) *domain.Photo {
	return &domain.Photo{Household: visit.Household, OfKind: domain.KindVisit, Of: visit.ID, Cadre: visit.Cadre,
		Hash: b.Hash, Size: len(b.Data), Width: 1600, Height: 1200}
}

func newVisit(v *village) *domain.Visit {
	visit := &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: v.DaysAgo(0).Add(-time.Hour),
		Type: domain.VisitRoutine, Notes: "水管破裂"}
	visit.ID = uuid.New()
	return visit
}

// TestPhotoWithItsVisit: a photo's bytes and its record go in the
// transaction that writes the visit; the bytes are sent once; deleting the
// last record that names them removes them.
func TestPhotoWithItsVisit(t *testing.T) {
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	a, b := fakeJPEG(1), fakeJPEG(2)
	pa, pb := photoOf(v, visit, a), photoOf(v, visit, b)
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{a, b}, visit, pa, pb))

	got, err := db.Blob(a.Hash)
	must(t, err)
	if !bytes.Equal(got, a.Data) {
		t.Fatal("the stored photo differs")
	}
	if th, _ := db.Thumb(b.Hash); !bytes.Equal(th, b.Thumb) {
		t.Fatal("the stored thumbnail differs")
	}
	send, err := db.BlobsToSend()
	must(t, err)
	if len(send) != 2 || send[0].Size != len(a.Data) {
		t.Fatalf("to send: %+v", send)
	}
	must(t, db.MarkBlobSent(a.Hash))
	if send, _ := db.BlobsToSend(); len(send) != 1 || send[0].Hash != b.Hash {
		t.Fatalf("after one sent: %+v", send)
	}

	// A second photo of the same bytes on a problem: deleting the first
	// keeps them, deleting both removes them.
	p := v.Problems[0]
	again := &domain.Photo{Household: p.Household, OfKind: domain.KindProblem, Of: p.ID, Cadre: v.Li.ID, Hash: a.Hash, Size: len(a.Data)}
	must(t, db.Put(v.Li.ID, again))
	must(t, db.Delete(v.Li.ID, domain.KindPhoto, pa.ID))
	if got, _ := db.Blob(a.Hash); got == nil {
		t.Fatal("bytes still named by a photo were removed")
	}
	must(t, db.Delete(v.Li.ID, domain.KindPhoto, again.ID))
	if got, _ := db.Blob(a.Hash); got != nil {
		t.Fatal("bytes no photo names were kept")
	}
	if th, _ := db.Thumb(a.Hash); th != nil {
		t.Fatal("a thumbnail no photo names was kept")
	}
	if n, bytes, _ := db.BlobStats(); n != 1 || bytes != int64(len(b.Data)) {
		t.Fatalf("stats: %d photos, %d bytes", n, bytes)
	}
}

// TestPhotoRefused: a photo whose bytes are not stored, whose bytes do not
// match its hash, attached to a record of another household, or beyond
// the number a record may carry is refused with a reason, and nothing of
// the transaction is kept.
func TestPhotoRefused(t *testing.T) {
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	must(t, db.Put(v.Li.ID, visit))
	a := fakeJPEG(1)

	if err := db.Put(v.Li.ID, photoOf(v, visit, a)); domain.ErrorField(err) != "hash" {
		t.Errorf("a photo without its bytes: %v", err)
	}
	bad := a
	bad.Data = append([]byte("x"), a.Data...)
	if err := db.PutBlobs(v.Li.ID, "", []store.Blob{bad}, photoOf(v, visit, a)); domain.ErrorField(err) != "hash" {
		t.Errorf("bytes that do not match: %v", err)
	}
	if got, _ := db.Blob(a.Hash); got != nil {
		t.Error("a refused transaction kept its bytes")
	}
	other := photoOf(v, visit, a)
	other.Household = v.Han.ID
	if err := db.PutBlobs(v.Li.ID, "", []store.Blob{a}, other); domain.ErrorField(err) != "of" {
		t.Errorf("attached to another household's visit: %v", err)
	}
	for i := range domain.DefaultPhotos {
		b := fakeJPEG(10 + i)
		must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{b}, photoOf(v, visit, b)))
	}
	b := fakeJPEG(99)
	err := db.PutBlobs(v.Li.ID, "", []store.Blob{b}, photoOf(v, visit, b))
	if domain.ErrorField(err) != "of" {
		t.Fatalf("photo %d: %v", domain.DefaultPhotos+1, err)
	}
	t.Logf("refused: %s / %s", domain.Message(err, "zh"), domain.Message(err, "en"))
}

// TestDraftPhotos: a photo picked for a visit being typed is kept with the
// draft (the app may be killed before the visit is saved), becomes the
// visit's when it is saved, and goes when the draft is dropped.
func TestDraftPhotos(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := mustOpenAt(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	a, b := fakeJPEG(1), fakeJPEG(2)
	must(t, db.SaveDraft("visit/1", []byte(`{"notes":"水管"}`)))
	must(t, db.SaveDraftBlob("visit/1", a))
	must(t, db.SaveDraft("visit/2", []byte(`{}`)))
	must(t, db.SaveDraftBlob("visit/2", b))
	if send, _ := db.BlobsToSend(); len(send) != 0 {
		t.Fatalf("a draft's photo is to be sent: %+v", send)
	}
	must(t, db.Close())

	db = mustOpenAt(t, path, fixtureNow) // as after the app was killed
	if n, err := db.SweepBlobs(); err != nil || n != 0 {
		t.Fatalf("sweep removed %d draft photos (%v)", n, err)
	}
	if got, err := db.DraftBlobs("visit/1"); err != nil || len(got) != 1 || got[0] != a.Hash {
		t.Fatalf("the draft's photos: %v %v", got, err)
	}
	visit := newVisit(v)
	must(t, db.PutDraft(v.Li.ID, "visit/1", visit, photoOf(v, visit, a)))
	must(t, db.DeleteDraft("visit/2"))
	if got, _ := db.Blob(a.Hash); !bytes.Equal(got, a.Data) {
		t.Fatal("the saved visit's photo is gone")
	}
	if got, _ := db.Blob(b.Hash); got != nil {
		t.Fatal("a dropped draft's photo was kept")
	}
	if send, _ := db.BlobsToSend(); len(send) != 1 || send[0].Hash != a.Hash {
		t.Fatalf("to send: %+v", send)
	}
}

// TestFetchedPhotos: a leader's device keeps the thumbnails and photos it
// fetches only while a record names them, never sends them back, and lists
// what it still lacks.
func TestFetchedPhotos(t *testing.T) {
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	a := fakeJPEG(1)
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{a}, visit, photoOf(v, visit, a)))

	// Another device's photo arrives as a record; its bytes later.
	lead := mustOpenAt(t, filepath.Join(t.TempDir(), "lead.db"), fixtureNow)
	var changes []domain.Change
	must(t, db.Log(0, func(e store.Entry) (bool, error) { changes = append(changes, e.Change); return true, nil }))
	if _, err := lead.Apply(db.Device(), changes); err != nil {
		t.Fatal(err)
	}
	if miss, _ := lead.BlobsMissing(true); len(miss) != 1 || miss[0] != a.Hash {
		t.Fatalf("thumbnails missing: %v", miss)
	}
	must(t, lead.SaveBlob(store.Blob{Hash: a.Hash, Thumb: a.Thumb}))
	if miss, _ := lead.BlobsMissing(true); len(miss) != 0 {
		t.Fatalf("thumbnails missing after fetch: %v", miss)
	}
	if miss, _ := lead.BlobsMissing(false); len(miss) != 1 {
		t.Fatalf("photos missing: %v", miss)
	}
	must(t, lead.SaveBlob(store.Blob{Hash: a.Hash, Data: a.Data}))
	if send, _ := lead.BlobsToSend(); len(send) != 0 {
		t.Fatalf("a fetched photo is to be sent back: %+v", send)
	}
	stray := fakeJPEG(7)
	must(t, lead.SaveBlob(stray))
	if got, _ := lead.Blob(stray.Hash); got != nil {
		t.Fatal("bytes no record names were kept")
	}
	if err := lead.SaveBlob(store.Blob{Hash: a.Hash, Data: stray.Data}); domain.ErrorField(err) != "hash" {
		t.Fatalf("bytes that do not match their hash: %v", err)
	}
}

// TestSealedPhotos: in a sealed store a photo's bytes and thumbnail are not
// in the file in clear, and read back after unlock.
func TestSealedPhotos(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openSealed(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	a := fakeJPEG(1)
	must(t, db.SaveDraftBlob("visit/x", fakeJPEG(2)))
	must(t, db.Seal(testPIN))
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{a}, visit, photoOf(v, visit, a)))
	must(t, db.Close())
	raw, err := os.ReadFile(path)
	must(t, err)
	for _, s := range []string{"照片内容-0001", "缩略图-0001", "照片内容-0002", "缩略图-0002"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%q is in the sealed file in clear", s)
		}
	}
	db = openSealed(t, path, fixtureNow)
	must(t, db.Unlock(testPIN, fixtureNow))
	if got, _ := db.Blob(a.Hash); !bytes.Equal(got, a.Data) {
		t.Fatal("the sealed photo does not read back")
	}
	if send, _ := db.BlobsToSend(); len(send) != 1 || send[0].Size != len(a.Data) {
		t.Fatalf("to send from a sealed store: %+v", send)
	}
}

// TestPhotosOf: the photos of a visit and of a problem, each in the order
// they were added, without the deleted ones.
func TestPhotosOf(t *testing.T) {
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	a, b, c := fakeJPEG(1), fakeJPEG(2), fakeJPEG(3)
	pa, pb := photoOf(v, visit, a), photoOf(v, visit, b)
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{a, b}, visit, pa))
	must(t, db.PutBlobs(v.Li.ID, "", nil, pb))
	p := v.Problems[0]
	pc := &domain.Photo{Household: p.Household, OfKind: domain.KindProblem, Of: p.ID, Cadre: v.Li.ID, Hash: c.Hash, Size: len(c.Data)}
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{c}, pc))
	must(t, db.Delete(v.Li.ID, domain.KindPhoto, pa.ID))
	got, err := query.Photos(db, visit.ID, p.ID, v.Problems[2].ID)
	must(t, err)
	if len(got[visit.ID]) != 1 || got[visit.ID][0].ID != pb.ID || len(got[p.ID]) != 1 || got[p.ID][0].Hash != c.Hash || len(got[v.Problems[2].ID]) != 0 {
		t.Fatalf("photos: %v", got)
	}
}

// TestPhotoPlaces: the places of the live photo records naming a hash, one
// per record, with the household's village and town; none once they are
// deleted, nor for a hash no record names or that is not one.
func TestPhotoPlaces(t *testing.T) {
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	visit := newVisit(v)
	a := fakeJPEG(1)
	pa, twin := photoOf(v, visit, a), photoOf(v, visit, a)
	must(t, db.PutBlobs(v.Li.ID, "", []store.Blob{a}, visit, pa, twin))
	places, err := db.PhotoPlaces(a.Hash)
	must(t, err)
	if len(places) != 2 {
		t.Fatalf("%d places, want 2", len(places))
	}
	for _, l := range places {
		if l.Household != v.Wang.ID || l.Village == uuid.Nil || l.Town == uuid.Nil || l.Group != v.Wang.Group {
			t.Fatalf("place %+v", l)
		}
	}
	for _, h := range []string{fakeJPEG(2).Hash, "../../x", ""} {
		if p, err := db.PhotoPlaces(h); err != nil || len(p) != 0 {
			t.Errorf("PhotoPlaces(%q) = %v, %v", h, p, err)
		}
	}
	must(t, db.Delete(v.Li.ID, domain.KindPhoto, pa.ID))
	if p, _ := db.PhotoPlaces(a.Hash); len(p) != 1 {
		t.Fatalf("after deleting one of two: %d places", len(p))
	}
	must(t, db.Delete(v.Li.ID, domain.KindPhoto, twin.ID))
	if p, _ := db.PhotoPlaces(a.Hash); len(p) != 0 {
		t.Fatalf("after deleting both: %d places", len(p))
	}
}
