package main_test

import (
	"archive/tar"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/photo/phototest"
	"bangfu/store"
)

// putPhoto writes a photo and its thumbnail into a data directory's photos
// as the server keeps them, and returns its hash.
func putPhoto(t *testing.T, dir string, jpg []byte) string {
	t.Helper()
	hash := photo.Hash(jpg)
	sub := filepath.Join(dir, "photos", hash[:2])
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, hash+".jpg"), jpg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, hash+".thumb.jpg"), jpg[:500], 0o600); err != nil {
		t.Fatal(err)
	}
	return hash
}

// TestBackupIncludesPhotos: backup writes the photos beside the store
// (encrypted with -encrypt), and restore puts them back, bit for bit.
func TestBackupIncludesPhotos(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypt], func(t *testing.T) {
			dir := demoDir(t)
			a, b := phototest.JPEG(t, 320, 240, 1), phototest.JPEG(t, 320, 240, 2)
			ha, hb := putPhoto(t, dir, a), putPhoto(t, dir, b)
			// An upload under way is not backed up.
			os.MkdirAll(filepath.Join(dir, "photos", "partial"), 0o700)
			os.WriteFile(filepath.Join(dir, "photos", "partial", ha), a[:100], 0o600)

			out := filepath.Join(t.TempDir(), "backup.db")
			const pass = "县里保管的备份口令 2026"
			args, stdin := []string{"backup", "-data", dir, "-o", out}, ""
			if encrypt {
				args, stdin = append(args, "-encrypt"), pass+"\n"
			}
			if r := runIn(t, stdin, nil, args...); r.code != 0 || !strings.Contains(r.stdout, "photos backed up") {
				t.Fatalf("backup: %s", r)
			}
			archive, err := os.ReadFile(out + ".photos.tar")
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(archive, a[200:400]); got == encrypt {
				t.Errorf("encrypted %v, the archive holds the photo's bytes in clear: %v", encrypt, got)
			}

			// Lose the photos, restore.
			if err := os.RemoveAll(filepath.Join(dir, "photos")); err != nil {
				t.Fatal(err)
			}
			if encrypt {
				if r := runIn(t, "a wrong passphrase\n", nil, "restore", "-data", dir, out); r.code == 0 {
					t.Errorf("restore with a wrong passphrase: %s", r)
				}
			}
			if r := runIn(t, stdin, nil, "restore", "-data", dir, out); r.code != 0 || !strings.Contains(r.stdout, "photos restored: 4 个文件") {
				t.Fatalf("restore: %s", r)
			}
			for h, jpg := range map[string][]byte{ha: a, hb: b} {
				got, err := os.ReadFile(filepath.Join(dir, "photos", h[:2], h+".jpg"))
				if err != nil || !bytes.Equal(got, jpg) {
					t.Errorf("restored %s: %v", h[:8], err)
				}
				if th, err := os.ReadFile(filepath.Join(dir, "photos", h[:2], h+".thumb.jpg")); err != nil || !bytes.Equal(th, jpg[:500]) {
					t.Errorf("restored thumbnail %s: %v", h[:8], err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "photos", "partial", ha)); !os.IsNotExist(err) {
				t.Errorf("a partial upload came back: %v", err)
			}
		})
	}
}

// TestRestoreRefusesForeignPhotoArchive: an archive whose names leave the
// photos directory, or whose bytes are not their hash's, is refused.
func TestRestoreRefusesForeignPhotoArchive(t *testing.T) {
	jpg := phototest.JPEG(t, 64, 48, 3)
	hash := photo.Hash(jpg)
	for name, entry := range map[string]struct {
		name string
		data []byte
	}{
		"traversal": {"../../evil.jpg", jpg},
		"absolute":  {"/tmp/" + hash + ".jpg", jpg},
		"misfiled":  {"00/" + hash + ".jpg", jpg},
		"tampered":  {hash[:2] + "/" + hash + ".jpg", append(bytes.Clone(jpg), 0)},
	} {
		t.Run(name, func(t *testing.T) {
			dir := demoDir(t)
			out := filepath.Join(t.TempDir(), "backup.db")
			if r := run(t, "backup", "-data", dir, "-o", out); r.code != 0 {
				t.Fatalf("backup: %s", r)
			}
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: entry.name, Mode: 0o600, Size: int64(len(entry.data))})
			tw.Write(entry.data)
			tw.Close()
			if err := os.WriteFile(out+".photos.tar", buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := run(t, "restore", "-data", dir, out); r.code == 0 || !strings.Contains(r.stderr, "photo") {
				t.Fatalf("restore of a foreign archive: %s", r)
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "..", "evil.jpg")); !os.IsNotExist(err) {
				t.Fatalf("a file was written outside the data directory: %v", err)
			}
			if left, _ := os.ReadDir(filepath.Join(dir, "photos", "00")); len(left) != 0 {
				t.Fatalf("a misfiled photo was restored")
			}
		})
	}
}

