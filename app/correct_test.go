package app_test

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestCorrectFacts: from the household card a group cadre corrects the phone
// and farmland (the form says what is wrong until it is right); the card
// shows the new facts, and the correction reaches the server with the next
// sync. On the phone and on the tablet.
func TestCorrectFacts(t *testing.T) {
	for _, size := range []fyne.Size{phone, tablet} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled("phone", e.data.GroupCadre.ID, size)
			a.Households.List.Select(0)
			a.Wait()
			household := a.Households.Rows()[0].ID
			card := a.Nav().Top().(*app.Card)
			test.Tap(card.Correct)
			a.Wait()
			f := a.Nav().Top().(*app.CorrectForm)
			f.Phone.SetText("")
			test.Type(f.Phone, "13912345678")
			f.Farmland.SetText("")
			test.Type(f.Farmland, "七亩")
			test.Tap(f.Save)
			a.Wait()
			if got := labelText(t, f.Error); got != "耕地面积请填数字（亩）" {
				t.Errorf("farmland 七亩: %q", got)
			}
			f.Farmland.SetText("")
			test.Type(f.Farmland, "7.5")
			f.Income.SetText("")
			test.Type(f.Income, "养殖、外出务工")
			test.Tap(f.Save)
			a.Wait()
			if a.Nav().Top() != card {
				t.Fatalf("after saving, the top screen is %T", a.Nav().Top())
			}
			h := must(query.Card(d.db, household, demoNow)).Household
			if h.Phone != "13912345678" || h.Farmland != 7.5 || h.Income != "养殖、外出务工" {
				t.Errorf("stored household: phone %s, farmland %v, income %s", h.Phone, h.Farmland, h.Income)
			}
			if text := screenText(card.Body); !strings.Contains(text, "13912345678") || !strings.Contains(text, "7.5") {
				t.Errorf("the card does not show the corrected facts:\n%s", text)
			}
			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			on, err := e.db.Get(domain.KindHousehold, household)
			if err != nil || on.(*domain.Household).Phone != "13912345678" {
				t.Errorf("the server's household: %+v, %v", on, err)
			}
		})
	}
}

// TestMembers: a birth is added, a member is marked deceased; the household's
// size follows, the list shows the deceased apart, and both reach the server.
func TestMembers(t *testing.T) {
	for _, size := range []fyne.Size{phone, tablet} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled("phone", e.data.GroupCadre.ID, size)
			a.Households.List.Select(0)
			a.Wait()
			household := a.Households.Rows()[0].ID
			before := must(query.Card(d.db, household, demoNow))
			test.Tap(a.Nav().Top().(*app.Card).Members)
			a.Wait()
			s := a.Nav().Top().(*app.MembersScreen)
			if len(s.Edit) != len(before.Members) {
				t.Fatalf("%d edit buttons for %d members", len(s.Edit), len(before.Members))
			}

			test.Tap(s.Add)
			a.Wait()
			f := a.Nav().Top().(*app.MemberForm)
			if f.Deceased != nil {
				t.Error("a new member can be marked deceased")
			}
			test.Tap(f.Save)
			a.Wait()
			if got := labelText(t, f.Error); got != "成员姓名不能为空" {
				t.Errorf("no name: %q", got)
			}
			test.Type(f.Name, "马小宝")
			f.Relation.SetText("孙子")
			f.Gender.SetSelected("男")
			// A full birth date, checked: a day that does not exist, a day
			// after today.
			test.Type(f.Birth, "2025-02-30")
			test.Tap(f.Save)
			a.Wait()
			if got := labelText(t, f.Error); !strings.Contains(got, "无法识别") {
				t.Errorf("2025-02-30: %q", got)
			}
			f.Birth.SetText("")
			test.Type(f.Birth, "2025-03-20")
			test.Tap(f.Save)
			a.Wait()
			if got := labelText(t, f.Error); !strings.Contains(got, "晚于今天") {
				t.Errorf("a birth after today: %q", got)
			}
			f.Birth.SetText("")
			test.Type(f.Birth, "2025年2月3日")
			test.Tap(f.Save)
			a.Wait()
			if a.Nav().Top() != s {
				t.Fatalf("after adding, the top screen is %T", a.Nav().Top())
			}
			after := must(query.Card(d.db, household, demoNow))
			if len(after.Members) != len(before.Members)+1 || after.Household.Size != len(before.Members)+1 {
				t.Errorf("after a birth: %d members, size %d; want %d", len(after.Members), after.Household.Size, len(before.Members)+1)
			}
			for _, m := range after.Members {
				if m.Name == "马小宝" && (m.Birth.Format("2006-01-02") != "2025-02-03" || m.BirthYear != 2025) {
					t.Errorf("the new member is born %v (%d), want 2025-02-03", m.Birth, m.BirthYear)
				}
			}
			if text := screenText(s.List); !strings.Contains(text, "马小宝 · 孙子 · 男 · 2025-02-03 生（0岁）") {
				t.Errorf("the list does not show the birth date and age:\n%s", text)
			}

			// The first member listed dies.
			gone := s.Data.Members[0]
			test.Tap(s.Edit[0])
			a.Wait()
			f = a.Nav().Top().(*app.MemberForm)
			test.Tap(f.Deceased)
			a.Wait()
			after = must(query.Card(d.db, household, demoNow))
			if len(after.FormerMembers) != 1 || after.FormerMembers[0].ID != gone.ID || after.FormerMembers[0].Gone != domain.Deceased {
				t.Errorf("former members %v, want %s deceased", after.FormerMembers, gone.Name)
			}
			if after.Household.Size != len(before.Members) {
				t.Errorf("size after a death %d, want %d", after.Household.Size, len(before.Members))
			}
			if text := screenText(s.List); !strings.Contains(text, "已故或迁出的成员") || !strings.Contains(text, "已故") {
				t.Errorf("the list does not show the deceased apart:\n%s", text)
			}
			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			on, err := e.db.Get(domain.KindMember, gone.ID)
			if err != nil || on.(*domain.Member).Gone != domain.Deceased {
				t.Errorf("the server's member: %+v, %v", on, err)
			}
		})
	}
}

