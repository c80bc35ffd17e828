package pipeline

import (
	"errors"
	"path"
	"strings"
	"sync"
)

// Filter selects the contents a step sees. The zero Filter matches everything.
type Filter struct {
	Kinds        []string `json:"kinds,omitempty"`         // content kinds (REFERENCE §3), e.g. "image"
	Mimes        []string `json:"mimes,omitempty"`         // exact ("image/png") or a whole type ("image/*")
	Globs        []string `json:"globs,omitempty"`         // relative to the location root, gitignore-like
	ExcludeGlobs []string `json:"exclude_globs,omitempty"` // same syntax; a match excludes the file
	MinSize      int64    `json:"min_size,omitempty"`      // bytes
	MaxSize      int64    `json:"max_size,omitempty"`      // bytes; 0 = no limit
}

// Match reports whether a file passes every part of the filter.
func (f Filter) Match(rel, kind, mime string, size int64) bool {
	return f.MatchSize(size) && f.MatchType(kind, mime) && f.MatchPath(rel)
}

// MatchPath reports whether rel, a slash-separated path relative to the location root, is
// selected by Globs (any of them; no globs selects every path) and not excluded by ExcludeGlobs.
// Globs follow gitignore: a pattern without a slash ("*.jpg") matches a name at any depth, one
// with a slash ("Pictures/**", "/notes.txt") is anchored at the root; "**" spans directories; a
// pattern that matches a directory selects everything under it; a trailing slash matches
// directories only. Matching is case-sensitive.
func (f Filter) MatchPath(rel string) bool {
	segs := splitPath(rel)
	if len(f.Globs) > 0 {
		in := false
		for _, g := range f.Globs {
			if compiled(g).match(segs) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, g := range f.ExcludeGlobs {
		if compiled(g).match(segs) {
			return false
		}
	}
	return true
}

// MatchType reports whether a content of this kind and MIME type is selected: with no Kinds and
// no Mimes every content is; otherwise its kind must be one of Kinds or its MIME type must match
// one of Mimes (the two lists are alternatives). MIME parameters (";charset=utf-8") and case are
// ignored.
func (f Filter) MatchType(kind, mime string) bool {
	if len(f.Kinds) == 0 && len(f.Mimes) == 0 {
		return true
	}
	for _, k := range f.Kinds {
		if k == kind {
			return true
		}
	}
	if len(f.Mimes) == 0 || mime == "" {
		return false
	}
	mime, _, _ = strings.Cut(mime, ";")
	mime = strings.ToLower(strings.TrimSpace(mime))
	for _, m := range f.Mimes {
		if base, ok := strings.CutSuffix(m, "/*"); ok {
			if t, _, _ := strings.Cut(mime, "/"); t == base {
				return true
			}
		} else if m == mime {
			return true
		}
	}
	return false
}

// MatchSize reports whether n is within [MinSize, MaxSize] (MaxSize 0: no upper limit).
func (f Filter) MatchSize(n int64) bool {
	return n >= f.MinSize && (f.MaxSize == 0 || n <= f.MaxSize)
}

// glob is a compiled pattern: slash-separated segments, "**" for any number of directories.
type glob struct {
	segs    []string
	dirOnly bool // trailing slash: matches directories only
}

var (
	globCache   sync.Map // pattern → *glob
	globCached  int
	globCacheMu sync.Mutex
)

const maxCachedGlobs = 4096

// compiled returns the compiled form of a pattern (cached). An invalid pattern matches nothing;
// Parse rejects them before they get here.
func compiled(pattern string) *glob {
	if g, ok := globCache.Load(pattern); ok {
		return g.(*glob)
	}
	g, err := compileGlob(pattern)
	if err != nil {
		g = &glob{segs: []string{"["}} // matches nothing
	}
	globCacheMu.Lock()
	if globCached < maxCachedGlobs {
		globCached++
		globCache.Store(pattern, g)
	}
	globCacheMu.Unlock()
	return g
}

// CheckGlob reports why a glob pattern is invalid, or nil.
func CheckGlob(pattern string) error {
	_, err := compileGlob(pattern)
	return err
}

func compileGlob(p string) (*glob, error) {
	switch {
	case p == "" || p == "/":
		return nil, errors.New("empty pattern")
	case len(p) > 1024:
		return nil, errors.New("pattern longer than 1024 bytes")
	case strings.HasPrefix(p, "!"):
		return nil, errors.New("negation is not supported: put the pattern in exclude_globs (escape a leading ! as \\!)")
	case strings.HasSuffix(p, `\`) && !strings.HasSuffix(p, `\\`):
		return nil, errors.New("trailing backslash")
	}
	g := &glob{}
	if strings.HasSuffix(p, "/") {
		g.dirOnly = true
		p = strings.TrimRight(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, errors.New("empty pattern")
	}
	if !anchored {
		g.segs = append(g.segs, "**")
	}
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "":
			return nil, errors.New("empty path segment (\"//\")")
		case ".", "..":
			return nil, errors.New("\".\" and \"..\" segments are not allowed: globs are relative to the location root")
		case "**":
			if n := len(g.segs); n > 0 && g.segs[n-1] == "**" {
				continue // "**/**" is "**"
			}
		default:
			if strings.Contains(s, "**") { // gitignore: other runs of stars are ordinary stars
				for strings.Contains(s, "**") {
					s = strings.ReplaceAll(s, "**", "*")
				}
			}
			s = bangToCaret(s)
			if _, err := path.Match(s, ""); err != nil {
				return nil, errors.New("malformed character class or escape")
			}
		}
		g.segs = append(g.segs, s)
	}
	return g, nil
}

// bangToCaret rewrites gitignore's "[!abc]" as path.Match's "[^abc]".
func bangToCaret(s string) string {
	if !strings.Contains(s, "[!") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '[' && i+1 < len(s) && s[i+1] == '!':
			b.WriteByte('^')
			i++
		}
	}
	return b.String()
}

func splitPath(rel string) []string {
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// match reports whether the pattern matches the path or one of its parent directories.
//
// It runs a dynamic programme over (pattern segment, path segment), O(len(pattern) ×
// len(path)) name matches, so no pattern can make it backtrack exponentially. A "**" matches zero
// or more segments, except at the end of the pattern, where it matches one or more
// ("Pictures/**" is everything inside Pictures, not Pictures itself).
func (g *glob) match(segs []string) bool {
	n := len(segs)
	if n == 0 {
		return false
	}
	var buf [2 * 33]bool
	var cur, next []bool
	if n+1 <= len(buf)/2 {
		cur, next = buf[:n+1], buf[n+1:2*(n+1)]
	} else {
		cur, next = make([]bool, n+1), make([]bool, n+1)
	}
	// cur[j]: the pattern so far matches segs[:j].
	cur[0] = true
	for i, p := range g.segs {
		clear(next)
		alive := false
		if p == "**" {
			trailing := i == len(g.segs)-1
			seen := false
			for j := 0; j <= n; j++ {
				if seen || (!trailing && cur[j]) {
					next[j] = true
					alive = true
				}
				if cur[j] {
					seen = true
				}
			}
		} else {
			for j := 0; j < n; j++ {
				if cur[j] {
					if ok, _ := path.Match(p, segs[j]); ok {
						next[j+1] = true
						alive = true
					}
				}
			}
		}
		if !alive {
			return false
		}
		cur, next = next, cur
	}
	last := n
	if g.dirOnly {
		last-- // the path itself is a file; only its directories can match
	}
	for j := 1; j <= last; j++ {
		if cur[j] {
			return true
		}
	}
	return false
}
