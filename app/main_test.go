package app_test

import (
	"os"
	"testing"
	"time"
)

// TestMain runs the tests in China Standard Time, the zone the app is used
// in, so that times on screen (and in the golden files) do not depend on the
// machine running the tests.
func TestMain(m *testing.M) {
	time.Local = cst
	os.Exit(m.Run())
}
