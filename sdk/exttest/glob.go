package exttest

import (
	"path"
	"strings"
)

// matchGlob matches a slash-separated path relative to the fixture's root
// against a pattern in which "**" is any number of whole segments and other
// segments follow path.Match, as the host's capability scopes do: "*.txt"
// covers only top-level files, "**/*.txt" covers them at any depth.
func matchGlob(pattern, rel string) bool {
	if rel == "" {
		return false
	}
	return matchSegs(strings.Split(pattern, "/"), strings.Split(rel, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if matchGlob(p, rel) {
			return true
		}
	}
	return false
}

// typeCovers reports whether an event type pattern (a prefix ending in "*",
// or an exact type) covers typ, as the host's capability scopes do.
func typeCovers(pattern, typ string) bool {
	if strings.HasSuffix(pattern, "*") {
		return strings.HasPrefix(typ, pattern[:len(pattern)-1])
	}
	return pattern == typ
}
