package office_test

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
	"bangfu/store/storetest"
)

func TestBoltAccountLifecycle(t *testing.T) {
	db := storetest.MustOpen(t)
	v := storetest.BuildVillage(t, db, storetest.Now)
	acc := office.NewBoltAccounts(db)
	if err := acc.CreateAccount(office.Account{Name: "fuhan", Place: v.Vil.ID}, "long enough pw"); err == nil {
		t.Error("an account scoped to a village was made (only towns and cities)")
	}
	if err := acc.CreateAccount(office.Account{Name: "fuhan", Place: v.Town.ID}, "short"); err == nil {
		t.Error("a short password was accepted")
	}
	if err := acc.CreateAccount(office.Account{Name: "fuhan", Display: "镇办", Place: v.Town.ID}, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	if err := acc.CreateAccount(office.Account{Name: "fuhan", Place: v.Town.ID}, "long enough pw"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("a second account of the same name: %v, want a conflict", err)
	}
	now := storetest.Now
	for _, c := range []struct{ name, pw string }{{"fuhan", "wrong password"}, {"nobody", "long enough pw"}} {
		if _, _, err := acc.Login(c.name, c.pw, time.Hour, now); !errors.Is(err, office.ErrLogin) {
			t.Errorf("login %s/%s: %v, want ErrLogin", c.name, c.pw, err)
		}
	}
	token, s, err := acc.Login("fuhan", "long enough pw", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account.Place != v.Town.ID || s.CSRF == "" || strings.Contains(token, s.CSRF) {
		t.Errorf("session %+v", s)
	}
	if got, err := acc.Session(token, now.Add(time.Minute)); err != nil || got.CSRF != s.CSRF {
		t.Errorf("session lookup: %+v %v", got, err)
	}
	if _, err := acc.Session(token, now.Add(time.Hour)); !errors.Is(err, office.ErrSession) {
		t.Errorf("an expired session: %v", err)
	}
	if _, err := acc.Session(token+"x", now); !errors.Is(err, office.ErrSession) {
		t.Errorf("a wrong token: %v", err)
	}
	// A new password ends the sessions; so does disabling.
	if err := acc.SetPassword("fuhan", "another long pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Session(token, now); !errors.Is(err, office.ErrSession) {
		t.Errorf("a session survived a new password: %v", err)
	}
	token, _, err = acc.Login("fuhan", "another long pw", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.DisableAccount("fuhan", now); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Session(token, now); !errors.Is(err, office.ErrSession) {
		t.Errorf("a session survived disabling: %v", err)
	}
	if _, _, err := acc.Login("fuhan", "another long pw", time.Hour, now); !errors.Is(err, office.ErrLogin) {
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
}

// TestBoltAccountsReadOldFile opens a server's file whose accounts store
// itself wrote before they moved here (testdata/README.md) and finds every
// account, the session, the API token and the audit entry in it.
func TestBoltAccountsReadOldFile(t *testing.T) {
	var f struct {
		Now        time.Time
		Town, City uuid.UUID
		Session    string
		CSRF       string
		APIToken   string `json:"api_token"`
	}
	b, err := os.ReadFile("testdata/accounts-v7.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server.db")
	in, err := os.Open("testdata/accounts-v7.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	z, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	db := storetest.MustOpenAt(t, path, f.Now)
	acc := office.NewBoltAccounts(db)

	list, err := acc.Accounts()
	if err != nil || len(list) != 3 {
		t.Fatalf("accounts: %+v, %v", list, err)
	}
	want := map[string]office.Account{
		"city":  {Name: "city", Display: "市办", Place: f.City, IDs: true, Created: f.Now},
		"fuhan": {Name: "fuhan", Display: "枹罕镇办", Place: f.Town, Created: f.Now},
		"gone":  {Name: "gone", Display: "离职", Place: f.Town, Created: f.Now, Disabled: f.Now},
	}
	for _, a := range list {
		w := want[a.Name]
		if a.Display != w.Display || a.Place != w.Place || a.IDs != w.IDs || !a.Created.Equal(w.Created) || !a.Disabled.Equal(w.Disabled) {
			t.Errorf("account %+v, want %+v", a, w)
		}
	}
	if s, err := acc.Session(f.Session, f.Now.Add(time.Hour)); err != nil || s.Account.Name != "fuhan" || s.CSRF != f.CSRF {
		t.Errorf("the session: %+v, %v", s, err)
	}
	if a, err := acc.TokenAccount(f.APIToken); err != nil || a.Name != "city" {
		t.Errorf("the API token: %+v, %v", a, err)
	}
	if err := acc.CheckPassword("fuhan", "fuhan password"); err != nil {
		t.Errorf("the password: %v", err)
	}
	if _, _, err := acc.Login("gone", "gone password!", time.Hour, f.Now); !errors.Is(err, office.ErrLogin) {
		t.Errorf("the disabled account: %v", err)
	}
	if log, err := db.AuditLog(10, nil); err != nil || len(log) != 1 || log[0].Action != "login" || log[0].Account != "fuhan" {
		t.Errorf("audit log: %+v, %v", log, err)
	}
}
