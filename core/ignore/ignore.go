package ignore

import (
	"fmt"
	"strings"
)

// Options select the rule sets.
type Options struct {
	System, VCS, Dev, NAS bool
	IgnoreHidden          bool
	// IgnoreFiles reads .gitignore, .ignore and .cairnignore files.
	IgnoreFiles bool
	// Extra are patterns in .gitignore syntax, anchored at the location root.
	Extra []string
}

// DefaultOptions turns every rule set on except IgnoreHidden.
func DefaultOptions() Options {
	return Options{System: true, VCS: true, Dev: true, NAS: true, IgnoreFiles: true}
}

// FileNames are the ignore files read in each directory, lowest precedence first.
var FileNames = []string{".gitignore", ".ignore", ".cairnignore"}

var (
	systemNames = set(".DS_Store", ".AppleDouble", ".Spotlight-V100", ".fseventsd", ".TemporaryItems",
		".DocumentRevisions-V100", ".Trashes", ".Trash", "Thumbs.db", "ehthumbs.db", "desktop.ini", "$RECYCLE.BIN",
		"System Volume Information", "lost+found", ".directory", "Icon\r")
	vcsDirs = set(".git", ".hg", ".svn", ".bzr", "_darcs", "CVS")
	devDirs = set("node_modules", "bower_components", "__pycache__", ".cache", ".venv", ".tox", ".nox", ".mypy_cache",
		".pytest_cache", ".ruff_cache", ".gradle", ".next", ".nuxt", ".terraform", ".stack-work", "dist-newstyle",
		".parcel-cache", ".sass-cache")
	nasDirs = set("@eaDir", "#recycle", "#snapshot", ".snapshot", ".snapshots", "@Recycle", ".@__thumb", "@tmp", ".zfs")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Matcher holds the rules that apply inside one directory.
type Matcher struct {
	opts     Options
	parent   *Matcher
	depth    int      // 0 for the location root
	rel      []string // path of this directory below the root, as segments
	rules    []rule   // from this directory's ignore files (and Extra at the root)
	hasCargo bool     // the directory holds a Cargo.toml: its "target" is a build directory
	virtual  bool     // the matcher above the root, from New
}

// New returns the matcher above the location root: call Enter("", rootListing, read) on it to
// get the root's own matcher (which reads the root's ignore files). Extra patterns are parsed here.
func New(opts Options) (*Matcher, error) {
	m := &Matcher{opts: opts, virtual: true}
	for i, line := range opts.Extra {
		r, ok, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("ignore pattern %d %q: %w", i+1, line, err)
		}
		if ok {
			r.source = "location"
			m.rules = append(m.rules, r)
		}
	}
	return m, nil
}

// Enter returns the matcher for the child directory name (or, on the matcher from New, for the
// root when name is ""), given that directory's listing and a reader for files in it. Warnings
// name malformed lines of ignore files; they are never fatal.
func (m *Matcher) Enter(name string, listing []string, read func(string) ([]byte, error)) (*Matcher, []string, error) {
	c := &Matcher{opts: m.opts, parent: m}
	if m.virtual {
		c.rules = m.rules // the location's extra patterns, anchored at the root
		c.parent = nil
	} else {
		c.depth = m.depth + 1
		c.rel = append(append(make([]string, 0, len(m.rel)+1), m.rel...), name)
	}
	var warns []string
	for _, n := range listing {
		if n == "Cargo.toml" {
			c.hasCargo = true
		}
	}
	if m.opts.IgnoreFiles && read != nil {
		for _, fn := range FileNames {
			if !contains(listing, fn) {
				continue
			}
			data, err := read(fn)
			if err != nil {
				warns = append(warns, fmt.Sprintf("%s: %v", joinRel(c.rel, fn), err))
				continue
			}
			src := joinRel(c.rel, fn)
			for i, line := range strings.Split(string(data), "\n") {
				r, ok, err := parseLine(line)
				if err != nil {
					warns = append(warns, fmt.Sprintf("%s:%d: %v (line skipped)", src, i+1, err))
					continue
				}
				if ok {
					r.source = fmt.Sprintf("%s:%d", src, i+1)
					c.rules = append(c.rules, r)
				}
			}
		}
	}
	return c, warns, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func joinRel(segs []string, name string) string {
	if len(segs) == 0 {
		return name
	}
	return strings.Join(segs, "/") + "/" + name
}

// Match reports whether the child name of m's directory is ignored, and which rule decided.
func (m *Matcher) Match(name string, isDir bool) (bool, string) {
	o := &m.opts
	if o.System && (systemNames[name] || strings.HasPrefix(name, ".Trash-") || strings.HasPrefix(name, "._") ||
		(len(name) > 1 && strings.HasSuffix(name, "~"))) {
		return true, "system:" + name
	}
	if isDir {
		switch {
		case o.VCS && vcsDirs[name]:
			return true, "vcs:" + name
		case o.Dev && (devDirs[name] || name == "target" && m.hasCargo):
			return true, "dev:" + name
		case o.NAS && nasDirs[name]:
			return true, "nas:" + name
		}
	}
	if o.IgnoreHidden && len(name) > 1 && name[0] == '.' {
		return true, "hidden:" + name
	}
	// Ignore files: the deepest directory with a matching rule decides; within one, the last line.
	for d := m; d != nil; d = d.parent {
		if len(d.rules) == 0 {
			continue
		}
		// the child's path relative to d's directory
		var rel []string
		if d != m {
			rel = append(rel, m.rel[len(d.rel):]...)
		}
		rel = append(rel, name)
		for i := len(d.rules) - 1; i >= 0; i-- {
			r := &d.rules[i]
			if r.dirOnly && !isDir {
				continue
			}
			if r.match(rel) {
				if r.negate {
					return false, ""
				}
				return true, "ignore:" + r.source + ":" + r.text
			}
		}
	}
	return false, ""
}
