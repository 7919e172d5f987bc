// Command benchtable reads the output of `go test -bench` on standard input and
// prints one aligned table of the results: time per operation in ns and ms,
// bytes and allocations per operation, and a column for every custom metric a
// benchmark reports with b.ReportMetric (for example "p50-ms" or "visits/s").
// When a benchmark ran several times (-count), each column shows the median.
//
//	go test -run '^$' -bench . -benchmem ./store/ | go run ./scripts/benchtable
//
// Lines that report a failure (FAIL, panic) are copied to standard error and
// make the command exit with status 1 after the table is printed.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func main() {
	t, failed, err := parse(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	t.write(os.Stdout)
	if failed {
		os.Exit(1)
	}
}

// standard are the units `go test -bench -benchmem` always reports, in the
// order they get columns; ms/op is derived from ns/op.
var standard = []string{"ns/op", "B/op", "allocs/op"}

// result is one benchmark: its values by unit, one entry per run.
type result struct {
	pkg, name string
	iters     []float64
	values    map[string][]float64
}

// table is everything parsed from one `go test -bench` output.
type table struct {
	header  []string // goos, goarch, cpu lines, once each
	results []*result
	custom  []string // custom units, in order of first appearance
}

// parse reads `go test -bench` output. It copies failure lines to errs and
// reports whether there were any.
func parse(r io.Reader, errs io.Writer) (*table, bool, error) {
	t := &table{}
	byKey := map[string]*result{}
	pkg := ""
	failed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "goos: "), strings.HasPrefix(line, "goarch: "), strings.HasPrefix(line, "cpu: "):
			if !slices.Contains(t.header, line) {
				t.header = append(t.header, line)
			}
		case strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "panic:"):
			failed = true
			fmt.Fprintln(errs, line)
		case strings.HasPrefix(line, "Benchmark"):
			name, iters, values, ok := parseLine(line)
			if !ok {
				continue // a benchmark's own log line, or its name printed before a long run
			}
			key := pkg + "\x00" + name
			res := byKey[key]
			if res == nil {
				res = &result{pkg: pkg, name: name, values: map[string][]float64{}}
				byKey[key] = res
				t.results = append(t.results, res)
			}
			res.iters = append(res.iters, iters)
			for _, v := range values {
				res.values[v.unit] = append(res.values[v.unit], v.value)
				if !slices.Contains(standard, v.unit) && !slices.Contains(t.custom, v.unit) {
					t.custom = append(t.custom, v.unit)
				}
			}
		}
	}
	return t, failed, sc.Err()
}

type measure struct {
	value float64
	unit  string
}

// parseLine parses "BenchmarkName-2  1000  1234 ns/op  56 B/op ..." and returns
// the name without "Benchmark" and the -GOMAXPROCS suffix.
func parseLine(line string) (name string, iters float64, values []measure, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", 0, nil, false
	}
	n, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", 0, nil, false
	}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", 0, nil, false
		}
		values = append(values, measure{v, f[i+1]})
	}
	name = strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	return name, n, values, true
}

// median returns the median of vs, and false when vs is empty.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// write prints the table with numbers aligned on the right.
func (t *table) write(w io.Writer) {
	for _, h := range t.header {
		fmt.Fprintln(w, h)
	}
	if len(t.results) == 0 {
		fmt.Fprintln(w, "no benchmark results")
		return
	}
	multiPkg := false
	for _, r := range t.results {
		multiPkg = multiPkg || r.pkg != t.results[0].pkg
	}
	cols := []string{"benchmark", "runs", "iterations", "ns/op", "ms/op", "B/op", "allocs/op"}
	cols = append(cols, t.custom...)
	rows := [][]string{cols}
	for _, r := range t.results {
		name := r.name
		if multiPkg {
			name = r.pkg[strings.LastIndexByte(r.pkg, '/')+1:] + "." + name
		}
		it, _ := median(r.iters)
		row := []string{name, strconv.Itoa(len(r.iters)), group(it)}
		ns, ok := median(r.values["ns/op"])
		row = append(row, num(ns, ok), millis(ns/1e6, ok))
		for _, u := range []string{"B/op", "allocs/op"} {
			v, ok := median(r.values[u])
			row = append(row, num(v, ok))
		}
		for _, u := range t.custom {
			v, ok := median(r.values[u])
			row = append(row, num(v, ok))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(cols))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for ri, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		line := strings.TrimRight(b.String(), " ")
		fmt.Fprintln(w, line)
		if ri == 0 {
			fmt.Fprintln(w, strings.Repeat("-", utf8.RuneCountInString(line)))
		}
	}
}

// num formats a value: whole numbers with thousands separators from 1,000 up,
// up to four significant digits below; "-" when the benchmark did not report it.
func num(v float64, ok bool) string {
	switch {
	case !ok:
		return "-"
	case v >= 1000 || v <= -1000:
		return group(v)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// millis formats a time in ms with three decimals (two significant digits when
// smaller than a microsecond).
func millis(v float64, ok bool) string {
	switch {
	case !ok:
		return "-"
	case v != 0 && v < 0.001:
		return strconv.FormatFloat(v, 'g', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// group formats v rounded to an integer with thousands separators.
func group(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
