package main_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain/demo"
	syncserver "bangfu/sync/server"
)

// TestUnlock: bangfud unlock prints a code that releases the phone's
// deposited key once, only to that phone's cadre, and audits it.
func TestUnlock(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	d := demo.Village(1, time.Now())
	code, err := syncserver.NewBolt(db).CreateEnrolCode(d.GroupCadre.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	phone := uuid.New()
	if _, _, err := syncserver.NewBolt(db).Enroll(code, phone, "手机", db.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "unlock", "-data", dir, phone.String()); r.code == 0 || !strings.Contains(r.stderr, "no copy of this device's data key") {
		t.Errorf("unlock before a deposit: %s", r)
	}
	db = openDB(t, dir)
	if err := syncserver.NewBolt(db).Deposit(phone, []byte("sealed"), db.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := must(t, "unlock", "-data", dir, phone.String()[:8]).stdout
	m := regexp.MustCompile(`unlock code: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no code in:\n%s", out)
	}
	db = openDB(t, dir)
	defer db.Close()
	if _, _, err := syncserver.NewBolt(db).Release(phone, d.TeamLeader.ID, m[1], db.Now()); err == nil {
		t.Error("released to another cadre")
	}
	if sealed, how, err := syncserver.NewBolt(db).Release(phone, d.GroupCadre.ID, m[1], db.Now()); err != nil || string(sealed) != "sealed" || how != "unlock code" {
		t.Errorf("release: %q %q %v", sealed, how, err)
	}
	log, err := db.AuditLog(10, nil)
	if err != nil || len(log) < 2 || log[0].Action != "release-key" || log[1].Action != "unlock-code" {
		t.Errorf("audit log %+v %v", log, err)
	}
}
