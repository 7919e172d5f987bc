package replica

import (
	"crypto/rand"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"bangfu/domain"
)

// The vocabulary of the sync server's device registry (server.Registry),
// which every registry — bbolt's, PostgreSQL's, the in-memory model —
// speaks and a device matches with errors.Is: enrolment codes, device
// names, the errors a device is told, the escrow of data keys, lockouts.

// codeAlphabet is what enrolment codes are made of: digits and capitals
// without the ones people confuse (0 O, 1 I L).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Errors of enrolment and authentication. Each is an EUNAUTHORIZED (or
// EINVALID) *domain.Error that a cadre can read; match them with errors.Is.
var (
	// ErrCodeUnknown is returned for a code that was never issued.
	ErrCodeUnknown = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "code",
		Zh: "注册码不正确，请核对后重新输入", En: "the enrolment code is not valid; check it and try again"}
	// ErrCodeUsed is returned for a code that has already enrolled a device.
	ErrCodeUsed = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "code_used",
		Zh: "注册码已被使用，请向管理员申请新的注册码", En: "the enrolment code has already been used; ask the administrator for a new one"}
	// ErrCodeExpired is returned for a code past its expiry.
	ErrCodeExpired = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "code_expired",
		Zh: "注册码已过期，请向管理员申请新的注册码", En: "the enrolment code has expired; ask the administrator for a new one"}
	// ErrTokenUnknown is returned for a token that belongs to no enrolled device.
	ErrTokenUnknown = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "token",
		Zh: "设备未注册或凭证无效，请重新注册", En: "this device is not enrolled or its credentials are not valid; enrol it again"}
	// ErrRevoked is returned for the token of a revoked device that is
	// closed: one replaced by a new device, after its last push.
	ErrRevoked = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "revoked",
		Zh: "此设备已被停用（已换新设备），请联系管理员", En: "this device has been revoked (replaced by a new one); contact the administrator"}
	// ErrLost is returned for the token of a device revoked as lost; the
	// device wipes its local store when it hears it.
	ErrLost = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "lost",
		Zh: "此设备已登记为丢失并被停用，本机数据已清除；如已找回，请向管理员申请新的注册码",
		En: "this device was reported lost and revoked, and its data has been wiped; if it has been found, ask the administrator for a new enrolment code"}
	// ErrReplaced is returned with the device by Authenticate for a device
	// revoked as replaced that has not made its last push yet: the server
	// applies one push from it, pulls nothing, and closes it (Close).
	ErrReplaced = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "replaced",
		Zh: "此设备已换新设备并被停用：未同步的记录已送到服务器，请在新设备上继续工作",
		En: "this device has been replaced and revoked: its unsent records have reached the server; carry on on the new device"}
	// ErrDeviceTaken is returned for an enrolment with the ID of a device
	// that belongs to another cadre, or that was revoked: a device ID is
	// bound to the first cadre that enrolled it, for good.
	ErrDeviceTaken = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "device_taken",
		Zh: "此设备标识已属于另一台设备或已被停用，不能再注册；请清除应用数据后重新注册",
		En: "this device ID belongs to another device or was revoked and cannot enrol again; clear the app's data and enrol afresh"}
	// ErrCodeTTL refuses an enrolment code that would never be valid.
	ErrCodeTTL = &domain.Error{Code: domain.EINVALID, Field: "ttl",
		Zh: "注册码有效期必须大于零", En: "the code's lifetime must be positive"}
)

// MaxDeviceName caps a device name, in characters.
const MaxDeviceName = 40

