package app

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"bangfu/domain"
	"bangfu/sync/client"
)

// SyncBar is always at the bottom of the window: how many changes wait to be
// sent, when the last sync succeeded, whether the server is reachable, and a
// button that syncs now. Syncing runs in the background; when it brings
// changes, the screens in view reload.
type SyncBar struct {
	Waiting   *widget.Label
	Last      *widget.Label
	Reachable *widget.Label
	// Error says why the last sync failed, in words.
	Error *widget.Label
	Sync  *widget.Button
	// ReEnroll appears when the server no longer accepts the device (revoked,
	// unknown): it opens the enrolment screen, keeping everything stored.
	ReEnroll *widget.Button
	// Status is the status last shown.
	Status client.Status

	app     *App
	seen    bool // a status has been shown
	content fyne.CanvasObject
}

func newSyncBar(a *App) *SyncBar {
	b := &SyncBar{app: a}
	b.Waiting = widget.NewLabel("")
	b.Last = widget.NewLabel("")
	b.Reachable = widget.NewLabel("")
	for _, l := range []*widget.Label{b.Waiting, b.Last, b.Reachable} {
		l.SizeName = theme.SizeNameCaptionText
	}
	b.Error = widget.NewLabel("")
	b.Error.Importance = widget.DangerImportance
	b.Error.SizeName = theme.SizeNameCaptionText
	b.Error.Wrapping = fyne.TextWrapWord
	b.Error.Hide()
	b.Sync = widget.NewButtonWithIcon(lang.L("sync.now"), theme.ViewRefreshIcon(), b.syncNow)
	b.Sync.Importance = widget.HighImportance
	b.ReEnroll = widget.NewButton(lang.L("sync.reenroll"), func() {
		a.stop()
		a.showEnroll(b.Status.Server)
	})
	b.ReEnroll.Hide()
	info := container.NewVBox(b.Waiting, b.Last, b.Reachable)
	b.content = container.NewVBox(
		widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, b.ReEnroll, b.Error),
		container.NewBorder(nil, nil, nil, container.NewCenter(b.Sync), info),
	)
	return b
}

// Content returns the bar.
func (b *SyncBar) Content() fyne.CanvasObject { return b.content }

// syncNow runs one sync in the background, then shows its outcome and reloads
// the screens in view.
func (b *SyncBar) syncNow() {
	a := b.app
	b.Sync.Disable()
	b.Sync.SetText(lang.L("sync.running"))
	a.tasks.run(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := a.sync.Sync(ctx)
		st := a.sync.Status()
		return func() {
			if err != nil && st.Err == nil {
				st.Err = err
			}
			st.Syncing = false
			b.update(st)
			if err == nil {
				a.synced()
			}
		}
	})
}

// refresh reads the client's status in the background and shows it; if a
// sync has landed since the last look, the screens in view reload.
func (b *SyncBar) refresh() {
	a := b.app
	a.tasks.run(func() func() {
		st := a.sync.Status()
		return func() { b.update(st) }
	})
}

// update shows a status; if it reports a sync that landed since the last one
// shown, the screens in view reload.
func (b *SyncBar) update(st client.Status) {
	if errors.Is(st.Err, client.ErrLost) && b.app.Bar == b {
		b.app.wipe()
		return
	}
	prev := b.Status
	landed := b.seen && !st.Syncing && st.Err == nil && (st.LastSync.After(prev.LastSync) || prev.Syncing)
	b.show(st)
	if landed {
		b.app.synced()
	}
}

// show displays a status.
func (b *SyncBar) show(st client.Status) {
	if st.LastSync.Before(b.Status.LastSync) {
		st.LastSync = b.Status.LastSync
	}
	b.Status, b.seen = st, true
	if st.Pending == 0 {
		b.Waiting.SetText(lang.L("sync.nothing_waiting"))
		b.Waiting.Importance = widget.SuccessImportance
	} else {
		b.Waiting.SetText(count("sync.waiting_count", st.Pending))
		b.Waiting.Importance = widget.WarningImportance
	}
	b.Waiting.Refresh()
	if st.LastSync.IsZero() {
		b.Last.SetText(lang.L("sync.never"))
	} else {
		b.Last.SetText(lang.L("sync.last_at", map[string]any{"Time": timeText(st.LastSync)}))
	}
	if st.Reachable {
		b.Reachable.SetText(lang.L("sync.online"))
		b.Reachable.Importance = widget.SuccessImportance
	} else {
		b.Reachable.SetText(lang.L("sync.offline"))
		b.Reachable.Importance = widget.DangerImportance
	}
	b.Reachable.Refresh()
	switch {
	case st.Err != nil:
		b.Error.SetText(errText(st.Err))
		b.Error.Show()
	case len(st.Rejected) > 0:
		last := st.Rejected[len(st.Rejected)-1]
		b.Error.SetText(count("sync.rejected", len(st.Rejected)) + errText(last.Err))
		b.Error.Show()
	default:
		b.Error.Hide()
	}
	setVisible(b.ReEnroll, domain.ErrorCode(st.Err) == domain.EUNAUTHORIZED)
	if st.Syncing {
		b.Sync.Disable()
		b.Sync.SetText(lang.L("sync.running"))
	} else if !b.Sync.Disabled() || b.Sync.Text == lang.L("sync.running") {
		b.Sync.Enable()
		b.Sync.SetText(lang.L("sync.now"))
	}
}
