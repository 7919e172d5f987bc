package main_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bangfu/photo"
	"bangfu/photo/phototest"
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
