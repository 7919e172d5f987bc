package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/client"
)

// Photos are never required and never a check-in: a cadre may attach a few
// (domain.Rules.PhotoLimit) to a visit, a problem or a measure's progress,
// picked through Fyne's file dialog — on a phone the system picker, which
// shows the gallery where the camera app saves. Fyne 2.7.1 has no camera
// API, so there is no camera button (see the README). A picked file is read
// and prepared (photo.Prepare: downscaled, re-encoded without metadata) off
// the UI goroutine and stored at once: a visit's photo as a draft blob
// (store.DB.SaveDraftBlob) that the visit's save adopts, a problem's or a
// measure's with its record (store.DB.PutBlobs).

// photoFetcher fetches a photo's JPEG from the server when this device holds
// only its record or thumbnail, and keeps it; the sync client is one.
type photoFetcher interface {
	FetchPhoto(ctx context.Context, hash string) ([]byte, error)
}

var _ photoFetcher = (*client.Client)(nil)

// PickPhoto asks the cadre for a picture and calls done with it (nil, nil
// when they cancel). Options.PickPhoto replaces the file dialog in tests.
type PickPhoto func(w fyne.Window, done func(io.ReadCloser, error))

// pickFile is the real PickPhoto: Fyne's file dialog showing images (on
// Android and iOS the system picker).
func pickFile(w fyne.Window, done func(io.ReadCloser, error)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if r == nil || err != nil {
			done(nil, err)
			return
		}
		done(r, nil)
	}, w)
	d.SetFilter(storage.NewMimeTypeFileFilter([]string{"image/jpeg", "image/png", "image/webp"}))
	d.Show()
}

// thumbSize is the size of a thumbnail on screen.
var thumbSize = fyne.NewSize(88, 88)

// fetchTimeout bounds fetching one photo on demand.
const fetchTimeout = 2 * time.Minute

// PhotoAdder is the control that adds photos: the button, whether to keep
// where a photo was taken (off by default), a spinner while a picked photo is
// prepared, and what went wrong.
type PhotoAdder struct {
	Add  *widget.Button
	Keep *widget.Check
	// Busy shows while a picked photo is read and prepared.
	Busy  *fyne.Container
	Error *widget.Label

	app   *App
	limit int        // photos one record may carry
	count func() int // photos it carries now
	// store runs off the UI goroutine with the prepared photo and stores
	// it (keep: Keep was ticked when it was picked); done then runs on the
	// UI goroutine.
	store   func(p *photo.Photo, keep bool) error
	done    func(p *photo.Photo)
	content fyne.CanvasObject
}

func newPhotoAdder(a *App, count func() int, store func(p *photo.Photo, keep bool) error, done func(*photo.Photo)) *PhotoAdder {
	d := &PhotoAdder{app: a, limit: domain.DefaultPhotos, count: count, store: store, done: done}
	d.Add = widget.NewButtonWithIcon(lang.L("photo.add"), theme.FileImageIcon(), d.pick)
	d.Keep = widget.NewCheck(lang.L("photo.keep_place"), nil)
	act := widget.NewActivity()
	d.Busy = container.NewHBox(act, widget.NewLabel(lang.L("photo.preparing")))
	d.Busy.Hide()
	d.Error = errorLabel()
	d.content = container.NewVBox(container.NewHBox(d.Add, d.Keep), d.Busy, d.Error)
	return d
}

// full reports, with the message, that the record carries all the photos it may.
func (d *PhotoAdder) full() bool {
	if d.count() < d.limit {
		return false
	}
	d.Error.SetText(lang.L("photo.limit", map[string]any{"Limit": d.limit}))
	d.Error.Show()
	return true
}

// pick asks for a picture, then prepares and stores it in the background.
func (d *PhotoAdder) pick() {
	a := d.app
	d.Error.Hide()
	if d.full() {
		return
	}
	pick := a.opt.PickPhoto
	if pick == nil {
		pick = pickFile
	}
	keep := d.Keep.Checked
	pick(a.Window, func(r io.ReadCloser, err error) {
		if r == nil && err == nil {
			return // cancelled
		}
		if err != nil {
			d.fail(err)
			return
		}
		d.Add.Disable()
		d.Busy.Show()
		d.Busy.Objects[0].(*widget.Activity).Start()
		a.tasks.run(func() func() {
			defer r.Close()
			p, err := photo.Prepare(r, photo.Options{KeepLocation: keep})
			if err == nil {
				err = d.store(p, keep)
			}
			return func() {
				d.Busy.Objects[0].(*widget.Activity).Stop()
				d.Busy.Hide()
				d.Add.Enable()
				if err != nil {
					d.fail(err)
					return
				}
				d.done(p)
			}
		})
	})
}

