package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
)

// devRoster is a small roster: a city, a town, two villages, a group in each
// (two in the first), households, and cadres with assignments.
type devRoster struct {
	city, town, vil1, vil2 *domain.Place
	g1, g2, g3             *domain.Place // g1, g2 in vil1; g3 in vil2
	h1, h2, h3             *domain.Household
	groupCadre, leader     *domain.Cadre
	office                 *domain.Cadre
}

func devOpen(t *testing.T, name string, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), name), &store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func devMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func buildDevRoster(t *testing.T, db *store.DB) *devRoster {
	t.Helper()
	admin := uuid.New()
	r := &devRoster{}
	r.city = &domain.Place{Level: domain.City, Name: "临夏市"}
	devMust(t, db.Put(admin, r.city))
	r.town = &domain.Place{Level: domain.Town, Name: "枹罕镇", Parent: r.city.ID}
	devMust(t, db.Put(admin, r.town))
	r.vil1 = &domain.Place{Level: domain.Village, Name: "王坪村", Parent: r.town.ID}
	r.vil2 = &domain.Place{Level: domain.Village, Name: "石头村", Parent: r.town.ID}
	devMust(t, db.Put(admin, r.vil1, r.vil2))
	r.g1 = &domain.Place{Level: domain.Group, Name: "一社", Parent: r.vil1.ID}
	r.g2 = &domain.Place{Level: domain.Group, Name: "二社", Parent: r.vil1.ID}
	r.g3 = &domain.Place{Level: domain.Group, Name: "一社", Parent: r.vil2.ID}
	devMust(t, db.Put(admin, r.g1, r.g2, r.g3))
	r.h1 = &domain.Household{HeadName: "王兴文", Group: r.g1.ID, Status: domain.Registered, Size: 4}
	r.h2 = &domain.Household{HeadName: "马进福", Group: r.g2.ID, Status: domain.Lifted, Size: 3}
	r.h3 = &domain.Household{HeadName: "李春花", Group: r.g3.ID, Status: domain.Monitored, Size: 2}
	devMust(t, db.Put(admin, r.h1, r.h2, r.h3))
	r.groupCadre = &domain.Cadre{Name: "马兴文", Rank: domain.RankOther}
	r.leader = &domain.Cadre{Name: "王队长", Rank: domain.RankSection}
	r.office = &domain.Cadre{Name: "赵主任", Rank: domain.RankSection}
	devMust(t, db.Put(admin, r.groupCadre, r.leader, r.office))
	devMust(t, db.Put(admin,
		&domain.Assignment{Cadre: r.groupCadre.ID, Role: domain.GroupCadre, Target: r.g1.ID},
		&domain.Assignment{Cadre: r.groupCadre.ID, Role: domain.Helper, Target: r.h3.ID},
		&domain.Assignment{Cadre: r.leader.ID, Role: domain.TeamLeader, Target: r.vil1.ID},
		&domain.Assignment{Cadre: r.office.ID, Role: domain.Office, Target: r.city.ID},
	))
	return r
}

