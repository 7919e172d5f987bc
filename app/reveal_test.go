package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// TestRevealIDNumber: the card shows the head's ID number masked; a tap on
// the reveal button writes the reveal to the device's audit log and only
// then shows the number whole; a second tap hides it; the next sync sends
// the reveal to the server's audit log, naming the household and the
// device.
func TestRevealIDNumber(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	pick := -1
	var h *domain.Household
	for i, r := range a.Households.Rows() {
		c, err := query.Card(d.db, r.ID, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.Household.IDNumber != "" {
			pick, h = i, c.Household
			break
		}
	}
	if pick < 0 {
		t.Fatal("no household with an ID number")
	}
	a.Households.List.Select(pick)
	a.Wait()
	card := a.Nav().Top().(*app.Card)
	if card.IDNumber.Text != domain.MaskID(h.IDNumber) || strings.Contains(screenText(card.Body), h.IDNumber) {
		t.Fatalf("the ID number before the tap: %q", card.IDNumber.Text)
	}
	if es, _ := d.db.AuditSince(0, 10); len(es) != 0 {
		t.Fatalf("audit entries before any reveal: %+v", es)
	}
	test.Tap(card.Reveal)
	a.Wait()
	if card.IDNumber.Text != h.IDNumber {
		t.Fatalf("not revealed: %q", card.IDNumber.Text)
	}
	es, err := d.db.AuditSince(0, 10)
	if err != nil || len(es) != 1 || es[0].Action != "reveal-id" || es[0].Target != h.ID.String() || strings.Contains(es[0].Detail, h.IDNumber) {
		t.Fatalf("the reveal's audit entry: %+v %v", es, err)
	}
	test.Tap(card.Reveal)
	a.Wait()
	if card.IDNumber.Text != domain.MaskID(h.IDNumber) {
		t.Fatalf("not hidden again: %q", card.IDNumber.Text)
	}
	if err := d.client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	log, err := e.db.AuditLog(10, func(e2 store.AuditEntry) bool { return e2.Action == "reveal-id" })
	if err != nil || len(log) != 1 || log[0].Target != h.ID.String() || !strings.Contains(log[0].Account, d.db.Device().String()[:8]) ||
		!strings.Contains(log[0].Detail, e.data.GroupCadre.ID.String()) {
		t.Fatalf("the server's audit log: %+v %v", log, err)
	}
	// Sent once.
	if err := d.client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if log, _ := e.db.AuditLog(10, func(e2 store.AuditEntry) bool { return e2.Action == "reveal-id" }); len(log) != 1 {
		t.Errorf("the reveal reached the server %d times", len(log))
	}
}
