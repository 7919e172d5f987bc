//go:build race

package protocol_test

// raceEnabled reports whether the race detector is on: long measurements
// that exercise no concurrency skip under it.
const raceEnabled = true
