package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestCorrectionsTravel: every fact of a household and of its members that a
// cadre may correct from the field — phone, farmland, address, income
// sources, a status request, a member added, a member edited (every field of
// the form), one deceased, one moved away — corrected on a group cadre's
// phone while it is offline, travels once it syncs through the real server:
// the team leader's tablet and the phone of another cadre paired with the
// household hold the same values, and show them on the household's card and
// its members' list.
func TestCorrectionsTravel(t *testing.T) {
	e := newEnv(t)
	p, pd := e.enrolled("phone", e.data.GroupCadre.ID, phone)

	// A household of the group cadre's with four members or more and a
	// helper paired with it who is neither the group cadre nor the leader.
	rows := p.Households.Rows()
	row, helper := -1, uuid.Nil
	for i, r := range rows {
		if len(must(query.Card(pd.db, r.ID, demoNow)).Members) < 4 {
			continue
		}
		for _, as := range e.data.Assignments {
			if as.Target == r.ID && as.Role.IsPairing() && as.Current() && as.Cadre != e.data.GroupCadre.ID && as.Cadre != e.data.TeamLeader.ID {
				row, helper = i, as.Cadre
			}
		}
		if row >= 0 {
			break
		}
	}
	if row < 0 {
		t.Fatal("the demo has no household of the group cadre's with four members and another cadre paired")
	}
	household := rows[row].ID
	q, qd := e.enrolled("helper", helper, phone)
	tab, td := e.enrolled("tablet", e.data.TeamLeader.ID, tablet)

	// Offline from here: the corrections are written on the phone alone.
	e.down.Store(true)
	p.Households.List.Select(row)
	p.Wait()
	card := p.Nav().Top().(*app.Card)
	before := must(query.Card(pd.db, household, demoNow))
	test.Tap(card.Correct)
	p.Wait()
	f := p.Nav().Top().(*app.CorrectForm)
	for _, x := range []struct {
		entry interface{ SetText(string) }
		text  string
	}{{f.Phone, "13993012345"}, {f.Farmland, "6.5"}, {f.Address, "王坪村一社新村路18号"}, {f.Income, "养牛三头、外出务工"}} {
		x.entry.SetText(x.text)
	}
	to := domain.Monitored
	if before.Household.Status == domain.Monitored {
		to = domain.Lifted
	}
	f.RequestStatus.SetSelected(map[domain.Status]string{domain.Monitored: "监测户", domain.Lifted: "已脱贫户"}[to])
	f.RequestReason.SetText("户主住院，家庭收入骤减")
	test.Tap(f.Save)
	p.Wait()
	if p.Nav().Top() != card {
		t.Fatalf("the correction was not saved: %s", f.Error.Text)
	}

	members := func() *app.MembersScreen {
		t.Helper()
		for p.Nav().Top() != card {
			test.Tap(p.Nav().Back)
			p.Wait()
		}
		test.Tap(card.Members)
		p.Wait()
		return p.Nav().Top().(*app.MembersScreen)
	}
	form := func(f *app.MemberForm, name, relation, gender, birth, id, health, education, work string) {
		f.Name.SetText(name)
		f.Relation.SetText(relation)
		f.Gender.SetSelected(gender)
		f.Birth.SetText(birth)
		f.IDNumber.SetText(id)
		f.Health.SetText(health)
		f.Education.SetText(education)
		f.Work.SetText(work)
	}
	saved := func(f *app.MemberForm, s *app.MembersScreen) {
		t.Helper()
		if p.Nav().Top() != s {
			t.Fatalf("member %q not saved: %s", f.Name.Text, f.Error.Text)
		}
	}
	// A birth.
	s := members()
	test.Tap(s.Add)
	p.Wait()
	mf := p.Nav().Top().(*app.MemberForm)
	newID := idNumber("20241105", "042")
	form(mf, "马小满", "孙女", "女", "2024-11-05", newID, "健康", "学龄前", "")
	test.Tap(mf.Save)
	p.Wait()
	saved(mf, s)
	// Every field of an existing member (not the head, listed first).
	edited := s.Data.Members[1].ID
	test.Tap(s.Edit[1])
	p.Wait()
	mf = p.Nav().Top().(*app.MemberForm)
	form(mf, "马改名", "儿媳", "女", "1990-07-15", idNumber("19900715", "028"), "慢性病", "高中", "本地务工")
	test.Tap(mf.Save)
	p.Wait()
	saved(mf, s)
	// One dies, another moves away.
	s = members()
	var gone []uuid.UUID
	for _, exit := range []string{"deceased", "moved away"} {
		i := len(s.Data.Members) - 1
		for s.Data.Members[i].ID == edited || s.Data.Members[i].Name == "马小满" {
			i--
		}
		if i < 1 {
			t.Fatal("no member left to end but the head")
		}
		gone = append(gone, s.Data.Members[i].ID)
		test.Tap(s.Edit[i])
		p.Wait()
		mf = p.Nav().Top().(*app.MemberForm)
		if exit == "deceased" {
			test.Tap(mf.Deceased)
		} else {
			test.Tap(mf.MovedAway)
		}
		p.Wait()
		saved(mf, s)
		s = members()
	}

	// What the phone holds now, checked against what was typed.
	want := must(query.Card(pd.db, household, demoNow))
	h := want.Household
	if h.Phone != "13993012345" || h.Farmland != 6.5 || h.Address != "王坪村一社新村路18号" || h.Income != "养牛三头、外出务工" ||
		h.Request == nil || h.Request.To != to || h.Request.Reason != "户主住院，家庭收入骤减" || h.Status != before.Household.Status ||
		h.Size != len(before.Members)-1 {
		t.Fatalf("the phone's household after the corrections: %s", facts(want))
	}
	if len(want.FormerMembers) != len(before.FormerMembers)+2 {
		t.Fatalf("the phone's former members: %s", facts(want))
	}
	if err := pd.client.Sync(t.Context()); err == nil {
		t.Fatal("a sync succeeded with the network down")
	}

	// Online again: the phone syncs, then the tablet and the helper's phone.
	e.down.Store(false)
	for _, a := range []*app.App{p, tab, q} {
		test.Tap(a.Bar.Sync)
		a.Wait()
	}
	if got := must(e.db.Get(domain.KindHousehold, household)).(*domain.Household); got.Phone != h.Phone {
		t.Fatalf("the server's household has phone %s, want %s", got.Phone, h.Phone)
	}
	for _, x := range []struct {
		name string
		a    *app.App
		d    *device
	}{{"tablet", tab, td}, {"helper's phone", q, qd}} {
		got := must(query.Card(x.d.db, household, demoNow))
		if g, w := facts(got), facts(want); g != w {
			t.Errorf("%s: the card's facts differ from the phone's:\n got %s\nwant %s", x.name, g, w)
		}
		// Shown: the card, and the members' list with those gone apart.
		c := openCard(t, x.a, household)
		text := screenText(c.Body)
		for _, s := range []string{h.Phone, h.Address, "6.5", "马小满", "2024-11-05", "马改名", "1990-07-15"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s: the card does not show %q:\n%s", x.name, s, text)
			}
		}
		test.Tap(c.Members)
		x.a.Wait()
		list := screenText(x.a.Nav().Top().(*app.MembersScreen).List)
		for _, m := range got.FormerMembers {
			if slices.Contains(gone, m.ID) && !strings.Contains(list, m.Name+" · ") {
				t.Errorf("%s: the members' list does not show %s gone:\n%s", x.name, m.Name, list)
			}
		}
		if !strings.Contains(list, "已故") || !strings.Contains(list, "已迁出") {
			t.Errorf("%s: the members' list does not say who died and who moved away:\n%s", x.name, list)
		}
	}

	// Values taken away travel too: the phone number no longer in use, the
	// farmland given up, a member's birth date known only by its year after
	// all, their work, health and education unknown.
	e.down.Store(true)
	card = openCard(t, p, household)
	test.Tap(card.Correct)
	p.Wait()
	f = p.Nav().Top().(*app.CorrectForm)
	f.Phone.SetText("")
	f.Farmland.SetText("0")
	test.Tap(f.Save)
	p.Wait()
	if p.Nav().Top() != card {
		t.Fatalf("the correction was not saved: %s", f.Error.Text)
	}
	s = members()
	i := slices.IndexFunc(s.Data.Members, func(m *domain.Member) bool { return m.ID == edited })
	test.Tap(s.Edit[i])
	p.Wait()
	mf = p.Nav().Top().(*app.MemberForm)
	form(mf, "马改名", "儿媳", "女", "1990", "", "", "", "")
	test.Tap(mf.Save)
	p.Wait()
	saved(mf, s)
	want = must(query.Card(pd.db, household, demoNow))
	m := want.Members[slices.IndexFunc(want.Members, func(m *domain.Member) bool { return m.ID == edited })]
	if want.Household.Phone != "" || want.Household.Farmland != 0 || !m.Birth.IsZero() || m.BirthYear != 1990 || m.Work != "" || m.Health != "" || m.Education != "" {
		t.Fatalf("the phone after clearing: %s", facts(want))
	}
	e.down.Store(false)
	for _, a := range []*app.App{p, tab, q} {
		test.Tap(a.Bar.Sync)
		a.Wait()
	}
	for _, x := range []struct {
		name string
		d    *device
	}{{"tablet", td}, {"helper's phone", qd}} {
		if g, w := facts(must(query.Card(x.d.db, household, demoNow))), facts(want); g != w {
			t.Errorf("%s after clearing: the card's facts differ from the phone's:\n got %s\nwant %s", x.name, g, w)
		}
	}
}