func (d *PhotoAdder) fail(err error) {
	d.Error.SetText(lang.L("photo.failed", map[string]any{"Reason": errText(err)}))
	d.Error.Show()
}

// Content returns the control.
func (d *PhotoAdder) Content() fyne.CanvasObject { return d.content }

// record is the photo record of p attached to of, located only if keep.
func photoRecord(p pickedPhoto, household uuid.UUID, of domain.Kind, id, cadre uuid.UUID, keep bool) *domain.Photo {
	rec := &domain.Photo{Household: household, OfKind: of, Of: id, Cadre: cadre, Hash: p.Hash, Size: p.Size,
		Width: p.Width, Height: p.Height, Taken: p.Taken}
	if keep {
		rec.Lat, rec.Lon = p.Lat, p.Lon
	}
	return rec
}

// pickedPhoto is a prepared photo not yet saved with its record, as a visit
// draft keeps it.
type pickedPhoto struct {
	Hash   string    `json:"hash"`
	Size   int       `json:"size"`
	Width  int       `json:"width"`
	Height int       `json:"height"`
	Taken  time.Time `json:"taken"`
	Lat    float64   `json:"lat,omitempty"`
	Lon    float64   `json:"lon,omitempty"`
}

func picked(p *photo.Photo) pickedPhoto {
	return pickedPhoto{Hash: p.Hash, Size: len(p.JPEG), Width: p.Width, Height: p.Height, Taken: p.Taken, Lat: p.Lat, Lon: p.Lon}
}

// blobOf is what the store keeps of p.
func blobOf(p *photo.Photo) store.Blob { return store.Blob{Hash: p.Hash, Data: p.JPEG, Thumb: p.Thumb} }

// readThumbs reads, off the UI goroutine, the thumbnails of the photos
// named: the stored thumbnail, else one made from the stored JPEG; a hash
// with neither is missing from the map (a placeholder shows).
func readThumbs(db *store.DB, hashes []string) map[string]image.Image {
	out := map[string]image.Image{}
	for _, h := range hashes {
		if _, ok := out[h]; ok {
			continue
		}
		b, err := db.Thumb(h)
		if err == nil && b == nil {
			if full, ferr := db.Blob(h); ferr == nil && full != nil {
				b, _ = photo.Thumbnail(full, photo.DefaultThumbSide)
			}
		}
		if b == nil {
			continue
		}
		if m, err := jpeg.Decode(bytes.NewReader(b)); err == nil {
			out[h] = m
		}
	}
	return out
}

// photoHashes lists the hashes of photos.
func photoHashes(photos ...[]*domain.Photo) []string {
	var out []string
	for _, ps := range photos {
		for _, p := range ps {
			out = append(out, p.Hash)
		}
	}
	return out
}

// Thumbnail is a photo's thumbnail; tapping it calls OnTapped.
type Thumbnail struct {
	widget.BaseWidget
	Hash     string
	OnTapped func()
	// Placeholder reports that neither the thumbnail nor the photo is on
	// the device yet.
	Placeholder bool
	img         *canvas.Image
}

func newThumbnail(hash string, m image.Image, tapped func()) *Thumbnail {
	t := &Thumbnail{Hash: hash, OnTapped: tapped}
	if m != nil {
		t.img = canvas.NewImageFromImage(m)
	} else {
		t.Placeholder = true
		t.img = canvas.NewImageFromResource(theme.FileImageIcon())
	}
	t.img.FillMode = canvas.ImageFillContain
	t.img.SetMinSize(thumbSize)
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer draws the image.
func (t *Thumbnail) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.img) }

// Tapped opens the photo.
func (t *Thumbnail) Tapped(*fyne.PointEvent) {
	if t.OnTapped != nil {
		t.OnTapped()
	}
}

// PhotoStrip is a row of saved photos' thumbnails; each opens the photo.
type PhotoStrip struct {
	Thumbs []*Thumbnail
	box    *fyne.Container
}

