package e2e_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

var (
	faultSeed   = flag.Uint64("fault.seed", 1, "seed of the fault simulation")
	faultRounds = flag.Int("fault.rounds", 0, "rounds of the fault simulation (0: 300, or 40 with -short)")
)

// The faults the flaky transport injects.
const (
	faultNone      = "none"
	faultDropReq   = "drop request"
	faultDropResp  = "drop response after commit"
	faultDuplicate = "duplicate request"
	faultCutResp   = "cut response body"
	faultCutReq    = "cut request body"
)

// flaky is an http.RoundTripper that loses, repeats and cuts requests and
// answers at random (seeded), passing the rest to a real transport.
type flaky struct {
	next http.RoundTripper

	mu     sync.Mutex
	rng    *rand.Rand
	off    bool
	counts map[string]int
}

func (f *flaky) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	fault := faultNone
	if !f.off {
		switch p := f.rng.IntN(100); {
		case p < 10:
			fault = faultDropReq
		case p < 22:
			fault = faultDropResp
		case p < 32:
			fault = faultDuplicate
		case p < 42:
			fault = faultCutResp
		case p < 50:
			fault = faultCutReq
		}
	}
	f.counts[fault]++
	return fault
}

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	switch f.pick() {
	case faultDropReq:
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("injected: connection refused")
	case faultDropResp:
		resp, err := f.next.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil, errors.New("injected: connection reset before the answer")
	case faultDuplicate:
		// A proxy that retries: the same request twice at once.
		if req.GetBody != nil {
			body, _ := req.GetBody()
			dup := req.Clone(req.Context())
			dup.Body = body
			done := make(chan struct{})
			go func() {
				defer close(done)
				if resp, err := f.next.RoundTrip(dup); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			resp, err := f.next.RoundTrip(req)
			<-done
			return resp, err
		}
	case faultCutResp:
		resp, err := f.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b[:len(b)/2]), errReader{}))
		return resp, nil
	case faultCutReq:
		if req.Body != nil && req.ContentLength > 1 {
			b, _ := io.ReadAll(req.Body)
			req.Body.Close()
			cut := req.Clone(req.Context())
			cut.Body = io.NopCloser(bytes.NewReader(b[:len(b)/2]))
			cut.GetBody = nil
			if resp, err := f.next.RoundTrip(cut); err == nil {
				resp.Body.Close()
			}
			return nil, errors.New("injected: connection cut while sending")
		}
	}
	return f.next.RoundTrip(req)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestFaults runs rounds in which two phones and a tablet edit at random and