// CheckDeviceName refuses a device name that is empty, longer than
// MaxDeviceName characters, not valid UTF-8, or that holds control or
// formatting characters (terminal escapes, line breaks, bidirectional
// overrides) or U+FFFD (what a JSON decoder makes of invalid UTF-8): names are
// printed in the office's terminal and on other devices' screens.
func CheckDeviceName(name string) error {
	if strings.TrimSpace(name) == "" {
		return domain.Errorf(domain.EINVALID, "name", "请填写设备名称", "enter a name for the device")
	}
	if !utf8.ValidString(name) || strings.ContainsRune(name, utf8.RuneError) {
		return domain.Errorf(domain.EINVALID, "name", "设备名称含有无效字符（不是有效的 UTF-8）",
			"the device name holds invalid characters (not valid UTF-8)")
	}
	if utf8.RuneCountInString(name) > MaxDeviceName {
		return domain.Errorf(domain.EINVALID, "name", "设备名称太长：最多 %d 个字", "the device name is too long: at most %d characters", MaxDeviceName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return domain.Errorf(domain.EINVALID, "name", "设备名称不能含有控制字符（如换行、终端转义）：%U",
				"the device name must not hold control characters (line breaks, terminal escapes): %U", r)
		}
	}
	return nil
}

// NormalizeCode returns an enrolment code as typed by a person in the form it
// was issued: capitals, without spaces or dashes.
func NormalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r == ' ' || r == '-' || r == '\t' || r == '—' || r == '－' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NewCode returns a random code of eight characters of codeAlphabet in two
// groups of four: the form of enrolment and unlock codes, here and in any
// registry.
func NewCode() (string, error) {
	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", err
	}
	code := make([]byte, 0, 9)
	for i, b := range buf {
		if i == 4 {
			code = append(code, '-')
		}
		// 256 is not a multiple of 31; the bias (at most 1/256 per
		// character) costs a fraction of a bit of the ~40.
		code = append(code, codeAlphabet[int(b)%len(codeAlphabet)])
	}
	return string(code), nil
}

// MaxSealedKey caps a deposit: a sealed data key is a few dozen bytes.
const MaxSealedKey = 256

// Errors of the escrow. Match them with errors.Is.
var (
	// ErrNoDeposit is returned when a device that never deposited its key
	// asks for it, or the office acts for one.
	ErrNoDeposit = &domain.Error{Code: domain.ENOTFOUND, Field: "escrow",
		Zh: "服务器上没有此设备的数据密钥备份，无法找回；请联系乡镇办公室",
		En: "the server holds no copy of this device's data key, so it cannot be recovered; contact the township office"}
	// ErrNoGrant is returned when a device asks for its key before the
	// office has issued an unlock code for it or enrolled it again.
	ErrNoGrant = &domain.Error{Code: domain.EFORBIDDEN, Field: "unlock",
		Zh: "乡镇办公室尚未为此设备办理解锁：请向办公室申请解锁码，或重新注册本设备",
		En: "the township office has not unlocked this device yet: ask the office for an unlock code, or to enrol this device again"}
	// ErrUnlockCode is returned for a wrong, expired or used-up unlock
	// code.
	ErrUnlockCode = &domain.Error{Code: domain.EFORBIDDEN, Field: "unlock_code",
		Zh: "解锁码不正确或已过期，请核对，或向乡镇办公室申请新的解锁码",
		En: "the unlock code is wrong or has expired; check it, or ask the township office for a new one"}
	// ErrEscrowCadre is returned when the device asking acts for another
	// cadre than the one whose device deposited the key.
	ErrEscrowCadre = &domain.Error{Code: domain.EFORBIDDEN, Field: "cadre",
		Zh: "数据密钥属于另一位干部，不能发给此设备", En: "the data key belongs to another cadre and cannot be released to this device"}
	// ErrUnlockTTL refuses an unlock code that would never be valid.
	ErrUnlockTTL = &domain.Error{Code: domain.EINVALID, Field: "ttl",
		Zh: "解锁码有效期必须大于零", En: "the code's lifetime must be positive"}
)

// Lockout is a time during which the server refused enrolment attempts, from
// one address or from everyone, after too many wrong codes.
type Lockout struct {
	Address  string    `json:"address"`  // the address refused; "" for every address
	From     time.Time `json:"from"`     // when it began
	Until    time.Time `json:"until"`    // when it ends
	Failures int       `json:"failures"` // the wrong codes that caused it
}
