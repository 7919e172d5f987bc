package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
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

func TestEnrolment(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)

	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(code) {
		t.Fatalf("code %q is not two groups of four unambiguous characters", code)
	}
	phone := uuid.New()
	// Typed in lower case with a space instead of the dash: still the code.
	typed := strings.ToLower(strings.Replace(code, "-", " ", 1))
	token, cadre, err := db.Enroll(typed, phone, "马兴文的手机", now.Add(time.Minute))
	devMust(t, err)
	if cadre != r.groupCadre.ID {
		t.Fatalf("enrolled for cadre %s, want %s", cadre, r.groupCadre.ID)
	}
	d, err := db.Authenticate(token)
	devMust(t, err)
	if d.ID != phone || d.Cadre != r.groupCadre.ID || d.Name != "马兴文的手机" || !d.Enrolled.Equal(now.Add(time.Minute)) {
		t.Fatalf("authenticated as %+v", d)
	}

	// A code works once.
	if _, _, err := db.Enroll(code, uuid.New(), "另一台手机", now.Add(2*time.Minute)); !errors.Is(err, replica.ErrCodeUsed) {
		t.Fatalf("second use of a code: %v, want ErrCodeUsed", err)
	}
	// An unknown code, an expired code.
	if _, _, err := db.Enroll("2345-6789", uuid.New(), "x", now); !errors.Is(err, replica.ErrCodeUnknown) {
		t.Fatalf("unknown code: %v", err)
	}
	short, err := db.CreateEnrolCode(r.leader.ID, time.Minute)
	devMust(t, err)
	if _, _, err := db.Enroll(short, uuid.New(), "平板", now.Add(time.Minute)); !errors.Is(err, replica.ErrCodeExpired) {
		t.Fatalf("expired code: %v", err)
	} else if domain.ErrorCode(err) != domain.EUNAUTHORIZED || domain.Message(err, "zh") == "" {
		t.Fatalf("expired code: code %q, message %q", domain.ErrorCode(err), domain.Message(err, "zh"))
	}
	// A code for an unknown cadre is not issued.
	if _, err := db.CreateEnrolCode(uuid.New(), time.Hour); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("code for unknown cadre: %v", err)
	}
	// A device must name itself, and not as the server.
	c2, err := db.CreateEnrolCode(r.leader.ID, time.Hour)
	devMust(t, err)
	for _, dev := range []uuid.UUID{uuid.Nil, db.Device()} {
		if _, _, err := db.Enroll(c2, dev, "平板", now); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("enrol as %s: %v", dev, err)
		}
	}

	// Tokens that are not the token.
	for _, bad := range []string{"", "bft1.", token[:len(token)-1], token + "x", "bft1." + phone.String() + ".AAAA",
		strings.Replace(token, phone.String(), uuid.NewString(), 1), "Bearer " + token} {
		if _, err := db.Authenticate(bad); !errors.Is(err, replica.ErrTokenUnknown) {
			t.Fatalf("token %q: %v, want ErrTokenUnknown", bad, err)
		}
	}

	devMust(t, db.Touch(phone, now.Add(time.Hour)))
	// The same cadre's live device enrols again with a new code: a new
	// token; once it is used, the old one is dead.
	again, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	token2, _, err := db.Enroll(again, phone, "马兴文的新手机", now.Add(30*time.Minute))
	devMust(t, err)
	if d, err := db.Authenticate(token2); err != nil || d.Name != "马兴文的新手机" {
		t.Fatalf("new token: %+v %v", d, err)
	}
	if _, err := db.Authenticate(token); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("old token after re-enrolment: %v", err)
	}

	devMust(t, db.Revoke(phone, replica.Lost, now.Add(2*time.Hour)))
	if _, err := db.Authenticate(token2); !errors.Is(err, replica.ErrLost) || domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Fatalf("revoked token: %v", err)
	}
	devs, err := db.Devices()
	devMust(t, err)
	if len(devs) != 1 || devs[0].ID != phone || !devs[0].LastSync.Equal(now.Add(time.Hour)) ||
		!devs[0].Revoked.Equal(now.Add(2*time.Hour)) || devs[0].Reason != replica.Lost {
		t.Fatalf("devices: %+v", devs)
	}
	if err := db.Revoke(uuid.New(), replica.Lost, now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("revoke unknown device: %v", err)
	}
	if err := db.Revoke(phone, "stolen", now); domain.ErrorCode(err) != domain.EINVALID {
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
	devMust(t, err)
	defer db2.Close()
	if _, err := db2.Authenticate(token2); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestDeviceBinding: a device ID belongs to the first cadre that enrolled
// it. Another cadre's code with that ID is refused and the first cadre's
// token keeps working; a revoked ID enrols for nobody, its own cadre
// included. (Issue 7, finding 1: today's code hands the ID over.)
func TestDeviceBinding(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	tablet := uuid.New()
	leaderCode, err := db.CreateEnrolCode(r.leader.ID, time.Hour)
	devMust(t, err)
	leaderToken, _, err := db.Enroll(leaderCode, tablet, "王队长的平板", now)
	devMust(t, err)

	cadreCode, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	if _, _, err := db.Enroll(cadreCode, tablet, "马兴文的手机", now); !errors.Is(err, replica.ErrDeviceTaken) {
		t.Fatalf("another cadre's code with the leader's device ID: %v, want ErrDeviceTaken", err)
	} else if domain.Message(err, "zh") == "" || domain.Message(err, "en") == "" {
		t.Fatalf("no words: %v", err)
	}
	if d, err := db.Authenticate(leaderToken); err != nil || d.Cadre != r.leader.ID {
		t.Fatalf("leader's token after the attempt: %+v %v", d, err)
	}
	// The refused attempt did not use up the cadre's code.
	phone := uuid.New()
	if _, cadre, err := db.Enroll(cadreCode, phone, "马兴文的手机", now); err != nil || cadre != r.groupCadre.ID {
		t.Fatalf("the cadre's own device: %s %v", cadre, err)
	}

	// Revoked: the ID is bound for good, for any cadre.
	devMust(t, db.Revoke(tablet, replica.Replaced, now))
	for _, who := range []uuid.UUID{r.leader.ID, r.groupCadre.ID} {
		c, err := db.CreateEnrolCode(who, time.Hour)
		devMust(t, err)
		if _, _, err := db.Enroll(c, tablet, "平板", now); !errors.Is(err, replica.ErrDeviceTaken) {
			t.Fatalf("re-enrol a revoked device for %s: %v, want ErrDeviceTaken", who, err)
		}
	}
}

// TestEnrolmentRetry: the same code and device within the code's life get
// the same identity back with a fresh token; once one of the tokens is used
// the other stops working; another device still finds the code used. (Issue
// 7, finding 6.)
func TestEnrolmentRetry(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	first, _, err := db.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	// The answer is lost; the phone tries again.
	second, cadre, err := db.Enroll(code, phone, "马兴文的手机", now.Add(10*time.Minute))
	if err != nil || cadre != r.groupCadre.ID || second == first {
		t.Fatalf("retry: %s %v (same token: %v)", cadre, err, second == first)
	}
	d, err := db.Authenticate(second)
	if err != nil || d.ID != phone || !d.Enrolled.Equal(now) {
		t.Fatalf("second token: %+v %v", d, err)
	}
	// The second token was used: the first stops working.
	if _, err := db.Authenticate(first); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("first token after the second was used: %v", err)
	}
	if _, _, err := db.Enroll(code, uuid.New(), "别人的手机", now.Add(11*time.Minute)); !errors.Is(err, replica.ErrCodeUsed) {
		t.Fatalf("another device with the used code: %v", err)
	}
	if _, _, err := db.Enroll(code, phone, "马兴文的手机", now.Add(time.Hour)); !errors.Is(err, replica.ErrCodeExpired) {
		t.Fatalf("retry after the code's life: %v", err)
	}
}

