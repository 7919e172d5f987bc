package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// Photos keeps the bytes of photos on the server, named by the SHA-256 of
// the JPEG in lowercase hex (domain.ValidHash: callers check before they
// call), and the uploads under way. [Disk] keeps them in a directory;
// PostgreSQL large objects or an S3-compatible store could stand behind the
// same interface.
type Photos interface {
	// Stat returns where the upload of hash stands: complete, partial, or
	// not begun (Offset 0, Length -1).
	Stat(hash string) (protocol.Upload, error)
	// Append writes the bytes of r to the upload of hash at offset, as they
	// arrive: bytes that arrived before r failed are kept. length is the
	// whole JPEG's size, fixed by the upload's first Append. It returns
	// where the upload stands afterwards, also with an error: protocol.ErrOffset
	// when offset is not where the upload stands or another Append of hash
	// is under way; an EINVALID error when length differs from the one the
	// upload began with, or r holds more than length-offset bytes (nothing
	// of it is kept). When the bytes reach length, Append calls verify with
	// them: if it fails, the upload is discarded and its error returned;
	// otherwise the JPEG and the thumbnail verify returns are kept for good,
	// durably, and the upload is complete.
	Append(hash string, offset, length int64, r io.Reader, verify func(jpeg []byte) (thumb []byte, err error)) (protocol.Upload, error)
	// Open opens the JPEG of hash, or its thumbnail; an error matching
	// fs.ErrNotExist if it is not held (whole).
	Open(hash string, thumb bool) (io.ReadSeekCloser, error)
	// Delete removes the JPEG of hash, its thumbnail and any partial
	// upload. Deleting what is not there is no error.
	Delete(hash string) error
	// Sweep removes the JPEGs for which live reports false, and the
	// partial uploads begun before stale or for which live reports false,
	// and returns how many of each it removed.
	Sweep(live func(hash string) (bool, error), stale time.Time) (photos, partials int, err error)
}

// Disk is [Photos] in a directory, which several server instances may share
// (a network file system) — though two uploads of one photo at once are
// told apart only within one instance:
//
//	DIR/ab/<hash>.jpg        a complete JPEG (ab: the hash's first two digits)
//	DIR/ab/<hash>.thumb.jpg  its thumbnail
//	DIR/partial/<hash>       an upload under way
//	DIR/partial/<hash>.len   its Upload-Length
//
// Every file is written to its final name only whole: a JPEG is checked,
// synced and renamed into place, so a crash leaves either a partial upload
// (which resumes) or the complete photo.
type Disk struct {
	dir  string
	mu   sync.Mutex
	busy map[string]bool // hashes being appended to
}

var _ Photos = (*Disk)(nil)

// OpenDisk returns the photos kept in dir, making it if needed.
func OpenDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(filepath.Join(dir, "partial"), 0o700); err != nil {
		return nil, fmt.Errorf("server: photos: %w", err)
	}
	return &Disk{dir: dir, busy: map[string]bool{}}, nil
}

// Dir returns the directory the photos are kept in.
func (d *Disk) Dir() string { return d.dir }

func (d *Disk) jpeg(hash string) string  { return filepath.Join(d.dir, hash[:2], hash+".jpg") }
func (d *Disk) thumb(hash string) string { return filepath.Join(d.dir, hash[:2], hash+".thumb.jpg") }
func (d *Disk) part(hash string) string  { return filepath.Join(d.dir, "partial", hash) }

