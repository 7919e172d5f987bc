package app_test

import (
	"bytes"
	"fmt"
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
	"bangfu/photo"
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
	a.Wait()
	// The photos sit at the end of the form: scroll there, as a finger would.
	test.Scroll(a.Window.Canvas(), fyne.NewPos(phone.Width/2, phone.Height/2), 0, -3000)
	shoot(t, a.Window, "phone-visit-photos.png")
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
	// The bar's bytes are the photos' own: nothing has been sent yet.
	left := int64(ps[0].Size + ps[1].Size)
	if st := a.Bar.Status; st.PhotoBytesLeft != left {
		t.Errorf("the bar's status counts %d bytes left, want the photos' %d", st.PhotoBytesLeft, left)
	}
	if want := fmt.Sprintf("照片 2 张待传 · 剩 %d KB", (left+512)>>10); !a.Bar.Photos.Visible() || a.Bar.Photos.Text != want {
		t.Errorf("the sync bar says %q (visible %v), want %q", a.Bar.Photos.Text, a.Bar.Photos.Visible(), want)
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

// TestVisitPhotoLimit: a file that is not a picture is refused with a
// reason; a record carries at most Rules.PhotoLimit photos, and the next pick
// says so clearly and opens no picker; removing one makes room.
func TestVisitPhotoLimit(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	// A file that is not a picture is refused with a reason, and nothing is added.
	pics.add([]byte("这不是照片，是一份文本文件。"))
	addPhoto(t, a, form.Photo)
	if len(form.Picked) != 0 || !form.Photo.Error.Visible() || !contains(form.Photo.Error.Text, "照片没有加上：") {
		t.Fatalf("a text file picked: %d photos, message %q", len(form.Picked), form.Photo.Error.Text)
	}
	t.Logf("a text file picked: %s", form.Photo.Error.Text)
	pics.picked = 0
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

// TestProblemPhotos: a photo added on the problem screen is saved at once
// with its record, shows there and under the problem on the card.
func TestProblemPhotos(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	var problem *domain.Problem
	for i, r := range a.Households.Rows() {
		if c := must(query.Card(d.db, r.ID, demoNow)); len(c.Problems) > 0 {
			problem = c.Problems[0]
			a.Households.List.Select(i)
			break
		}
	}
	if problem == nil {
		t.Fatal("no household of the cadre has an open problem")
	}
	a.Wait()
	card := a.Nav().Top().(*app.Card)
	tapLine(t, a.Window, problem.Text)
	a.Wait()
	s, ok := a.Nav().Top().(*app.ProblemScreen)
	if !ok {
		t.Fatalf("the problem opens %T", a.Nav().Top())
	}
	if s.Photos != nil {
		t.Fatalf("a problem without photos shows %d", len(s.Photos.Thumbs))
	}
	pics.add(gallery(t, 1)...)
	addPhoto(t, a, s.Photo)
	if s.Photo.Error.Visible() {
		t.Fatalf("add: %s", s.Photo.Error.Text)
	}
	if s.Photos == nil || len(s.Photos.Thumbs) != 1 || s.Photos.Thumbs[0].Placeholder {
		t.Fatal("the problem screen does not show the photo added")
	}
	m, err := query.Photos(d.db, problem.ID)
	if err != nil || len(m[problem.ID]) != 1 || m[problem.ID][0].OfKind != domain.KindProblem {
		t.Fatalf("the problem's photo records: %v, %v", m[problem.ID], err)
	}
	// The same picture twice is refused with a reason.
	pics.add(gallery(t, 1)...)
	addPhoto(t, a, s.Photo)
	if !s.Photo.Error.Visible() || !contains(s.Photo.Error.Text, "已经加过") {
		t.Errorf("the same photo again: %q", s.Photo.Error.Text)
	}
	a.Nav().Pop()
	a.Wait()
	if a.Nav().Top() != card || card.Photos[problem.ID] == nil || len(card.Photos[problem.ID].Thumbs) != 1 {
		t.Error("the card does not show the problem's photo")
	}
}

// openPlanOf opens the plan of the cadre's household id on a.
func openPlanOf(t *testing.T, a *app.App, id uuid.UUID) *app.PlanScreen {
	t.Helper()
	for i, r := range a.Households.Rows() {
		if r.ID == id {
			a.Households.List.Select(i)
		}
	}
	a.Wait()
	test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
	a.Wait()
	p, ok := a.Nav().Top().(*app.PlanScreen)
	if !ok {
		t.Fatalf("计划 opens %T", a.Nav().Top())
	}
	return p
}

// TestReviewPhotos: the photos a cadre adds to a measure's progress reach
// the leader's tablet through the server: the review shows their thumbnails
// (fetched with the sync), tapping one fetches the whole photo on demand,
// and offline it says so calmly. The cadre deletes their own photo, after a
// confirmation, everywhere; the leader cannot delete it.
func TestReviewPhotos(t *testing.T) {
	e := newEnv(t)
	pics := withFiles(e)
	cad, cd := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	var row query.HouseholdRow
	var measure *domain.Measure
	for _, r := range cad.Households.Rows() {
		if c := must(query.Card(cd.db, r.ID, demoNow)); c.Plan != nil && c.Plan.Status == domain.PlanSubmitted && len(c.Measures) > 0 {
			row, measure = r, c.Measures[0]
			break
		}
	}
	if measure == nil {
		t.Fatal("no household of the cadre has a submitted plan with measures")
	}
	p := openPlanOf(t, cad, row.ID)
	pics.add(gallery(t, 2)...)
	addPhoto(t, cad, p.AddPhoto[0])
	addPhoto(t, cad, p.AddPhoto[0])
	if p.AddPhoto[0].Error.Visible() {
		t.Fatalf("add: %s", p.AddPhoto[0].Error.Text)
	}
	if p.MeasurePhotos[0] == nil || len(p.MeasurePhotos[0].Thumbs) != 2 {
		t.Fatal("the plan does not show the measure's two photos")
	}
	syncApp(t, cad)
	if st := cad.Bar.Status; st.PhotosWaiting != 0 || st.PhotoErr != nil || cad.Bar.Photos.Visible() {
		t.Fatalf("after the sync: %d photos waiting, %v; the bar says %q", st.PhotosWaiting, st.PhotoErr, cad.Bar.Photos.Text)
	}

	lead, ld, _ := leaderOverview(t, e)
	lead.Menu.List.Select(1) // 待审核计划
	lead.Wait()
	plans := lead.Nav().Top().(*app.ListScreen)
	for i, it := range plans.Items {
		if contains(it.Title, row.HeadName+" · ") {
			plans.Open(i)
		}
	}
	lead.Wait()
	rv, ok := lead.Nav().Top().(*app.Review)
	if !ok {
		t.Fatalf("the plan of %s opens %T", row.HeadName, lead.Nav().Top())
	}
	strip := rv.Photos[measure.ID]
	if strip == nil || len(strip.Thumbs) != 2 {
		t.Fatalf("the review shows %v thumbnails under the measure, want 2", strip)
	}
	for _, th := range strip.Thumbs {
		if th.Placeholder {
			t.Error("a thumbnail is a placeholder: the sync did not bring it")
		}
		if b, _ := ld.db.Blob(th.Hash); b != nil {
			t.Error("the leader's tablet downloaded a whole photo before it was asked for")
		}
	}
	shoot(t, lead.Window, "tablet-review-photos.png")

	test.Tap(strip.Thumbs[0])
	lead.Wait()
	v, ok := lead.Nav().Top().(*app.PhotoView)
	if !ok {
		t.Fatalf("a thumbnail opens %T", lead.Nav().Top())
	}
	if v.Message.Visible() || v.Image.Image == nil {
		t.Fatalf("the large view: message %q, image %v", v.Message.Text, v.Image.Image != nil)
	}
	if got := v.Image.Image.Bounds().Dx(); got != 640 {
		t.Errorf("the large view is %d wide, want the whole photo's 640", got)
	}
	if b, _ := ld.db.Blob(strip.Thumbs[0].Hash); b == nil {
		t.Error("the photo fetched was not kept")
	}
	if v.Delete.Visible() {
		t.Error("the leader may delete the cadre's photo")
	}
	lead.Nav().Pop()
	lead.Wait()

	e.down.Store(true)
	strip = rv.Photos[measure.ID]
	test.Tap(strip.Thumbs[1])
	lead.Wait()
	v = lead.Nav().Top().(*app.PhotoView)
	if !v.Message.Visible() || !contains(v.Message.Text, "连不上服务器") {
		t.Errorf("offline, the large view says %q (visible %v)", v.Message.Text, v.Message.Visible())
	}
	if v.Image.Image == nil {
		t.Error("offline, the large view does not show the thumbnail it has")
	}
	e.down.Store(false)

	// The cadre deletes the first photo.
	test.Tap(p.MeasurePhotos[0].Thumbs[0])
	cad.Wait()
	mine := cad.Nav().Top().(*app.PhotoView)
	gone := p.MeasurePhotos[0].Thumbs[0].Hash
	if !mine.Delete.Visible() {
		t.Fatal("the cadre cannot delete their own photo")
	}
	test.Tap(mine.Delete)
	cad.Wait()
	over := cad.Window.Canvas().Overlays().Top()
	if cad.Nav().Top() != app.Screen(mine) || over == nil {
		t.Fatal("deleting asked for no confirmation")
	}
	test.Tap(findButton(t, over, "删除"))
	cad.Wait()
	if cad.Nav().Top() != app.Screen(p) {
		t.Fatalf("after deleting the app shows %T", cad.Nav().Top())
	}
	if p.MeasurePhotos[0] == nil || len(p.MeasurePhotos[0].Thumbs) != 1 {
		t.Fatal("the plan still shows the deleted photo")
	}
	if b, _ := cd.db.Blob(gone); b != nil {
		t.Error("the deleted photo's bytes stay on the phone")
	}
	m, err := query.Photos(cd.db, measure.ID)
	if err != nil || len(m[measure.ID]) != 1 {
		t.Fatalf("photo records after deleting: %d, %v", len(m[measure.ID]), err)
	}
	syncApp(t, cad)
	syncApp(t, lead)
	lead.Nav().Pop()
	lead.Wait()
	if strip := rv.Photos[measure.ID]; strip == nil || len(strip.Thumbs) != 1 {
		t.Error("the leader's review still shows the deleted photo")
	}
}

// TestVisitPhotoKilledBeforeDraft: the app is killed after a picked photo
// was stored and before the draft listing it was saved again. Opening the
// visit again brings the photo back (where it was taken is not known, so
// not kept), and saving the visit makes it the visit's.
func TestVisitPhotoKilledBeforeDraft(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	household := a.Households.Rows()[0].ID
	p, err := photo.Prepare(bytes.NewReader(gallery(t, 1)[0]), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What the form does when a photo is picked, and no more.
	if err := d.db.SaveDraftBlob("visit/"+household.String(), store.Blob{Hash: p.Hash, Data: p.JPEG, Thumb: p.Thumb}); err != nil {
		t.Fatal(err)
	}
	_, form := openVisitForm(t, a)
	if len(form.Picked) != 1 || form.Picked[0].Hash != p.Hash || form.Picked[0].Width != p.Width {
		t.Fatalf("the photo picked before the kill: %+v", form.Picked)
	}
	if form.Photo.Keep.Checked || len(form.Thumbs.Objects) != 1 {
		t.Fatalf("keep place %v, %d thumbnails", form.Photo.Keep.Checked, len(form.Thumbs.Objects))
	}
	test.Type(form.Notes, "屋顶漏雨")
	test.Tap(form.Save)
	a.Wait()
	if form.Error.Visible() {
		t.Fatalf("save: %s", form.Error.Text)
	}
	c, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if ps := visitPhotos(t, d.db, c.Visits[0].ID); len(ps) != 1 || ps[0].Hash != p.Hash || ps[0].Located() {
		t.Fatalf("photos of the saved visit: %+v", ps)
	}
}