// TestRevokeReasons: a device revoked as lost is ErrLost; one revoked as
// replaced authenticates with ErrReplaced until it is closed, then
// ErrRevoked.
func TestRevokeReasons(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	token, _, err := db.Enroll(code, phone, "旧手机", now)
	devMust(t, err)
	devMust(t, db.Revoke(phone, replica.Replaced, now))
	devMust(t, db.Revoke(phone, replica.Replaced, now.Add(time.Hour))) // already revoked: no change
	d, err := db.Authenticate(token)
	if !errors.Is(err, replica.ErrReplaced) || d.ID != phone || d.Cadre != r.groupCadre.ID {
		t.Fatalf("replaced: %+v %v", d, err)
	}
	devMust(t, db.CloseDevice(phone, now))
	if _, err := db.Authenticate(token); !errors.Is(err, replica.ErrRevoked) {
		t.Fatalf("closed: %v", err)
	}
	devMust(t, db.Revoke(phone, replica.Lost, now)) // closed: stays replaced
	if _, err := db.Authenticate(token); !errors.Is(err, replica.ErrRevoked) {
		t.Fatalf("closed, then revoked as lost: %v", err)
	}
	// Replaced, then found missing before its last push: lost after all.
	c2, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	tablet := uuid.New()
	t2, _, err := db.Enroll(c2, tablet, "旧平板", now)
	devMust(t, err)
	devMust(t, db.Revoke(tablet, replica.Replaced, now))
	devMust(t, db.Revoke(tablet, replica.Lost, now))
	if _, err := db.Authenticate(t2); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("replaced, then lost: %v", err)
	}
	if _, err := replica.ParseReason("Lost "); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceNames: names with control characters, invalid UTF-8 or too many
