package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"bangfu/cmd/bangfud/internal/vault"
	"bangfu/domain"
)

// The photos' bytes live in files under DATA/photos (server.Disk), not in
// bangfu.db, so a backup of the store carries them beside it: BACKUP is the
// store as before, BACKUP.photos.tar a tar of the complete photos and their
// thumbnails (ab/<hash>.jpg, ab/<hash>.thumb.jpg), encrypted with the same
// passphrase when the backup is. Photos never change once written (a
// photo's name is the SHA-256 of its bytes), so the archive of a stopped
// server is consistent with its store; uploads under way are not kept.
// restore puts the photos back, checking each JPEG against its name; the
// server's sweep at start removes any the restored store does not name.

// photosSuffix names the photos' archive beside a backup.
const photosSuffix = ".photos.tar"

// photoFiles lists the complete photos and thumbnails under dir, as
// slash-separated names relative to it, in order.
func photoFiles(dir string) ([]string, error) {
	subs, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, sub.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, ok := photoName(sub.Name() + "/" + f.Name()); ok && f.Type().IsRegular() {
				out = append(out, sub.Name()+"/"+f.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// photoName returns the hash a name in the archive belongs to — ab/<hash>.jpg
// or ab/<hash>.thumb.jpg, ab the hash's first two digits — and whether it is
// one.
func photoName(name string) (hash string, ok bool) {
	dir, file, ok := strings.Cut(name, "/")
	if !ok {
		return "", false
	}
	hash, ok = strings.CutSuffix(file, ".jpg")
	if !ok {
		return "", false
	}
	hash = strings.TrimSuffix(hash, ".thumb")
	if !domain.ValidHash(hash) || hash[:2] != dir {
		return "", false
	}
	return hash, true
}

// backupPhotos writes the photos of the data directory dir to out (a tar,
// encrypted with pass if not nil), through a temporary file checked before
// it is named. It returns how many files it holds and their bytes; with no
// photos directory it writes nothing.
func backupPhotos(dir, out string, pass []byte) (files int, size int64, err error) {
	src := filepath.Join(dir, photosDir)
	names, err := photoFiles(src)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	write := func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for _, name := range names {
			data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(name)))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Format: tar.FormatPAX}); err != nil {
				return err
			}
			if _, err := tw.Write(data); err != nil {
				return err
			}
			files++
			size += int64(len(data))
		}
		return tw.Close()
	}
	tmp := out + ".partial"
	if pass != nil {
		err = writeFile(tmp, func(w io.Writer) error {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(write(pw)) }()
			err := vault.Encrypt(w, pr, pass)
			pr.CloseWithError(err)
			return err
		})
	} else {
		err = writeFile(tmp, write)
	}
	if err == nil {
		// An archive that does not read back is no backup.
		var n int
		n, err = readPhotos(tmp, pass, func(string, []byte) error { return nil })
		if err == nil && n != files {
			err = fmt.Errorf("%d of %d files read back", n, files)
		}
	}
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("无法写入照片备份 %s (cannot write the photos' backup %s): %w", out, out, err)
	}
	return files, size, os.Rename(tmp, out)
}

// readPhotos reads the photos' archive at path (encrypted with pass if not
// nil), calling fn with each entry's name and bytes; it refuses an entry
// whose name is not a photo's, and a JPEG whose bytes are not its hash's.
func readPhotos(path string, pass []byte, fn func(name string, data []byte) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if pass != nil {
		pr, pw := io.Pipe()
		in := r
		go func() {
			err := vault.Decrypt(pw, in, pass)
			if errors.Is(err, vault.ErrPassphrase) {
				err = domain.Errorf(domain.EUNAUTHORIZED, "passphrase", "口令不对，或照片备份已损坏、不完整", "the passphrase is wrong, or the photos' backup was changed or cut short")
			}
			pw.CloseWithError(err)
		}()
		defer pr.Close()
		r = pr
	}
	tr := tar.NewReader(r)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		hash, ok := photoName(h.Name)
		if !ok || h.Typeflag != tar.TypeReg || h.Size > domain.MaxPhotoBytes {
			return n, domain.Errorf(domain.EINVALID, "backup", "照片备份中有不属于照片的文件：%[1]q", "the photos' backup holds a file that is not a photo: %[1]q", clipName(h.Name))
		}
		data, err := io.ReadAll(io.LimitReader(tr, domain.MaxPhotoBytes+1))
		if err != nil {
			return n, err
		}
		if !strings.HasSuffix(h.Name, ".thumb.jpg") {
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hash {
				return n, domain.Errorf(domain.EINVALID, "backup", "照片备份中的 %[1]s 内容与校验值不符", "%[1]s in the photos' backup does not match its hash", h.Name)
			}
		}
		if err := fn(h.Name, data); err != nil {
			return n, err
		}
		n++
	}
}

func clipName(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.ToValidUTF8(s, "?")
}

// restorePhotos puts the photos of the archive src into the data directory
// dir, keeping those already there, and returns how many it added.
func restorePhotos(dir, src string, pass []byte) (int, error) {
	dst := filepath.Join(dir, photosDir)
	added := 0
	_, err := readPhotos(src, pass, func(name string, data []byte) error {
		path := filepath.Join(dst, filepath.FromSlash(name))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := writeFile(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
		added++
		return nil
	})
	return added, err
}
