package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
	syncserver "bangfu/sync/server"
)

// bin is the bangfud binary built for the tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangfud-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "bangfud")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a run of the binary did.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.took, r.stdout, r.stderr)
}

// run runs the binary with args and waits at most a minute.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("bangfud %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// must runs the binary and fails the test unless it exits 0.
func must(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("bangfud %s: %s", strings.Join(args, " "), r)
	}
	return r
}

var demoOnce struct {
	sync.Once
	dir string
	err error
}

// demoDir returns a fresh data directory holding the demo village, written
// once by `bangfud demo` and copied for each test.
func demoDir(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bangfud-demo-")
		if err != nil {
			demoOnce.err = err
			return
		}
		out, err := exec.Command(bin, "demo", "-data", dir).CombinedOutput()
		if err != nil {
			demoOnce.err = fmt.Errorf("bangfud demo: %v\n%s", err, out)
		}
		demoOnce.dir = dir
	})
	if demoOnce.err != nil {
		t.Fatal(demoOnce.err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(demoOnce.dir, "bangfu.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bangfu.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openDB opens a data directory's store in the test process.
func openDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "bangfu.db"), &store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// stats is the JSON printed by stats -json.
type stats struct {
	Towns               int            `json:"towns"`
	Villages            int            `json:"villages"`
	NaturalVillages     int            `json:"natural_villages"`
	Groups              int            `json:"groups"`
	Households          int            `json:"households"`
	People              int            `json:"people"`
	FarmlandMu          float64        `json:"farmland_mu"`
	Cadres              int            `json:"cadres"`
	CadresByRank        map[string]int `json:"cadres_by_rank"`
	Visits              int            `json:"visits"`
	OpenProblems        int            `json:"open_problems"`
	PlansAwaitingReview int            `json:"plans_awaiting_review"`
	Gaps                struct {
		Households     int `json:"households_missing_a_level"`
		Cadres         int `json:"cadres_under_quota"`
		RankMismatches int `json:"rank_mismatches"`
	} `json:"three_level_gaps"`
}

func readStats(t *testing.T, dir string) stats {
	t.Helper()
	r := must(t, "stats", "-data", dir, "-json")
	var s stats
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stats -json: %v\n%s", err, r.stdout)
	}
	return s
}

func TestDemoThenStats(t *testing.T) {
	dir := t.TempDir()
	r := must(t, "demo", "-data", dir)
	if !strings.Contains(r.stderr, "100%") {
		t.Errorf("demo shows no progress on stderr:\n%s", r.stderr)
	}
	s := readStats(t, dir)
	if s.Towns != 1 || s.Villages != 1 || s.NaturalVillages != 6 || s.Groups != 9 ||
		s.Households != 252 || s.People != 1140 || s.FarmlandMu != 1592.4 {
		t.Errorf("stats = %+v, want 1 town, 1 village, 6 natural villages, 9 groups, 252 households, 1140 people, 1592.4 mu", s)
	}
	d := demo.Village(1, time.Now())
	want := d.Counts
	total := 0
	for _, rank := range []domain.Rank{domain.RankCounty, domain.RankSection, domain.RankOther} {
		if got := s.CadresByRank[string(rank)]; got != want.Cadres[rank] {
			t.Errorf("cadres of rank %s = %d, want %d", rank, got, want.Cadres[rank])
		}
		total += want.Cadres[rank]
	}
	if s.Cadres != total {
		t.Errorf("cadres = %d, want %d", s.Cadres, total)
	}
	if s.OpenProblems != want.OpenProblems || s.PlansAwaitingReview != want.PlansAwaitingReview {
		t.Errorf("open problems %d, plans awaiting review %d; the generator made %d and %d",
			s.OpenProblems, s.PlansAwaitingReview, want.OpenProblems, want.PlansAwaitingReview)
	}
	var hhGaps, cadreGaps int
	for _, g := range d.Gaps {
		if g.Household != nil {
			hhGaps++
		} else {
			cadreGaps++
		}
	}
	if s.Gaps.Households != hhGaps || s.Gaps.Cadres != cadreGaps || hhGaps == 0 {
		t.Errorf("gaps = %+v, the generator made %d household and %d cadre gaps", s.Gaps, hhGaps, cadreGaps)
	}

	// The visits counted by stats are the visits in the store.
	db := openDB(t, dir)
	visits, err := db.Count(domain.KindVisit)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s.Visits != visits || visits < 500 {
		t.Errorf("stats says %d visits, the store holds %d", s.Visits, visits)
	}

	// The table has the same figures with both labels.
	text := must(t, "stats", "-data", dir).stdout
	for _, re := range []string{`户\s+households\s+252\n`, `人口\s+people\s+1140\n`, `耕地（亩）\s+farmland \(mu\)\s+1592\.4\n`,
		`自然村\s+natural villages\s+6\n`, `社\s+groups\s+9\n`, fmt.Sprintf(`走访\s+visits\s+%d\n`, visits)} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("stats table lacks %q:\n%s", re, text)
		}
	}

	// A second demo is refused; -force writes it afresh.
	if r := run(t, "demo", "-data", dir); r.code != 1 || !strings.Contains(r.stderr, "-force") {
		t.Errorf("demo on a full store: %s", r)
	}
	must(t, "demo", "-data", dir, "-force", "-seed", "2")
	if s := readStats(t, dir); s.Households != 252 || s.Villages != 1 {
		t.Errorf("after demo -force: %+v", s)
	}
}

