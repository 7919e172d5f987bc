package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/mozillazg/go-pinyin"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestCard: the household card shows the facts, members, helpers with
// tappable tel: links, measures, problems and visits, and ID numbers only
// masked to their last four characters.
func TestCard(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	// The household with the most to show: a plan, members with ID numbers.
	rows := a.Households.Rows()
	pick := -1
	var want *query.HouseholdCard
	for i, r := range rows {
		c, err := query.Card(d.db, r.ID, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.Plan != nil && len(c.Measures) > 0 && len(c.Helpers) > 0 && len(c.Problems) > 0 && c.Household.IDNumber != "" {
			pick, want = i, c
			break
		}
	}
	if pick < 0 {
		t.Fatal("no household of the cadre has a plan, helpers, problems and an ID number")
	}
	a.Households.List.Select(pick)
	a.Wait()
	card := a.Nav().Top().(*app.Card)
	text := screenText(card.Body)
	h := want.Household
	if strings.Contains(text, h.IDNumber) {
		t.Error("the card shows the full ID number")
	}
	if !strings.Contains(text, domain.MaskID(h.IDNumber)) {
		t.Errorf("the card does not show the masked ID %s", domain.MaskID(h.IDNumber))
	}
	for _, m := range want.Members {
		if m.IDNumber != "" && strings.Contains(text, m.IDNumber) {
			t.Errorf("the card shows %s's full ID number", m.Name)
		}
		if !strings.Contains(text, m.Name) {
			t.Errorf("member %s is missing", m.Name)
		}
	}
	phones := map[string]bool{}
	for _, l := range card.Phones {
		if l.URL == nil || l.URL.Scheme != "tel" || l.URL.Opaque != l.Text {
			t.Errorf("phone %q is not a tel: link: %v", l.Text, l.URL)
		}
		phones[l.Text] = true
	}
	if h.Phone != "" && !phones[h.Phone] {
		t.Errorf("the head's phone %s is not a link", h.Phone)
	}
	for _, hp := range want.Helpers {
		if !strings.Contains(text, hp.Cadre.Name) {
			t.Errorf("helper %s is missing", hp.Cadre.Name)
		}
		if hp.Cadre.Phone != "" && !phones[hp.Cadre.Phone] {
			t.Errorf("helper %s's phone is not a link", hp.Cadre.Name)
		}
	}
	for _, m := range want.Measures {
		if !strings.Contains(text, m.Description) {
			t.Errorf("measure %q is missing", m.Description)
		}
	}
	for _, p := range want.Problems {
		if !strings.Contains(text, p.Text) {
			t.Errorf("problem %q is missing", p.Text)
		}
	}
	if len(want.Visits) > 0 && !strings.Contains(text, want.Visits[0].At.Format("2006-01-02")) {
		t.Errorf("the last visit (%s) is missing", want.Visits[0].At.Format("2006-01-02"))
	}
	// Tapping a phone asks the system to call it.
	if len(card.Phones) > 0 {
		test.Tap(card.Phones[0])
	}
}

// initials returns the pinyin initials of a name, as a cadre would type them.
func initials(name string) string {
	var b strings.Builder
	for _, p := range pinyin.LazyPinyin(name, pinyin.Args{Style: pinyin.FirstLetter}) {
		b.WriteString(p)
	}
	return b.String()
}

// TestSearchAsYouType: the list narrows with each keystroke, by name, pinyin
// initials, phone and the ID number's last four characters.
func TestSearchAsYouType(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	h := a.Households
	all := h.Rows()
	target := all[len(all)/2]
	for _, q := range []string{target.HeadName, initials(target.HeadName), target.Phone, target.IDTail} {
		if q == "" {
			continue
		}
		h.Search.SetText("")
		prev := len(all)
		for i := range q { // i is where each character starts
			test.Type(h.Search, q[i:nextRune(q, i)])
			got := h.Rows()
			if len(got) > prev {
				t.Errorf("typing %q widened the list from %d to %d", h.Search.Text, prev, len(got))
			}
			prev = len(got)
		}
		got := h.Rows()
		found := false
		for _, r := range got {
			if r.ID == target.ID {
				found = true
			}
			if !query.Match(r, q) {
				t.Errorf("%q shows %s, which does not match", q, r.HeadName)
			}
		}
		if !found {
			t.Errorf("typing %q does not find %s", q, target.HeadName)
		}
		if len(got) == len(all) && len(all) > 1 {
			t.Errorf("%q matches every household", q)
		}
	}
	h.Search.SetText("没有这个人")
	if len(h.Rows()) != 0 || h.Count.Text != "没有符合条件的农户" {
		t.Errorf("a query that matches nothing shows %d rows and %q", len(h.Rows()), h.Count.Text)
	}
	h.Search.SetText("")
	if len(h.Rows()) != len(all) {
		t.Errorf("clearing the search shows %d of %d", len(h.Rows()), len(all))
	}
}

func utf8Start(s string, i int) bool { return i >= len(s) || s[i]&0xC0 != 0x80 }

func nextRune(s string, i int) int {
	j := i + 1
	for j < len(s) && !utf8Start(s, j) {
		j++
	}
	return j
}

// shown reports whether o is drawn in w: it and all its parents are visible.
func shown(w fyne.Window, o fyne.CanvasObject) bool {
	found := false
	walk(w.Content(), func(x fyne.CanvasObject) {
		if x == o {
			found = true
		}
	})
	return found
}

// TestLayouts: on a phone one screen shows at a time and Back returns; on a
// tablet the list stays beside the detail.
func TestLayouts(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	w := a.Window
	list := a.Households.List
	if !a.Nav().Phone() || !shown(w, list) || shown(w, a.Nav().Back) {
		t.Fatal("phone: the list is not the only screen at the start")
	}
	list.Select(0)
	a.Wait()
	card := a.Nav().Top().(*app.Card)
	if shown(w, list) || !shown(w, card.RecordVisit) || !shown(w, a.Nav().Back) {
		t.Error("phone: the card does not replace the list, with a way back")
	}
	if !shown(w, a.Bar.Sync) {
		t.Error("phone: the sync bar is hidden on the card")
	}
	test.Tap(a.Nav().Back)
	a.Wait()
	if !shown(w, list) || shown(w, card.RecordVisit) {
		t.Error("phone: Back does not return to the list")
	}

	w.Resize(tablet)
	if a.Nav().Phone() {
		t.Fatal("1280 px wide is laid out as a phone")
	}
	list.Select(1)
	a.Wait()
	card = a.Nav().Top().(*app.Card)
	if !shown(w, list) || !shown(w, card.RecordVisit) || shown(w, a.Nav().Back) {
		t.Error("tablet: the list and the card are not side by side")
	}
	test.Tap(card.RecordVisit)
	a.Wait()
	if !shown(w, list) || !shown(w, a.Nav().Back) {
		t.Error("tablet: the visit form hides the list or has no way back")
	}
	test.Tap(a.Nav().Back)
	a.Wait()
	if a.Nav().Top() != card {
		t.Errorf("tablet: Back from the form shows %T", a.Nav().Top())
	}
	// Back to phone size with the card open: the card fills the window.
	w.Resize(phone)
	if !a.Nav().Phone() || shown(w, list) || !shown(w, card.RecordVisit) {
		t.Error("resizing to a phone does not show the card alone")
	}
	if min := w.Content().MinSize(); min.Width > phone.Width {
		t.Errorf("the phone layout needs %v px: wider than a phone", min.Width)
	}
}
