package app_test

import (
	"bytes"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/photo/phototest"
	"bangfu/store"
	"bangfu/store/query"
)

// files stands in for the file dialog: each pick hands the app the next
// file, as the cadre choosing a picture in the gallery would.
type files struct {
	mu     sync.Mutex
	queue  [][]byte
	picked int
}

func (f *files) add(b ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, b...)
}

func (f *files) pick(_ fyne.Window, done func(io.ReadCloser, error)) {
	f.mu.Lock()
	if len(f.queue) == 0 {
		f.mu.Unlock()
		done(nil, nil) // the cadre cancelled
		return
	}
	b := f.queue[0]
	f.queue = f.queue[1:]
	f.picked++
	f.mu.Unlock()
	done(io.NopCloser(bytes.NewReader(b)), nil)
}

// withFiles makes e's apps pick from a new files.
func withFiles(e *env) *files {
	f := &files{}
	e.pick = f.pick
	return f
}

// taken is when the test photos were taken, by their EXIF.
var taken = demoNow.Add(-2 * time.Hour).Truncate(time.Second)

// gallery returns n photo-like JPEGs with EXIF (a position, a time), as a
// phone's camera saves them.
func gallery(t *testing.T, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = phototest.WithEXIF(phototest.JPEG(t, 640, 480, int64(i+1)), 1, 31.2304, 121.4737, taken.UTC())
	}
	return out
}

// addPhoto taps the form's 添加照片 and waits for the photo to be prepared.
func addPhoto(t *testing.T, a *app.App, add *app.PhotoAdder) {
	t.Helper()
	test.Tap(add.Add)
	a.Wait()
}

// visitPhotos are the photo records attached to visit, straight from the store.
func visitPhotos(t *testing.T, db *store.DB, visit uuid.UUID) []*domain.Photo {
	t.Helper()
	m, err := query.Photos(db, visit)
	if err != nil {
		t.Fatal(err)
	}
	return m[visit]
}

// TestVisitPhotos: two photos picked for a visit are prepared in the
// background and stored at once (draft blobs); the visit's save writes their
// records; the card shows two thumbnails; the store holds the records and
// their bytes, without where they were taken (not kept by default).
func TestVisitPhotos(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	card, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID

	pics.add(gallery(t, 2)...)
	form.Photos.Open(0)
	addPhoto(t, a, form.Photo)
	addPhoto(t, a, form.Photo)
	if form.Photo.Error.Visible() {
		t.Fatalf("adding a photo: %s", form.Photo.Error.Text)
	}
	if len(form.Picked) != 2 || len(form.RemovePhoto) != 2 {
		t.Fatalf("%d photos picked, %d remove buttons; want 2", len(form.Picked), len(form.RemovePhoto))
	}
	for _, p := range form.Picked {
		b, err := d.db.Blob(p.Hash)
		if err != nil || b == nil {
			t.Fatalf("photo %s not stored when picked: %v", p.Hash, err)
		}
		if len(b) != p.Size || b[0] != 0xFF || b[1] != 0xD8 {
			t.Errorf("stored photo: %d bytes, want a JPEG of %d", len(b), p.Size)
		}
	}
	test.Type(form.Notes, "看了新修的猪圈")
	test.Tap(form.Save)
	a.Wait()
	if form.Error.Visible() {
		t.Fatalf("save: %s", form.Error.Text)
	}
	if a.Nav().Top() != card {
		t.Fatalf("after saving the app shows %T", a.Nav().Top())
	}
	c, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	v := c.Visits[0]
	if v.Notes != "看了新修的猪圈" {
		t.Fatalf("the newest visit says %q", v.Notes)
	}
	ps := visitPhotos(t, d.db, v.ID)
	if len(ps) != 2 {
		t.Fatalf("%d photo records for the visit, want 2", len(ps))
	}
	for _, p := range ps {
		if p.Household != household || p.OfKind != domain.KindVisit || p.Cadre != e.data.GroupCadre.ID {
			t.Errorf("photo record %+v", p)
		}
		if p.Located() {
			t.Errorf("the photo kept where it was taken (%v, %v) though the cadre did not ask", p.Lat, p.Lon)
		}
		if !p.Taken.Equal(taken) {
			t.Errorf("taken %v, want %v", p.Taken, taken)
		}
		if b, err := d.db.Blob(p.Hash); err != nil || len(b) != p.Size {
			t.Errorf("the photo's bytes: %d, %v", len(b), err)
		}
		if th, err := d.db.Thumb(p.Hash); err != nil || th == nil {
			t.Errorf("the photo's thumbnail: %v", err)
		}
	}
	if data, _ := d.db.Draft("visit/" + household.String()); data != nil {
		t.Error("the draft outlived the visit")
	}
	strip := card.Photos[v.ID]
	if strip == nil || len(strip.Thumbs) != 2 {
		t.Fatalf("the card shows %v thumbnails under the visit, want 2", strip)
	}
	for _, th := range strip.Thumbs {
		if th.Placeholder {
			t.Error("a thumbnail shows the placeholder though the photo is on the device")
		}
	}
	if st := a.Bar.Status; st.PhotosWaiting != 2 {
		t.Errorf("the bar's status counts %d photos waiting, want 2", st.PhotosWaiting)
	}
	if !a.Bar.Photos.Visible() || !contains(a.Bar.Photos.Text, "照片 2 张待传") {
		t.Errorf("the sync bar says %q (visible %v)", a.Bar.Photos.Text, a.Bar.Photos.Visible())
	}
}