// TestLockedStore holds the store open in this process, as a running server
// does, and checks that every admin command fails fast with the message.
func TestLockedStore(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	defer db.Close()
	before, err := db.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.xlsx")
	for _, args := range [][]string{
		{"stats", "-data", dir},
		{"demo", "-data", dir, "-force"},
		{"import", "-data", dir, filepath.Join("testdata", "roster.csv")},
		{"import", "-data", dir, "-dry-run", filepath.Join("testdata", "roster.csv")},
		{"enroll", "-data", dir, "-cadre", "anyone"},
		{"devices", "-data", dir},
		{"revoke", "-data", dir, "-reason", "lost", "01234567-89ab-cdef-0123-456789abcdef"},
		{"lockouts", "-data", dir},
		{"export", "-data", dir, "-o", out},
	} {
		r := run(t, args...)
		if r.code != 3 {
			t.Errorf("bangfud %s on a held store: %s", strings.Join(args, " "), r)
			continue
		}
		if !strings.Contains(r.stderr, "请先停止服务器") || !strings.Contains(r.stderr, "stop it first") {
			t.Errorf("bangfud %s: the message does not say to stop the server:\n%s", args[0], r.stderr)
		}
		if r.took > 5*time.Second {
			t.Errorf("bangfud %s took %s to give up", args[0], r.took)
		}
	}
	if after, err := db.LastSeq(); err != nil || after != before {
		t.Errorf("the held store changed: log %d -> %d (%v)", before, after, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("export wrote %s while the store was held", out)
	}
}

// badLines are the bad rows of testdata/roster_bad.csv, by line.
var badLines = map[int]string{
	2:  "户主姓名不能为空",
	3:  "校验位",
	4:  "富裕户",
	5:  "不是整数",
	6:  "请填写所属的社",
	7:  "应为 11 位",
	9:  "与第 8 行是同一户",
	12: "处级干部",
	16: "郑十一",
	17: "科级干部",
	18: "三社",
}

// badRows are the bad rows of testdata/roster_bad.xlsx, by sheet and row.
var badRows = map[string]string{
	`"农户" row 2`: "户主姓名不能为空",
	`"农户" row 3`: "校验位",
	`"农户" row 4`: "富裕户",
	`"农户" row 5`: "不是整数",
	`"农户" row 6`: "请填写所属的社",
	`"农户" row 7`: "应为 11 位",
	`"农户" row 9`: "第 8 行是同一户",
	`"干部" row 2`: "处级干部",
	`"结对" row 2`: "郑十一",
	`"结对" row 3`: "科级干部",
	`"结对" row 4`: "三社",
}

// reportedRows returns the bad-row lines of an import's output by location.
func reportedRows(out string) map[string]string {
	got := map[string]string{}
	re := regexp.MustCompile(`(?m)^  (?:第 \d+ 行|工作表“[^”]+”第 \d+ 行) / (line \d+|sheet "[^"]+" row \d+): (.*)$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	return got
}

func TestImportDryRunListsBadRows(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		{"roster_bad.csv", func() map[string]string {
			m := map[string]string{}
			for line, reason := range badLines {
				m[fmt.Sprintf("line %d", line)] = reason
			}
			return m
		}()},
		{"roster_bad.xlsx", func() map[string]string {
			m := map[string]string{}
			for where, reason := range badRows {
				m["sheet "+where] = reason
			}
			return m
		}()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := demoDir(t)
			db := openDB(t, dir)
			before, _ := db.LastSeq()
			db.Close()

			r := run(t, "import", "-data", dir, "-dry-run", filepath.Join("testdata", tc.file))
			if r.code != 1 {
				t.Fatalf("dry run of a bad file: %s", r)
			}
			got := reportedRows(r.stdout)
			for where, reason := range tc.want {
				msg, ok := got[where]
				if !ok {
					t.Errorf("%s is not listed:\n%s", where, r.stdout)
					continue
				}
				if !strings.Contains(msg, reason) {
					t.Errorf("%s: %q, want a reason with %q", where, msg, reason)
				}
				// Chinese, then English in brackets.
				if !regexp.MustCompile(`\p{Han}.* \(.*[a-z]{3}.*\)$`).MatchString(msg) {
					t.Errorf("%s: %q is not in Chinese and English", where, msg)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("listed %d bad rows, want %d:\n%s", len(got), len(tc.want), r.stdout)
			}
			if !strings.Contains(r.stderr, "nothing written") {
				t.Errorf("the dry run does not say it wrote nothing: %s", r.stderr)
			}
			db = openDB(t, dir)
			after, _ := db.LastSeq()
			db.Close()
			if after != before {
				t.Errorf("a dry run wrote: log %d -> %d", before, after)
			}
		})
	}
}

func TestImportDryRunWithoutStoreCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	r := run(t, "import", "-data", dir, "-dry-run", filepath.Join("testdata", "roster.csv"))
	if r.code != 0 || !strings.Contains(r.stdout, "check passed") {
		t.Fatalf("dry run of the good file: %s", r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a dry run created %s", dir)
	}
}

func TestImportBadFileWritesNothing(t *testing.T) {
	dir := demoDir(t)
	before := readStats(t, dir)
	db := openDB(t, dir)
	seq, _ := db.LastSeq()
	db.Close()

	r := run(t, "import", "-data", dir, filepath.Join("testdata", "roster_bad.csv"))
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was written") || !strings.Contains(r.stderr, "未写入任何数据") {
		t.Fatalf("import of a bad file: %s", r)
	}
	if got := len(reportedRows(r.stdout)); got != len(badLines) {
		t.Errorf("listed %d bad rows, want %d:\n%s", got, len(badLines), r.stdout)
	}
	if after := readStats(t, dir); after.Households != before.Households || after.Cadres != before.Cadres || after.Villages != before.Villages {
		t.Errorf("stats changed after a refused import: %+v -> %+v", before, after)
	}
	db = openDB(t, dir)
	defer db.Close()
	if after, _ := db.LastSeq(); after != seq {
		t.Errorf("a refused import wrote: log %d -> %d", seq, after)
	}
}

func TestImportGoodFile(t *testing.T) {
	// Into an empty store: the file creates its city, town, village, natural
	// villages and groups.
	dir := t.TempDir()
	r := must(t, "import", "-data", dir, filepath.Join("testdata", "roster.csv"))
	if !strings.Contains(r.stdout, "households: 6 new") || !strings.Contains(r.stdout, "assignments: 9 new") {
		t.Errorf("import summary:\n%s", r.stdout)
	}
	s := readStats(t, dir)
	if s.Towns != 1 || s.Villages != 1 || s.NaturalVillages != 2 || s.Groups != 2 || s.Households != 6 ||
		s.People != 27 || s.FarmlandMu != 30.4 || s.Cadres != 4 ||
		s.CadresByRank["county"] != 1 || s.CadresByRank["section"] != 2 || s.CadresByRank["other"] != 1 {
		t.Errorf("stats after import = %+v", s)
	}
	// Three households have all three levels; the other three miss some;
	// the county-level leader has his three, the section-level cadre her two.
	if s.Gaps.Households != 4 || s.Gaps.Cadres != 1 || s.Gaps.RankMismatches != 0 {
		t.Errorf("gaps after import = %+v", s.Gaps)
	}

	// The XLSX holds the same roster: importing it changes nothing.
	r = must(t, "import", "-data", dir, filepath.Join("testdata", "roster.xlsx"))
	if !strings.Contains(r.stdout, "nothing to change") || !strings.Contains(r.stdout, "unchanged: 19") {
		t.Errorf("second import:\n%s", r.stdout)
	}
	if s2 := readStats(t, dir); s2.Households != 6 || s2.Cadres != 4 {
		t.Errorf("stats after the second import = %+v", s2)
	}

	// Into the demo store: a second village in the same town and city.
	dir = demoDir(t)
	must(t, "import", "-data", dir, filepath.Join("testdata", "roster.xlsx"))
	s = readStats(t, dir)
	if s.Towns != 1 || s.Villages != 2 || s.Households != 258 || s.People != 1167 || s.FarmlandMu != 1622.8 {
		t.Errorf("demo plus import = %+v", s)
	}
	db := openDB(t, dir)
	defer db.Close()
	var heads []string
	db.Each(domain.KindHousehold, func(r domain.Record) error {
		if h := r.(*domain.Household); h.Phone == "0930-6212345" {
			heads = append(heads, h.HeadName)
			if h.Status != domain.Lifted || h.Size != 3 || h.Farmland != 2.4 {
				t.Errorf("赵桂兰's household = %+v", h)
			}
		}
		return nil
	})
	if len(heads) != 1 || heads[0] != "赵桂兰" {
		t.Errorf("households with 赵桂兰's phone: %v", heads)
	}
}

func TestEnrollPrintsCode(t *testing.T) {
	dir := demoDir(t)
	d := demo.Village(1, time.Now())
	for _, who := range []string{d.GroupCadre.Name, d.TeamLeader.ID.String()} {
		r := must(t, "enroll", "-data", dir, "-cadre", who, "-ttl", "2h")
		if !regexp.MustCompile(`(?m)^注册码 / enrolment code: [2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(r.stdout) {
			t.Errorf("enroll -cadre %s printed no code:\n%s", who, r.stdout)
		}
	}
	if r := run(t, "enroll", "-data", dir, "-cadre", "没有这个人"); r.code != 1 || !strings.Contains(r.stderr, "no cadre named") {
		t.Errorf("enroll of an unknown cadre: %s", r)
	}
	if r := run(t, "enroll", "-data", dir); r.code != 2 {
		t.Errorf("enroll without -cadre: %s", r)
	}
}

func TestExport(t *testing.T) {
	dir := demoDir(t)
	must(t, "import", "-data", dir, filepath.Join("testdata", "roster.csv"))
	s := readStats(t, dir)
	db := openDB(t, dir)
	plans, _ := db.Count(domain.KindPlan)
	measures, _ := db.Count(domain.KindMeasure)
	problems, _ := db.Count(domain.KindProblem)
	gaps, err := query.Assistance(db, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	cov, err := query.Coverage(db, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	assignments, _ := db.Count(domain.KindAssignment)
	photos, _ := db.Count(domain.KindPhoto)
	db.Close()

	out := filepath.Join(t.TempDir(), "月报.xlsx")
	r := must(t, "export", "-data", dir, "-o", out)
	rows := sheetRows(t, out)
	want := map[string]int{
		"走访记录":     s.Visits,
		"问题台账":     problems, // no range: every problem
		"一户一策":     measures, // one row per measure; every demo plan has measures
		"结对帮扶花名册":  s.Households,
		"缺少帮扶层级的户": len(gaps.Households),
		"未达结对数的干部": len(gaps.Cadres),
		"职级不符的结对":  len(gaps.Mismatches),
		"帮扶力量覆盖": len(cov.GroupsWithoutCadre) + len(cov.VillagesWithoutLeader) + len(cov.VillagesWithoutContact) +
			len(cov.TownsWithoutLead) + len(cov.Stationed),
		"帮扶力量调整记录": assignments, // nothing ended yet
		"照片":       photos,
	}
	if plans == 0 || measures < plans {
		t.Fatalf("the demo has %d plans and %d measures", plans, measures)
	}
	for sheet, n := range want {
		got, ok := rows[sheet]
		if !ok {
			t.Errorf("no sheet %s in %v", sheet, keys(rows))
			continue
		}
		if len(got)-1 != n {
			t.Errorf("sheet %s has %d data rows, want %d", sheet, len(got)-1, n)
		}
	}
	if len(rows) != len(want)+1 || len(rows["干部走访汇总"]) < 2 {
		t.Errorf("sheets %v, want %d and 干部走访汇总", keys(rows), len(want)+1)
	}
	if h := rows["走访记录"][0]; len(h) < 5 || h[0] != "走访时间" || h[2] != "村" || h[5] != "户主" {
		t.Errorf("visits header = %v", h)
	}
	if !strings.Contains(r.stdout, out) {
		t.Errorf("export output: %s", r.stdout)
	}

	// One village: the imported 李家村 has no visits or plans, and four
	// households missing a level.
	out = filepath.Join(t.TempDir(), "lijia.xlsx")
	must(t, "export", "-data", dir, "-o", out, "-village", "李家村")
	rows = sheetRows(t, out)
	if len(rows["走访记录"]) != 1 || len(rows["一户一策"]) != 1 || len(rows["缺少帮扶层级的户"]) != 5 || len(rows["未达结对数的干部"]) != 2 {
		t.Errorf("李家村 export rows: visits %d, plans %d, household gaps %d, cadre gaps %d",
			len(rows["走访记录"]), len(rows["一户一策"]), len(rows["缺少帮扶层级的户"]), len(rows["未达结对数的干部"]))
	}
	for _, row := range rows["缺少帮扶层级的户"][1:] {
		if row[1] != "李家村" {
			t.Errorf("a 李家村 export lists %v", row)
		}
	}
	if r := run(t, "export", "-data", dir, "-o", out, "-village", "无此村"); r.code != 1 || !strings.Contains(r.stderr, "no village named") {
		t.Errorf("export of an unknown village: %s", r)
	}
}

func sheetRows(t *testing.T, path string) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("excelize cannot read %s: %v", path, err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = rows[2:] // below the title block, from the header

	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUsage(t *testing.T) {
	if r := run(t); r.code != 2 || !strings.Contains(r.stderr, "serve") {
		t.Errorf("no arguments: %s", r)
	}
	if r := run(t, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command: %s", r)
	}
	r := run(t, "import", "-h")
	if r.code != 0 {
		t.Errorf("import -h: %s", r)
	}
	for _, want := range []string{"户主", "身份证号", "职级", "职责", "县级结对", "line number", "Stop the server", "roster_bad.csv"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("import -h does not mention %q", want)
		}
	}
	if r := run(t, "stats", "-bogus"); r.code != 2 {
		t.Errorf("stats -bogus: %s", r)
	}
}

// TestDevicesPrintsPlainText: names with terminal escapes and line breaks,
// as an older server stored them, print escaped: `bangfud devices` shows one
// row per device and no escape reaches the terminal. (Issue 7, finding 8.)
func TestDevicesPrintsPlainText(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	d := demo.Village(1, time.Now())
	code, err := syncserver.NewBolt(db).CreateEnrolCode(d.GroupCadre.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	phone := uuid.New()
	if _, _, err := syncserver.NewBolt(db).Enroll(code, phone, "手机", db.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Today's server refuses such names; an older one stored them.
	fake := "手机\n" + uuid.NewString() + "  假设备  王队长  2025-01-01 08:00  2025-01-01 08:00  正常 / active\x1b[2J\x1b]0;owned\a\u202e"
	raw, err := bolt.Open(filepath.Join(dir, "bangfu.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("devices"))
		var row map[string]any
		if err := json.Unmarshal(b.Get(phone[:]), &row); err != nil {
			return err
		}
		row["name"] = fake
		v, err := json.Marshal(row)
		if err != nil {
			return err
		}
		return b.Put(phone[:], v)
	})
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	out := must(t, "devices", "-data", dir).stdout
	for _, bad := range []string{"\x1b", "\a", "\u202e", "\r"} {
		if strings.Contains(out, bad) {
			t.Errorf("devices printed %q raw:\n%q", bad, out)
		}
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], phone.String()) || !strings.Contains(lines[1], `手机\n`) ||
		!strings.Contains(lines[1], `\x1b[2J`) || !strings.Contains(lines[1], `\u202e`) {
		t.Errorf("devices printed %d lines, want a header and one row with the name escaped:\n%s", len(lines), out)
	}
}

// TestRevokeReasonsAndLockouts: revoke needs a reason, devices shows it, and
// lockouts lists the enrolment lockouts the server recorded.
func TestRevokeReasonsAndLockouts(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	d := demo.Village(1, time.Now())
	code, err := syncserver.NewBolt(db).CreateEnrolCode(d.GroupCadre.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	phone := uuid.New()
	if _, _, err := syncserver.NewBolt(db).Enroll(code, phone, "旧手机", db.Now()); err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	for _, l := range []replica.Lockout{{Address: "192.0.2.7", From: now, Until: now.Add(time.Hour), Failures: 10},
		{From: now, Until: now.Add(time.Hour), Failures: 60}, {Address: "old", From: now.Add(-3 * time.Hour), Until: now.Add(-2 * time.Hour)}} {
		if err := syncserver.NewBolt(db).RecordLockout(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "revoke", "-data", dir, phone.String()); r.code != 2 || !strings.Contains(r.stderr, "-reason") {
		t.Errorf("revoke without a reason: %s", r)
	}
	if r := run(t, "revoke", "-data", dir, "-reason", "stolen", phone.String()); r.code != 2 {
		t.Errorf("revoke for an unknown reason: %s", r)
	}
	must(t, "revoke", "-data", dir, "-reason", "replaced", phone.String())
	if out := must(t, "devices", "-data", dir).stdout; !regexp.MustCompile(phone.String() + `.*replaced, last push pending`).MatchString(out) {
		t.Errorf("devices after revoke -reason replaced:\n%s", out)
	}
	must(t, "revoke", "-data", dir, "-reason", "lost", phone.String())
	if out := must(t, "devices", "-data", dir).stdout; !regexp.MustCompile(phone.String() + `.*revoked \(lost\)`).MatchString(out) {
		t.Errorf("devices after revoke -reason lost:\n%s", out)
	}
	out := must(t, "lockouts", "-data", dir).stdout
	if !strings.Contains(out, "192.0.2.7") || !strings.Contains(out, "every address") || strings.Contains(out, "old") {
		t.Errorf("lockouts:\n%s", out)
	}
	if out := must(t, "lockouts", "-data", dir, "-all").stdout; !strings.Contains(out, "old") {
		t.Errorf("lockouts -all:\n%s", out)
	}
}
