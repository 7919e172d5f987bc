package pgstore_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

var benchHouseholds = flag.Int("bench.households", 5000, "households of the generated town the benchmarks sync")

// benchNow ends the generated town's history.
var benchNow = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// benchTown is the generated town, written once into a bbolt store that
// each benchmark copies (bbolt) or loads (PostgreSQL).
var benchTown = sync.OnceValues(func() (*benchData, error) {
	d := demo.Town(3, benchNow, *benchHouseholds)
	dir, err := os.MkdirTemp("", "bangfu-pgbench-")
	if err != nil {
		return nil, err
	}
	benchDir = dir
	path := filepath.Join(dir, "town.db")
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	recs := d.Records()
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && j-i < 500 && recs[j].Kind() == recs[i].Kind() &&
			recs[j].Metadata().Author == recs[i].Metadata().Author {
			j++
		}
		if err := db.Put(recs[i].Metadata().Author, recs[i:j]...); err != nil {
			return nil, err
		}
		i = j
	}
	n, err := db.LastSeq()
	return &benchData{d: d, dir: dir, entries: n}, err
})

type benchData struct {
	d       *demo.Data
	dir     string // holds town.db
	entries uint64
}

var quiet = slog.New(slog.DiscardHandler)

// benchDir holds the generated town's store; TestMain removes it.
var benchDir string

// backend is a sync server on one storage, on 127.0.0.1.
type backend struct {
	url   string
	codes func(uuid.UUID, time.Duration) (string, error)
}

// backends starts a server on each storage, holding the town: bbolt (a
// copy of the store) and PostgreSQL (the store loaded into a new database).
func backends(b *testing.B) (*benchData, map[string]*backend) {
	b.Helper()
	needPG(b)
	td, err := benchTown()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]*backend{}
	src, err := store.Open(filepath.Join(td.dir, "town.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "server.db")
	f, err := os.Create(path)
	if err == nil {
		_, err = src.Backup(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		src.Close()
		b.Fatal(err)
	}
	url, err := pg.NewDB(context.Background())
	if err == nil {
		_, err = pgstore.Load(context.Background(), url, src)
	}
	src.Close()
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	rep, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rep.Close)
	for name, s := range map[string]server.Store{"bbolt": server.NewBolt(db), "postgres": rep} {
		h := httptest.NewServer(server.New(s, server.Options{Logger: quiet}))
		b.Cleanup(h.Close)
		be := &backend{url: h.URL, codes: server.NewBoltRegistry(db).CreateEnrolCode}
		if name == "postgres" {
			be.codes = rep.CreateEnrolCode
		}
		out[name] = be
	}
	return td, out
}

// device enrols a new device of cadre with be.
func (be *backend) device(b *testing.B, cadre uuid.UUID) (*store.DB, *client.Client) {
	b.Helper()
	return be.deviceWith(b, cadre, nil)
}

// deviceWith is device sending its requests with hc (the client's default
// if nil).
func (be *backend) deviceWith(b *testing.B, cadre uuid.UUID, hc *http.Client) (*store.DB, *client.Client) {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), uuid.NewString()+".db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c, err := client.New(db, client.Options{Logger: quiet, Interval: -1, HTTP: hc})
	if err != nil {
		b.Fatal(err)
	}
	code, err := be.codes(cadre, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Enroll(context.Background(), be.url, code, "bench"); err != nil {
		b.Fatal(err)
	}
	return db, c
}

func syncOnce(b *testing.B, c *client.Client) {
	b.Helper()
	if err := c.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := c.Status(); st.Pending != 0 || len(st.Rejected) > 0 {
		b.Fatalf("after the sync: %d waiting, %d rejected", st.Pending, len(st.Rejected))
	}
}

// BenchmarkIncrementalSync is a group cadre's phone saving one visit and
// syncing: it pushes the visit and pulls what is new for its group, from a
// server holding the whole town (-bench.households), on each storage.
func BenchmarkIncrementalSync(b *testing.B) {
	td, bes := backends(b)
	d := td.d
	var hh []*domain.Household
	for _, h := range d.Households {
		if h.Group == groupOf(d, d.GroupCadre.ID) {
			hh = append(hh, h)
		}
	}
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db, c := bes[name].device(b, d.GroupCadre.ID)
			syncOnce(b, c)
			b.ResetTimer()
			for i := range b.N {
				h := hh[i%len(hh)]
				at := time.Now().Add(-time.Hour).Truncate(time.Minute)
				v := &domain.Visit{Meta: domain.Meta{Created: at}, Household: h.ID, Cadre: d.GroupCadre.ID, At: at,
					Type: domain.VisitRoutine, Notes: fmt.Sprintf("入户走访 %d", i)}
				if err := db.Put(d.GroupCadre.ID, v); err != nil {
					b.Fatal(err)
				}
				syncOnce(b, c)
			}
			b.ReportMetric(float64(td.entries), "server-log-entries")
		})
	}
}

// BenchmarkFirstSyncVillage is a new tablet for the team leader of 王坪村
// pulling the whole village, from a server holding the whole town
// (-bench.households), on each storage.
func BenchmarkFirstSyncVillage(b *testing.B) {
	td, bes := backends(b)
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			records := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				db, c := bes[name].device(b, td.d.TeamLeader.ID)
				b.StartTimer()
				syncOnce(b, c)
				b.StopTimer()
				n, err := db.LastSeq()
				if err != nil {
					b.Fatal(err)
				}
				records = int(n)
				b.StartTimer()
			}
			b.ReportMetric(float64(records), "device-log-entries")
			b.ReportMetric(float64(td.entries), "server-log-entries")
		})
	}
}

func groupOf(d *demo.Data, cadre uuid.UUID) uuid.UUID {
	for _, a := range d.Assignments {
		if a.Cadre == cadre && a.Role == domain.GroupCadre {
			return a.Target
		}
	}
	return uuid.Nil
}

// BenchmarkScopePrint is the fingerprint of a device's scope that every
// sync works out (store.ScopePrint, on the instance's mirror), for a group
// cadre and for a village's team leader, in the generated town
// (-bench.households).
func BenchmarkScopePrint(b *testing.B) {
	td, err := benchTown()
	needPG(b)
	if err != nil {
		b.Fatal(err)
	}
	src, err := store.Open(filepath.Join(td.dir, "town.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	url, err := pg.NewDB(context.Background())
	if err == nil {
		_, err = pgstore.Load(context.Background(), url, src)
	}
	src.Close()
	if err != nil {
		b.Fatal(err)
	}
	rep, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer rep.Close()
	for _, who := range []struct {
		name  string
		cadre uuid.UUID
	}{{"group-cadre", td.d.GroupCadre.ID}, {"team-leader", td.d.TeamLeader.ID}} {
		b.Run(who.name, func(b *testing.B) {
			readable, err := server.Readable(rep, who.cadre)
			if err != nil {
				b.Fatal(err)
			}
			units := 0
			for b.Loop() {
				_, _, us, err := rep.ScopeUnits(readable)
				if err != nil {
					b.Fatal(err)
				}
				units = len(us)
			}
			b.ReportMetric(float64(units), "units")
		})
	}
}
