package app

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"bangfu/domain"
)

// DateEntry is a date typed as 2027-07-15 (2027/7/15 and 2027年7月15日 are
// read too) or picked from a calendar, which writes 2027-07-15. Fyne's own
// DateEntry reads the format of the machine's locale (15/07/2027 on most) and
// drops whatever it cannot read; this one keeps the text and says what is
// wrong with it (Err), so a save refuses a date it cannot read.
type DateEntry struct {
	widget.Entry
	// Date is the date typed or picked, nil while the text is empty or not a
	// date.
	Date *time.Time
	// Err says why the text is not a date; nil when it is one or is empty.
	Err error
	// OnChanged runs after each change of the text, with Date.
	OnChanged func(*time.Time)
	// Pick opens the calendar.
	Pick *widget.Button

	popup *widget.PopUp
}

// newDateEntry returns an empty date entry.
func newDateEntry() *DateEntry {
	e := &DateEntry{}
	e.ExtendBaseWidget(e)
	e.Entry.OnChanged = func(s string) {
		e.Date, e.Err = parseDate(s)
		if e.OnChanged != nil {
			e.OnChanged(e.Date)
		}
	}
	e.Pick = widget.NewButtonWithIcon("", theme.CalendarIcon(), e.openCalendar)
	e.Pick.Importance = widget.LowImportance
	e.ActionItem = e.Pick
	return e
}

// SetDate shows d (nil: empty).
func (e *DateEntry) SetDate(d *time.Time) {
	if d == nil {
		e.SetText("")
		return
	}
	e.SetText(d.Format("2006-01-02"))
}

// dateLayouts are the ways a date may be typed.
var dateLayouts = []string{"2006-01-02", "2006-1-2", "2006/1/2", "2006.1.2", "2006年1月2日"}

// parseDate reads a date as typed; "" is no date and no error.
func parseDate(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return &t, nil
		}
	}
	return nil, domain.Errorf(domain.EINVALID, "date", "日期“%[1]s”无法识别，请按 2027-07-15 的格式填写",
		"cannot read the date %[1]q; write it as 2027-07-15", s)
}

func (e *DateEntry) openCalendar() {
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if c == nil {
		return
	}
	start := time.Now()
	if e.Date != nil {
		start = *e.Date
	}
	cal := newCalendar(start, func(t time.Time) {
		e.SetDate(&t)
		if e.popup != nil {
			e.popup.Hide()
		}
	})
	e.popup = widget.NewPopUp(cal.content, c)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(e)
	e.popup.ShowAtPosition(pos.Add(fyne.NewPos(0, e.Size().Height)))
}

// calendar is a month of days to pick from, its header in the app's language
// (Fyne's calendar writes "November 2026" whatever the language).
type calendar struct {
	month   time.Time // the first of the month shown
	Header  *widget.Label
	days    *fyne.Container
	picked  func(time.Time)
	content fyne.CanvasObject
}

func newCalendar(t time.Time, picked func(time.Time)) *calendar {
	c := &calendar{month: time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.Local), picked: picked}
	c.Header = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	prev := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { c.show(c.month.AddDate(0, -1, 0)) })
	next := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { c.show(c.month.AddDate(0, 1, 0)) })
	c.days = container.NewGridWithColumns(7)
	c.content = container.NewBorder(container.NewBorder(nil, nil, prev, next, c.Header), nil, nil, nil, c.days)
	c.show(c.month)
	return c
}

// monthText names a month: "2026年11月", "11/2026".
func monthText(t time.Time) string {
	return lang.L("date.month", map[string]any{"Year": t.Year(), "Month": int(t.Month())})
}

// weekdays names the days from Monday, in Fyne's own translations ("周一").
func weekdays() []string {
	return []string{lang.X("monday.short", "Mon"), lang.X("tuesday.short", "Tue"), lang.X("wednesday.short", "Wed"),
		lang.X("thursday.short", "Thu"), lang.X("friday.short", "Fri"), lang.X("saturday.short", "Sat"), lang.X("sunday.short", "Sun")}
}

func (c *calendar) show(month time.Time) {
	c.month = month
	c.Header.SetText(monthText(month))
	var cells []fyne.CanvasObject
	for _, d := range weekdays() {
		cells = append(cells, widget.NewLabelWithStyle(d, fyne.TextAlignCenter, fyne.TextStyle{}))
	}
	lead := (int(month.Weekday()) + 6) % 7 // Monday first
	for range lead {
		cells = append(cells, widget.NewLabel(""))
	}
	for d := month; d.Month() == month.Month(); d = d.AddDate(0, 0, 1) {
		day := d
		b := widget.NewButton(fmt.Sprint(d.Day()), func() { c.picked(day) })
		b.Importance = widget.LowImportance
		cells = append(cells, b)
	}
	c.days.Objects = cells
	c.days.Refresh()
}
