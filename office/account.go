package office

import (
	"strings"
	gosync "sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"bangfu/domain"
)

// MinPassword is the shortest password an office account may have.
const MinPassword = 10

// BcryptCost is the cost of the password hashes made from now on. Tests
// lower it to bcrypt.MinCost; everything else leaves it at the default.
var BcryptCost = bcrypt.DefaultCost

// Account is a member of a town's or the city's office staff who uses the
// console. Its scope is a place like a device's: an account for a town sees
// that town, one for the city everything.
type Account struct {
	Name     string    // login name, e.g. "fuhan-office"
	Display  string    // the person's name, shown in the audit log
	Place    uuid.UUID // the town or city the account administers
	IDs      bool      // may see whole 身份证号 (else they are masked)
	Created  time.Time
	Disabled time.Time // zero while the account may log in
}

// Session is a logged-in console session.
type Session struct {
	Account Account
	CSRF    string // the token every form of this session must carry
	Expires time.Time
}

// Errors of console accounts.
var (
	// ErrLogin is returned for an unknown name or a wrong password alike, so
	// that a guesser cannot tell which.
	ErrLogin = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "password",
		Zh: "用户名或密码不正确", En: "the name or the password is not correct"}
	// ErrSession is returned for a session token that is unknown or expired.
	ErrSession = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "session",
		Zh: "请先登录（登录已过期）", En: "log in first (the session has expired)"}
)

func checkAccountName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/\\") || !utf8.ValidString(name) {
		return domain.Errorf(domain.EINVALID, "name", "账号名须为 1–64 个字符，不含空格和斜杠",
			"an account name has 1 to 64 characters, without spaces or slashes")
	}
	return nil
}

// CheckAccountName checks an office account's name as CreateAccount does,
// for the accounts kept elsewhere (sync/server/pgstore).
func CheckAccountName(name string) error { return checkAccountName(name) }

// HashPassword checks a new password's length and returns its bcrypt hash,
// as CreateAccount and SetPassword keep it.
func HashPassword(password string) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, domain.Errorf(domain.EINVALID, "password", "密码至少 %[1]d 个字符", "a password needs at least %[1]d characters", MinPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "password", "密码不可用：%[1]v", "the password cannot be used: %[1]v", err)
	}
	return hash, nil
}

// PasswordMatches reports whether password is the one hash was made from.
// A nil hash (an unknown name) is compared against a made-up one, so that
// a wrong name costs the time a wrong password does.
func PasswordMatches(hash []byte, password string) bool {
	if hash == nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// dummyHash is compared against when the name is unknown, so that a wrong
// name costs the same time as a wrong password.
// It is made on first use, so that a phone's store never pays for it.
var dummyHash = gosync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), BcryptCost)
	return h
})
