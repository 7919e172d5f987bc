// Package synctest runs real sync servers and devices for tests: a small
// roster written into a bbolt store, a sync server on 127.0.0.1 over its own
// file that can be stopped and started again on the same address, devices
// each with their own file and an enrolled sync client, and a way to read
// every record of a replica field by field, so that replicas can be compared.
//
// Nothing here is a fake: the servers are sync/server on real sockets, the
// stores are store.DB files in the test's temporary directory.
package synctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// World is a small roster: one city, one town, two villages. 王坪村 has two
// groups with four households each, every household with a plan of two
// measures; 石头村 has one group of three households. Cadre1 and Cadre2 are the
// group cadres (包社干部) of 王坪村's groups, Cadre1 also the helper of one
// household in Cadre2's group; Leader leads 王坪村's work team; Cadre3 is the
// group cadre of 石头村's group; Office is the city office.
type World struct {
	Admin                  uuid.UUID // the author of the roster
	City, Town             *domain.Place
	Village, Village2      *domain.Place // 王坪村, 石头村
	G1, G2, G3             *domain.Place // 一社 and 二社 of 王坪村, 一社 of 石头村
	Households             []*domain.Household
	Plans                  []*domain.Plan
	Measures               []*domain.Measure
	Cadre1, Cadre2, Cadre3 *domain.Cadre
	Leader, Office         *domain.Cadre
	Paired                 *domain.Household // in G2, helped by Cadre1
}

// Group returns the households of a group.
func (w *World) Group(g *domain.Place) []*domain.Household {
	var out []*domain.Household
	for _, h := range w.Households {
		if h.Group == g.ID {
			out = append(out, h)
		}
	}
	return out
}

// BuildWorld writes the roster into db as of now.
func BuildWorld(db *store.DB, now time.Time) (*World, error) {
	w := &World{Admin: uuid.New()}
	put := func(recs ...domain.Record) error { return db.Put(w.Admin, recs...) }
	w.City = &domain.Place{Level: domain.City, Name: "临夏市"}
	if err := put(w.City); err != nil {
		return nil, err
	}
	w.Town = &domain.Place{Level: domain.Town, Name: "枹罕镇", Parent: w.City.ID}
	if err := put(w.Town); err != nil {
		return nil, err
	}
	w.Village = &domain.Place{Level: domain.Village, Name: "王坪村", Parent: w.Town.ID}
	w.Village2 = &domain.Place{Level: domain.Village, Name: "石头村", Parent: w.Town.ID}
	if err := put(w.Village, w.Village2); err != nil {
		return nil, err
	}
	w.G1 = &domain.Place{Level: domain.Group, Name: "一社", Parent: w.Village.ID}
	w.G2 = &domain.Place{Level: domain.Group, Name: "二社", Parent: w.Village.ID}
	w.G3 = &domain.Place{Level: domain.Group, Name: "一社", Parent: w.Village2.ID}
	if err := put(w.G1, w.G2, w.G3); err != nil {
		return nil, err
	}
	names := []string{"王兴文", "马进福", "李春花", "张德明", "马秀英", "王建国", "冶正清", "韩桂兰", "石有才", "石玉梅", "何三宝"}
	groups := []*domain.Place{w.G1, w.G1, w.G1, w.G1, w.G2, w.G2, w.G2, w.G2, w.G3, w.G3, w.G3}
	statuses := []domain.Status{domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary}
	start := now.AddDate(0, -2, 0).Truncate(24 * time.Hour)
	for i, name := range names {
		h := &domain.Household{HeadName: name, Group: groups[i].ID, Status: statuses[i%4], Size: 2 + i%5,
			Farmland: float64(3 + i), Phone: fmt.Sprintf("1390930%04d", i), Address: fmt.Sprintf("%s%d号", groups[i].Name, i+1)}
		if err := put(h); err != nil {
			return nil, err
		}
		w.Households = append(w.Households, h)
		if groups[i] == w.G3 {
			continue
		}
		p := &domain.Plan{Household: h.ID, Goal: "发展庭院经济，年增收三千元", Start: start, Status: domain.PlanDraft}
		if err := put(p); err != nil {
			return nil, err
		}
		w.Plans = append(w.Plans, p)
		for j, k := range []domain.MeasureKind{domain.MeasureFarming, domain.MeasureHandicraft} {
			m := &domain.Measure{Plan: p.ID, Household: h.ID, Type: k, Description: []string{"散养鸡 50 只", "绣花鞋垫"}[j],
				Target: "年增收 1500 元", Due: start.AddDate(0, 6, 0), Progress: domain.NotStarted}
			if err := put(m); err != nil {
				return nil, err
			}
			w.Measures = append(w.Measures, m)
		}
	}
	w.Paired = w.Households[4]
	w.Cadre1 = &domain.Cadre{Name: "马兴文", Rank: domain.RankOther, Phone: "13909301001", Unit: "枹罕镇政府"}
	w.Cadre2 = &domain.Cadre{Name: "李明", Rank: domain.RankOther, Phone: "13909301002", Unit: "枹罕镇政府"}
	w.Cadre3 = &domain.Cadre{Name: "石磊", Rank: domain.RankOther, Phone: "13909301003", Unit: "枹罕镇政府"}
	w.Leader = &domain.Cadre{Name: "王队长", Rank: domain.RankSection, Phone: "13909301004", Unit: "市农业农村局"}
	w.Office = &domain.Cadre{Name: "赵主任", Rank: domain.RankSection, Phone: "13909301005", Unit: "市乡村振兴局"}
	if err := put(w.Cadre1, w.Cadre2, w.Cadre3, w.Leader, w.Office); err != nil {
		return nil, err
	}
	err := put(
		&domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.GroupCadre, Target: w.G1.ID, Since: start},
		&domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.Helper, Target: w.Paired.ID, Since: start},
		&domain.Assignment{Cadre: w.Cadre2.ID, Role: domain.GroupCadre, Target: w.G2.ID, Since: start},
		&domain.Assignment{Cadre: w.Cadre3.ID, Role: domain.GroupCadre, Target: w.G3.ID, Since: start},
		&domain.Assignment{Cadre: w.Leader.ID, Role: domain.TeamLeader, Target: w.Village.ID, Since: start},
		&domain.Assignment{Cadre: w.Office.ID, Role: domain.Office, Target: w.City.ID, Since: start},
	)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Server is a sync server over a bbolt file, listening on 127.0.0.1.
