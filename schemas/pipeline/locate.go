package pipeline

import (
	"strconv"
	"strings"
)

// BurntSushi/toml keeps key positions private, so semantic errors find their line with this
// small scanner. It runs only on text the TOML parser has already accepted, records the line of
// every key (table headers, dotted keys, keys inside inline tables) under its full path, with
// array elements as "#<index>" segments, and never fails: on anything it does not understand it
// stops, and lookups fall back to the nearest enclosing key that was found.

const pathSep = "\x1f"

// lines maps a key path (segments joined with pathSep) to its 1-based line.
type lines map[string]int

// line returns the line of the longest known prefix of path, or 0.
func (l lines) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if ln, ok := l[strings.Join(path[:n], pathSep)]; ok {
			return ln
		}
	}
	return 0
}

type locator struct {
	src    string
	i      int
	ln     int
	out    lines
	arrays map[string]int // array-of-tables path → elements seen so far
	steps  int
}

// locate scans TOML source and returns the line of every key.
func locate(src string) lines {
	l := &locator{src: strings.TrimPrefix(src, "\ufeff"), ln: 1, out: lines{}, arrays: map[string]int{}}
	l.document()
	return l.out
}

func (l *locator) eof() bool { return l.i >= len(l.src) }

func (l *locator) peek(off int) byte {
	if l.i+off < len(l.src) {
		return l.src[l.i+off]
	}
	return 0
}

func (l *locator) advance() {
	if l.src[l.i] == '\n' {
		l.ln++
	}
	l.i++
}

// blank skips spaces and tabs, and with nl also newlines and comments.
func (l *locator) blank(nl bool) {
	for !l.eof() {
		switch c := l.src[l.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			l.i++
		case nl && c == '\n':
			l.advance()
		case nl && c == '#':
			for !l.eof() && l.src[l.i] != '\n' {
				l.i++
			}
		default:
			return
		}
	}
}

func (l *locator) record(path []string, line int) {
	k := strings.Join(path, pathSep)
	if _, ok := l.out[k]; !ok {
		l.out[k] = line
	}
}

func (l *locator) document() {
	var table []string
	for {
		l.blank(true)
		if l.eof() {
			return
		}
		l.steps++
		if l.steps > len(l.src)+1 { // no progress: give up rather than loop
			return
		}
		start := l.i
		if l.src[l.i] == '[' {
			array := l.peek(1) == '['
			l.i++
			if array {
				l.i++
			}
			line := l.ln
			keys, ok := l.key()
			if !ok {
				return
			}
			table = l.header(keys, array, line)
			l.blank(false)
			for !l.eof() && l.src[l.i] == ']' {
				l.i++
			}
		} else {
			line := l.ln
			keys, ok := l.key()
			if !ok {
				return
			}
			path := append(append([]string{}, table...), keys...)
			for n := len(table) + 1; n <= len(path); n++ {
				l.record(path[:n], line)
			}
			l.blank(false)
			if l.eof() || l.src[l.i] != '=' {
				return
			}
			l.i++
			if !l.value(path) {
				return
			}
		}
		if l.i == start {
			return
		}
	}
}

// header resolves a [table] or [[array]] header to its path, recording the lines of the table
// and of the implicit tables above it.
func (l *locator) header(keys []string, array bool, line int) []string {
	var path []string
	for n, k := range keys {
		path = append(path, k)
		last := n == len(keys)-1
		if last && array {
			full := strings.Join(path, pathSep)
			idx := l.arrays[full]
			l.arrays[full] = idx + 1
			l.record(path, line)
			path = append(path, "#"+strconv.Itoa(idx))
			l.record(path, line)
			break
		}
		if c, ok := l.arrays[strings.Join(path, pathSep)]; ok && !last {
			path = append(path, "#"+strconv.Itoa(c-1))
		}
		l.record(path, line)
	}
	return path
}

// key reads a dotted key: bare, "basic" or 'literal' segments.
func (l *locator) key() ([]string, bool) {
	var keys []string
	for {
		l.blank(false)
		if l.eof() {
			return nil, false
		}
		switch c := l.src[l.i]; {
		case c == '"' || c == '\'':
			s, ok := l.quoted(c)
			if !ok {
				return nil, false
			}
			keys = append(keys, s)
		case isBare(c):
			j := l.i
			for l.i < len(l.src) && isBare(l.src[l.i]) {
				l.i++
			}
			keys = append(keys, l.src[j:l.i])
		default:
			return nil, false
		}
		l.blank(false)
		if l.eof() || l.src[l.i] != '.' {
			return keys, true
		}
		l.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// quoted reads a one-line string key starting at the quote q and returns its value.
func (l *locator) quoted(q byte) (string, bool) {
	j := l.i
	l.i++
	for !l.eof() {
		c := l.src[l.i]
		switch {
		case c == '\\' && q == '"':
			l.i += 2
			continue
		case c == '\n':
			return "", false
		case c == q:
			l.i++
			raw := l.src[j:l.i]
			if q == '\'' {
				return raw[1 : len(raw)-1], true
			}
			if s, err := strconv.Unquote(raw); err == nil {
				return s, true
			}
			return raw[1 : len(raw)-1], true
		}
		l.i++
	}
	return "", false
}

// value skips one value, recording the keys of inline tables (and of tables inside arrays).
func (l *locator) value(path []string) bool {
	l.blank(false)
	if l.eof() {
		return false
	}
	switch c := l.src[l.i]; c {
	case '"', '\'':
		triple := strings.Repeat(string(c), 3)
		if strings.HasPrefix(l.src[l.i:], triple) {
			l.i += 3
			for !l.eof() {
				if c == '"' && l.src[l.i] == '\\' {
					l.i++
					if !l.eof() {
						l.advance()
					}
					continue
				}
				if strings.HasPrefix(l.src[l.i:], triple) {
					l.i += 3
					for n := 0; n < 2 && !l.eof() && l.src[l.i] == c; n++ { // """"" ends with quotes inside
						l.i++
					}
					return true
				}
				l.advance()
			}
			return false
		}
		_, ok := l.quoted(c)
		return ok
	case '[':
		l.i++
		for n := 0; ; n++ {
			l.blank(true)
			if l.eof() {
				return false
			}
			if l.src[l.i] == ']' {
				l.i++
				return true
			}
			if !l.value(append(append([]string{}, path...), "#"+strconv.Itoa(n))) {
				return false
			}
			l.blank(true)
			if !l.eof() && l.src[l.i] == ',' {
				l.i++
			}
		}
	case '{':
		l.record(path, l.ln)
		l.i++
		for {
			l.blank(true)
			if l.eof() {
				return false
			}
			if l.src[l.i] == '}' {
				l.i++
				return true
			}
			line := l.ln
			keys, ok := l.key()
			if !ok {
				return false
			}
			sub := append(append([]string{}, path...), keys...)
			for n := len(path) + 1; n <= len(sub); n++ {
				l.record(sub[:n], line)
			}
			l.blank(false)
			if l.eof() || l.src[l.i] != '=' {
				return false
			}
			l.i++
			if !l.value(sub) {
				return false
			}
			l.blank(true)
			if !l.eof() && l.src[l.i] == ',' {
				l.i++
			}
		}
	default:
		j := l.i
		for !l.eof() && !strings.ContainsRune(",]}\n#", rune(l.src[l.i])) {
			l.i++
		}
		return l.i > j
	}
}
