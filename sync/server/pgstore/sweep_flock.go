//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package pgstore

import (
	"os"
	"syscall"
)

// lockFree takes the lock bbolt holds on a database file (flock, as bbolt
// takes it on these systems), without waiting: true when no process holds
// it, with the function that lets it go again.
func lockFree(path string) (unlock func(), ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true
}
