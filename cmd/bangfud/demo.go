package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

func (c *cli) demo(args []string) error {
	fs := c.flags("demo", "-data DIR [-seed N] [-size village|town] [-households N] [-force]", `
把演示数据写入 DIR/bangfu.db：王坪村（6 个自然村、9 个社、252 户、1140 人、1592.4 亩耕地）及其镇、市，
各级干部和结对、半年的走访、问题和一户一策计划。-size town 写入整个镇（约 -households 户），用于压力测试。
数据库已有数据时拒绝写入，除非加 -force（先清空数据库）。
Writes the demo data into DIR/bangfu.db: the village of 王坪村 (6 natural villages, 9 groups,
252 households, 1,140 people, 1,592.4 mu of farmland) with its town and city, cadres of every
rank with their pairings, six months of visits, problems and household plans. -size town writes
a whole town of about -households households, for load tests. A store that already holds data
is refused unless -force, which empties it first.`, lockedHelp)
	dir := dataFlag(fs)
	seed := fs.Int64("seed", 1, "随机种子：同一种子生成相同的数据 / seed: the same seed gives the same data")
	size := fs.String("size", "village", "village（王坪村）或 town（整个镇）/ village (王坪村) or town (a whole town)")
	households := fs.Int("households", 5000, "-size town 的户数 / households of -size town")
	force := fs.Bool("force", false, "清空已有数据后再写入 / empty a store that holds data first")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *size != "village" && *size != "town" {
		return usagef("-size 只能是 village 或 town", "-size must be village or town")
	}

	db, err := openStore(*dir)
	if err != nil {
		return err
	}
	defer func() { db.Close() }()
	empty, err := isEmpty(db)
	if err != nil {
		return err
	}
	if !empty {
		if !*force {
			return domain.Errorf(domain.ECONFLICT, "data", "数据库 %[1]s 已有数据；要清空后重写演示数据，请加 -force",
				"the store %[1]s already holds data; add -force to empty it and write the demo afresh", db.Path())
		}
		path := db.Path()
		db.Close()
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("清空数据库失败 (cannot empty the store): %w", err)
		}
		if db, err = openStore(*dir); err != nil {
			return err
		}
	}

	start := time.Now()
	var d *demo.Data
	if *size == "town" {
		d = demo.Town(*seed, start, *households)
	} else {
		d = demo.Village(*seed, start)
	}
	if err := writeDemo(db, d, newProgress(c.stderr)); err != nil {
		return err
	}
	n := d.Counts
	fmt.Fprintf(c.stdout, "已写入演示数据 / demo data written: %s\n", filepath.Clean(db.Path()))
	fmt.Fprintf(c.stdout, "  %d 个镇 towns, %d 个村 villages, %d 个自然村 natural villages, %d 个社 groups\n",
		n.Towns, n.Villages, n.NaturalVillages, n.Groups)
	fmt.Fprintf(c.stdout, "  %d 户 households, %d 人 people, %.1f 亩 mu, %d 次走访 visits\n",
		n.Households, n.People, n.Farmland, n.Visits)
	fmt.Fprintf(c.stdout, "  包社干部 group cadre: %s (%s)；驻村工作队长 team leader: %s (%s)\n",
		d.GroupCadre.Name, d.GroupCadre.Phone, d.TeamLeader.Name, d.TeamLeader.Phone)
	fmt.Fprintf(c.stdout, "  用时 / took %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// demoBatch is the most records one Put writes when loading the demo.
const demoBatch = 2000

// writeDemo saves the demo records, parents first, in batches of records of
// one kind and one author (each record's author is the cadre who made it),
// reporting progress.
func writeDemo(db *store.DB, d *demo.Data, p *progress) error {
	recs := d.Records()
	p.start("写入演示数据 / writing demo data", len(recs))
	done := 0
	for i := 0; i < len(recs); {
		// Records of one kind, in the generator's order; one Put per author.
		j := i
		for j < len(recs) && recs[j].Kind() == recs[i].Kind() {
			j++
		}
		var authors []uuid.UUID
		byAuthor := map[uuid.UUID][]domain.Record{}
		for _, r := range recs[i:j] {
			a := r.Metadata().Author
			if _, ok := byAuthor[a]; !ok {
				authors = append(authors, a)
			}
			byAuthor[a] = append(byAuthor[a], r)
		}
		if recs[i].Kind() == domain.KindPlace {
			// Places must go parents first: keep the generator's order.
			authors = []uuid.UUID{recs[i].Metadata().Author}
			byAuthor = map[uuid.UUID][]domain.Record{authors[0]: recs[i:j]}
		}
		for _, a := range authors {
			group := byAuthor[a]
			for len(group) > 0 {
				n := min(len(group), demoBatch)
				if err := db.Put(a, group[:n]...); err != nil {
					return err
				}
				group = group[n:]
				done += n
				p.update(done)
			}
		}
		i = j
	}
	p.finish()
	return nil
}

// progress reports long work on a terminal as one line redrawn in place, and
// elsewhere (a log file, a test) as a few lines.
type progress struct {
	w        io.Writer
	tty      bool
	label    string
	total    int
	lastPct  int
	lastDraw time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) start(label string, total int) {
	p.label, p.total, p.lastPct = label, total, -1
	p.update(0)
}

func (p *progress) update(done int) {
	if p == nil || p.total == 0 {
		return
	}
	pct := done * 100 / p.total
	if p.tty {
		if time.Since(p.lastDraw) < 100*time.Millisecond && done < p.total {
			return
		}
		p.lastDraw = time.Now()
		fmt.Fprintf(p.w, "\r%s: %d/%d (%d%%)", p.label, done, p.total, pct)
		return
	}
	if pct/25 == p.lastPct/25 && p.lastPct >= 0 {
		return
	}
	p.lastPct = pct
	fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, p.total, pct)
}

func (p *progress) finish() {
	if p != nil && p.tty {
		fmt.Fprintln(p.w)
	}
}