// newPhotoStrip returns the thumbnails of photos, or nil if there are none.
func newPhotoStrip(a *App, photos []*domain.Photo, thumbs map[string]image.Image) *PhotoStrip {
	if len(photos) == 0 {
		return nil
	}
	s := &PhotoStrip{box: container.NewGridWrap(thumbSize)}
	for _, p := range photos {
		p := p
		t := newThumbnail(p.Hash, thumbs[p.Hash], func() { a.nav.Push(newPhotoView(a, p)) })
		s.Thumbs = append(s.Thumbs, t)
		s.box.Add(t)
	}
	return s
}

// Content returns the row.
func (s *PhotoStrip) Content() fyne.CanvasObject { return s.box }

// PhotoView shows one photo large: the JPEG held here, else fetched from the
// server with a spinner; the cadre who attached it may delete it.
type PhotoView struct {
	Image *canvas.Image
	Busy  *widget.Activity
	// Message says why the photo cannot be shown (offline, say).
	Message *widget.Label
	Info    *widget.Label
	Delete  *widget.Button

	app     *App
	photo   *domain.Photo
	content fyne.CanvasObject
}

func newPhotoView(a *App, p *domain.Photo) *PhotoView {
	v := &PhotoView{app: a, photo: p}
	v.Image = canvas.NewImageFromResource(nil)
	v.Image.FillMode = canvas.ImageFillContain
	v.Image.SetMinSize(fyne.NewSize(240, 240))
	v.Busy = widget.NewActivity()
	v.Message = wrapLabel("")
	v.Message.Importance = widget.WarningImportance
	v.Message.Hide()
	info := []string{}
	if !p.Taken.IsZero() {
		info = append(info, lang.L("photo.taken", map[string]any{"Time": timeText(p.Taken)}))
	}
	info = append(info, fmt.Sprintf("%d×%d", p.Width, p.Height), sizeText(int64(p.Size)))
	if p.Located() {
		info = append(info, lang.L("photo.place", map[string]any{"Lat": fmt.Sprintf("%.5f", p.Lat), "Lon": fmt.Sprintf("%.5f", p.Lon)}))
	}
	v.Info = wrapLabel(join(info...))
	v.Info.SizeName = theme.SizeNameCaptionText
	v.Delete = widget.NewButtonWithIcon(lang.L("photo.delete"), theme.DeleteIcon(), v.confirmDelete)
	v.Delete.Importance = widget.DangerImportance
	setVisible(v.Delete, p.Cadre == a.cadre)
	bottom := container.NewVBox(v.Message, v.Info, container.NewHBox(v.Delete))
	v.content = container.NewBorder(nil, bottom, nil, nil, container.NewStack(v.Image, container.NewCenter(v.Busy)))
	return v
}

// Title returns "照片".
func (v *PhotoView) Title() string { return lang.L("photo.title") }

// Content returns the screen.
func (v *PhotoView) Content() fyne.CanvasObject { return v.content }

// load shows the JPEG held here, else fetches it.
func (v *PhotoView) load() {
	a := v.app
	hash := v.photo.Hash
	fetch, _ := a.sync.(photoFetcher)
	v.Busy.Show()
	v.Busy.Start()
	a.tasks.run(func() func() {
		b, err := a.db.Blob(hash)
		if err == nil && b == nil {
			b, err = fetchPhoto(fetch, hash)
		}
		var m image.Image
		if err == nil {
			m, err = jpeg.Decode(bytes.NewReader(b))
		}
		return func() {
			v.Busy.Stop()
			v.Busy.Hide()
			if err != nil {
				v.Message.SetText(fetchErrText(err))
				v.Message.Show()
				if th, _ := a.db.Thumb(hash); th != nil { // a small picture is better than none
					if tm, terr := jpeg.Decode(bytes.NewReader(th)); terr == nil {
						v.Image.Image = tm
						v.Image.Refresh()
					}
				}
				return
			}
			v.Image.Image = m
			v.Image.Refresh()
		}
	})
}

// errNoFetcher: this device has no way to fetch a photo (no sync client).
var errNoFetcher = domain.Errorf(domain.EUNAVAILABLE, "photo", "照片还没有下载到本机", "the photo is not on this device yet")

