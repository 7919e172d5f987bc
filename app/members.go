package app

import (
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// MembersScreen lists a household's members (家庭成员) to correct from the
// field: each current member with an edit button, then those who died or
// moved away, and a button to add one (a birth, a marriage into the
// household).
type MembersScreen struct {
	// Edit holds one button per current member, in the list's order.
	Edit []*widget.Button
	Add  *widget.Button
	// List holds the members once loaded.
	List  *fyne.Container
	Error *widget.Label
	// Data is the card the list was read from.
	Data *query.HouseholdCard

	app       *App
	household uuid.UUID
	content   fyne.CanvasObject
}

func newMembersScreen(a *App, household uuid.UUID) *MembersScreen {
	s := &MembersScreen{app: a, household: household}
	s.Add = widget.NewButtonWithIcon(lang.L("members.add"), theme.ContentAddIcon(), func() {
		if s.Data != nil {
			a.nav.Push(newMemberForm(a, s.Data, nil))
		}
	})
	s.Add.Importance = widget.HighImportance
	s.Error = errorLabel()
	s.List = container.NewVBox(widget.NewLabel(lang.L("common.loading")))
	s.content = container.NewBorder(s.Error, s.Add, nil, nil, container.NewVScroll(s.List))
	return s
}

// Title returns "家庭成员".
func (s *MembersScreen) Title() string { return lang.L("card.members") }

// Content returns the list.
func (s *MembersScreen) Content() fyne.CanvasObject { return s.content }

func (s *MembersScreen) load() {
	a := s.app
	a.tasks.run(func() func() {
		card, err := query.Card(a.db, s.household, a.now())
		return func() {
			if err != nil {
				s.Error.SetText(errText(err))
				s.Error.Show()
				return
			}
			s.Error.Hide()
			s.show(card)
		}
	})
}

func (s *MembersScreen) show(card *query.HouseholdCard) {
	s.Data = card
	s.Edit = nil
	var objs []fyne.CanvasObject
	for _, m := range card.Members {
		m := m
		edit := widget.NewButtonWithIcon(lang.L("members.edit"), theme.DocumentCreateIcon(), func() {
			s.app.nav.Push(newMemberForm(s.app, card, m))
		})
		s.Edit = append(s.Edit, edit)
		line := wrapLabel(join(m.Name, m.Relation, m.Gender, birth(m, s.app.now()), m.Health, m.Education, m.Work,
			domain.MaskID(m.IDNumber)))
		objs = append(objs, container.NewBorder(nil, nil, nil, edit, line))
	}
	if len(card.Members) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("members.none")))
	}
	if len(card.FormerMembers) > 0 {
		objs = append(objs, section(lang.L("members.former")))
		for _, m := range card.FormerMembers {
			l := wrapLabel(join(m.Name, m.Relation, memberExitText(m.Gone), dateText(m.GoneOn), m.GoneNote))
			l.Importance = widget.LowImportance
			objs = append(objs, l)
		}
	}
	s.List.Objects = objs
	s.List.Refresh()
}

// memberExitText names a member exit in the UI language.
func memberExitText(e domain.MemberExit) string {
	zh, en := domain.MemberExitName(e)
	if Language() == English {
		return en
	}
	return zh
}

// MemberForm adds or edits a member, or marks one deceased or moved away.
// Saving also sets the household's size to its current members, so that the
// card's 人口 follows a birth or a death.
type MemberForm struct {
	Name     *widget.Entry
	Relation *widget.SelectEntry
	Gender   *widget.RadioGroup
	// Birth is the birth date, 1970-03-12 (or the year alone, 1970, when
	// no more is known).
	Birth     *widget.Entry
	IDNumber  *widget.Entry
	Health    *widget.SelectEntry
	Education *widget.SelectEntry
	Work      *widget.SelectEntry
	Save      *widget.Button
	// Deceased and MovedAway end an existing member; nil for a new one.
	Deceased, MovedAway *widget.Button
	Error               *widget.Label

	app     *App
	card    *query.HouseholdCard
	m       domain.Member
	isNew   bool
	content fyne.CanvasObject
}

