//go:build !unix

package photo

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
