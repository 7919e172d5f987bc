package pgstore

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// mirrorPrefix names the temporary directory of an instance's mirror when
// ReplicaOptions.Mirror is empty.
const mirrorPrefix = "bangfu-mirror-"

// mirrorGrace is how old a temporary mirror directory without a locked
// mirror must be before sweepMirrors removes it: an instance creates its
// directory and locks the mirror in it a moment later, and a sweep by
// another instance in that moment must leave it.
const mirrorGrace = 10 * time.Second

// sweepMirrors removes the temporary mirror directories in dir that no
// live instance holds: those left by an instance that died without Close
// (killed by SIGKILL, the OOM killer or systemd), whose bbolt files can run
// to gigabytes. A directory is left alone when its mirror.db is locked (a
// live instance on this host: bbolt holds flock on it for the instance's
// life), when it changed less than grace ago (an instance between creating
// it and locking its mirror), when the lock cannot be tested (another
// user's, or a system without flock) and when it is not a directory of ours.
// It returns the directories removed.
func sweepMirrors(dir string, grace time.Duration, now time.Time) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), mirrorPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Lstat(path)
		if err != nil || !info.IsDir() || now.Sub(info.ModTime()) < grace {
			continue
		}
		// Only the files a mirror directory holds: anything else says it is
		// not ours to remove.
		files, err := os.ReadDir(path)
		if err != nil {
			continue
		}
		ours := true
		for _, f := range files {
			if f.Name() != "mirror.db" || !f.Type().IsRegular() {
				ours = false
			}
		}
		if !ours {
			continue
		}
		if len(files) == 0 {
			// Died before opening its mirror.
			if os.Remove(path) == nil {
				removed = append(removed, path)
			}
			continue
		}
		unlock, ok := lockFree(filepath.Join(path, "mirror.db"))
		if !ok {
			continue
		}
		err = os.RemoveAll(path)
		unlock()
		if err == nil {
			removed = append(removed, path)
		}
	}
	return removed
}
