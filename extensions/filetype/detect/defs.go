package detect

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed definitions/*.toml
var builtinFS embed.FS

// Kinds are the content kinds a definition's category may name (REFERENCE §3).
var Kinds = []string{"unknown", "image", "video", "audio", "document", "archive", "code", "text", "database",
	"book", "font", "mesh", "config", "encrypted", "key", "executable", "binary", "spreadsheet", "presentation",
	"email", "calendar", "contact", "web", "shortcut", "package"}

var kindSet = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range Kinds {
		m[k] = true
	}
	return m
}()

// document is one TOML definitions document.
type document struct {
	Types []Definition `toml:"type"`
}

// Definition is one file type as a definitions document declares it.
type Definition struct {
	ID         string   `toml:"id"`         // primary MIME type
	Name       string   `toml:"name"`       // human name
	Extensions []string `toml:"extensions"` // without the dot, lower case; "tar.gz" style allowed
	MimeTypes  []string `toml:"mime_types"` // aliases
	Category   string   `toml:"category"`   // content kind
	Priority   int      `toml:"priority"`   // 0–255: ranks types sharing an extension
	// Text marks a text format: chosen by extension only when the content is
	// text, and its magics are tried only on text.
	Text bool `toml:"text"`
	// Filenames are exact base names (case-sensitive), e.g. "Makefile".
	Filenames []string `toml:"filenames"`
	// Interpreters are shebang interpreters ("python3" for #!/usr/bin/env python3).
	Interpreters []string `toml:"interpreters"`
	Magic        []Magic  `toml:"magic_bytes"`
	Zip          *ZipRule `toml:"zip"`
	// Metadata is free-form, kept for the user.
	Metadata map[string]any `toml:"metadata"`
}

// Magic is a byte pattern at an offset. Either Pattern (hex: "89 50 4E 47",
// "??" any byte, "00-1F" a range) or String (literal bytes) is given.
type Magic struct {
	Pattern  string `toml:"pattern"`
	String   string `toml:"string"`
	Offset   int64  `toml:"offset"`
	Priority int    `toml:"priority"` // 0–255; 0 means the type's priority
	// Search lets the pattern start anywhere in [offset, offset+search].
	Search int `toml:"search"`
	// IgnoreCase folds ASCII letters (String patterns).
	IgnoreCase bool `toml:"ignore_case"`
	// And are further patterns that must all match too.
	And []Magic `toml:"and"`
}

// ZipRule identifies a ZIP-based format by its contents.
type ZipRule struct {
	// Mimetype is the content of the "mimetype" member (ODF, EPUB).
	Mimetype string `toml:"mimetype"`
	// Members: the format is identified when all of them are present. A
	// name ending in "/" matches any member under that directory.
	Members []string `toml:"members"`
}

// Limits on what a definition may ask Detect to read.
const (
	maxPatternLen = 256
	maxSearch     = 8 << 10
	maxOffset     = 1 << 20 // far offsets (ISO 9660 is at 32 KiB)
)

// fileType is a compiled definition.
type fileType struct {
	Definition
	magics []*magic
	src    string // where it was defined, for errors and Result.By
}

// magic is a compiled pattern.
type magic struct {
	t        *fileType
	offset   int64
	search   int
	priority int
	lit      []byte // exact bytes when the pattern has no wildcards or ranges
	lo, hi   []byte // else per-byte ranges
	fold     bool
	and      []*magic
	weight   int // specificity: fixed bytes over all parts
}

// loadDocument parses one definitions document. name is used in errors.
func loadDocument(name string, data []byte) ([]*fileType, error) {
	var doc document
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: line %d: %s", name, perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		last := k[len(k)-1]
		return nil, fmt.Errorf("%s: line %d: unknown key %q", name, lineOf(data, last, 0), k.String())
	}
	var out []*fileType
	for i := range doc.Types {
		d := doc.Types[i]
		t, err := compile(d)
		if err != nil {
			id := d.ID
			if id == "" {
				id = "#" + strconv.Itoa(i+1)
			}
			return nil, fmt.Errorf("%s: line %d: type %q: %w", name, typeLine(data, d.ID, i), id, err)
		}
		t.src = name
		out = append(out, t)
	}
	return out, nil
}

// compile checks and compiles a definition.
func compile(d Definition) (*fileType, error) {
	switch {
	case d.ID == "":
		return nil, errors.New("missing id")
	case !strings.Contains(d.ID, "/"):
		return nil, errors.New("id must be a MIME type (type/subtype)")
	case d.Category == "":
		return nil, errors.New("missing category")
	case !kindSet[d.Category]:
		return nil, fmt.Errorf("unknown category %q (one of %s)", d.Category, strings.Join(Kinds, ", "))
	case d.Priority < 0 || d.Priority > 255:
		return nil, fmt.Errorf("priority %d out of 0–255", d.Priority)
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	for i, e := range d.Extensions {
		e = strings.ToLower(strings.TrimPrefix(e, "."))
		if e == "" {
			return nil, fmt.Errorf("extensions[%d] is empty", i)
		}
		d.Extensions[i] = e
	}
	if d.Zip != nil && d.Zip.Mimetype == "" && len(d.Zip.Members) == 0 {
		return nil, errors.New("zip: give mimetype or members")
	}
	t := &fileType{Definition: d}
	for i, m := range d.Magic {
		cm, err := compileMagic(m, 0)
		if err != nil {
			return nil, fmt.Errorf("magic_bytes[%d]: %w", i, err)
		}
		cm.t = t
		if cm.priority == 0 {
			cm.priority = d.Priority
		}
		t.magics = append(t.magics, cm)
	}
	return t, nil
}

func compileMagic(m Magic, depth int) (*magic, error) {
	if depth > 2 {
		return nil, errors.New("and: nested too deep")
	}
	switch {
	case m.Offset < 0 || m.Offset > maxOffset:
		return nil, fmt.Errorf("offset %d out of 0–%d", m.Offset, maxOffset)
	case m.Search < 0 || m.Search > maxSearch:
		return nil, fmt.Errorf("search %d out of 0–%d", m.Search, maxSearch)
	case m.Priority < 0 || m.Priority > 255:
		return nil, fmt.Errorf("priority %d out of 0–255", m.Priority)
	case (m.Pattern == "") == (m.String == ""):
		return nil, errors.New("give exactly one of pattern and string")
	}
	cm := &magic{offset: m.Offset, search: m.Search, priority: m.Priority, fold: m.IgnoreCase}
	if m.String != "" {
		if len(m.String) > maxPatternLen {
			return nil, fmt.Errorf("string longer than %d bytes", maxPatternLen)
		}
		cm.lit = []byte(m.String)
		if cm.fold {
			cm.lit = bytes.ToLower(cm.lit)
		}
		cm.weight = len(cm.lit)
	} else {
		lo, hi, fixed, err := parsePattern(m.Pattern)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", m.Pattern, err)
		}
		if fixed == len(lo) {
			cm.lit = lo
		} else {
			cm.lo, cm.hi = lo, hi
		}
		cm.weight = fixed
		if cm.fold {
			return nil, errors.New("ignore_case applies to string patterns only")
		}
	}
	for i, a := range m.And {
		ca, err := compileMagic(a, depth+1)
		if err != nil {
			return nil, fmt.Errorf("and[%d]: %w", i, err)
		}
		cm.and = append(cm.and, ca)
		cm.weight += ca.weight
	}
	return cm, nil
}

// parsePattern parses a hex pattern into per-byte ranges; fixed counts the
// bytes that are exact.
func parsePattern(p string) (lo, hi []byte, fixed int, err error) {
	s := strings.ReplaceAll(p, " ", "")
	for len(s) > 0 {
		if len(s) < 2 {
			return nil, nil, 0, fmt.Errorf("odd number of hex digits")
		}
		if s[:2] == "??" {
			lo, hi = append(lo, 0), append(hi, 0xFF)
			s = s[2:]
			continue
		}
		a, err := strconv.ParseUint(s[:2], 16, 8)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("bad hex byte %q", s[:2])
		}
		s = s[2:]
		if len(s) >= 3 && s[0] == '-' {
			b, err := strconv.ParseUint(s[1:3], 16, 8)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("bad range end %q", s[1:3])
			}
			if b < a {
				return nil, nil, 0, fmt.Errorf("range %02X-%02X is empty", a, b)
			}
			lo, hi = append(lo, byte(a)), append(hi, byte(b))
			s = s[3:]
			continue
		}
		lo, hi = append(lo, byte(a)), append(hi, byte(a))
		fixed++
	}
	switch {
	case len(lo) == 0:
		return nil, nil, 0, errors.New("empty")
	case len(lo) > maxPatternLen:
		return nil, nil, 0, fmt.Errorf("longer than %d bytes", maxPatternLen)
	}
	return lo, hi, fixed, nil
}

// builtins loads the embedded definitions in file name order.
func builtins() ([]*fileType, error) {
	names, err := fs.Glob(builtinFS, "definitions/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var all []*fileType
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read built-in definitions: %w", err)
		}
		ts, err := loadDocument("built-in "+path.Base(n), data)
		if err != nil {
			return nil, err
		}
		all = append(all, ts...)
	}
	return all, nil
}

// typeLine finds the line of the i-th type's id in a document (1-based), or
// the line of its i-th [[type]] header.
func typeLine(data []byte, id string, i int) int {
	if id != "" {
		if l := lineOf(data, `"`+id+`"`, 0); l > 0 {
			return l
		}
	}
	return lineOf(data, "[[type]]", i)
}

// lineOf is the line of the n-th occurrence of s in data, or 0.
func lineOf(data []byte, s string, n int) int {
	off := 0
	for {
		j := bytes.Index(data[off:], []byte(s))
		if j < 0 {
			return 0
		}
		if n == 0 {
			return 1 + bytes.Count(data[:off+j], []byte("\n"))
		}
		n--
		off += j + len(s)
	}
}
