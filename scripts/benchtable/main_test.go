package main_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/table.golden")

// build compiles the command into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "benchtable")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run feeds input to the command and returns its stdout, stderr and exit code.
func run(t *testing.T, bin string, input []byte) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(input)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestTable(t *testing.T) {
	bin := build(t)
	input, err := os.ReadFile("testdata/bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, bin, input)
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("table differs from %s:\n got:\n%s\nwant:\n%s", golden, stdout, want)
	}
	// The input has a failed benchmark: it is reported and the exit status says so.
	if code != 1 || !strings.Contains(stderr, "--- FAIL: BenchmarkBroken") {
		t.Errorf("exit %d, stderr %q; want 1 and the FAIL line", code, stderr)
	}
	// Medians over -count runs: SaveVisit ran 3 times with 4,000,000, 4,123,456
	// and 4,200,000 ns/op.
	if !strings.Contains(stdout, "4,123,456") || !strings.Contains(stdout, "4.123") {
		t.Errorf("SaveVisit does not show the median ns/op and ms/op:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var head string
	for _, l := range lines {
		if strings.HasPrefix(l, "benchmark") {
			head = l
		}
	}
	for _, col := range []string{"ns/op", "ms/op", "B/op", "allocs/op", "p50-ms", "results", "bytes/push"} {
		if !strings.Contains(head, col) {
			t.Errorf("header %q lacks column %s", head, col)
		}
	}
}

func TestAligned(t *testing.T) {
	bin := build(t)
	input := []byte("pkg: bangfu/x\n" +
		"BenchmarkA-2  100  5 ns/op  0 B/op  0 allocs/op\n" +
		"BenchmarkLongerName/sub-case-2  1  123456789 ns/op  1048576 B/op  9999 allocs/op\n" +
		"ok  \tbangfu/x\t1s\n")
	stdout, stderr, code := run(t, bin, input)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, rule and two rows, got:\n%s", stdout)
	}
	// Right-aligned numbers: every row ends at the same column as the header.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("row %q is not as wide as the header %q", l, lines[0])
		}
	}
	if !strings.HasPrefix(lines[3], "LongerName/sub-case ") {
		t.Errorf("the -GOMAXPROCS suffix is not stripped, or the name is wrong: %q", lines[3])
	}
	if !strings.Contains(lines[3], "123.457") || !strings.Contains(lines[3], "1,048,576") {
		t.Errorf("row %q lacks ms/op 123.457 or B/op 1,048,576", lines[3])
	}
}

func TestNoResults(t *testing.T) {
	bin := build(t)
	stdout, _, code := run(t, bin, []byte("PASS\nok  \tbangfu/x\t0.1s\n"))
	if code != 0 || !strings.Contains(stdout, "no benchmark results") {
		t.Errorf("exit %d, output %q; want 0 and a note that there were no results", code, stdout)
	}
}