func TestBoltEnrolment(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)

	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(code) {
		t.Fatalf("code %q is not two groups of four unambiguous characters", code)
	}
	phone := uuid.New()
	// Typed in lower case with a space instead of the dash: still the code.
	typed := strings.ToLower(strings.Replace(code, "-", " ", 1))
	token, cadre, err := reg.Enroll(typed, phone, "马兴文的手机", now.Add(time.Minute))
	devMust(t, err)
	if cadre != r.groupCadre.ID {
		t.Fatalf("enrolled for cadre %s, want %s", cadre, r.groupCadre.ID)
	}
	d, err := reg.Authenticate(token)
	devMust(t, err)
	if d.ID != phone || d.Cadre != r.groupCadre.ID || d.Name != "马兴文的手机" || !d.Enrolled.Equal(now.Add(time.Minute)) {
		t.Fatalf("authenticated as %+v", d)
	}

	// A code works once.
	if _, _, err := reg.Enroll(code, uuid.New(), "另一台手机", now.Add(2*time.Minute)); !errors.Is(err, replica.ErrCodeUsed) {
		t.Fatalf("second use of a code: %v, want ErrCodeUsed", err)
	}
	// An unknown code, an expired code.
	if _, _, err := reg.Enroll("2345-6789", uuid.New(), "x", now); !errors.Is(err, replica.ErrCodeUnknown) {
		t.Fatalf("unknown code: %v", err)
	}
	short, err := reg.CreateEnrolCode(r.leader.ID, time.Minute)
	devMust(t, err)
	if _, _, err := reg.Enroll(short, uuid.New(), "平板", now.Add(time.Minute)); !errors.Is(err, replica.ErrCodeExpired) {
		t.Fatalf("expired code: %v", err)
	} else if domain.ErrorCode(err) != domain.EUNAUTHORIZED || domain.Message(err, "zh") == "" {
		t.Fatalf("expired code: code %q, message %q", domain.ErrorCode(err), domain.Message(err, "zh"))
	}
	// A code for an unknown cadre is not issued.
	if _, err := reg.CreateEnrolCode(uuid.New(), time.Hour); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("code for unknown cadre: %v", err)
	}
	// A device must name itself, and not as the server.
	c2, err := reg.CreateEnrolCode(r.leader.ID, time.Hour)
	devMust(t, err)
	for _, dev := range []uuid.UUID{uuid.Nil, db.Device()} {
		if _, _, err := reg.Enroll(c2, dev, "平板", now); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("enrol as %s: %v", dev, err)
		}
	}

	// Tokens that are not the token.
	for _, bad := range []string{"", "bft1.", token[:len(token)-1], token + "x", "bft1." + phone.String() + ".AAAA",
		strings.Replace(token, phone.String(), uuid.NewString(), 1), "Bearer " + token} {
		if _, err := reg.Authenticate(bad); !errors.Is(err, replica.ErrTokenUnknown) {
			t.Fatalf("token %q: %v, want ErrTokenUnknown", bad, err)
		}
	}

	devMust(t, reg.Touch(phone, now.Add(time.Hour)))
	// The same cadre's live device enrols again with a new code: a new
	// token; once it is used, the old one is dead.
	again, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	token2, _, err := reg.Enroll(again, phone, "马兴文的新手机", now.Add(30*time.Minute))
	devMust(t, err)
	if d, err := reg.Authenticate(token2); err != nil || d.Name != "马兴文的新手机" {
		t.Fatalf("new token: %+v %v", d, err)
	}
	if _, err := reg.Authenticate(token); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("old token after re-enrolment: %v", err)
	}

	devMust(t, reg.Revoke(phone, replica.Lost, now.Add(2*time.Hour)))
	if _, err := reg.Authenticate(token2); !errors.Is(err, replica.ErrLost) || domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Fatalf("revoked token: %v", err)
	}
	devs, err := reg.Devices()
	devMust(t, err)
	if len(devs) != 1 || devs[0].ID != phone || !devs[0].LastSync.Equal(now.Add(time.Hour)) ||
		!devs[0].Revoked.Equal(now.Add(2*time.Hour)) || devs[0].Reason != replica.Lost {
		t.Fatalf("devices: %+v", devs)
	}
	if err := reg.Revoke(uuid.New(), replica.Lost, now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("revoke unknown device: %v", err)
	}
	if err := reg.Revoke(phone, "stolen", now); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("revoke for no reason: %v", err)
	}

	// Neither codes nor tokens are in the file in clear, and all survives a reopen.
	path := db.Path()
	devMust(t, db.Close())
	raw, err := os.ReadFile(path)
	devMust(t, err)
	for _, secret := range []string{code, replica.NormalizeCode(code), again, replica.NormalizeCode(again), token, token2,
		token2[strings.LastIndexByte(token2, '.')+1:]} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("%q is stored in clear", secret)
		}
	}
	db2, err := store.Open(path, nil)
	reg2 := server.NewBoltRegistry(db2)
	devMust(t, err)
	defer db2.Close()
	if _, err := reg2.Authenticate(token2); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestBoltDeviceBinding: a device ID belongs to the first cadre that enrolled