// checkHash refuses a name that is not a hash: a caller's bug, never a path.
func checkHash(hash string) error {
	if !domain.ValidHash(hash) {
		return domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	return nil
}

// Stat returns where the upload of hash stands.
func (d *Disk) Stat(hash string) (protocol.Upload, error) {
	if err := checkHash(hash); err != nil {
		return protocol.Upload{Length: -1}, err
	}
	return d.stat(hash)
}

func (d *Disk) stat(hash string) (protocol.Upload, error) {
	if fi, err := os.Stat(d.jpeg(hash)); err == nil {
		return protocol.Upload{Offset: fi.Size(), Length: fi.Size(), Complete: true}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return protocol.Upload{Length: -1}, err
	}
	length, err := d.length(hash)
	if err != nil || length < 0 {
		return protocol.Upload{Length: -1}, err
	}
	fi, err := os.Stat(d.part(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return protocol.Upload{Length: length}, nil
	}
	if err != nil {
		return protocol.Upload{Length: -1}, err
	}
	return protocol.Upload{Offset: fi.Size(), Length: length}, nil
}

// length returns the Upload-Length of the partial upload of hash, -1 if
// none began.
func (d *Disk) length(hash string) (int64, error) {
	b, err := os.ReadFile(d.part(hash) + ".len")
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n > domain.MaxPhotoBytes {
		return -1, nil // a damaged record of the length: begin again
	}
	return n, nil
}

// lock claims hash for one Append; false if another holds it.
func (d *Disk) lock(hash string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[hash] {
		return false
	}
	d.busy[hash] = true
	return true
}

func (d *Disk) unlock(hash string) {
	d.mu.Lock()
	delete(d.busy, hash)
	d.mu.Unlock()
}

// errLength refuses an upload whose length changed.
func errLength(had, got int64) error {
	return domain.Errorf(domain.EINVALID, "length", "照片的总大小与开始上传时不同（%[1]d ≠ %[2]d 字节）",
		"the photo's Upload-Length differs from the one its upload began with (%[2]d, not %[1]d bytes)", had, got)
}

// errLonger refuses a body longer than the upload's rest.
func errLonger(length int64) error {
	return domain.Errorf(domain.EINVALID, "length", "上传的内容超过了声明的照片大小（%d 字节）",
		"the body goes past the declared Upload-Length (%d bytes)", length)
}

// Append appends r to the upload of hash (see Photos).
func (d *Disk) Append(hash string, offset, length int64, r io.Reader, verify func([]byte) ([]byte, error)) (protocol.Upload, error) {
	if err := checkHash(hash); err != nil {
		return protocol.Upload{Length: -1}, err
	}
	if length <= 0 || length > domain.MaxPhotoBytes {
		return protocol.Upload{Length: -1}, protocol.ErrPhotoTooLarge
	}
	if !d.lock(hash) {
		u, err := d.stat(hash)
		if err != nil {
			return u, err
		}
		return u, protocol.ErrOffset
	}
	defer d.unlock(hash)
	u, err := d.stat(hash)
	if err != nil {
		return u, err
	}
	if u.Complete {
		return u, protocol.ErrOffset
	}
	if u.Length >= 0 && u.Length != length {
		return u, errLength(u.Length, length)
	}
	if u.Offset != offset {
		return u, protocol.ErrOffset
	}
	if u.Length < 0 {
		if err := writeFileSync(d.part(hash)+".len", []byte(strconv.FormatInt(length, 10))); err != nil {
			return u, err
		}
		u.Length = length
	}
	f, err := os.OpenFile(d.part(hash), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return u, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return u, err
	}
	n, rerr := io.Copy(f, io.LimitReader(r, length-offset))
	if rerr == nil && offset+n == length {
		// A body longer than declared is refused whole.
		var one [1]byte
		if m, _ := io.ReadFull(r, one[:]); m > 0 {
			n, rerr = 0, errLonger(length)
			f.Truncate(offset)
		}
	}
	serr := f.Sync()
	if cerr := f.Close(); serr == nil {
		serr = cerr
	}
	if serr != nil {
		// What was written may not be on disk: begin this piece again.
		os.Truncate(d.part(hash), offset)
		return u, serr
	}
	u.Offset = offset + n
	if rerr != nil || u.Offset < length {
		return u, rerr
	}
	return d.complete(hash, u, verify)
}

// complete checks a whole upload with verify and puts it in place, or
// discards it.
func (d *Disk) complete(hash string, u protocol.Upload, verify func([]byte) ([]byte, error)) (protocol.Upload, error) {
	data, err := os.ReadFile(d.part(hash))
	if err != nil {
		return u, err
	}
	thumb, err := verify(data)
	if err != nil {
		d.dropPartial(hash)
		return protocol.Upload{Length: -1}, err
	}
	if err := os.MkdirAll(filepath.Dir(d.jpeg(hash)), 0o700); err != nil {
		return u, err
	}
	if thumb != nil {
		if err := writeFileSync(d.thumb(hash), thumb); err != nil {
			return u, err
		}
	}
	if err := os.Rename(d.part(hash), d.jpeg(hash)); err != nil {
		return u, err
	}
	syncDir(filepath.Dir(d.jpeg(hash)))
	os.Remove(d.part(hash) + ".len")
	syncDir(filepath.Dir(d.part(hash)))
	return protocol.Upload{Offset: u.Length, Length: u.Length, Complete: true}, nil
}

func (d *Disk) dropPartial(hash string) {
	os.Remove(d.part(hash))
	os.Remove(d.part(hash) + ".len")
}

// Open opens the JPEG of hash or its thumbnail.
func (d *Disk) Open(hash string, thumb bool) (io.ReadSeekCloser, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	if thumb {
		return os.Open(d.thumb(hash))
	}
	return os.Open(d.jpeg(hash))
}

// Delete removes everything kept of hash.
func (d *Disk) Delete(hash string) error {
	if err := checkHash(hash); err != nil {
		return err
	}
	var first error
	for _, p := range []string{d.jpeg(hash), d.thumb(hash), d.part(hash), d.part(hash) + ".len"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// Sweep removes what no live photo names, and partial uploads begun before
// stale. Files whose names are not the store's own are left alone.
func (d *Disk) Sweep(live func(hash string) (bool, error), stale time.Time) (photos, partials int, err error) {
	dirs, err := os.ReadDir(d.dir)
	if err != nil {
		return 0, 0, err
	}
	for _, sub := range dirs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.dir, sub.Name()))
		if err != nil {
			return photos, partials, err
		}
		for _, f := range files {
			hash, ok := strings.CutSuffix(f.Name(), ".jpg")
			if !ok || !domain.ValidHash(hash) || hash[:2] != sub.Name() {
				continue // thumbnails go with their JPEG; others are not ours
			}
			keep, err := live(hash)
			if err != nil {
				return photos, partials, err
			}
			if !keep {
				if err := d.Delete(hash); err != nil {
					return photos, partials, err
				}
				photos++
			}
		}
	}
	files, err := os.ReadDir(filepath.Join(d.dir, "partial"))
	if err != nil {
		return photos, partials, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		hash := strings.TrimSuffix(f.Name(), ".len")
		if !domain.ValidHash(hash) || seen[hash] {
			continue
		}
		seen[hash] = true
		// The upload's age is its last piece's (or, before any, its
		// length's) time.
		info, err := os.Stat(d.part(hash))
		if errors.Is(err, fs.ErrNotExist) {
			info, err = os.Stat(d.part(hash) + ".len")
		}
		if err != nil {
			continue // gone meanwhile
		}
		keep := info.ModTime().After(stale)
		if keep {
			if keep, err = live(hash); err != nil {
				return photos, partials, err
			}
		}
		if !keep && d.lock(hash) {
			d.dropPartial(hash)
			d.unlock(hash)
			partials++
		}
	}
	return photos, partials, nil
}

// writeFileSync writes data to path whole: to a temporary file, synced,
// then renamed.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if serr := tmp.Sync(); err == nil {
		err = serr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable, where the system allows.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
