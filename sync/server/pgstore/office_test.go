package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
	"bangfu/sync/server/pgstore"
)

// TestOffice checks the console's storage on two instances of one
// database: an account made at one logs in at the other, its session and
// API token are valid at both, a new password or a disabled account ends
// them everywhere; the audit log is filtered as the console asks; a record
// the console saves at one instance goes into the shared log and so into
// the other's mirror.
func TestOffice(t *testing.T) {
	needPG(t)
	office.BcryptCost = bcrypt.MinCost
	ctx := context.Background()
	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	w := world(t, ra)
	a, b := ra.Office(), rb.Office()
	now := time.Now()

	acct := office.Account{Name: "fuhan", Display: "张主任", Place: w.Town.ID, IDs: true}
	if err := a.CreateAccount(acct, "short"); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("a short password: %v", err)
	}
	if err := a.CreateAccount(office.Account{Name: "v", Place: w.Village.ID}, "a long enough password"); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("an account for a village: %v", err)
	}
	if err := a.CreateAccount(acct, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateAccount(acct, "another long password"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("the same name at the other instance: %v", err)
	}
	if _, _, err := b.Login("fuhan", "a wrong password!", time.Hour, now); !errors.Is(err, office.ErrLogin) {
		t.Errorf("a wrong password: %v", err)
	}
	if _, _, err := b.Login("nobody", "a long enough password", time.Hour, now); !errors.Is(err, office.ErrLogin) {
		t.Errorf("an unknown name: %v", err)
	}
	token, s, err := b.Login("fuhan", "a long enough password", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Session(token, now.Add(time.Minute))
	if err != nil || got.CSRF != s.CSRF || got.Account.Place != w.Town.ID || !got.Account.IDs || got.Account.Display != "张主任" {
		t.Fatalf("the session of B at A: %+v, %v", got, err)
	}
	if _, err := a.Session(token, now.Add(2*time.Hour)); !errors.Is(err, office.ErrSession) {
		t.Errorf("an expired session: %v", err)
	}
	api, err := a.CreateToken("fuhan", now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.TokenAccount(api); err != nil || got.Name != "fuhan" {
		t.Errorf("the API token of A at B: %+v, %v", got, err)
	}
	// A new password ends the sessions at every instance, not the token.
	if err := a.CheckPassword("fuhan", "a long enough password"); err != nil {
		t.Error(err)
	}
	if err := a.SetPassword("fuhan", "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Session(token, now); !errors.Is(err, office.ErrSession) {
		t.Errorf("a session after the password changed: %v", err)
	}
	token, _, err = a.Login("fuhan", "a new long password", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Logout(token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(token, now); !errors.Is(err, office.ErrSession) {
		t.Errorf("a session logged out at the other instance: %v", err)
	}
	// Disabled: no login, no token.
	if err := b.DisableAccount("fuhan", now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Login("fuhan", "a new long password", time.Hour, now); !errors.Is(err, office.ErrLogin) {
		t.Errorf("a disabled account logged in: %v", err)
	}
	if _, err := a.TokenAccount(api); !errors.Is(err, office.ErrSession) {
		t.Errorf("the token of a disabled account: %v", err)
	}
	if err := a.SetPassword("nobody", "a long enough password"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("the password of an unknown account: %v", err)
	}
	list, err := b.Accounts()
	if err != nil || len(list) != 1 || list[0].Disabled.IsZero() || list[0].Created.IsZero() {
		t.Errorf("accounts: %+v, %v", list, err)
	}

	// The audit log, newest first, only what keep accepts, across pages.
	for i := range 1200 {
		place := w.Town.ID
		if i%2 == 1 {
			place = w.City.ID
		}
		if err := a.Audit(store.AuditEntry{At: now, Account: "fuhan", Action: "enrol", Target: "x", Place: place}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := b.AuditLog(700, func(e store.AuditEntry) bool { return e.Place == w.Town.ID })
	if err != nil || len(log) != 600 {
		t.Fatalf("the town's audit entries: %d, %v", len(log), err)
	}
	for i := 1; i < len(log); i++ {
		if log[i].Seq >= log[i-1].Seq || log[i].Place != w.Town.ID {
			t.Fatalf("audit entry %d out of order or place: %+v after %+v", i, log[i], log[i-1])
		}
	}

	// Settings saved at A reach B's mirror through the shared log.
	ma, err := ra.Mirror()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ma.Get(domain.KindPlace, w.Village.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := rec.(*domain.Place)
	rules := domain.DefaultRules()
	rules.OverdueDays = 21
	v.Rules = &rules
	before, _ := ra.LastSeq()
	if err := a.Put(w.Admin, v); err != nil {
		t.Fatal(err)
	}
	after, _ := ra.LastSeq()
	if after != before+1 {
		t.Errorf("the shared log grew from %d to %d, want one entry", before, after)
	}
	mb, err := rb.Mirror()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mb.Rules(w.Village.ID); err != nil || got.OverdueDays != 21 {
		t.Errorf("B's mirror after A saved the rules: %+v, %v", got, err)
	}
	if n, _ := mb.LastSeq(); n != after {
		t.Errorf("B's mirror holds %d entries, the log %d", n, after)
	}
	// Roster files between check and confirmation: found at the other
	// instance, by their account only, until they expire; an account
	// keeps its newest three.
	for i, tok := range []string{"t1", "t2", "t3", "t4"} {
		if err := a.PutUpload(tok, "fuhan", "roster.csv", []byte{byte(i)}, nil, now.Add(time.Hour), now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.MarkUpload("t4", []byte("PK marked")); err != nil {
		t.Fatal(err)
	}
	if name, data, marked, ok, err := b.Upload("t4", "fuhan", now); !ok || err != nil || name != "roster.csv" || data[0] != 3 || string(marked) != "PK marked" {
		t.Errorf("upload t4 at B: %q %v %q %v %v", name, data, marked, ok, err)
	}
	for tok, want := range map[string]bool{"t1": false, "t2": true, "t3": true} {
		if _, _, _, ok, err := b.Upload(tok, "fuhan", now); ok != want || err != nil {
			t.Errorf("upload %s kept %v, want %v (%v)", tok, ok, want, err)
		}
	}
	if _, _, _, ok, _ := b.Upload("t4", "other", now); ok {
		t.Error("another account read the upload")
	}
	if _, _, _, ok, _ := b.Upload("t4", "fuhan", now.Add(2*time.Hour)); ok {
		t.Error("an expired upload was found")
	}
	if err := b.DropUpload("t4"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok, _ := a.Upload("t4", "fuhan", now); ok {
		t.Error("a dropped upload was found")
	}

	// Failed logins at A bar attempts at B; a success at B clears them.
	bar := func(n int) time.Duration { return time.Duration(max(n-2, 0)) * time.Minute }
	keys := []string{"ip:192.0.2.7", "name:fuhan"}
	for range 4 {
		if err := a.Fail(keys, now, bar); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := b.Wait([]string{"name:fuhan"}, now.Add(30*time.Second)); err != nil || d != 90*time.Second {
		t.Errorf("after 4 failures at A, B waits %v (%v), want 1m30s", d, err)
	}
	if d, err := b.Wait([]string{"ip:192.0.2.8", "name:other"}, now); err != nil || d != 0 {
		t.Errorf("other keys wait %v (%v)", d, err)
	}
	if err := b.Succeed(keys); err != nil {
		t.Fatal(err)
	}
	if d, err := a.Wait(keys, now); err != nil || d != 0 {
		t.Errorf("after a success, A waits %v (%v)", d, err)
	}
	if err := a.Fail(keys, now, bar); err != nil {
		t.Fatal(err)
	}
	if d, _ := a.Wait(keys, now); d != 0 {
		t.Errorf("one failure after a success waits %v", d)
	}

	if _, err := a.Backup(nil); !errors.Is(err, pgstore.ErrNoBackup) {
		t.Errorf("backup on PostgreSQL: %v", err)
	}
}
