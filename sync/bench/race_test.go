//go:build race

package bench_test

// raceEnabled reports whether the tests run under the race detector, which
// makes bbolt and encoding/json several times slower: the largest tests
// scale down or step aside then, to keep `make test` within its time.
const raceEnabled = true