func sizeName(s fyne.Size) string {
	if s.Width < app.Breakpoint {
		return "phone"
	}
	return "tablet"
}

// TestStatusRequest: a group cadre cannot set a household's status but asks
// for the change (with a reason); the team leader's tablet lists the request
// after a sync and approves it; the new status reaches the server and the
// phone.
func TestStatusRequest(t *testing.T) {
	e := newEnv(t)
	p, pd := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	p.Households.List.Select(0)
	p.Wait()
	household := p.Households.Rows()[0].ID
	h := must(query.Card(pd.db, household, demoNow)).Household
	to, toText := domain.Monitored, "监测户"
	if h.Status == domain.Monitored {
		to, toText = domain.Lifted, "已脱贫户"
	}
	test.Tap(p.Nav().Top().(*app.Card).Correct)
	p.Wait()
	f := p.Nav().Top().(*app.CorrectForm)
	f.RequestStatus.SetSelected(toText)
	test.Tap(f.Save)
	p.Wait()
	if got := labelText(t, f.Error); got != "请说明申请变更户类型的理由" {
		t.Errorf("a request without a reason: %q", got)
	}
	test.Type(f.RequestReason, "户主因病丧失劳动能力，存在返贫风险")
	test.Tap(f.Save)
	p.Wait()
	got := must(query.Card(pd.db, household, demoNow)).Household
	if got.Status != h.Status || got.Request == nil || got.Request.To != to {
		t.Fatalf("after the request: status %s, request %+v", got.Status, got.Request)
	}
	if err := pd.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}

	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(9)
	a.Wait()
	list := a.Nav().Top().(*app.ListScreen)
	if list.Title() != "户类型变更申请" || len(list.Items) != 1 || !strings.Contains(list.Items[0].Title, h.HeadName) {
		t.Fatalf("the requests list %q: %+v", list.Title(), list.Items)
	}
	list.Open(0)
	a.Wait()
	r := a.Nav().Top().(*app.RequestScreen)
	test.Tap(r.Approve)
	a.Wait()
	if got := must(query.Card(d.db, household, demoNow)).Household; got.Status != to || got.Request != nil {
		t.Errorf("on the tablet after approval: %s, %+v", got.Status, got.Request)
	}
	if err := d.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := pd.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := must(query.Card(pd.db, household, demoNow)).Household; got.Status != to || got.Request != nil {
		t.Errorf("on the phone after the approval synced: %s, %+v", got.Status, got.Request)
	}
}
