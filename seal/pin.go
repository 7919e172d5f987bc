package seal

import (
	"strings"

	"bangfu/domain"
)

// PINLength is the number of digits of a PIN.
const PINLength = 6

// common are PINs people choose first that the other rules do not catch:
// keypad columns and diagonals, and pairs.
var common = map[string]bool{
	"112233": true, "147258": true, "258369": true, "369258": true, "159357": true, "357159": true,
	"147369": true, "789456": true, "456123": true, "321654": true, "852456": true, "741852": true,
	"963852": true, "520131": true, "201314": true, "131420": true, "778899": true, "998877": true,
	"332211": true, "445566": true, "665544": true, "102030": true,
}

// CheckPIN returns nil if pin is a PIN a cadre may choose, or a
// *domain.Error (code EINVALID, field "pin") that says why not:
//   - exactly six digits 0-9;
//   - at least three different digits (000000, 121212, 112112 are out);
//   - not a run up or down, wrapping or not (123456, 987654, 890123);
//   - not three digits twice (520520, 123123);
//   - not a common pattern (keypad lines, 112233, 520131, ...);
//   - not inside, nor containing six digits of, any of personal: the
//     cadre's birthday, phone and ID number (see [Personal]).
func CheckPIN(pin string, personal ...string) error {
	if len(pin) != PINLength || strings.Trim(pin, "0123456789") != "" {
		return domain.Errorf(domain.EINVALID, "pin", "PIN 码须为 %d 位数字", "the PIN must be %d digits", PINLength)
	}
	distinct := map[byte]bool{}
	for i := range len(pin) {
		distinct[pin[i]] = true
	}
	if len(distinct) < 3 {
		return weak("PIN 码至少要有三个不同的数字", "the PIN needs at least three different digits")
	}
	up, down := true, true
	for i := 1; i < len(pin); i++ {
		d := (int(pin[i]) - int(pin[i-1]) + 10) % 10
		up = up && d == 1
		down = down && d == 9
	}
	if up || down {
		return weak("PIN 码不能是连续的数字（如 123456）", "the PIN cannot be a run of digits (like 123456)")
	}
	if pin[:3] == pin[3:] {
		return weak("PIN 码不能是三位数字重复两次", "the PIN cannot be three digits twice")
	}
	if common[pin] {
		return weak("这个 PIN 码太常见，请换一个", "this PIN is too common; choose another")
	}
	for _, p := range personal {
		digits := onlyDigits(p)
		if len(digits) >= 4 && (strings.Contains(digits, pin) || strings.Contains(pin, digits)) {
			return weak("PIN 码不能用生日、电话或身份证号中的数字", "the PIN cannot be taken from your birthday, phone or ID number")
		}
	}
	return nil
}

func weak(zh, en string) error {
	return &domain.Error{Code: domain.EINVALID, Field: "pin", Zh: zh, En: en}
}

// Personal returns what a cadre's PIN must not be taken from, given their ID
// number and phone: the phone, the ID number, and the birthday the ID
// number holds (digits 7-14, YYYYMMDD) as YYMMDD, MMDDYY and DDMMYY.
func Personal(idNumber, phone string) []string {
	out := []string{phone, idNumber}
	id := strings.TrimSpace(idNumber)
	if len(id) == 18 {
		if b := onlyDigits(id[6:14]); len(b) == 8 {
			yy, mm, dd := b[2:4], b[4:6], b[6:8]
			out = append(out, b, yy+mm+dd, mm+dd+yy, dd+mm+yy)
		}
	}
	return out
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