// sync through a transport that drops requests, drops answers after the
// server committed, duplicates requests, cuts bodies both ways, while the
// server (and sometimes a device) restarts between rounds. Every eighth round
// the tablet and a phone edit the same visit at once, fields a content rule
// ties together or the same one (see contest): merged, the visit may break
// the rule, and since merging does not judge content it must still be the
// same everywhere. After
// a final clean sync every replica holds exactly what it should, identical
// field by field, nothing was rejected, every visit is on the server once,
// and every overridden value is kept as a conflict record.
func TestFaults(t *testing.T) {
	rounds := *faultRounds
	if rounds == 0 {
		rounds = 300
		if testing.Short() {
			rounds = 40
		}
	}
	seed := *faultSeed
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d, %d rounds (-fault.seed, -fault.rounds)", seed, rounds)
	start := time.Now()

	dir := t.TempDir()
	// Small pages, so that syncs take several round trips and faults cut
	// them in the middle.
	// Every replica reports a change merged before an edit it was based on
	// (see domain.MergeField); order checks them after each sync.
	order := &causalOrder{}
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{PageBytes: 16 << 10}, order.opts(""))
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr := &flaky{next: http.DefaultTransport.(*http.Transport).Clone(), rng: rand.New(rand.NewPCG(seed, 11)),
		counts: map[string]int{}, off: true}
	opts := client.Options{HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Seed: seed}
	phone1 := synctest.NewDevice(t, dir, "phone1", srv, w.Cadre1.ID, opts, order.opts("phone1"))
	phone2 := synctest.NewDevice(t, dir, "phone2", srv, w.Cadre2.ID, opts, order.opts("phone2"))
	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, opts, order.opts("tablet"))
	devs := []*synctest.Device{phone1, phone2, tablet}
	for _, d := range devs {
		if err := order.sync(t, d); err != nil {
			t.Fatal(err)
		}
	}
	tr.mu.Lock()
	tr.off = false
	tr.mu.Unlock()

	visits := map[uuid.UUID]string{}
	edits := map[string]int{}
	syncs := map[string]int{}
	restarts := map[string]int{}
	for round := 1; round <= rounds; round++ {
		for _, i := range rng.Perm(len(devs)) {
			d := devs[i]
			// The households the device holds: its scope as it last
			// synced, so some edits reach out of the scope the roster
			// gives it now, and are set aside.
			if hs := heldHouseholds(d); len(hs) > 0 {
				for range rng.IntN(4) {
					edits[randomEdit(t, rng, d, hs, visits, round)]++
				}
			}
			if rng.IntN(100) < 60 {
				err := order.sync(t, d)
				whole(t, d, round)
				if err == nil {
					inScope(t, srv.DB, d, round)
				}
				switch {
				case err == nil:
					syncs["succeeded"]++
				case protocol.Transient(err):
					syncs["failed: "+domain.ErrorCode(err)]++
				case domain.ErrorCode(err) == domain.EFORBIDDEN && !errors.As(err, new(*protocol.ChangesError)):
					// A refusal whose body was cut: the device cannot tell
					// which changes to set aside, reports it, and the next
					// sync asks again.
					syncs["failed: forbidden, answer cut"]++
				default:
					t.Fatalf("round %d: %s: permanent error %v", round, d.Name, err)
				}
			}
			if rng.IntN(100) < 4 {
				d.Restart(t)
				restarts["device"]++
			}
		}
		if rng.IntN(100) < 25 {
			edits["roster: "+rosterStep(t, rng, srv, w, devs)]++
		}
		if round%8 == 0 {
			phone := []*synctest.Device{phone1, phone2}[rng.IntN(2)]
			for _, e := range contest(t, rng, tablet, phone, contested[(round/8)%len(contested)], visits, round) {
				edits["contested "+e]++
			}
		}
		if rng.IntN(100) < 10 {
			srv.Restart(t)
			restarts["server"]++
		}
	}

	// A final clean sync, round the devices until a whole round brings
	// the server nothing new (twice at least), so that everyone has
	// everyone's: changes set aside that a catch-up brought back in scope
	// reach the server in the sync that caught up.
	tr.mu.Lock()
	tr.off = true
	tr.mu.Unlock()
	for i := 0; ; i++ {
		before, _ := srv.DB.LastSeq()
		for _, d := range devs {
			if err := order.sync(t, d); err != nil {
				t.Fatalf("final sync of %s: %v", d.Name, err)
			}
		}
		if after, _ := srv.DB.LastSeq(); i >= 1 && after == before {
			break
		}
		if i == 5 {
			t.Fatal("the final syncs do not settle")
		}
	}
	// Changes are refused only as out of scope (set aside: the roster
	// moved under them), and stay on their device.
	scopes := map[string]sees{}
	kept := map[string]map[uuid.UUID]bool{}
	setAside := 0
	for _, d := range devs {
		st := d.Client.Status()
		if st.Pending != 0 {
			t.Errorf("%s after the final sync: %d waiting", d.Name, st.Pending)
		}
		kept[d.Name] = map[uuid.UUID]bool{}
		for _, r := range st.Rejected {
			if r.Err == nil || r.Err.Code != domain.EFORBIDDEN {
				t.Errorf("%s: change %s rejected: %+v", d.Name, r.Change, r.Err)
				continue
			}
			setAside++
			kept[d.Name][r.Record] = true
			if rec, err := d.DB.Get(r.Kind, r.Record); err == nil {
				kept[d.Name][householdOf(rec)] = true
			}
			if ok, err := d.DB.Seen(r.Change); !ok || err != nil {
				t.Errorf("%s: the change %s set aside is not on the device", d.Name, r.Change)
			}
			if r.Kind == domain.KindVisit {
				if _, err := d.DB.Get(domain.KindVisit, r.Record); err != nil {
					t.Errorf("%s: the visit %s set aside is not on the device: %v", d.Name, r.Record, err)
				}
				if _, ok := srv.DB.Get(domain.KindVisit, r.Record); ok != nil {
					delete(visits, r.Record) // made out of scope: never on the server
				}
			}
		}
		// Nothing waits to leave a device but what a refusal keeps: once
		// nothing is unsent, what left the scope is gone.
		if n, err := d.DB.Leaving(); err != nil || n > 0 && len(kept[d.Name]) == 0 {
			t.Errorf("%s after the final sync: %d records wait to leave, though nothing keeps them (%v)", d.Name, n, err)
		}
		scopes[d.Name] = rosterSees(t, srv.DB, w, d.Cadre)
	}
	c := converged(t, srv.DB, map[string]*store.DB{"phone1": phone1.DB, "phone2": phone2.DB, "tablet": tablet.DB}, scopes, kept, visits)
	inScope := checkScopes(t, srv.DB, devs)
	modelled := modelAgrees(t, srv.DB, order)
	early := order.check(t)

	tr.mu.Lock()
	faults := maps.Clone(tr.counts)
	tr.mu.Unlock()
	t.Logf("faults injected: %s", show(faults))
	t.Logf("edits: %s; syncs: %s; restarts: %s", show(edits), show(syncs), show(restarts))
	t.Logf("checks: %s; %d records in the devices' current scopes compared by the server's rules; %d changes set aside; %d records the same in the model (memstore) fed the server's log", c, inScope, setAside, modelled)
	t.Logf("causal order: %d fields pushed before the change set aside they were based on (reported by the server, and by each replica that pulled them in the server's order), none otherwise", early)
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
	if faults[faultDropResp] == 0 || faults[faultDuplicate] == 0 || faults[faultCutReq] == 0 || faults[faultCutResp] == 0 || faults[faultDropReq] == 0 {
		t.Errorf("some faults were never injected: %v", faults)
	}
	if c.conflicts == 0 || syncs["succeeded"] == 0 {
		t.Errorf("the simulation made no conflicts or no successful sync: %s, %v", c, syncs)
	}
}