// TestVisitPhotosOneTransaction: the visit and its photos' records are
// written in one transaction — when a photo's bytes are gone by the time the
// visit is saved, the store refuses the photo and nothing of the visit is
// written.
func TestVisitPhotosOneTransaction(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID
	before, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	pics.add(gallery(t, 1)...)
	addPhoto(t, a, form.Photo)
	test.Type(form.Notes, "这次不该保存")
	a.Wait()
	// The draft (and with it the photo's bytes) goes behind the form's back.
	if err := d.db.DeleteDraft("visit/" + household.String()); err != nil {
		t.Fatal(err)
	}
	test.Tap(form.Save)
	a.Wait()
	if !form.Error.Visible() || !contains(form.Error.Text, "照片") {
		t.Fatalf("saving a visit whose photo is gone: error %q (visible %v)", form.Error.Text, form.Error.Visible())
	}
	after, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Visits) != len(before.Visits) || len(after.Visits) > 0 && after.Visits[0].Notes == "这次不该保存" {
		t.Error("the visit was saved without its photo")
	}
}

// TestVisitPhotoLimit: a record carries at most Rules.PhotoLimit photos; the
// next pick says so clearly and opens no picker; removing one makes room.
func TestVisitPhotoLimit(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	pics.add(gallery(t, domain.DefaultPhotos+1)...)
	for range domain.DefaultPhotos {
		addPhoto(t, a, form.Photo)
	}
	if len(form.Picked) != domain.DefaultPhotos || form.Photo.Error.Visible() {
		t.Fatalf("%d photos picked (error %q), want %d", len(form.Picked), form.Photo.Error.Text, domain.DefaultPhotos)
	}
	addPhoto(t, a, form.Photo)
	if len(form.Picked) != domain.DefaultPhotos || pics.picked != domain.DefaultPhotos {
		t.Fatalf("past the limit: %d picked, the picker opened %d times", len(form.Picked), pics.picked)
	}
	if !form.Photo.Error.Visible() || form.Photo.Error.Text != "每条记录最多 6 张照片" {
		t.Fatalf("the limit's message: %q (visible %v)", form.Photo.Error.Text, form.Photo.Error.Visible())
	}
	test.Tap(form.RemovePhoto[0])
	a.Wait()
	if form.Photo.Error.Visible() || len(form.Picked) != domain.DefaultPhotos-1 {
		t.Fatalf("after removing one: %d picked, error %q", len(form.Picked), form.Photo.Error.Text)
	}
	addPhoto(t, a, form.Photo)
	if len(form.Picked) != domain.DefaultPhotos {
		t.Errorf("after making room: %d picked (error %q)", len(form.Picked), form.Photo.Error.Text)
	}
}

// TestVisitPhotoDraftRestored: a photo picked for a visit survives the app
// and its store being closed (a phone killing the app): reopened, the draft
// brings the photo back with its thumbnail and the choice to keep where it
// was taken; saving then writes the position.
func TestVisitPhotoDraftRestored(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID
	pics.add(gallery(t, 1)...)
	form.Photos.Open(0)
	test.Tap(form.Photo.Keep)
	addPhoto(t, a, form.Photo)
	if len(form.Picked) != 1 {
		t.Fatalf("%d photos picked (error %q)", len(form.Picked), form.Photo.Error.Text)
	}
	hash := form.Picked[0].Hash
	test.Type(form.Notes, "拍了漏雨的屋顶")
	a.Wait()
	a.Window.Close()
	a.Wait()
	path := d.db.Path()
	if err := d.db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(path, &store.Options{Now: func() time.Time { return demoNow }, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if filepath.Base(db.Path()) != "phone.db" {
		t.Fatalf("reopened %s", db.Path())
	}
	d = e.deviceOn(db)
	b := e.open(d, phone)
	_, form = openVisitForm(t, b)
	if len(form.Picked) != 1 || form.Picked[0].Hash != hash {
		t.Fatalf("after reopening: %d photos", len(form.Picked))
	}
	if !form.Photo.Keep.Checked {
		t.Error("保留拍摄位置 is not ticked after reopening")
	}
	if len(form.Thumbs.Objects) != 1 {
		t.Fatalf("thumbnails after reopening: %d", len(form.Thumbs.Objects))
	}
	test.Tap(form.Save)
	b.Wait()
	if form.Error.Visible() {
		t.Fatalf("save: %s", form.Error.Text)
	}
	c, err := query.Card(db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	ps := visitPhotos(t, db, c.Visits[0].ID)
	if len(ps) != 1 || ps[0].Hash != hash {
		t.Fatalf("photos of the saved visit: %v", ps)
	}
	if lat, lon := ps[0].Lat, ps[0].Lon; lat < 31.23 || lat > 31.231 || lon < 121.47 || lon > 121.48 {
		t.Errorf("kept position %v, %v; want about 31.2304, 121.4737", lat, lon)
	}
}
