package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// plain returns s as plain text for a terminal: control and formatting
// characters (escape sequences, line breaks, tabs, bidirectional overrides)
// and bytes that are not UTF-8 are written as Go escapes (\x1b, \n, \u202e,
// \xff), so that a name someone typed cannot move the cursor, recolour the
// screen or print a fake row. Every value from the store or a file that the
// commands print goes through it.
func plain(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || escaped(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && escaped(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// plainLines is plain for a message of several lines: it keeps the line
// breaks and escapes the rest.
func plainLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = plain(l)
	}
	return strings.Join(lines, "\n")
}

// escaped reports whether r is written as an escape by plain.
func escaped(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