// characters are refused at enrolment. (Issue 7, findings 3 and 8.)
func TestDeviceNames(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	for _, name := range []string{"", "  ", "a\nb", "x\x1b[31mred", "\xff\xfe", "\xc0\xaf", "名\u202e字", "a\u0085b",
		"坏\ufffd名", strings.Repeat("长", replica.MaxDeviceName+1)} {
		if _, _, err := db.Enroll(code, uuid.New(), name, now); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("name %q: %v, want invalid", name, err)
		}
	}
	if _, _, err := db.Enroll(code, uuid.New(), strings.Repeat("长", replica.MaxDeviceName), now); err != nil {
		t.Errorf("a long but not too long name: %v", err)
	}
}

// TestLockouts: recorded lockouts come back, those ended before since left
// out.
func TestLockouts(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	devMust(t, db.RecordLockout(replica.Lockout{Address: "10.0.0.7", From: now, Until: now.Add(time.Hour), Failures: 10}))
	devMust(t, db.RecordLockout(replica.Lockout{From: now.Add(time.Minute), Until: now.Add(2 * time.Hour), Failures: 100}))
	got, err := db.Lockouts(now)
	devMust(t, err)
	if len(got) != 2 || got[0].Address != "10.0.0.7" || got[1].Address != "" || got[1].Failures != 100 {
		t.Fatalf("lockouts: %+v", got)
	}
	if got, err := db.Lockouts(now.Add(90 * time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("lockouts still on: %+v %v", got, err)
	}
}

func TestReach(t *testing.T) {
	db := devOpen(t, "server.db", nil)
	r := buildDevRoster(t, db)

	got, err := db.Reach(r.groupCadre.ID)
	devMust(t, err)
	if len(got) != 2 {
		t.Fatalf("group cadre reaches %+v", got)
	}
	for _, a := range got {
		switch a.Role {
		case domain.GroupCadre:
			want := store.Location{Group: r.g1.ID, Village: r.vil1.ID, Town: r.town.ID}
			if a.Target != r.g1.ID || a.Level != domain.Group || a.Location != want ||
				len(a.Households) != 1 || a.Households[0] != r.h1.ID {
				t.Fatalf("group assignment %+v", a)
			}
		case domain.Helper:
			want := store.Location{Household: r.h3.ID, Group: r.g3.ID, Village: r.vil2.ID, Town: r.town.ID}
			if a.Target != r.h3.ID || a.Level != "" || a.Location != want {
				t.Fatalf("pairing %+v", a)
			}
		default:
			t.Fatalf("unexpected %+v", a)
		}
	}
	got, err = db.Reach(r.office.ID)
	devMust(t, err)
	if len(got) != 1 || got[0].Level != domain.City || got[0].Location != (store.Location{}) {
		t.Fatalf("office reaches %+v", got)
	}
	// A deleted assignment reaches nothing.
	var leaderAssignment uuid.UUID
	devMust(t, db.Each(domain.KindAssignment, func(rec domain.Record) error {
		if a := rec.(*domain.Assignment); a.Cadre == r.leader.ID {
			leaderAssignment = a.ID
		}
		return nil
	}))
	devMust(t, db.Delete(uuid.New(), domain.KindAssignment, leaderAssignment))
	if got, err := db.Reach(r.leader.ID); err != nil || len(got) != 0 {
		t.Fatalf("leader after deletion reaches %+v %v", got, err)
	}
}

func TestApplyChecked(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	server := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, server)
	phone := devOpen(t, "phone.db", func() time.Time { return now })
	ship(t, server, phone)

	cadre := r.groupCadre.ID
	ownHousehold := &domain.Visit{Household: r.h1.ID, Cadre: cadre, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "在家"}
	otherVillage := &domain.Visit{Household: r.h3.ID, Cadre: cadre, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "在家"}
	newHousehold := &domain.Household{HeadName: "新户", Group: r.g1.ID, Status: domain.Ordinary, Size: 1}
	devMust(t, phone.Put(cadre, ownHousehold))
	devMust(t, phone.Put(cadre, newHousehold))
	visitNew := &domain.Visit{Household: newHousehold.ID, Cadre: cadre, At: now.Add(-time.Minute), Type: domain.VisitRoutine, Notes: "新户走访"}
	devMust(t, phone.Put(cadre, visitNew))
	devMust(t, phone.Put(cadre, otherVillage))

	out, err := phone.Outbox(server.Device(), 0, 0)
	devMust(t, err)
	var changes []domain.Change
	for _, e := range out {
		changes = append(changes, e.Change)
	}
	forbidden := &domain.Error{Code: domain.EFORBIDDEN, Zh: "不在范围内", En: "out of scope"}
	type seen struct {
		kind           domain.Kind
		before, after  store.Location
		existed        bool
		householdKnown bool
	}
	var checked []seen
	onlyGroup1 := func(ch domain.Change, before store.Location, existed bool, after store.Location) error {
		checked = append(checked, seen{ch.Kind, before, after, existed, after.Village != uuid.Nil})
		if after.Group != r.g1.ID || (existed && before.Group != r.g1.ID) {
			return forbidden
		}
		return nil
	}
	last, err := server.LastSeq()
	devMust(t, err)
	_, err = server.ApplyChecked(phone.Device(), changes, onlyGroup1)
	if !errors.Is(err, forbidden) {
		t.Fatalf("push with a visit to another village: %v, want forbidden", err)
	}
	var refused *store.Refused
	if !errors.As(err, &refused) || !slices.Equal(refused.Indexes, []int{3}) {
		t.Fatalf("refusal names %+v, want exactly change 3", refused)
	}
	if now, _ := server.LastSeq(); now != last {
		t.Fatalf("a refused push wrote %d log entries", now-last)
	}
	for _, ch := range changes {
		if ok, _ := server.Seen(ch.ID); ok {
			t.Fatalf("a refused push applied %s %s", ch.Kind, ch.ID)
		}
	}
	// The visit to the household created earlier in the same push was
	// located through that household: the check sees the batch's own state.
	if len(checked) != 4 || checked[2].kind != domain.KindVisit || checked[2].after.Group != r.g1.ID || checked[2].after.Village != r.vil1.ID {
		t.Fatalf("checks: %+v", checked)
	}
	if checked[3].after.Village != r.vil2.ID || checked[3].after.Household != r.h3.ID {
		t.Fatalf("the out-of-scope visit was located at %+v", checked[3].after)
	}

	// Without the stray visit the push goes through, and again changes nothing.
	for range 2 {
		checked = nil
		rej, err := server.ApplyChecked(phone.Device(), changes[:3], onlyGroup1)
		devMust(t, err)
		for i, e := range rej {
			if e != nil {
				t.Fatalf("change %d rejected: %v", i, e)
			}
		}
	}
	if len(checked) != 0 {
		t.Fatalf("seen changes were checked again: %+v", checked)
	}
	if _, err := server.Get(domain.KindVisit, visitNew.ID); err != nil {
		t.Fatal(err)
	}

	// Moving a household out of the group is refused by where it was before.
	checked = nil
	h := *newHousehold
	h.Group = r.g3.ID
	devMust(t, phone.Put(cadre, &h))
	seq, _ := phone.LastSeq()
	out, _ = phone.Outbox(server.Device(), seq-1, 0)
	if _, err := server.ApplyChecked(phone.Device(), []domain.Change{out[0].Change}, func(ch domain.Change, before store.Location, existed bool, after store.Location) error {
		if !existed || before.Group != r.g1.ID || after.Group != r.g3.ID || after.Village != r.vil2.ID {
			t.Errorf("move located %+v -> %+v (existed %v)", before, after, existed)
		}
		return forbidden
	}); !errors.Is(err, forbidden) {
		t.Fatal(err)
	}
}

