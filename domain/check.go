package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on free text, in characters.
const (
	MaxName = 32
	MaxText = 4000
)

func checkName(field, zh, en, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return Errorf(EINVALID, field, "%[1]s不能为空", "%[2]s must not be empty", zh, en)
	}
	if utf8.RuneCountInString(v) > MaxName {
		return Errorf(EINVALID, field, "%[1]s太长（最多 %[3]d 个字）", "%[2]s is too long (at most %[3]d characters)", zh, en, MaxName)
	}
	return nil
}

func checkText(field, zh, en, v string) error {
	if utf8.RuneCountInString(v) > MaxText {
		return Errorf(EINVALID, field, "%[1]s太长（最多 %[3]d 个字）", "%[2]s is too long (at most %[3]d characters)", zh, en, MaxText)
	}
	return nil
}

// CheckPhone accepts an empty phone, an 11-digit mobile number starting with 1
// (dashes allowed, as in 138-9301-2345), or a landline of 7 to 12 digits with
// an optional area code and dash. No landline number starts with 1.
func CheckPhone(field, v string) error {
	if v == "" {
		return nil
	}
	digits := 0
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' && i > 0:
		default:
			return Errorf(EINVALID, field, "电话号码“%s”只能包含数字", "phone number %q may contain digits only", v)
		}
	}
	if v[0] == '1' && digits != 11 {
		return Errorf(EINVALID, field, "手机号码“%s”应为 11 位", "mobile number %q must have 11 digits", v)
	}
	if digits < 7 || digits > 12 {
		return Errorf(EINVALID, field, "电话号码“%s”位数不对", "phone number %q has the wrong number of digits", v)
	}
	return nil
}

// CheckIDNumber accepts an empty value or an 18-character resident ID number
// (居民身份证号) with a correct check digit.
func CheckIDNumber(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) != 18 {
		return Errorf(EINVALID, field, "身份证号应为 18 位", "an ID number has 18 characters")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return Errorf(EINVALID, field, "身份证号前 17 位只能是数字", "the first 17 characters of an ID number are digits")
		}
		sum += int(c-'0') * idWeights[i]
	}
	want := idCheck[sum%11]
	if unicode.ToUpper(rune(v[17])) != rune(want) {
		return Errorf(EINVALID, field, "身份证号校验位不对，请核对", "the ID number's check digit is wrong; please check it")
	}
	return nil
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// IDCheckDigit returns the check digit for the first 17 digits of an ID number.
func IDCheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17 && i < len(first17); i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheck[sum%11]
}

// MaskID shows only the last four characters of an ID number.
func MaskID(v string) string {
	r := []rune(v)
	if len(r) <= 4 {
		return v
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

func checkNotFuture(field, zh, en string, t, now time.Time) error {
	if t.After(now.Add(MaxSkew)) {
		return Errorf(EINVALID, field, "%[1]s不能晚于现在", "%[2]s cannot be in the future", zh, en)
	}
	return nil
}

// beforeDay reports whether t falls on an earlier calendar day than day, each
// read in its own time zone: the zone it was entered in, which travels with it
// (RFC 3339 keeps the offset). Truncate(24*time.Hour) would cut at midnight UTC,
// 08:00 in China, and call a follow-up due today "before" a morning visit.
func beforeDay(t, day time.Time) bool {
	ty, tm, td := t.Date()
	dy, dm, dd := day.Date()
	if ty != dy {
		return ty < dy
	}
	if tm != dm {
		return tm < dm
	}
	return td < dd
}

func checkSet[T comparable](field, zh, en string, v T, allowed ...T) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return Errorf(EINVALID, field, "%[1]s的值“%[3]v”无效", "%[2]s has an invalid value \"%[3]v\"", zh, en, v)
}
