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

// SyncBar is always at the bottom of the window, one line high: whether the
// server answered lately (● 在线 / ● 离线), how many changes wait to be sent,
// when the last sync succeeded (or, offline with changes waiting, that they
// are kept on the device), and a button that syncs now. Being offline is the
// normal state in a village and reads calmly; only errors a person must act
// on (a rejected change, a revoked device) take a second, red line. Syncing
// runs in the background; when it brings changes, the screens in view reload.
type SyncBar struct {
	// Reachable is the state: online, offline, syncing, or not checked
	// lately.
	Reachable *widget.Label
	Waiting   *widget.Label
	// Last is the time of the last sync, or what happens to changes waiting
	// while offline.
	Last *widget.Label
	// Error says why the last sync failed, in words, when it is not just the
	// network.
	Error *widget.Label
	Sync  *widget.Button
	// ReEnroll appears when the server no longer accepts the device (revoked,
	// unknown): it opens the enrolment screen, keeping everything stored.
	ReEnroll *widget.Button
	// Photos says how many photos wait to be sent and how many of their
	// bytes are left ("照片 3 张待传 · 剩 820 KB"), shown while any wait.
	Photos *widget.Label
	// Status is the status last shown.
	Status client.Status

	app     *App
	seen    bool // a status has been shown
	line    *fyne.Container
	content fyne.CanvasObject
}

// reachableFor is how long after a successful sync the bar says 在线; after
// that it no longer claims to know.
const reachableFor = 90 * time.Second

func newSyncBar(a *App) *SyncBar {
	b := &SyncBar{app: a}
	b.Reachable = widget.NewLabel("")
	b.Waiting = widget.NewLabel("")
	b.Last = widget.NewLabel("")
	b.Last.Truncation = fyne.TextTruncateEllipsis
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
	b.Photos = widget.NewLabel("")
	b.Photos.SizeName = theme.SizeNameCaptionText
	b.Photos.Truncation = fyne.TextTruncateEllipsis
	b.Photos.Hide()
	b.line = container.NewBorder(nil, nil, container.NewHBox(b.Reachable, b.Waiting), b.Sync, b.Last)
	b.content = container.NewVBox(
		widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, b.ReEnroll, b.Error),
		b.line,
		b.Photos,
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

// Recheck shows the last status again, so that 在线 turns into 未检测 once
// the last sync is older than reachableFor. The app's ticker calls it.
func (b *SyncBar) Recheck() {
	if b.seen && b.stateText(b.Status) != b.Reachable.Text {
		b.show(b.Status)
	}
}

// offline reports whether st's failure is only the network.
func offline(st client.Status) bool {
	return st.Err != nil && domain.ErrorCode(st.Err) == domain.EUNAVAILABLE
}

// stateText is the state a status shows.
func (b *SyncBar) stateText(st client.Status) string {
	switch {
	case st.Syncing:
		return lang.L("sync.state_running")
	case !st.Reachable:
		return lang.L("sync.offline")
	case !st.LastSync.IsZero() && b.app.now().Sub(st.LastSync) <= reachableFor:
		return lang.L("sync.online")
	}
	return lang.L("sync.unchecked")
}

// show displays a status.
func (b *SyncBar) show(st client.Status) {
	if st.LastSync.Before(b.Status.LastSync) {
		st.LastSync = b.Status.LastSync
	}
	b.Status, b.seen = st, true
	b.Reachable.SetText(b.stateText(st))
	switch b.Reachable.Text {
	case lang.L("sync.online"):
		b.Reachable.Importance = widget.SuccessImportance
	case lang.L("sync.offline"):
		b.Reachable.Importance = widget.WarningImportance
	default:
		b.Reachable.Importance = widget.MediumImportance
	}
	b.Reachable.Refresh()
	switch {
	case st.PendingErr != nil: // unknown is not "nothing waiting"
		b.Waiting.SetText(lang.L("sync.waiting_unknown"))
		b.Waiting.Importance = widget.DangerImportance
	case st.Pending == 0:
		b.Waiting.SetText(lang.L("sync.nothing_waiting"))
		b.Waiting.Importance = widget.MediumImportance
	default:
		b.Waiting.SetText(count("sync.waiting_count", st.Pending))
		b.Waiting.Importance = widget.WarningImportance
	}
	b.Waiting.Refresh()
	switch {
	case !st.Reachable && st.Pending > 0:
		b.Last.SetText(lang.L("sync.kept_here"))
	case st.LastSync.IsZero():
		b.Last.SetText(lang.L("sync.never"))
	default:
		b.Last.SetText(lang.L("sync.last_at", map[string]any{"Time": shortTime(st.LastSync, b.app.now())}))
	}
	switch {
	case st.Err != nil && !offline(st):
		b.Error.SetText(errText(st.Err))
		b.Error.Show()
	case len(st.Rejected) > 0:
		last := st.Rejected[len(st.Rejected)-1]
		b.Error.SetText(count("sync.rejected", len(st.Rejected)) + errText(last.Err))
		b.Error.Show()
	default:
		b.Error.Hide()
	}
	b.showPhotos(st)
	setVisible(b.ReEnroll, domain.ErrorCode(st.Err) == domain.EUNAUTHORIZED)
	if st.Syncing {
		b.Sync.Disable()
		b.Sync.SetText(lang.L("sync.running"))
	} else if !b.Sync.Disabled() || b.Sync.Text == lang.L("sync.running") {
		b.Sync.Enable()
		b.Sync.SetText(lang.L("sync.now"))
	}
	b.line.Refresh() // the labels' widths changed: lay the line out again
}

// showPhotos shows the photos waiting, if any, and why they wait when it is
// more than the network.
func (b *SyncBar) showPhotos(st client.Status) {
	if st.PhotosWaiting == 0 {
		b.Photos.Hide()
		return
	}
	text := lang.L("sync.photos_waiting", map[string]any{"Count": st.PhotosWaiting, "Size": sizeText(st.PhotoBytesLeft)})
	b.Photos.Importance = widget.MediumImportance
	if st.PhotoErr != nil && domain.ErrorCode(st.PhotoErr) != domain.EUNAVAILABLE {
		text = join(text, errText(st.PhotoErr))
		b.Photos.Importance = widget.WarningImportance
	}
	b.Photos.SetText(text)
	b.Photos.Show()
}

// shortTime is a moment for the one-line bar: "15:04" today, "11-30 15:04"
// before.
func shortTime(t, now time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == now.Local().Year() && m == now.Local().Month() && d == now.Local().Day() {
		return t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}
