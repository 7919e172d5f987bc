package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

func TestAccountLifecycle(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	if err := db.CreateAccount(store.Account{Name: "fuhan", Place: v.Vil.ID}, "long enough pw"); err == nil {
		t.Error("an account scoped to a village was made (only towns and cities)")
	}
	if err := db.CreateAccount(store.Account{Name: "fuhan", Place: v.Town.ID}, "short"); err == nil {
		t.Error("a short password was accepted")
	}
	if err := db.CreateAccount(store.Account{Name: "fuhan", Display: "镇办", Place: v.Town.ID}, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccount(store.Account{Name: "fuhan", Place: v.Town.ID}, "long enough pw"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("a second account of the same name: %v, want a conflict", err)
	}
	now := fixtureNow
	for _, c := range []struct{ name, pw string }{{"fuhan", "wrong password"}, {"nobody", "long enough pw"}} {
		if _, _, err := db.Login(c.name, c.pw, time.Hour, now); !errors.Is(err, store.ErrLogin) {
			t.Errorf("login %s/%s: %v, want ErrLogin", c.name, c.pw, err)
		}
	}
	token, s, err := db.Login("fuhan", "long enough pw", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account.Place != v.Town.ID || s.CSRF == "" || strings.Contains(token, s.CSRF) {
		t.Errorf("session %+v", s)
	}
	if got, err := db.Session(token, now.Add(time.Minute)); err != nil || got.CSRF != s.CSRF {
		t.Errorf("session lookup: %+v %v", got, err)
	}
	if _, err := db.Session(token, now.Add(time.Hour)); !errors.Is(err, store.ErrSession) {
		t.Errorf("an expired session: %v", err)
	}
	if _, err := db.Session(token+"x", now); !errors.Is(err, store.ErrSession) {
		t.Errorf("a wrong token: %v", err)
	}
	// A new password ends the sessions; so does disabling.
	if err := db.SetPassword("fuhan", "another long pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(token, now); !errors.Is(err, store.ErrSession) {
		t.Errorf("a session survived a new password: %v", err)
	}
	token, _, err = db.Login("fuhan", "another long pw", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DisableAccount("fuhan", now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(token, now); !errors.Is(err, store.ErrSession) {
		t.Errorf("a session survived disabling: %v", err)
	}
	if _, _, err := db.Login("fuhan", "another long pw", time.Hour, now); !errors.Is(err, store.ErrLogin) {
		t.Errorf("a disabled account logged in: %v", err)
	}
	// Accounts never reach the log that syncs.
	seq, _ := db.LastSeq()
	err = db.Log(0, func(e store.Entry) (bool, error) {
		if e.Change.Kind == "" {
			t.Errorf("a log entry without a kind: %+v", e)
		}
		return true, nil
	})
	if err != nil || seq == 0 {
		t.Fatal(err)
	}
	if !db.Within(v.G1.ID, v.Town.ID) || !db.Within(v.Town.ID, v.City.ID) || db.Within(v.City.ID, v.Town.ID) || db.Within(uuid.New(), v.City.ID) {
		t.Error("Within is wrong")
	}
}

func TestAuditLogNewestFirst(t *testing.T) {
	db := mustOpen(t)
	for i, a := range []string{"enrol", "revoke", "export"} {
		if err := db.Audit(store.AuditEntry{At: fixtureNow.Add(time.Duration(i) * time.Minute), Account: "x", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.AuditLog(2, nil)
	if err != nil || len(got) != 2 || got[0].Action != "export" || got[1].Action != "revoke" {
		t.Fatalf("audit log %+v %v", got, err)
	}
}

// TestBackupWhileWriting: a backup taken while another goroutine writes opens
// as a store holding a prefix of the log, whole records included.
func TestBackupWhileWriting(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			visit := &domain.Visit{Meta: domain.Meta{ID: uuid.New()}, Household: v.Wang.ID, Cadre: v.Ma.ID,
				At: fixtureNow.Add(-time.Duration(i) * time.Minute), Type: domain.VisitRoutine, Notes: "走访"}
			if err := db.Put(v.Ma.ID, visit); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var buf bytes.Buffer
	if _, err := db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	<-done
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := mustOpenAt(t, path, fixtureNow)
	seq, _ := cp.LastSeq()
	n, _ := cp.Count(domain.KindVisit)
	var logged int
	cp.Log(0, func(e store.Entry) (bool, error) {
		if e.Change.Kind == domain.KindVisit {
			logged++
		}
		return true, nil
	})
	if seq == 0 || n != logged {
		t.Errorf("the copy holds %d visits and %d visit log entries (log up to %d): not one transaction", n, logged, seq)
	}
	if cp.Device() != db.Device() {
		t.Error("the copy is another replica")
	}
}
