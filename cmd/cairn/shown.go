package main

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// shown is a file name or path as it is safe to print on a terminal: unchanged when every rune
// is printable, else Go-quoted ("caf\xe9.txt", "a\x1b[31mred"), so control characters (ESC,
// CR, LF) in a name can neither drive the terminal nor forge lines, and bytes that are not
// UTF-8 stay visible. JSON output needs none of this: encoding/json escapes control characters.
func shown(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
		i += n
	}
	return s
}

// shownLines is multi-line text (an error message) made safe for a terminal: newlines and tabs
// stay, every other control character and every byte that is not UTF-8 is written \xHH.
func shownLines(s string) string {
	ok := true
	for i := 0; i < len(s) && ok; {
		r, n := utf8.DecodeRuneInString(s[i:])
		ok = !(r == utf8.RuneError && n == 1) && (r == '\n' || r == '\t' || !unicode.IsControl(r))
		i += n
	}
	if ok {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (r != '\n' && r != '\t' && unicode.IsControl(r)) {
			for _, c := range []byte(s[i : i+n]) {
				b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