type Server struct {
	URL  string    // http://127.0.0.1:port
	Path string    // the store's file
	DB   *store.DB // the server's store, while running
	// Reg is the server's device registry (in DB's local buckets), while
	// running.
	Reg *server.BoltRegistry
	// Starts counts the times the server was started.
	Starts int

	addr      string
	opts      server.Options
	storeOpts store.Options
	hs        *http.Server
	done      chan struct{}
}

// StartServer opens (or creates) the store at path and serves it on a free
// port of 127.0.0.1. The server is stopped at the end of the test.
func StartServer(tb testing.TB, path string, opts server.Options, storeOpts *store.Options) *Server {
	tb.Helper()
	s := &Server{Path: path, opts: opts}
	if storeOpts != nil {
		s.storeOpts = *storeOpts
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := s.start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) start(addr string) error {
	db, err := store.Open(s.Path, &s.storeOpts)
	if err != nil {
		return err
	}
	var ln net.Listener
	for try := 0; ; try++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old socket is still closing
	}
	if err != nil {
		db.Close()
		return err
	}
	bolt := server.NewBolt(db)
	s.DB, s.Reg, s.addr, s.URL = db, bolt.BoltRegistry, ln.Addr().String(), "http://"+ln.Addr().String()
	s.hs = &http.Server{Handler: server.New(bolt, s.opts), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func(hs *http.Server, done chan struct{}) {
		hs.Serve(ln)
		close(done)
	}(s.hs, s.done)
	s.Starts++
	return nil
}

// Stop shuts the server down, letting requests under way finish, and closes
// its store. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.hs.Shutdown(ctx); err != nil {
		s.hs.Close()
	}
	<-s.done
	s.DB.Close()
	s.hs, s.DB = nil, nil
}

// Restart stops the server and starts it again on the same address over the
// same file, as a process restart would.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	if err := s.start(s.addr); err != nil {
		tb.Fatal(err)
	}
}

