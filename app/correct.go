package app

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"bangfu/domain"
)

// CorrectForm corrects a household's facts from the field: phone, farmland,
// address and income sources. The correction is saved on the device and
// synced like any edit. The household's status (纳入监测、退出监测、建档立卡)
// is the town's to decide: the form only asks for a change (RequestStatus),
// which a team leader or the town approves (requests.go).
type CorrectForm struct {
	Phone    *widget.Entry
	Farmland *widget.Entry
	Address  *widget.Entry
	Income   *widget.Entry
	// RequestStatus and RequestReason ask the town to change the household's
	// status (纳入监测、退出监测、建档立卡): a request a team leader or the town
	// approves, never a direct edit. Pending shows a request waiting.
	RequestStatus *widget.Select
	RequestReason *widget.Entry
	Pending       *widget.Label
	Save          *widget.Button
	Error         *widget.Label
	// Group moves the household to another 社 of its village when saved;
	// on a team leader's tablet only (nil elsewhere, exit.go).
	Group  *widget.Select
	groups []*domain.Place // Group's options, once loaded
	// Exit, ExitDay, ExitReason and Leave record, on a team leader's
	// tablet only (nil elsewhere), that the household moved out, merged or
	// no longer exists (exit.go).
	Exit       *widget.RadioGroup
	ExitDay    *DateEntry
	ExitReason *widget.Entry
	Leave      *widget.Button

	app     *App
	h       domain.Household
	content fyne.CanvasObject
}

// mayRoster says whether the leader may write the roster at the household
// (query.Rights.MayRoster): move it, record its leaving.
func newCorrectForm(a *App, h *domain.Household, mayRoster bool) *CorrectForm {
	f := &CorrectForm{app: a, h: *h}
	f.Phone = widget.NewEntry()
	f.Phone.SetText(h.Phone)
	f.Farmland = widget.NewEntry()
	f.Farmland.SetText(strconv.FormatFloat(h.Farmland, 'f', -1, 64))
	f.Address = widget.NewEntry()
	f.Address.SetText(h.Address)
	f.Income = widget.NewMultiLineEntry()
	f.Income.Wrapping = fyne.TextWrapWord
	f.Income.SetText(h.Income)
	var options []string
	for _, st := range []domain.Status{domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary} {
		if st != h.Status {
			options = append(options, statusText(st))
		}
	}
	f.RequestStatus = widget.NewSelect(options, nil)
	f.RequestStatus.PlaceHolder = lang.L("correct.no_request")
	f.RequestReason = widget.NewMultiLineEntry()
	f.RequestReason.Wrapping = fyne.TextWrapWord
	f.RequestReason.SetPlaceHolder(lang.L("correct.request_reason"))
	f.Pending = wrapLabel("")
	f.Pending.Importance = widget.WarningImportance
	f.Pending.Hide()
	if r := h.Request; r != nil {
		f.Pending.SetText(lang.L("correct.pending", map[string]any{"Status": statusText(r.To), "Reason": r.Reason}))
		f.Pending.Show()
	}
	f.Save = widget.NewButton(lang.L("common.save"), f.save)
	f.Save.Importance = widget.HighImportance
	f.Error = errorLabel()
	form := widget.NewForm(
		widget.NewFormItem(lang.L("card.phone"), f.Phone),
		widget.NewFormItem(lang.L("correct.farmland"), f.Farmland),
		widget.NewFormItem(lang.L("card.address"), f.Address),
		widget.NewFormItem(lang.L("card.income"), f.Income),
	)
	hint := wrapLabel(lang.L("correct.status_hint"))
	hint.Importance = widget.LowImportance
	request := widget.NewForm(
		widget.NewFormItem(lang.L("correct.request_status"), f.RequestStatus),
		widget.NewFormItem(lang.L("correct.reason"), f.RequestReason),
	)
	body := container.NewVBox(form, section(lang.L("correct.status")), hint, f.Pending, request)
	if mayRoster && h.Current() {
		body.Add(f.exitSection())
	}
	f.content = container.NewBorder(nil, container.NewVBox(f.Error, f.Save), nil, nil, container.NewVScroll(body))
	return f
}

// Title returns "更正农户信息".
func (f *CorrectForm) Title() string { return lang.L("correct.title") }

// Content returns the form.
func (f *CorrectForm) Content() fyne.CanvasObject { return f.content }

// record returns the household as corrected, or why it cannot be saved.
func (f *CorrectForm) record() (*domain.Household, error) {
	h := f.h
	h.Phone = strings.TrimSpace(f.Phone.Text)
	h.Address = strings.TrimSpace(f.Address.Text)
	h.Income = strings.TrimSpace(f.Income.Text)
	mu := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f.Farmland.Text), "亩"))
	if mu == "" {
		mu = "0"
	}
	v, err := strconv.ParseFloat(mu, 64)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "farmland", "耕地面积请填数字（亩）", "enter the farmland as a number (mu)")
	}
	h.Farmland = v
	if f.Group != nil {
		if i := f.Group.SelectedIndex(); i >= 0 && i < len(f.groups) {
			h.Group = f.groups[i].ID
		}
	}
	if sel := f.RequestStatus.Selected; sel != "" {
		for _, st := range []domain.Status{domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary} {
			if statusText(st) == sel {
				h.Request = &domain.StatusRequest{To: st, Reason: strings.TrimSpace(f.RequestReason.Text),
					By: f.app.cadre, At: f.app.now()}
			}
		}
	}
	if err := h.Validate(f.app.now()); err != nil {
		return nil, err
	}
	return &h, nil
}

func (f *CorrectForm) save() {
	h, err := f.record()
	f.app.saveRecord(h, err, f.Save, f.Error, func() {
		f.app.changed()
		f.app.nav.Pop()
	})
}
