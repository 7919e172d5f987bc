package e2e_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestConverge: two group cadres' phones and the team leader's tablet, each
// with its own file, edit offline — visits, the same measure's progress, the
// same household's phone number, a new measure, a review — and sync in
// varied orders with a real server; all end with the same records, every
// visit once, and both overridden values kept as conflicts the leader sees.
func TestConverge(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{}, nil)
	w, err := synctest.BuildWorld(srv.DB, now)
	if err != nil {
		t.Fatal(err)
	}
	phone1 := synctest.NewDevice(t, dir, "phone1", srv, w.Cadre1.ID, client.Options{}, nil)
	phone2 := synctest.NewDevice(t, dir, "phone2", srv, w.Cadre2.ID, client.Options{}, nil)
	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, client.Options{}, nil)
	devs := map[string]*synctest.Device{"phone1": phone1, "phone2": phone2, "tablet": tablet}
	scopes := map[string]sees{
		"phone1": seesOf(w, append(w.Group(w.G1), w.Paired), w.Village),
		"phone2": seesOf(w, w.Group(w.G2), w.Village),
		"tablet": seesOf(w, append(w.Group(w.G1), w.Group(w.G2)...), w.Village),
	}
	dbs := func() map[string]*store.DB {
		out := map[string]*store.DB{}
		for n, d := range devs {
			out[n] = d.DB
		}
		return out
	}
	syncAll := func(order ...*synctest.Device) {
		t.Helper()
		for _, d := range order {
			if err := d.Sync(); err != nil {
				t.Fatalf("%s: %v", d.Name, err)
			}
		}
	}
	syncAll(phone1, phone2, tablet)
	visits := map[uuid.UUID]string{}
	c := converged(t, srv.DB, dbs(), scopes, nil, visits)
	t.Logf("after the first sync: %s", c)

	visit := func(d *synctest.Device, h *domain.Household, notes string) {
		t.Helper()
		v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine,
			Notes: notes, Policies: true, Fees: domain.FeesPaid, Water: domain.WaterSafe}
		if err := d.DB.Put(d.Cadre, v); err != nil {
			t.Fatal(err)
		}
		visits[v.ID] = notes
	}
	edit := func(d *synctest.Device, kind domain.Kind, id uuid.UUID, fn func(domain.Record)) {
		t.Helper()
		r, err := d.DB.Get(kind, id)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		fn(r)
		if err := d.DB.Put(d.Cadre, r); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
	}

	// Offline, all three.
	measure := w.Measures[0] // of the first household of 一社
	for i, h := range w.Group(w.G1) {
		visit(phone1, h, fmt.Sprintf("一社第%d户：家中有人，散养鸡长势良好", i+1))
	}
	visit(phone1, w.Paired, "结对户：了解务工情况")
	edit(phone1, domain.KindHousehold, w.Paired.ID, func(r domain.Record) { r.(*domain.Household).Phone = "13800000001" })
	edit(phone1, domain.KindMeasure, measure.ID, func(r domain.Record) { r.(*domain.Measure).Progress = domain.InProgress })
	for i, h := range w.Group(w.G2) {
		visit(phone2, h, fmt.Sprintf("二社第%d户：宣传医保政策", i+1))
	}
	edit(phone2, domain.KindHousehold, w.Paired.ID, func(r domain.Record) { r.(*domain.Household).Phone = "13800000002" })
	var pairedPlan *domain.Plan
	for _, p := range w.Plans {
		if p.Household == w.Paired.ID {
			pairedPlan = p
		}
	}
	added := &domain.Measure{Plan: pairedPlan.ID, Household: w.Paired.ID, Type: domain.MeasureEcommerce,
		Description: "花椒网上销售", Owner: w.Cadre2.ID, Due: pairedPlan.Start.AddDate(0, 3, 0), Progress: domain.NotStarted}
	if err := phone2.DB.Put(w.Cadre2.ID, added); err != nil {
		t.Fatal(err)
	}
	edit(tablet, domain.KindMeasure, measure.ID, func(r domain.Record) { r.(*domain.Measure).Progress = domain.Stuck })
	edit(tablet, domain.KindHousehold, w.Paired.ID, func(r domain.Record) { r.(*domain.Household).Notes = "需要重点关注" })
	review := &domain.Review{Plan: w.Plans[0].ID, Household: w.Plans[0].Household, Reviewer: w.Leader.ID,
		Verdict: domain.VerdictComment, Comment: "措施要具体到数量", At: tablet.DB.Now()}
	if err := tablet.DB.Put(w.Leader.ID, review); err != nil {
		t.Fatal(err)
	}
	visit(tablet, w.Group(w.G2)[1], "队长走访：核实危房改造进度")

	for _, d := range devs {
		if st := d.Client.Status(); st.Pending == 0 {
			t.Fatalf("%s: no changes waiting after offline edits", d.Name)
		}
	}
	syncAll(tablet, phone1, phone2)
	syncAll(phone2, tablet, phone1)

	// A second wave: phone1 edits the notes it has now seen (no conflict).
	edit(phone1, domain.KindHousehold, w.Paired.ID, func(r domain.Record) {
		r.(*domain.Household).Notes = r.(*domain.Household).Notes + "；已联系务工单位"
	})
	edit(tablet, domain.KindHousehold, w.Group(w.G1)[1].ID, func(r domain.Record) { r.(*domain.Household).Income = "务工、养殖" })
	visit(phone2, w.Group(w.G2)[2], "二社回访：饮水已通")
	syncAll(phone1, tablet, phone2, phone1, tablet)

	c = converged(t, srv.DB, dbs(), scopes, nil, visits)
	t.Logf("after offline edits and syncs in varied orders: %s", c)
	for _, d := range devs {
		if st := d.Client.Status(); st.Pending != 0 || st.Err != nil || st.LastSync.IsZero() || !st.Reachable {
			t.Errorf("%s: status %+v", d.Name, st)
		}
	}

	// The overridden phone number and progress are kept where the leader sees them.
	h, _ := tablet.DB.Get(domain.KindHousehold, w.Paired.ID)
	phone := h.(*domain.Household).Phone
	cs := conflictsOn(t, tablet.DB, w.Paired.ID, "phone")
	if len(cs) != 1 || string(cs[0].Winner) != `"`+phone+`"` || (string(cs[0].Loser) != `"13800000001"` && string(cs[0].Loser) != `"13800000002"`) || string(cs[0].Loser) == string(cs[0].Winner) {
		t.Fatalf("phone conflicts on the tablet: %+v (phone now %s)", cs, phone)
	}
	if cs := conflictsOn(t, tablet.DB, measure.ID, "progress"); len(cs) != 1 {
		t.Fatalf("progress conflicts on the tablet: %+v", cs)
	}
	if cs := conflictsOn(t, tablet.DB, w.Paired.ID, "notes"); len(cs) != 0 {
		t.Fatalf("a sequential edit made a conflict: %+v", cs)
	}
	if notes := h.(*domain.Household).Notes; notes != "需要重点关注；已联系务工单位" {
		t.Fatalf("notes %q", notes)
	}
	if _, err := tablet.DB.Get(domain.KindMeasure, added.ID); err != nil {
		t.Fatalf("the measure added on phone2 is not on the tablet: %v", err)
	}
	if _, err := phone1.DB.Get(domain.KindVisit, visitOf(visits, "队长走访：核实危房改造进度")); err == nil {
		t.Fatalf("phone1 holds a visit to a household of another group")
	}
	list, err := srv.Reg.Devices()
	if err != nil || len(list) != 3 {
		t.Fatalf("devices %v %v", list, err)
	}
	for _, d := range list {
		if d.LastSync.IsZero() {
			t.Errorf("device %s has no last sync", d.Name)
		}
	}
}

func visitOf(visits map[uuid.UUID]string, notes string) uuid.UUID {
	for id, n := range visits {
		if n == notes {
			return id
		}
	}
	return uuid.Nil
}
