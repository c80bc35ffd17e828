package ignore

import (
	"errors"
	"path"
	"strings"
)

// rule is one line of an ignore file.
type rule struct {
	text     string
	source   string
	negate   bool
	dirOnly  bool
	anchored bool     // contains a slash before the end: matched against the path from its file's directory
	segs     []string // pattern segments ("**" matches any number of segments)
	literal  string   // non-anchored pattern without wildcards: a plain name compare
	suffix   string   // non-anchored "*<literal>": a suffix compare
}

// parseLine parses one line of .gitignore syntax; ok is false for blank lines and comments.
func parseLine(line string) (r rule, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' {
		return r, false, nil
	}
	// Trailing spaces are ignored unless escaped with a backslash.
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\\ ") {
		line = line[:len(line)-1]
	}
	if line == "" {
		return r, false, nil
	}
	r.text = line
	switch {
	case line[0] == '!':
		r.negate = true
		line = line[1:]
	case strings.HasPrefix(line, "\\!"), strings.HasPrefix(line, "\\#"):
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return r, false, nil
	}
	if strings.Contains(line, "/") {
		r.anchored = true
		line = strings.TrimPrefix(line, "/")
	}
	line = strings.ReplaceAll(line, "\\ ", " ")
	r.segs = strings.Split(line, "/")
	for i, s := range r.segs {
		if s == "" {
			return r, false, errors.New("empty path segment")
		}
		if strings.Contains(s, "**") && s != "**" {
			// "a**b" is two ordinary stars in git: * matches within a segment.
			s = strings.ReplaceAll(s, "**", "*")
		}
		s = strings.ReplaceAll(s, "[!", "[^")
		if s != "**" {
			if _, err := path.Match(s, ""); err != nil {
				return r, false, errors.New("malformed pattern " + r.text)
			}
		}
		r.segs[i] = s
	}
	if !r.anchored {
		s := r.segs[0]
		if s != "**" && !strings.ContainsAny(s, "*?[\\") {
			r.literal = s
		} else if strings.HasPrefix(s, "*") && !strings.ContainsAny(s[1:], "*?[\\") {
			r.suffix = s[1:]
		}
	}
	return r, true, nil
}

// match reports whether the path (segments relative to the rule's directory) matches.
func (r *rule) match(rel []string) bool {
	if !r.anchored {
		name := rel[len(rel)-1]
		switch {
		case r.literal != "":
			return name == r.literal
		case r.suffix != "":
			return strings.HasSuffix(name, r.suffix)
		}
		ok, _ := path.Match(r.segs[0], name)
		return ok || r.segs[0] == "**"
	}
	return matchSegs(r.segs, rel)
}

// matchSegs matches pattern segments against path segments; "**" matches zero or more segments,
// except a trailing "**", which matches one or more (git: "a/**" is everything inside a).
func matchSegs(pat, p []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return len(p) > 0
			}
			for i := 0; i <= len(p); i++ {
				if matchSegs(pat[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], p[0]); !ok {
			return false
		}
		pat, p = pat[1:], p[1:]
	}
	return len(p) == 0
}