// ship applies every change of from to to, as received from from.
func ship(t *testing.T, from, to *store.DB) {
	t.Helper()
	out, err := from.Outbox(to.Device(), 0, 0)
	devMust(t, err)
	var changes []domain.Change
	for _, e := range out {
		changes = append(changes, e.Change)
	}
	rej, err := to.Apply(from.Device(), changes)
	devMust(t, err)
	for i, e := range rej {
		if e != nil {
			t.Fatalf("ship: change %d (%s) rejected: %v", i, changes[i].Kind, e)
		}
	}
}

// TestDeviceRowsBeforeReasons: a device row written before revocation
// reasons were kept (no "reason", no "closed") reads as revoked for a lost
// device: no migration is needed, and the old meaning of revoking (a lost
// phone) holds.
func TestDeviceRowsBeforeReasons(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "server.db")
	db, err := store.Open(path, &store.Options{Now: func() time.Time { return now }})
	devMust(t, err)
	r := buildDevRoster(t, db)
	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	token, _, err := db.Enroll(code, phone, "手机", now)
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
	devMust(t, err)
	defer db.Close()
	if _, err := db.Authenticate(token); !errors.Is(err, replica.ErrLost) {
		t.Fatalf("an old revoked row: %v, want ErrLost", err)
	}
	devs, err := db.Devices()
	devMust(t, err)
	if len(devs) != 1 || devs[0].Revoked.IsZero() || devs[0].Reason != "" {
		t.Fatalf("devices: %+v", devs)
	}
}