// TestExportEmbedsThumbnails: bangfud export lists a photo of the store and
// embeds its thumbnail from DATA/photos; without -ids, no location.
func TestExportEmbedsThumbnails(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	var visit *domain.Visit
	db.Each(domain.KindVisit, func(r domain.Record) error {
		if visit == nil {
			visit = r.(*domain.Visit)
		}
		return nil
	})
	if visit == nil {
		t.Fatal("the demo has no visit")
	}
	jpg := phototest.JPEG(t, 320, 240, 5)
	thumb, err := photo.Thumbnail(jpg, 240)
	if err != nil {
		t.Fatal(err)
	}
	hash := photo.Hash(jpg)
	p := &domain.Photo{Household: visit.Household, OfKind: domain.KindVisit, Of: visit.ID, Cadre: visit.Cadre,
		Hash: hash, Size: len(jpg), Width: 320, Height: 240, Lat: 35.60412, Lon: 103.21356, Caption: "新修的水窖"}
	if err := db.PutBlobs(visit.Cadre, "", []store.Blob{{Hash: hash, Data: jpg, Thumb: thumb}}, p); err != nil {
		t.Fatal(err)
	}
	db.Close()
	sub := filepath.Join(dir, "photos", hash[:2])
	os.MkdirAll(sub, 0o700)
	if err := os.WriteFile(filepath.Join(sub, hash+".thumb.jpg"), thumb, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "月报.xlsx")
	if r := run(t, "export", "-data", dir, "-o", out); r.code != 0 {
		t.Fatalf("export: %s", r)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("照片")
	if err != nil || len(rows) != 4 {
		t.Fatalf("照片 sheet: %d rows, %v", len(rows), err)
	}
	head, row := rows[2], rows[3]
	thumbCol := -1
	for i, h := range head {
		if h == "缩略图" {
			thumbCol = i + 1
		}
	}
	cell, _ := excelize.CoordinatesToCellName(thumbCol, 4)
	pics, err := f.GetPictures("照片", cell)
	if err != nil || len(pics) != 1 || !bytes.Equal(pics[0].File, thumb) {
		t.Fatalf("thumbnail at %s: %d pictures, %v", cell, len(pics), err)
	}
	if all := strings.Join(row, " "); !strings.Contains(all, "新修的水窖") || !strings.Contains(all, hash) || strings.Contains(all, "35.60") {
		t.Fatalf("photo row: %q", row)
	}
}

// TestServeSweepsPhotos: serve removes at start the photos no record names
// and keeps those one does; the photo endpoints answer on its port.
func TestServeSweepsPhotos(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	var visit *domain.Visit
	db.Each(domain.KindVisit, func(r domain.Record) error {
		if visit == nil {
			visit = r.(*domain.Visit)
		}
		return nil
	})
	named := phototest.JPEG(t, 320, 240, 6)
	p := &domain.Photo{Household: visit.Household, OfKind: domain.KindVisit, Of: visit.ID, Cadre: visit.Cadre,
		Hash: photo.Hash(named), Size: len(named), Width: 320, Height: 240}
	if err := db.PutBlobs(visit.Cadre, "", []store.Blob{{Hash: p.Hash, Data: named}}, p); err != nil {
		t.Fatal(err)
	}
	db.Close()
	kept := putPhoto(t, dir, named)
	stray := putPhoto(t, dir, phototest.JPEG(t, 320, 240, 7))
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	if _, err := os.Stat(filepath.Join(dir, "photos", stray[:2], stray+".jpg")); !os.IsNotExist(err) {
		t.Errorf("a photo no record names survived the start: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "photos", kept[:2], kept+".jpg")); err != nil {
		t.Errorf("a named photo was swept: %v", err)
	}
	resp, err := http.Get(srv.url + "/v1/photos/" + kept)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Tus-Resumable") != "1.0.0" {
		t.Errorf("GET a photo without a token: %d %v", resp.StatusCode, resp.Header)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, srv.output())
	}
}