// it. Another cadre's code with that ID is refused and the first cadre's
// token keeps working; a revoked ID enrols for nobody, its own cadre
// included. (Issue 7, finding 1: today's code hands the ID over.)
func TestBoltDeviceBinding(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)
	tablet := uuid.New()
	leaderCode, err := reg.CreateEnrolCode(r.leader.ID, time.Hour)
	devMust(t, err)
	leaderToken, _, err := reg.Enroll(leaderCode, tablet, "王队长的平板", now)
	devMust(t, err)

	cadreCode, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	if _, _, err := reg.Enroll(cadreCode, tablet, "马兴文的手机", now); !errors.Is(err, replica.ErrDeviceTaken) {
		t.Fatalf("another cadre's code with the leader's device ID: %v, want ErrDeviceTaken", err)
	} else if domain.Message(err, "zh") == "" || domain.Message(err, "en") == "" {
		t.Fatalf("no words: %v", err)
	}
	if d, err := reg.Authenticate(leaderToken); err != nil || d.Cadre != r.leader.ID {
		t.Fatalf("leader's token after the attempt: %+v %v", d, err)
	}
	// The refused attempt did not use up the cadre's code.
	phone := uuid.New()
	if _, cadre, err := reg.Enroll(cadreCode, phone, "马兴文的手机", now); err != nil || cadre != r.groupCadre.ID {
		t.Fatalf("the cadre's own device: %s %v", cadre, err)
	}

	// Revoked: the ID is bound for good, for any cadre.
	devMust(t, reg.Revoke(tablet, replica.Replaced, now))
	for _, who := range []uuid.UUID{r.leader.ID, r.groupCadre.ID} {
		c, err := reg.CreateEnrolCode(who, time.Hour)
		devMust(t, err)
		if _, _, err := reg.Enroll(c, tablet, "平板", now); !errors.Is(err, replica.ErrDeviceTaken) {
			t.Fatalf("re-enrol a revoked device for %s: %v, want ErrDeviceTaken", who, err)
		}
	}
}

// TestBoltEnrolmentRetry: the same code and device within the code's life get
// the same identity back with a fresh token; once one of the tokens is used
// the other stops working; another device still finds the code used. (Issue
// 7, finding 6.)
func TestBoltEnrolmentRetry(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)
	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	first, _, err := reg.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	// The answer is lost; the phone tries again.
	second, cadre, err := reg.Enroll(code, phone, "马兴文的手机", now.Add(10*time.Minute))
	if err != nil || cadre != r.groupCadre.ID || second == first {
		t.Fatalf("retry: %s %v (same token: %v)", cadre, err, second == first)
	}
	d, err := reg.Authenticate(second)
	if err != nil || d.ID != phone || !d.Enrolled.Equal(now) {
		t.Fatalf("second token: %+v %v", d, err)
	}
	// The second token was used: the first stops working.
	if _, err := reg.Authenticate(first); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("first token after the second was used: %v", err)
	}
	if _, _, err := reg.Enroll(code, uuid.New(), "别人的手机", now.Add(11*time.Minute)); !errors.Is(err, replica.ErrCodeUsed) {
		t.Fatalf("another device with the used code: %v", err)
	}
	if _, _, err := reg.Enroll(code, phone, "马兴文的手机", now.Add(time.Hour)); !errors.Is(err, replica.ErrCodeExpired) {
		t.Fatalf("retry after the code's life: %v", err)
	}
}

// TestBoltRevokeReasons: a device revoked as lost is ErrLost; one revoked as
// replaced authenticates with ErrReplaced until it is closed, then
// ErrRevoked.
func TestBoltRevokeReasons(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)
	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	token, _, err := reg.Enroll(code, phone, "旧手机", now)
	devMust(t, err)
	devMust(t, reg.Revoke(phone, replica.Replaced, now))
	devMust(t, reg.Revoke(phone, replica.Replaced, now.Add(time.Hour))) // already revoked: no change
	d, err := reg.Authenticate(token)
	if !errors.Is(err, replica.ErrReplaced) || d.ID != phone || d.Cadre != r.groupCadre.ID {
		t.Fatalf("replaced: %+v %v", d, err)
	}
	devMust(t, reg.CloseDevice(phone, now))
	if _, err := reg.Authenticate(token); !errors.Is(err, replica.ErrRevoked) {
		t.Fatalf("closed: %v", err)
	}
	devMust(t, reg.Revoke(phone, replica.Lost, now)) // closed: stays replaced
	if _, err := reg.Authenticate(token); !errors.Is(err, replica.ErrRevoked) {
		t.Fatalf("closed, then revoked as lost: %v", err)
	}
	// Replaced, then found missing before its last push: lost after all.
	c2, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	tablet := uuid.New()
	t2, _, err := reg.Enroll(c2, tablet, "旧平板", now)
	devMust(t, err)
	devMust(t, reg.Revoke(tablet, replica.Replaced, now))
	devMust(t, reg.Revoke(tablet, replica.Lost, now))
	if _, err := reg.Authenticate(t2); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("replaced, then lost: %v", err)
	}
	if _, err := replica.ParseReason("Lost "); err != nil {
		t.Fatal(err)
	}
}