func newMemberForm(a *App, card *query.HouseholdCard, m *domain.Member) *MemberForm {
	f := &MemberForm{app: a, card: card}
	if m == nil {
		f.isNew = true
		f.m = domain.Member{Household: card.Household.ID}
	} else {
		f.m = *m
	}
	f.Name = widget.NewEntry()
	f.Name.SetText(f.m.Name)
	f.Relation = widget.NewSelectEntry([]string{"户主", "配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父", "母", "其他"})
	f.Relation.SetText(f.m.Relation)
	f.Gender = widget.NewRadioGroup([]string{"男", "女"}, nil)
	f.Gender.Horizontal = true
	f.Gender.SetSelected(f.m.Gender)
	f.Birth = widget.NewEntry()
	f.Birth.SetPlaceHolder(lang.L("members.birth_hint"))
	switch {
	case !f.m.Birth.IsZero():
		f.Birth.SetText(f.m.Birth.Format("2006-01-02"))
	case f.m.BirthYear != 0:
		f.Birth.SetText(strconv.Itoa(f.m.BirthYear))
	}
	// The ID number is never shown whole here: the field starts empty,
	// its hint the masked number, and left empty it keeps the number.
	f.IDNumber = widget.NewEntry()
	if f.m.IDNumber != "" {
		f.IDNumber.SetPlaceHolder(lang.L("members.id_keep", map[string]any{"Masked": domain.MaskID(f.m.IDNumber)}))
	}
	f.Health = widget.NewSelectEntry([]string{"健康", "慢性病", "大病", "残疾"})
	f.Health.SetText(f.m.Health)
	f.Education = widget.NewSelectEntry([]string{"学龄前", "文盲", "小学", "初中", "高中", "大专及以上", "在校生"})
	f.Education.SetText(f.m.Education)
	f.Work = widget.NewSelectEntry([]string{"务农", "外出务工", "本地务工", "个体经营", "公益性岗位", "在校生", "赋闲"})
	f.Work.SetText(f.m.Work)
	f.Save = widget.NewButton(lang.L("common.save"), func() { f.save("") })
	f.Save.Importance = widget.HighImportance
	f.Error = errorLabel()
	form := widget.NewForm(
		widget.NewFormItem(lang.L("members.name"), f.Name),
		widget.NewFormItem(lang.L("members.relation"), f.Relation),
		widget.NewFormItem(lang.L("members.gender"), f.Gender),
		widget.NewFormItem(lang.L("members.birth"), f.Birth),
		widget.NewFormItem(lang.L("card.id_number"), f.IDNumber),
		widget.NewFormItem(lang.L("members.health"), f.Health),
		widget.NewFormItem(lang.L("members.education"), f.Education),
		widget.NewFormItem(lang.L("members.work"), f.Work),
	)
	body := container.NewVBox(form)
	if !f.isNew {
		f.Deceased = widget.NewButton(lang.L("members.mark_deceased"), func() { f.save(domain.Deceased) })
		f.MovedAway = widget.NewButton(lang.L("members.mark_moved_away"), func() { f.save(domain.MovedAway) })
		f.Deceased.Importance = widget.DangerImportance
		body.Add(section(lang.L("members.leaves")))
		body.Add(container.NewGridWithColumns(2, f.Deceased, f.MovedAway))
	}
	f.content = container.NewBorder(nil, container.NewVBox(f.Error, f.Save), nil, nil, container.NewVScroll(body))
	return f
}

// Title returns "添加家庭成员" or the member's name.
func (f *MemberForm) Title() string {
	if f.isNew {
		return lang.L("members.add")
	}
	return f.m.Name
}

// Content returns the form.
func (f *MemberForm) Content() fyne.CanvasObject { return f.content }

// records returns the member as entered (ended with gone, if set) and the
// household with its size following the current members.
func (f *MemberForm) records(gone domain.MemberExit) (*domain.Member, *domain.Household, error) {
	now := f.app.now()
	m := f.m
	m.Name = strings.TrimSpace(f.Name.Text)
	m.Relation = strings.TrimSpace(f.Relation.Text)
	m.Gender = f.Gender.Selected
	if id := strings.TrimSpace(f.IDNumber.Text); id != "" || f.m.IDNumber == "" {
		m.IDNumber = id
	}
	m.Health = strings.TrimSpace(f.Health.Text)
	m.Education = strings.TrimSpace(f.Education.Text)
	m.Work = strings.TrimSpace(f.Work.Text)
	born, year, err := parseBirth(f.Birth.Text)
	if err != nil {
		return nil, nil, err
	}
	m.BirthYear = year
	if born.IsZero() || born.Format("2006-01-02") != m.Birth.Format("2006-01-02") {
		m.Birth = born // unchanged days keep the stored value and its zone
	}
	if gone != "" {
		m.Gone, m.GoneOn = gone, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	}
	if err := m.Validate(now); err != nil {
		return nil, nil, err
	}
	n := len(f.card.Members)
	if f.isNew {
		n++
	} else if gone != "" {
		n--
	}
	h := *f.card.Household
	if n >= 1 && n != h.Size {
		h.Size = n
		return &m, &h, nil
	}
	return &m, nil, nil
}

func (f *MemberForm) save(gone domain.MemberExit) {
	m, h, err := f.records(gone)
	if err != nil {
		f.Error.SetText(errText(err))
		f.Error.Show()
		return
	}
	f.Error.Hide()
	recs := []domain.Record{m}
	if h != nil {
		recs = append(recs, h)
	}
	a := f.app
	f.Save.Disable()
	author := a.cadre
	a.tasks.run(func() func() {
		err := a.db.Put(author, recs...)
		return func() {
			f.Save.Enable()
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			a.changed()
			a.nav.Pop()
		}
	})
}

// parseBirth reads a birth date as typed — 1970-03-12, 1970/3/12,
// 1970年3月12日, 19700312 — or a year alone (1970): then born is zero.
// Empty is neither, and no error.
func parseBirth(s string) (born time.Time, year int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, 0, nil
	}
	if y, err := strconv.Atoi(strings.TrimSuffix(s, "年")); err == nil && y >= 1000 && y <= 9999 {
		return time.Time{}, y, nil
	}
	if t, err := time.ParseInLocation("20060102", s, time.Local); err == nil {
		return t, t.Year(), nil
	}
	if t, err := parseDate(s); err == nil && t != nil {
		return *t, t.Year(), nil
	}
	return time.Time{}, 0, domain.Errorf(domain.EINVALID, "birth", "出生日期“%[1]s”无法识别，请按 1970-03-12 填写（只知年份可填 1970）",
		"cannot read the birth date %[1]q; write it as 1970-03-12 (or the year alone, 1970)", s)
}
