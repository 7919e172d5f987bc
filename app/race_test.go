//go:build race

package app_test

// raceEnabled is true under the race detector, whose slowdown voids timings.
const raceEnabled = true
