//go:build unix

package photo

import (
	"syscall"
	"time"
)

// cpuTime is the processor time this process has used (user and system):
// on a loaded machine it says what an operation costs better than the
// wall clock does.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
