package app

import (
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// AdjustForm is a team leader's 帮扶力量调整 of one current assignment in the
// village, opened from the history (帮扶力量调整记录): End ends the
// assignment (a pairing, a group cadre's 社, a duty in the village) on the
// day given, for the reason given; Replace ends it and gives it to another
// cadre from that day; Leave records that its cadre retired or
// was transferred (Departure), which ends every duty the cadre holds here in
// the same save. Both are saved on the tablet and synced like any edit; the
// server allows them to the village's leads (sync/server's scope). A cadre
// who also works where the leader does not lead (a county-level leader paired
// in other villages) is left to the town or city office: the form says so
// instead of saving half of it.
type AdjustForm struct {
	// Day is the day the assignment ended or the cadre left: today unless
	// changed, never in the future.
	Day *DateEntry
	// Reason is why: 帮扶力量调整, 户已迁出...
	Reason *widget.SelectEntry
	End    *widget.Button
	// Successor chooses the cadre who takes the assignment over, from the
	// current cadres the tablet holds (of the rank a county or section
	// pairing needs); Replace ends the assignment and gives it to them from
	// the same day, in one save (三轮调整帮扶干部).
	Successor *widget.Select
	Replace   *widget.Button
	// Departure chooses 退休 or 调离 for Leave.
	Departure *widget.RadioGroup
	Leave     *widget.Button
	Error     *widget.Label

	app        *App
	adj        query.Adjustment
	successors []*domain.Cadre // Successor's options, in order
	content    fyne.CanvasObject
}

// adjustReasons are the usual reasons an assignment ends.
var adjustReasons = []string{"帮扶力量调整", "干部工作调动", "户已迁出", "户已脱贫稳定", "其他"}

func newAdjustForm(a *App, adj query.Adjustment) *AdjustForm {
	f := &AdjustForm{app: a, adj: adj}
	f.Day = newDateEntry()
	today := dayStart(a.now())
	f.Day.SetDate(&today)
	f.Reason = widget.NewSelectEntry(adjustReasons)
	f.Reason.SetPlaceHolder(lang.L("adjust.reason_hint"))
	f.End = widget.NewButton(lang.L("adjust.end"), f.end)
	f.End.Importance = widget.HighImportance
	f.Departure = widget.NewRadioGroup([]string{departureText(domain.Retired), departureText(domain.Transferred)}, nil)
	f.Departure.Horizontal = true
	f.Leave = widget.NewButton(lang.L("adjust.leave"), f.leave)
	f.Leave.Importance = widget.DangerImportance
	f.Error = errorLabel()

	as := adj.Assignment
	name := ""
	if adj.Cadre != nil {
		name = adj.Cadre.Name
	}
	what := wrapLabel(join(adj.TargetName(), roleText(as.Role), name))
	what.TextStyle.Bold = true
	since := wrapLabel(lang.L("history.since", map[string]any{"Since": dateText(as.Since)}))
	form := widget.NewForm(
		widget.NewFormItem(lang.L("adjust.day"), f.Day),
		widget.NewFormItem(lang.L("adjust.reason"), f.Reason),
	)
	f.Successor = widget.NewSelect(nil, nil)
	f.Successor.PlaceHolder = lang.L("adjust.successor_hint")
	f.Replace = widget.NewButton(lang.L("adjust.replace"), f.replace)
	body := container.NewVBox(what, since, form, f.End,
		section(lang.L("adjust.replace_title")), f.Successor, f.Replace)
	if adj.Cadre != nil {
		hint := wrapLabel(lang.L("adjust.leave_hint", map[string]any{"Name": adj.Cadre.Name}))
		hint.Importance = widget.LowImportance
		body.Add(section(lang.L("adjust.leave_title")))
		body.Add(hint)
		body.Add(f.Departure)
		body.Add(f.Leave)
	}
	f.content = container.NewBorder(nil, f.Error, nil, nil, container.NewVScroll(body))
	return f
}

// load reads the cadres who may take the assignment over.
func (f *AdjustForm) load() {
	a := f.app
	as := *f.adj.Assignment
	a.tasks.run(func() func() {
		cadres, err := query.Cadres(a.db)
		var list []*domain.Cadre
		for _, c := range cadres {
			if c.Current() && c.ID != as.Cadre && (pairingRankOf(as.Role) == "" || c.Rank == pairingRankOf(as.Role)) {
				list = append(list, c)
			}
		}
		return func() {
			if err != nil {
				f.fail(err)
				return
			}
			f.successors = list
			var names []string
			for _, c := range list {
				names = append(names, join(c.Name, rankText(c.Rank), c.Unit))
			}
			f.Successor.SetOptions(names)
		}
	})
}

// pairingRankOf returns the rank a pairing role needs; "" for any.
func pairingRankOf(r domain.Role) domain.Rank {
	switch r {
	case domain.PairCounty:
		return domain.RankCounty
	case domain.PairSection:
		return domain.RankSection
	}
	return ""
}

// replace ends the assignment and gives it to the cadre chosen, from the
// same day.
func (f *AdjustForm) replace() {
	day, reason, err := f.day()
	if err != nil {
		f.fail(err)
		return
	}
	i := f.Successor.SelectedIndex()
	if i < 0 || i >= len(f.successors) {
		f.fail(domain.Errorf(domain.EINVALID, "cadre", "请选择接替的干部", "choose the cadre who takes over"))
		return
	}
	next := f.successors[i]
	old := *f.adj.Assignment
	old.End(day, reason)
	if err := old.Validate(f.app.now()); err != nil {
		f.fail(err)
		return
	}
	nu := &domain.Assignment{Cadre: next.ID, Role: old.Role, Target: old.Target, Title: old.Title, Since: day}
	f.save(func() ([]domain.Record, error) { return []domain.Record{&old, nu}, nil })
}

// Title returns "帮扶力量调整".
func (f *AdjustForm) Title() string { return lang.L("adjust.title") }

// Content returns the form.
func (f *AdjustForm) Content() fyne.CanvasObject { return f.content }

// dayStart returns the first moment of t's day.
func dayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// day returns the day entered and the reason, or why they cannot be saved.
func (f *AdjustForm) day() (time.Time, string, error) {
	if f.Day.Err != nil {
		return time.Time{}, "", f.Day.Err
	}
	if f.Day.Date == nil {
		return time.Time{}, "", domain.Errorf(domain.EINVALID, "until", "请填写结束日期", "give the end date")
	}
	day := *f.Day.Date
	if day.After(f.app.now()) {
		return time.Time{}, "", domain.Errorf(domain.EINVALID, "until", "结束日期不能晚于今天", "the end date cannot be after today")
	}
	reason := strings.TrimSpace(f.Reason.Text)
	if reason == "" {
		return time.Time{}, "", domain.Errorf(domain.EINVALID, "end_reason", "请填写结束原因", "give the reason it ends")
	}
	return day, reason, nil
}

// end ends the assignment.
func (f *AdjustForm) end() {
	day, reason, err := f.day()
	if err != nil {
		f.fail(err)
		return
	}
	as := *f.adj.Assignment
	as.End(day, reason)
	if err := as.Validate(f.app.now()); err != nil {
		f.fail(err)
		return
	}
	f.save(func() ([]domain.Record, error) { return []domain.Record{&as}, nil })
}

// leave records the cadre's retirement or transfer and ends their duties
// in the leader's villages; it refuses when the cadre holds a current duty
// elsewhere, which only the town or city office may end.
func (f *AdjustForm) leave() {
	day, reason, err := f.day()
	if err != nil {
		f.fail(err)
		return
	}
	var left domain.Departure
	switch f.Departure.Selected {
	case departureText(domain.Retired):
		left = domain.Retired
	case departureText(domain.Transferred):
		left = domain.Transferred
	default:
		f.fail(domain.Errorf(domain.EINVALID, "left", "请选择退休或调离", "choose retired or transferred"))
		return
	}
	a := f.app
	me := a.cadre
	c := *f.adj.Cadre
	f.save(func() ([]domain.Record, error) {
		// The server's rule (domain.Scope.MayChangeCadre) on the cadre's
		// duties the replica holds: the leader may when the cadre works
		// where they lead — villages or a town — and nowhere else.
		rights, err := query.RightsOf(a.db, me)
		if err != nil {
			return nil, err
		}
		if err := rights.MayChangeCadre(c.ID); errors.Is(err, domain.ErrCadreElsewhere) {
			return nil, domain.Errorf(domain.EFORBIDDEN, "left",
				"%[1]s在您负责的村（镇）以外还有职责，离岗须由镇或市办公室办理", "%[1]s holds duties beyond the villages or town you lead: the town or city office records their leaving", c.Name)
		} else if err != nil {
			return nil, err
		}
		held, err := query.Assignments(a.db, c.ID)
		if err != nil {
			return nil, err
		}
		here := map[uuid.UUID]*domain.Assignment{}
		for _, x := range held {
			if ok, err := rights.MayRoster(x.Target); err != nil {
				return nil, err
			} else if ok && x.Current() {
				here[x.ID] = x
			}
		}
		c.Left, c.LeftOn, c.LeftReason = left, day, reason
		if err := c.Validate(a.now()); err != nil {
			return nil, err
		}
		recs := []domain.Record{&c}
		// In Chinese whatever the app's language, as the import writes it:
		// the records are the office's, exported in Chinese.
		zh, _ := domain.DepartureName(left)
		why := "干部" + zh
		for _, x := range held {
			if here[x.ID] == nil {
				continue
			}
			end := day
			if end.Before(x.Since) {
				end = x.Since
			}
			x.End(end, why)
			recs = append(recs, x)
		}
		return recs, nil
	})
}

func (f *AdjustForm) fail(err error) {
	f.Error.SetText(errText(err))
	f.Error.Show()
	f.content.Refresh() // the border lays the label out below the form, not over its top
}

// save works out the records off the UI goroutine, saves them in one
// transaction and goes back to the history, which reloads.
func (f *AdjustForm) save(records func() ([]domain.Record, error)) {
	f.Error.Hide()
	f.End.Disable()
	f.Leave.Disable()
	f.Replace.Disable()
	a := f.app
	author := a.cadre
	a.tasks.run(func() func() {
		recs, err := records()
		if err == nil {
			err = a.db.Put(author, recs...)
		}
		return func() {
			f.End.Enable()
			f.Leave.Enable()
			f.Replace.Enable()
			if err != nil {
				f.fail(err)
				return
			}
			a.changed()
			a.nav.Pop()
		}
	})
}
