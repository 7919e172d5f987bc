package app

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"bangfu/assets"
	"bangfu/domain"
)

// The languages the app speaks. Chinese is the default.
const (
	Chinese = "zh"
	English = "en"
)

// SetLanguage makes code (Chinese or English) the language of every string the
// app shows from now on; screens built before keep their text until rebuilt.
//
// Fyne's lang package picks a language from the system's locale and has no
// setter, so SetLanguage first points the locale variables of the process at
// the language (which desktop systems read, and which also selects Fyne's own
// translations of its dialogs), and where the platform ignores them (Android,
// iOS, a C locale) it registers the chosen file under the locale the system
// reports, so that it is the one found.
func SetLanguage(code string) error {
	if code != English {
		code = Chinese
	}
	posix := map[string]string{Chinese: "zh_CN.UTF-8", English: "en_US.UTF-8"}[code]
	os.Setenv("LANGUAGE", posix)
	if v := os.Getenv("LC_ALL"); v == "C" || v == "POSIX" {
		os.Unsetenv("LC_ALL")
	}
	if locale() == "" {
		os.Setenv("LC_MESSAGES", posix)
	}
	if err := assets.LoadTranslations(); err != nil {
		return err
	}
	if Language() == code {
		return nil
	}
	file := map[string]string{Chinese: "zh_Hans.json", English: "en.json"}[code]
	data, err := fs.ReadFile(assets.Translations, assets.TranslationsDir+"/"+file)
	if err != nil {
		return fmt.Errorf("app: language %s: %w", code, err)
	}
	sys := lang.SystemLocale()
	if sys == "" {
		sys = "en"
	}
	if err := lang.AddTranslationsForLocale(data, sys); err != nil {
		return fmt.Errorf("app: language %s: %w", code, err)
	}
	if got := Language(); got != code {
		return fmt.Errorf("app: language %s: the system locale %s still selects %s", code, sys, got)
	}
	return nil
}

// locale returns the first non-empty POSIX locale variable that selects a
// language, "" if none does.
func locale() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			if s == "C" || s == "POSIX" {
				return ""
			}
			return s
		}
	}
	return ""
}

// Language returns the language the app's text is in: Chinese or English.
func Language() string {
	if lang.L("lang.code") == English {
		return English
	}
	return Chinese
}

// pick returns zh or en for the current language.
func pick(zh, en string) string {
	if Language() == English {
		return en
	}
	return zh
}

// errText returns the words a person reads for err, in the current language.
func errText(err error) string {
	if err == nil {
		return ""
	}
	var e *domain.Error
	if errors.As(err, &e) {
		return domain.Message(err, Language())
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return lang.L("error.unreachable")
	}
	fyne.LogError("app", err)
	return domain.Message(err, Language())
}

func statusText(s domain.Status) string           { return pick(domain.StatusName(s)) }
func roleText(r domain.Role) string               { return pick(domain.RoleName(r)) }
func rankText(r domain.Rank) string               { return pick(domain.RankName(r)) }
func visitKindText(k domain.VisitKind) string     { return pick(domain.VisitKindName(k)) }
func measureKindText(k domain.MeasureKind) string { return pick(domain.MeasureKindName(k)) }
func progressText(p domain.Progress) string       { return pick(domain.ProgressName(p)) }
func planStatusText(s domain.PlanStatus) string   { return pick(domain.PlanStatusName(s)) }
func problemStatusText(s domain.ProblemStatus) string {
	return pick(domain.ProblemStatusName(s))
}

// count formats a plural message whose template reads {{.Count}}.
func count(key string, n int) string {
	return lang.N(key, n, map[string]any{"Count": n})
}

// daysText says how long ago the last visit was: "从未走访" or "12 天未走访".
func daysText(days int) string {
	switch {
	case days < 0:
		return lang.L("households.never_visited")
	case days == 0:
		return lang.L("households.visited_today")
	}
	return count("households.days_unvisited", days)
}

// relationText spells out a member's relation to the head where the
// register's one character reads as the member's sex: 女 is 女儿, 子 is 儿子
// ("赵红芳 · 女 · 女" was a daughter).
func relationText(r string) string {
	switch r {
	case "女":
		return "女儿"
	case "子":
		return "儿子"
	}
	return r
}

// dateText formats a day in the app's short form, "" for the zero time.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02")
}

// timeText formats a moment to the minute, "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

// join joins the non-empty parts with a middle dot.
func join(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// newSelect is widget.NewSelect with its placeholder in the app's language
// (Fyne's "(Select one)" is not translated).
func newSelect(options []string, changed func(string)) *widget.Select {
	s := widget.NewSelect(options, changed)
	s.PlaceHolder = lang.L("common.select_one")
	return s
}