// causalOrder collects what the replicas of TestFaults report merged
// before an edit it was based on (store.Options.Early), and checks it.
// One upstream whose log is in order delivers every edit after the edits
// it was based on, whatever the faults, with one exception the protocol
// makes: a change set aside as out of scope waits, and an edit the device
// makes on it later is pushed first when the record comes back in scope
// (the push comes before the catch-up that offers the change set aside
// again). So the server may report only a field whose base is the stamp of
// a change the pushing device held set aside, and a device (or the model
// replaying the server's log) only what the server reported, pulled in the
// server's order.
type causalOrder struct {
	mu       sync.Mutex
	server   []replica.Early // reported by the server, not yet checked
	byServer map[string]bool
	others   []namedEarly // reported by the other replicas
}

type namedEarly struct {
	name string
	replica.Early
}

func earlyKey(e replica.Early) string { return e.Change.String() + "/" + e.Field }

// opts returns the store options of the replica name ("" for the server).
func (o *causalOrder) opts(name string) *store.Options {
	return &store.Options{Early: func(e replica.Early) { o.report(name, e) }}
}

func (o *causalOrder) report(name string, e replica.Early) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if name == "" {
		o.server = append(o.server, e)
		return
	}
	o.others = append(o.others, namedEarly{name, e})
}