// Code issues a one-time enrolment code for cadre, valid for an hour.
func (s *Server) Code(tb testing.TB, cadre uuid.UUID) string {
	tb.Helper()
	code, err := s.Reg.CreateEnrolCode(cadre, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// Device is a device with its own store and an enrolled sync client.
type Device struct {
	Name   string
	Path   string
	DB     *store.DB
	Client *client.Client
	Cadre  uuid.UUID

	opts      client.Options
	storeOpts store.Options
}

// NewDevice opens a store for a device named name in dir and enrols it with
// srv for cadre. opts configure its client (HTTP, backoff...); storeOpts its
// store (a skewed clock...). The device is closed at the end of the test.
func NewDevice(tb testing.TB, dir, name string, srv *Server, cadre uuid.UUID, opts client.Options, storeOpts *store.Options) *Device {
	tb.Helper()
	d := &Device{Name: name, Path: filepath.Join(dir, name+".db"), Cadre: cadre, opts: opts}
	if storeOpts != nil {
		d.storeOpts = *storeOpts
	}
	if d.opts.Logger == nil {
		d.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := d.open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.DB.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Client.Enroll(ctx, srv.URL, srv.Code(tb, cadre), name); err != nil {
		tb.Fatalf("enrol %s: %v", name, err)
	}
	return d
}

func (d *Device) open() error {
	db, err := store.Open(d.Path, &d.storeOpts)
	if err != nil {
		return err
	}
	c, err := client.New(db, d.opts)
	if err != nil {
		db.Close()
		return err
	}
	d.DB, d.Client = db, c
	return nil
}

// Restart closes the device's store and opens it again with a new client,
// as when the app is killed and started again.
func (d *Device) Restart(tb testing.TB) {
	tb.Helper()
	if err := d.DB.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := d.open(); err != nil {
		tb.Fatal(err)
	}
}

// Sync syncs the device once, within a minute.
func (d *Device) Sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return d.Client.Sync(ctx)
}

// Key names a record.
type Key struct {
	Kind domain.Kind
	ID   uuid.UUID
}

func (k Key) String() string { return string(k.Kind) + " " + k.ID.String()[:8] }

// Records returns every record a replica holds, deleted ones included, field
// by field with the stamp and author of the edit that set each field. The
// records are found through the log, which every record enters by.
func Records(db *store.DB) (map[Key]map[string]domain.FieldState, error) {
	keys := map[Key]bool{}
	err := db.Log(0, func(e store.Entry) (bool, error) {
		keys[Key{e.Change.Kind, e.Change.Record}] = true
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[Key]map[string]domain.FieldState, len(keys))
	for k := range keys {
		st, err := db.FieldStates(k.Kind, k.ID)
		if errors.Is(err, domain.ErrNotFound) {
			continue // a change that was rejected, or never applied
		}
		if err != nil {
			return nil, err
		}
		out[k] = st
	}
	return out, nil
}

// Decode returns the record whose fields are st.
func Decode(k Key, st map[string]domain.FieldState) (domain.Record, error) {
	f := domain.Fields{}
	for name, s := range st {
		f[name] = s.Value
	}
	return domain.Decode(k.Kind, k.ID, f)
}

// Check is the outcome of CheckNothingLost.
type Check struct {
	Edits int      // field values written by some edit, checked
	Lost  []string // values lost without a trace, described
}

// CheckNothingLost checks on a replica that holds every change (a server
// after a final sync) that no edited value was lost without a trace: every
// value any change wrote to a field is the field's value now, or equal to
// it, or was overwritten by an edit whose author had seen it (the edit's
// base), or is kept as the loser of a conflict record — or another edit of
// the same field wrote the same value and is one of those (the merge rule
// keeps no conflict between equal values). It does not use the merge rule:
// it reads the log, the records and the conflict records.
func CheckNothingLost(db *store.DB) (Check, error) {
	var c Check
	recs, err := Records(db)
	if err != nil {
		return c, err
	}
	type fieldKey struct {
		record uuid.UUID
		field  string
	}
	type lossKey struct {
		fieldKey
		stamp string
	}
	kept := map[lossKey]string{} // conflict losers: value as compact JSON
	for k, st := range recs {
		if k.Kind != domain.KindConflict {
			continue
		}
		rec, err := Decode(k, st)
		if err != nil {
			return c, err
		}
		cf := rec.(*domain.Conflict)
		kept[lossKey{fieldKey{cf.Record, cf.Field}, cf.LoserStamp}] = compact(cf.Loser)
	}
	seen := map[lossKey]bool{} // bases: values some editor saw
	type edit struct {
		key   Key
		field string
		stamp domain.Stamp
		value string
	}
	var edits []edit
	err = db.Log(0, func(e store.Entry) (bool, error) {
		ch := e.Change
		if ch.Kind == domain.KindConflict {
			return true, nil
		}
		for f, b := range ch.Base {
			seen[lossKey{fieldKey{ch.Record, f}, b.String()}] = true
		}
		for f, v := range ch.Fields {
			edits = append(edits, edit{Key{ch.Kind, ch.Record}, f, ch.Stamp, compact(v)})
		}
		return true, nil
	})
	if err != nil {
		return c, err
	}
	// Edits that wrote the same value to the same field are one piece of
	// information: the merge rule keeps no conflict between equal values,
	// so it is enough that one of them was kept, seen or is current.
	type valueKey struct {
		fieldKey
		value string
	}
	kept2 := map[valueKey]bool{}
	for _, e := range edits {
		c.Edits++
		now, ok := recs[e.key][e.field]
		lk := lossKey{fieldKey{e.key.ID, e.field}, e.stamp.String()}
		if (ok && now.Stamp == e.stamp) || (ok && compact(now.Value) == e.value) || seen[lk] || kept[lk] == e.value {
			kept2[valueKey{lk.fieldKey, e.value}] = true
		}
	}
	for _, e := range edits {
		if kept2[valueKey{fieldKey{e.key.ID, e.field}, e.value}] {
			continue
		}
		now := recs[e.key][e.field]
		c.Lost = append(c.Lost, fmt.Sprintf("%s.%s = %s (stamp %s) is neither current (%s), seen by a later edit, nor kept as a conflict",
			e.key, e.field, e.value, e.stamp, now.Value))
	}
	return c, nil
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// CheckScope compares the records a device holds with those the server
// says it may read now (readable, see server.Readable): every record
// readable on the server is on the device with the server's fields, stamps
// and authors (nothing missing, nothing stale), and the device holds nothing
// else (nothing extra) but the records keep names and their households' —
// those of changes the device's user has still to see refused. It returns
// the differences, described, and how many records it compared.
func CheckScope(srv, dev *store.DB, readable func(*store.Entry) bool, keep map[uuid.UUID]bool) (int, []string, error) {
	var diffs []string
	want, err := readableKeys(srv, readable)
	if err != nil {
		return 0, nil, err
	}
	for k := range want {
		s, err := srv.FieldStates(k.Kind, k.ID)
		if err != nil {
			return 0, nil, err
		}
		d, err := dev.FieldStates(k.Kind, k.ID)
		if errors.Is(err, domain.ErrNotFound) {
			diffs = append(diffs, fmt.Sprintf("%s missing", k))
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		for name, st := range s {
			ds, ok := d[name]
			if !ok || ds.Stamp != st.Stamp || ds.Author != st.Author || compact(ds.Value) != compact(st.Value) {
				diffs = append(diffs, fmt.Sprintf("%s.%s stale: device %s @ %s, server %s @ %s", k, name, ds.Value, ds.Stamp, st.Value, st.Stamp))
			}
		}
		for name := range d {
			if _, ok := s[name]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s on the device only", k, name))
			}
		}
	}
	extra, err := extraKeys(dev, want, keep)
	if err != nil {
		return 0, nil, err
	}
	for _, k := range extra {
		diffs = append(diffs, fmt.Sprintf("%s extra: out of the device's scope", k))
	}
	return len(want), diffs, nil
}

// Extra returns the records a device holds outside what the server says it
// may read now (readable), but those keep names and their households', as
// CheckScope finds them: what a device must not hold even in the middle of
// things, while its other records may still wait for a sync.
func Extra(srv, dev *store.DB, readable func(*store.Entry) bool, keep map[uuid.UUID]bool) ([]Key, error) {
	want, err := readableKeys(srv, readable)
	if err != nil {
		return nil, err
	}
	return extraKeys(dev, want, keep)
}

// readableKeys returns the records of srv that readable accepts now.
func readableKeys(srv *store.DB, readable func(*store.Entry) bool) (map[Key]bool, error) {
	want := map[Key]bool{}
	_, err := srv.State(store.StatePos{}, readable, func(_ store.StatePos, chs []domain.Change) (bool, error) {
		want[Key{chs[0].Kind, chs[0].Record}] = true
		return true, nil
	})
	return want, err
}

// extraKeys returns the records dev holds that are not in want, but those
// keep names and their households'.
func extraKeys(dev *store.DB, want map[Key]bool, keep map[uuid.UUID]bool) ([]Key, error) {
	held, err := Records(dev)
	if err != nil {
		return nil, err
	}
	household := func(st map[string]domain.FieldState) uuid.UUID {
		var id uuid.UUID
		if h, ok := st["household"]; ok {
			json.Unmarshal(h.Value, &id)
		} else if h, ok := st["target"]; ok {
			json.Unmarshal(h.Value, &id) // a pairing's household, a duty's place
		}
		return id
	}
	kept := map[uuid.UUID]bool{}
	for k, st := range held {
		if keep[k.ID] {
			kept[k.ID] = true
			if h := household(st); h != uuid.Nil {
				kept[h] = true
			}
		}
	}
	var out []Key
	for k, st := range held {
		if h := household(st); want[k] || kept[k.ID] || (h != uuid.Nil && kept[h]) {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}

// OnePage is an http.RoundTripper for a link that drops between two pages
// of a sync: once armed (Arm, before each Sync), it lets one answer to a
// sync request through and loses the next ones after the server committed
// them, so that the Sync applies one page and fails. The zero value, and
// one disarmed again, passes everything to Next (http.DefaultTransport if
// nil).
type OnePage struct {
	Next  http.RoundTripper
	armed atomic.Bool
	allow atomic.Int32
}

// Arm lets the next answer to a sync request through and loses the others.
func (o *OnePage) Arm() {
	o.allow.Store(1)
	o.armed.Store(true)
}

// Disarm passes every answer through again.
func (o *OnePage) Disarm() { o.armed.Store(false) }

func (o *OnePage) RoundTrip(r *http.Request) (*http.Response, error) {
	next := o.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || !o.armed.Load() || o.allow.Add(-1) >= 0 {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("synctest: the answer was lost between two pages")
}