// TestEnrolmentDeliveredTwice: an enrolment delivered twice (a proxy or a
// flaky link repeating the request) gives two tokens, and the device holds
// the first answer's: that token works, and then the second does not. The
// fault simulation found a device locked out when the retry replaced the
// token it held.
func TestEnrolmentDeliveredTwice(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	code, err := db.CreateEnrolCode(r.groupCadre.ID, time.Hour)
	devMust(t, err)
	phone := uuid.New()
	held, _, err := db.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	repeated, _, err := db.Enroll(code, phone, "马兴文的手机", now)
	devMust(t, err)
	for i := 0; i < 2; i++ { // and again: it is now the only token
		if d, err := db.Authenticate(held); err != nil || d.ID != phone {
			t.Fatalf("the token the device holds, use %d: %+v %v", i+1, d, err)
		}
	}
	if _, err := db.Authenticate(repeated); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Fatalf("the repeated answer's token after the first was used: %v", err)
	}
}

// TestVisitOfACadreNotHeld: a device reads only the cadres it needs, so it
// may hold a visit whose cadre it does not (the visit's author was since
// transferred, or the household came from another village). Editing that
// visit is allowed; a new visit still needs its cadre.
func TestVisitOfACadreNotHeld(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "phone.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	v := &domain.Visit{Household: r.h1.ID, Cadre: r.leader.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "家中无人"}
	devMust(t, db.Put(r.leader.ID, v))
	devMust(t, db.Delete(r.leader.ID, domain.KindCadre, r.leader.ID))
	v.Notes = "补记：户主外出务工"
	if err := db.Put(r.groupCadre.ID, v); err != nil {
		t.Fatalf("editing the visit of a cadre not held: %v", err)
	}
	w := &domain.Visit{Household: r.h1.ID, Cadre: r.leader.ID, At: now.Add(-time.Minute), Type: domain.VisitRoutine, Notes: "x"}
	if err := db.Put(r.groupCadre.ID, w); err == nil {
		t.Fatal("a new visit by a cadre not held was saved")
	}
}
