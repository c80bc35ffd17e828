package capability

import (
	"fmt"
	"path"
	"strings"
)

// Glob is a compiled path pattern (see the package doc for its syntax).
type Glob struct {
	src  string
	segs []string
}

// CompileGlob checks and compiles a pattern. Consecutive "**" segments collapse into one.
func CompileGlob(pattern string) (Glob, error) {
	if pattern == "" || strings.HasPrefix(pattern, "/") {
		return Glob{}, fmt.Errorf("glob %q: want a non-empty pattern relative to the location root", pattern)
	}
	var segs []string
	for _, s := range strings.Split(pattern, "/") {
		switch {
		case s == "":
			return Glob{}, fmt.Errorf("glob %q: empty path segment", pattern)
		case s == "**":
			if len(segs) > 0 && segs[len(segs)-1] == "**" {
				continue
			}
		case strings.Contains(s, "**"):
			return Glob{}, fmt.Errorf("glob %q: \"**\" must be a whole path segment", pattern)
		default:
			if _, err := path.Match(s, ""); err != nil {
				return Glob{}, fmt.Errorf("glob %q: %w", pattern, err)
			}
		}
		segs = append(segs, s)
	}
	return Glob{src: pattern, segs: segs}, nil
}

// String returns the pattern as written.
func (g Glob) String() string { return g.src }

// Match reports whether rel (a location-relative path with "/" separators) matches.
func (g Glob) Match(rel string) bool {
	if rel == "" {
		return false
	}
	ok, _ := g.walk(strings.Split(rel, "/"))
	return ok
}

// MayContain reports whether some path strictly below the directory dir (location-relative, ""
// for the root) could match. It may answer true for a directory that holds no match; it never
// answers false for one that could.
func (g Glob) MayContain(dir string) bool {
	if dir == "" {
		return len(g.segs) > 0
	}
	_, below := g.walk(strings.Split(dir, "/"))
	return below
}

// walk aligns the pattern with segs, the classic wildcard algorithm with "**" as the star and
// path.Match per segment: O(len(pattern) × len(segs)), no allocation, no exponential
// backtracking. It returns whether segs matches exactly, and whether a path strictly below segs
// could match (some pattern remains after consuming segs, or a "**" can absorb more).
func (g Glob) walk(segs []string) (match, below bool) {
	pat := g.segs
	pi, si := 0, 0
	star, starS := -1, 0
	for si < len(segs) {
		if pi < len(pat) && pat[pi] == "**" {
			star, starS = pi, si
			pi++
			continue
		}
		if pi < len(pat) && segMatch(pat[pi], segs[si]) {
			pi++
			si++
			continue
		}
		if star >= 0 {
			pi = star + 1
			starS++
			si = starS
			continue
		}
		return false, false
	}
	rest := pi
	for rest < len(pat) && pat[rest] == "**" {
		rest++
	}
	return rest == len(pat), pi < len(pat) || star >= 0
}

func segMatch(pattern, seg string) bool {
	if !strings.ContainsAny(pattern, `*?[\`) {
		return pattern == seg
	}
	ok, _ := path.Match(pattern, seg)
	return ok
}

// matchAny reports whether rel matches one of globs; an empty list matches everything.
func matchAny(globs []Glob, rel string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if g.Match(rel) {
			return true
		}
	}
	return false
}

// mayContainAny is MayContain over a list; an empty list may contain everything.
func mayContainAny(globs []Glob, dir string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if g.MayContain(dir) {
			return true
		}
	}
	return false
}