// TestBoltDeviceNames: names with control characters, invalid UTF-8 or too many
// characters are refused at enrolment. (Issue 7, findings 3 and 8.)
func TestBoltDeviceNames(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)
	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	for _, name := range []string{"", "  ", "a\nb", "x\x1b[31mred", "\xff\xfe", "\xc0\xaf", "名\u202e字", "a\u0085b",
		"坏\ufffd名", strings.Repeat("长", replica.MaxDeviceName+1)} {
		if _, _, err := reg.Enroll(code, uuid.New(), name, now); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("name %q: %v, want invalid", name, err)
		}
	}
	if _, _, err := reg.Enroll(code, uuid.New(), strings.Repeat("长", replica.MaxDeviceName), now); err != nil {
		t.Errorf("a long but not too long name: %v", err)
	}
}

// TestBoltLockouts: recorded lockouts come back, those ended before since left
// out.
func TestBoltLockouts(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	devMust(t, reg.RecordLockout(replica.Lockout{Address: "10.0.0.7", From: now, Until: now.Add(time.Hour), Failures: 10}))
	devMust(t, reg.RecordLockout(replica.Lockout{From: now.Add(time.Minute), Until: now.Add(2 * time.Hour), Failures: 100}))
	got, err := reg.Lockouts(now)
	devMust(t, err)
	if len(got) != 2 || got[0].Address != "10.0.0.7" || got[1].Address != "" || got[1].Failures != 100 {
		t.Fatalf("lockouts: %+v", got)
	}
	if got, err := reg.Lockouts(now.Add(90 * time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("lockouts still on: %+v %v", got, err)
	}
}

// TestBoltDeviceRowsBeforeReasons: a device row written before revocation
// reasons were kept (no "reason", no "closed") reads as revoked for a lost
// device: no migration is needed, and the old meaning of revoking (a lost
// phone) holds.
func TestBoltDeviceRowsBeforeReasons(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "server.db")
	db, err := store.Open(path, &store.Options{Now: func() time.Time { return now }})
	reg := server.NewBoltRegistry(db)
	devMust(t, err)
	r := buildDevRoster(t, db)
	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	token, _, err := reg.Enroll(code, phone, "手机", now)
	devMust(t, err)
	devMust(t, db.Close())

	raw, err := bolt.Open(path, 0o600, nil)
	devMust(t, err)
	devMust(t, raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("devices"))
		var row map[string]any
		if err := json.Unmarshal(b.Get(phone[:]), &row); err != nil {
			return err
		}
		delete(row, "reason")
		delete(row, "closed")
		row["revoked"] = now.Format(time.RFC3339)
		v, err := json.Marshal(row)
		if err != nil {
			return err
		}
		return b.Put(phone[:], v)
	}))
	devMust(t, raw.Close())

	db, err = store.Open(path, nil)
	reg = server.NewBoltRegistry(db)
	devMust(t, err)
	defer db.Close()
	if _, err := reg.Authenticate(token); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("an old revoked row: %v, want ErrLost", err)
	}
	devs, err := reg.Devices()
	devMust(t, err)
	if len(devs) != 1 || devs[0].Revoked.IsZero() || devs[0].Reason != "" {
		t.Fatalf("devices: %+v", devs)
	}
}

// TestBoltEnrolmentDeliveredTwice: an enrolment delivered twice (a proxy or a
// flaky link repeating the request) gives two tokens, and the device holds
// the first answer's: that token works, and then the second does not. The
// fault simulation found a device locked out when the retry replaced the
// token it held.
func TestBoltEnrolmentDeliveredTwice(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	reg := server.NewBoltRegistry(db)
	r := buildDevRoster(t, db)
	code, err := reg.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	held, _, err := reg.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	repeated, _, err := reg.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	for i := 0; i < 2; i++ { // and again: it is now the only token
		if d, err := reg.Authenticate(held); err != nil || d.ID != phone {
			t.Fatalf("the token the device holds, use %d: %+v %v", i+1, d, err)
		}
	}
	if _, err := reg.Authenticate(repeated); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("the repeated answer's token after the first was used: %v", err)
	}
}

// BenchmarkBoltAuthenticate is what every sync request costs the registry:
// one token checked in a read transaction of the store.
func BenchmarkBoltAuthenticate(b *testing.B) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db, err := store.Open(filepath.Join(b.TempDir(), "server.db"), &store.Options{Now: func() time.Time { return now }, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cadre := &domain.Cadre{Name: "马兴文", Rank: domain.RankOther, Unit: "枹罕镇人民政府"}
	if err := db.Put(uuid.New(), cadre); err != nil {
		b.Fatal(err)
	}
	reg := server.NewBoltRegistry(db)
	code, err := reg.CreateEnrolCode(cadre.ID, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := reg.Enroll(code, uuid.New(), "手机", now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := reg.Authenticate(token); err != nil {
			b.Fatal(err)
		}
	}
}