// sync syncs d and checks what the server reported during the sync: each
// field's base must be the stamp of a change d held set aside before or
// after it.
func (o *causalOrder) sync(t *testing.T, d *synctest.Device) error {
	t.Helper()
	before := d.Client.Status().Rejected
	err := d.Sync()
	o.mu.Lock()
	reported := o.server
	o.server = nil
	if o.byServer == nil {
		o.byServer = map[string]bool{}
	}
	for _, e := range reported {
		o.byServer[earlyKey(e)] = true
	}
	o.mu.Unlock()
	if len(reported) == 0 {
		return err
	}
	aside := map[uuid.UUID]bool{}
	for _, r := range append(before, d.Client.Status().Rejected...) {
		if r.Err != nil && r.Err.Code == domain.EFORBIDDEN {
			aside[r.Change] = true
		}
	}
	stamps := map[domain.Stamp]bool{}
	if err := d.DB.LogWhere(0, nil, func(e replica.Entry) (bool, error) {
		if aside[e.Change.ID] {
			stamps[e.Change.Stamp] = true
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range reported {
		if e.From != d.DB.Device() || !stamps[e.Base] {
			t.Errorf("the server merged out of causal order, not after a change set aside by %s: %v", d.Name, e)
		}
	}
	return err
}

// check fails the test for every field a replica other than the server
// reported that the server did not, and returns how many the server
// reported.
func (o *causalOrder) check(t *testing.T) int {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.others {
		if !o.byServer[earlyKey(r.Early)] {
			t.Errorf("%s merged out of causal order where the server's log is in order: %v", r.name, r.Early)
		}
	}
	if len(o.server) > 0 {
		t.Errorf("the server reported %d fields outside a device's sync: %v", len(o.server), o.server)
	}
	return len(o.byServer)
}

func show(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// randomEdit makes one random edit on d, of the kind it returns. Visits
// in visits map to their notes when made, or to "" once an edit may have
// changed them.
//
// Edits of a visit's fields that a content rule ties together — the type and
// the notes (a routine visit needs notes, a policy visit does not), the time
// and the follow-up date (not before the visit) — are made on several
// devices at once, each valid where it is made, so that merges make records
// no single edit made and that may break the rule: every replica must still
// end with the same record. The device that edits a visit checks the whole
// record (store.DB.Put), so an edit of a visit a merge left breaking a rule
// is refused there, as the app would refuse it; such refusals are counted.
func randomEdit(t *testing.T, rng *rand.Rand, d *synctest.Device, hs []*domain.Household, visits map[uuid.UUID]string, round int) string {
	t.Helper()
	h := hs[rng.IntN(len(hs))]
	put := func(r domain.Record) {
		t.Helper()
		if err := d.DB.Put(d.Cadre, r); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
	}
	switch p := rng.IntN(100); {
	case p < 42 && p >= 30:
		var vs []*domain.Visit
		d.DB.Each(domain.KindVisit, func(r domain.Record) error {
			vs = append(vs, r.(*domain.Visit))
			return nil
		})
		if len(vs) == 0 {
			return "none"
		}
		// One of the three newest the device holds: the visits people go
		// back to, a cadre completing notes, a leader reclassifying.
		slices.SortFunc(vs, func(a, b *domain.Visit) int {
			if c := b.Created.Compare(a.Created); c != 0 {
				return c
			}
			return bytes.Compare(a.ID[:], b.ID[:])
		})
		v := vs[rng.IntN(min(3, len(vs)))]
		if _, err := d.DB.Get(domain.KindHousehold, v.Household); err != nil {
			return "none" // kept for a change set aside: in none of the device's lists
		}
		return editVisit(t, rng, d, v, visitFields[rng.IntN(len(visitFields))], visits, round)
	case p < 30:
		notes := fmt.Sprintf("第%d轮 %s 走访%s：%s", round, d.Name, h.HeadName, []string{"家中有人", "外出务工", "散养鸡长势良好", "饮水已通"}[rng.IntN(4)])
		v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Duration(rng.IntN(4*24*60)) * time.Minute),
			Type: domain.VisitKinds[rng.IntN(len(domain.VisitKinds))], Notes: notes, Policies: rng.IntN(2) == 0}
		put(v)
		visits[v.ID] = notes
		return "visit"
	case p < 60:
		r, err := d.DB.Get(domain.KindHousehold, h.ID)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		hh := r.(*domain.Household)
		field := []string{"phone", "notes", "income", "address"}[rng.IntN(4)]
		switch field {
		case "phone":
			hh.Phone = fmt.Sprintf("139%08d", rng.IntN(100000000))
		case "notes":
			hh.Notes = fmt.Sprintf("%s 第%d轮备注 %d", d.Name, round, rng.IntN(1000))
		case "income":
			hh.Income = []string{"务农", "务工", "养殖", "务工、养殖", "手工"}[rng.IntN(5)]
		case "address":
			hh.Address = fmt.Sprintf("%d号", rng.IntN(200))
		}
		put(hh)
		return "household " + field
	case p < 80:
		var ms []*domain.Measure
		d.DB.Each(domain.KindMeasure, func(r domain.Record) error {
			if m := r.(*domain.Measure); m.Household == h.ID {
				ms = append(ms, m)
			}
			return nil
		})
		if len(ms) == 0 {
			return "none"
		}
		m := ms[rng.IntN(len(ms))]
		if rng.IntN(2) == 0 {
			m.Progress = []domain.Progress{domain.NotStarted, domain.InProgress, domain.Done, domain.Stuck}[rng.IntN(4)]
			put(m)
			return "measure progress"
		}
		m.Target = fmt.Sprintf("年增收 %d 元", 1000+100*rng.IntN(30))
		put(m)
		return "measure target"
	case p < 90:
		var plan *domain.Plan
		d.DB.Each(domain.KindPlan, func(r domain.Record) error {
			if p := r.(*domain.Plan); p.Household == h.ID {
				plan = p
			}
			return nil
		})
		if plan == nil {
			return "none"
		}
		put(&domain.Measure{Plan: plan.ID, Household: h.ID, Type: domain.MeasureKinds[rng.IntN(len(domain.MeasureKinds))],
			Description: fmt.Sprintf("%s 第%d轮新增措施", d.Name, round), Owner: d.Cadre, Target: "见成效",
			Due: plan.Start.AddDate(0, 1+rng.IntN(11), 0), Progress: domain.NotStarted})
		return "new measure"
	default:
		put(&domain.Problem{Household: h.ID, Text: fmt.Sprintf("%s 第%d轮发现的问题", d.Name, round), Status: domain.ProblemOpen})
		return "problem"
	}
}

// The visit fields edited: two pairs that content rules tie together.
var visitFields = []string{"type", "notes", "at", "due"}

// editVisit edits one field of v on d: the type (a policy visit becomes
// routine, any other a policy visit), the notes (cleared, on a policy visit,
// half the time), the time (a day earlier or, if that is not in the future,
// later), or the follow-up date (the visit's day or one of the two after). An
// edit the device refuses (the record, as merged, breaks a content rule, or
// the edit would) is counted as refused, as the app would show it to its
// user.
func editVisit(t *testing.T, rng *rand.Rand, d *synctest.Device, v *domain.Visit, field string, visits map[uuid.UUID]string, round int) string {
	t.Helper()
	switch field {
	case "type":
		if v.Type == domain.VisitPolicy {
			v.Type = domain.VisitRoutine
		} else {
			v.Type = domain.VisitPolicy
		}
	case "notes":
		if v.Type == domain.VisitPolicy && rng.IntN(2) == 0 {
			v.Notes = ""
		} else {
			v.Notes = fmt.Sprintf("第%d轮 %s 补记：%s", round, d.Name, []string{"已核实", "需再访", "政策已讲解"}[rng.IntN(3)])
		}
		visits[v.ID] = ""
	case "at":
		if later := v.At.AddDate(0, 0, 1); rng.IntN(2) == 0 && later.Before(d.DB.Now()) {
			v.At = later
		} else {
			v.At = v.At.AddDate(0, 0, -1)
		}
	case "due":
		v.Due = v.At.AddDate(0, 0, rng.IntN(3))
		v.FollowUp = fmt.Sprintf("%s 跟进", d.Name)
	}
	err := d.DB.Put(d.Cadre, v)
	if domain.ErrorCode(err) == domain.EINVALID {
		return "visit " + field + " refused on the device"
	}
	if err != nil {
		t.Fatalf("%s: %v", d.Name, err)
	}
	return "visit " + field
}

// contested are the pairs of visit fields the tablet and a phone edit at
// once in contest: two that a content rule ties together (type and notes,
// time and follow-up date), and the same field (notes), whose loser is kept
// as a conflict.
var contested = [][2]string{{"type", "notes"}, {"at", "due"}, {"notes", "notes"}}

// contest has the leader's tablet and a cadre's phone edit the same visit
// before either syncs: the tablet the first field of pair, the phone the
// second. Each edit is valid where it is made; merged, the record may break
// a rule (a routine visit without notes, a follow-up before the visit), or
// one edit loses to the other and is kept as a conflict.
func contest(t *testing.T, rng *rand.Rand, tablet, phone *synctest.Device, pair [2]string, visits map[uuid.UUID]string, round int) []string {
	t.Helper()
	var shared []*domain.Visit
	phone.DB.Each(domain.KindVisit, func(r domain.Record) error {
		// Visits of households both hold (one kept on a device only for a
		// change set aside is in none of its lists).
		h := r.(*domain.Visit).Household
		if _, err := tablet.DB.Get(domain.KindVisit, r.Metadata().ID); err != nil {
			return nil
		}
		if _, err := phone.DB.Get(domain.KindHousehold, h); err != nil {
			return nil
		}
		if _, err := tablet.DB.Get(domain.KindHousehold, h); err != nil {
			return nil
		}
		shared = append(shared, r.(*domain.Visit))
		return nil
	})
	if len(shared) == 0 {
		return []string{"none"}
	}
	if pair[0] == "type" {
		// A policy visit, if any, which the tablet makes routine while the
		// phone may clear its notes.
		var policy []*domain.Visit
		for _, v := range shared {
			if v.Type == domain.VisitPolicy {
				policy = append(policy, v)
			}
		}
		if len(policy) > 0 {
			shared = policy
		}
	}
	v := shared[rng.IntN(len(shared))]
	r, err := tablet.DB.Get(domain.KindVisit, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		editVisit(t, rng, tablet, r.(*domain.Visit), pair[0], visits, round),
		editVisit(t, rng, phone, v, pair[1], visits, round),
	}
}