// fetchPhoto fetches the JPEG under hash from the server; the fetcher
// checks it against its hash and keeps it (client.Client.FetchPhoto).
func fetchPhoto(fetch photoFetcher, hash string) ([]byte, error) {
	if fetch == nil {
		return nil, errNoFetcher
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	b, err := fetch.FetchPhoto(ctx, hash)
	if err == nil && photo.Hash(b) != hash {
		err = domain.Errorf(domain.EINVALID, "hash", "下载的照片与校验值不符", "the photo fetched does not match its hash")
	}
	return b, err
}

// fetchErrText says why a photo cannot be shown: offline calmly; not on
// the server yet (the phone that took it has not sent it); else the error.
func fetchErrText(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case domain.ErrorCode(err) == domain.EUNAVAILABLE || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded):
		return lang.L("photo.offline")
	case domain.ErrorCode(err) == domain.ENOTFOUND:
		return lang.L("photo.not_uploaded")
	}
	return errText(err)
}

// confirmDelete deletes the photo's record after the cadre confirms; its
// bytes go with the last record naming them.
func (v *PhotoView) confirmDelete() {
	a := v.app
	d := dialog.NewConfirm(lang.L("photo.delete"), lang.L("photo.delete_sure"), func(ok bool) {
		if !ok {
			return
		}
		v.Delete.Disable()
		author, id := a.cadre, v.photo.ID
		a.tasks.run(func() func() {
			err := a.db.Delete(author, domain.KindPhoto, id)
			return func() {
				v.Delete.Enable()
				if err != nil {
					v.Message.SetText(errText(err))
					v.Message.Show()
					return
				}
				a.changed()
				a.nav.Pop()
			}
		})
	}, a.Window)
	d.SetConfirmText(lang.L("photo.delete_yes"))
	d.SetDismissText(lang.L("common.cancel"))
	d.Show()
}

// sizeText writes a number of bytes as 820 KB or 1.2 MB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// photoSet is what a screen shows of the photos of some records, read off
// the UI goroutine by readPhotos.
type photoSet struct {
	of     map[uuid.UUID][]*domain.Photo // by the record they are attached to
	thumbs map[string]image.Image
	limit  int // photos one record may carry in the household's village
}

// readPhotos reads the photos attached to the records of, their thumbnails
// and the village's limit. A screen without its photos is still the screen,
// so a failure leaves them out.
func readPhotos(db *store.DB, village *domain.Place, of ...uuid.UUID) photoSet {
	s := photoSet{limit: domain.DefaultPhotos}
	if village != nil {
		if r, err := db.Rules(village.ID); err == nil {
			s.limit = r.PhotoLimit()
		}
	}
	s.of, _ = query.Photos(db, of...)
	var all [][]*domain.Photo
	for _, ps := range s.of {
		all = append(all, ps)
	}
	s.thumbs = readThumbs(db, photoHashes(all...))
	return s
}

// attach returns the photos of a saved record (household's record of kind
// kind and ID of) as thumbnails, and the control that adds one: it is saved
// at once with its photo record in one transaction (store.DB.PutBlobs), and
// then reload runs. The strip is nil when there are no photos.
func (a *App) attach(set photoSet, household uuid.UUID, kind domain.Kind, of uuid.UUID, reload func()) (*PhotoStrip, *PhotoAdder) {
	have := set.of[of]
	author := a.cadre
	d := newPhotoAdder(a, func() int { return len(have) }, nil, func(*photo.Photo) {
		a.changed()
		reload()
	})
	d.limit = set.limit
	d.store = func(p *photo.Photo, keep bool) error {
		for _, q := range have {
			if q.Hash == p.Hash {
				return domain.Errorf(domain.EINVALID, "photo", "这张照片已经加过了", "this photo is already added")
			}
		}
		rec := photoRecord(picked(p), household, kind, of, author, keep)
		return a.db.PutBlobs(author, "", []store.Blob{blobOf(p)}, rec)
	}
	return newPhotoStrip(a, have, set.thumbs), d
}

// lostPhotos returns the photos kept for the draft under key that the
// draft does not list (kept): picked just before the app was killed, with
// the draft not saved again since. Nothing picked is lost; where it was
// taken is not known, so it is not kept.
func lostPhotos(db *store.DB, key string, kept []pickedPhoto) []pickedPhoto {
	hashes, err := db.DraftBlobs(key)
	if err != nil {
		return nil
	}
	var out []pickedPhoto
	for _, h := range hashes {
		if slices.ContainsFunc(kept, func(p pickedPhoto) bool { return p.Hash == h }) {
			continue
		}
		b, err := db.Blob(h)
		if err != nil || b == nil {
			continue
		}
		c, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			continue
		}
		out = append(out, pickedPhoto{Hash: h, Size: len(b), Width: c.Width, Height: c.Height})
	}
	return out
}
