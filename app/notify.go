package app

import (
	"encoding/json"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// sendNotification shows a system notification (Fyne's SendNotification):
// the one way the app tells a cadre of something a sync brought — a
// problem on their household answered (tellNews), a plan sent back. Call it
// on the UI goroutine, with what is new for this cadre only: never a
// reminder of quotas or counts.
func (a *App) sendNotification(title, body string) {
	if a.fyne != nil {
		a.fyne.SendNotification(fyne.NewNotification(title, body))
	}
}

// notifiedKey is the draft (local, never synced) that holds the IDs of the
// problem steps the cadre has been told of, or has seen in the app.
const notifiedKey = "notified/steps"

// newsWindow is how far back tellNews looks for moves: a step older than
// that, arriving now, is history rather than news.
const newsWindow = 30 * 24 * time.Hour

// tellNews notifies the cadre of the moves others made on the problems of
// their households since they were last told: "王兴文户：自来水浑浊——已解决：
// 镇水站已更换管道". The first look on a device (a new enrolment) only
// notes what is there. It reads and writes the store in the background.
func (a *App) tellNews() {
	if a.cadre == uuid.Nil {
		return
	}
	cadre, now := a.cadre, a.now()
	a.tasks.run(func() func() {
		msg := a.problemNews(cadre, now)
		return func() {
			if msg != "" {
				a.sendNotification(lang.L("problem.notify_title"), msg)
			}
		}
	})
}

// problemNews returns the words of a notification of the moves not told
// yet ("" if none) and marks them told. Off the UI goroutine.
func (a *App) problemNews(cadre uuid.UUID, now time.Time) string {
	news, err := query.ProblemNews(a.db, cadre, now.Add(-newsWindow))
	if err != nil {
		fyne.LogError("app: read the problems' news", err)
		return ""
	}
	raw, err := a.db.Draft(notifiedKey)
	if err != nil {
		fyne.LogError("app: read the news already told", err)
		return ""
	}
	told := map[uuid.UUID]bool{}
	first := raw == nil
	if !first {
		var ids []uuid.UUID
		if json.Unmarshal(raw, &ids) == nil {
			for _, id := range ids {
				told[id] = true
			}
		}
	}
	ids := make([]uuid.UUID, 0, len(news))
	fresh := news[:0:0]
	for _, n := range news {
		ids = append(ids, n.Step.ID)
		if !told[n.Step.ID] {
			fresh = append(fresh, n)
		}
	}
	if b, err := json.Marshal(ids); err == nil {
		if err := a.db.SaveDraft(notifiedKey, b); err != nil {
			fyne.LogError("app: keep the news told", err)
		}
	}
	if first || len(fresh) == 0 {
		return ""
	}
	n := fresh[len(fresh)-1] // the latest
	by := ""
	if n.By != nil {
		by = n.By.Name
	}
	msg := lang.L("problem.notify_moved", map[string]any{"Name": n.HeadName, "Text": n.Problem.Text,
		"Status": problemStatusText(n.Step.To), "By": by})
	if n.Step.To == domain.ProblemResolved {
		msg = lang.L("problem.notify_resolved", map[string]any{"Name": n.HeadName, "Text": n.Problem.Text, "Resolution": n.Step.Note})
	}
	if more := len(fresh) - 1; more > 0 {
		msg = join(msg, count("problem.notify_more", more))
	}
	return msg
}