// facts renders what a cadre may correct of a household and its members, in
// the card's order, for comparing replicas.
func facts(c *query.HouseholdCard) string {
	h := c.Household
	var b strings.Builder
	fmt.Fprintf(&b, "phone=%s farmland=%v address=%s income=%s size=%d status=%s", h.Phone, h.Farmland, h.Address, h.Income, h.Size, h.Status)
	if r := h.Request; r != nil {
		fmt.Fprintf(&b, " request=%s/%s/%s/%s", r.To, r.Reason, r.By, r.At.UTC().Format("2006-01-02T15:04:05"))
	}
	for _, list := range [][]*domain.Member{c.Members, c.FormerMembers} {
		b.WriteString(" |")
		for _, m := range list {
			fmt.Fprintf(&b, " [%s %s %s %d %s %s %s %s %s %s %s %s]", m.ID.String()[:8], m.Name, m.Relation, m.BirthYear, ymd(m.Birth), m.Gender,
				m.IDNumber, m.Health, m.Education, m.Work, m.Gone, ymd(m.GoneOn))
		}
	}
	return b.String()
}

func ymd(t interface{ Format(string) string }) string { return t.Format("2006-01-02") }

// openCard opens the household's card on a, from its list of households (a
// cadre's) or its village's (a leader's).
func openCard(t *testing.T, a *app.App, household uuid.UUID) *app.Card {
	t.Helper()
	var list *app.Households
	if a.Menu != nil {
		a.Menu.List.Select(6)
		a.Wait()
		list = a.Nav().Top().(*app.Households)
	} else {
		for a.Nav().Top() != a.Households {
			test.Tap(a.Nav().Back)
			a.Wait()
		}
		list = a.Households
	}
	for i, r := range list.Rows() {
		if r.ID == household {
			list.List.Select(i)
			a.Wait()
			return a.Nav().Top().(*app.Card)
		}
	}
	t.Fatalf("the household %s is not in the list", household)
	return nil
}

// idNumber returns a valid ID number of Linxia born on birth (YYYYMMDD).
func idNumber(birth, seq string) string {
	first := "622901" + birth + seq
	return first + string(domain.IDCheckDigit(first))
}
