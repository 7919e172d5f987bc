package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

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

// TestWithin: a place is within itself and the places above it, and an
// unknown place within nothing.
func TestWithin(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	if !db.Within(v.G1.ID, v.Town.ID) || !db.Within(v.Town.ID, v.City.ID) || !db.Within(v.Town.ID, v.Town.ID) ||
		db.Within(v.City.ID, v.Town.ID) || db.Within(uuid.New(), v.City.ID) {
		t.Error("Within is wrong")
	}
}
