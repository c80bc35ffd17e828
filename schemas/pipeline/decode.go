package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// MaxFileSize bounds what Parse reads: a pipelines file is a few KiB.
const MaxFileSize = 4 << 20

// Kinds is the vocabulary of content kinds a filter may name (REFERENCE.md §3).
var Kinds = []string{"unknown", "image", "video", "audio", "document", "archive", "code", "text",
	"database", "book", "font", "mesh", "config", "encrypted", "key", "executable", "binary",
	"spreadsheet", "presentation", "email", "calendar", "contact", "web", "shortcut", "package"}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	stageIDRE = regexp.MustCompile(`^stage\.[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$`)
	mimeRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/([a-z0-9][a-z0-9!#$&^_.+-]{0,126}|\*)$`)
	kindSet   = func() map[string]bool {
		m := map[string]bool{}
		for _, k := range Kinds {
			m[k] = true
		}
		return m
	}()
)

var (
	pipelineKeys = []string{"description", "locations", "stage"}
	stepKeys     = []string{"id", "kinds", "mimes", "globs", "exclude_globs", "min_size", "max_size", "config"}
)

// Parse decodes and validates a pipelines file. name is the file name used in errors and as
// each pipeline's Source. Every problem is reported (not only the first), each as an *Error with
// its line; several are joined with errors.Join.
func Parse(name string, data []byte) (f *File, err error) {
	f, d, err := decode(name, data)
	if err != nil {
		return nil, err
	}
	if err := join(d.sorted()); err != nil {
		return nil, err
	}
	return f, nil
}

// decode parses the TOML and decodes it, collecting problems in the decoder; err is a problem
// that stops decoding (the file is too large or not TOML).
func decode(name string, data []byte) (*File, *decoder, error) {
	if len(data) > MaxFileSize {
		return nil, nil, &Error{File: name, Reason: fmt.Sprintf("file is %d bytes; a pipelines file may have at most %d", len(data), MaxFileSize)}
	}
	var raw map[string]any
	if err := decodeTOML(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, nil, &Error{File: name, Line: pe.Position.Line, Reason: "toml: " + pe.Message}
		}
		return nil, nil, &Error{File: name, Reason: "toml: " + err.Error()}
	}
	d := &decoder{file: name, ln: locate(string(data))}
	return d.file_(raw), d, nil
}

// Validate parses a pipelines file and checks every pipeline in it against the stages of c,
// reporting every problem at once, in line order: what Parse reports, and what Resolve reports
// (unknown stages, configs that do not match the stage's schema, inputs no step produces) for
// every step with a valid stage id, including steps that have other problems. It returns the
// parsed file when there is no problem.
func Validate(name string, data []byte, c Catalog) (*File, error) {
	f, d, err := decode(name, data)
	if err != nil {
		return nil, err
	}
	errs := d.sorted()
	for _, p := range f.Pipelines {
		q := *p
		q.Stages = d.checkable[p]
		if len(q.Stages) == 0 {
			continue // the decoder said why
		}
		if _, err := q.Resolve(c); err != nil {
			errs = append(errs, Errors(err)...)
		}
	}
	// One problem found by both passes (a stage listed twice) is reported once.
	seen := map[string]bool{}
	uniq := errs[:0]
	for _, e := range errs {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			uniq = append(uniq, e)
		}
	}
	sort.SliceStable(uniq, func(i, j int) bool { return uniq[i].Line < uniq[j].Line })
	if err := join(uniq); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeTOML runs the TOML parser, turning a panic on hostile input into an error.
func decodeTOML(s string, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser failed: %v", r)
		}
	}()
	_, err = toml.Decode(s, v)
	return err
}

type decoder struct {
	file string
	ln   lines
	errs []*Error
	// checkable are, per pipeline, its steps with a valid stage id, even those with other
	// problems: Validate still checks them against the stages (their configs included).
	checkable map[*Pipeline][]Step
}

func (d *decoder) fail(line int, pipeline, stage, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Pipeline: pipeline, Stage: stage, Reason: fmt.Sprintf(format, args...)})
}

// sorted returns the errors in document order (stable, so one key's errors stay in order).
func (d *decoder) sorted() []*Error {
	sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
	return d.errs
}

func (d *decoder) file_(raw map[string]any) *File {
	f := &File{}
	for _, k := range sortedByLine(d.ln, raw, nil) {
		if k != "pipeline" {
			d.fail(d.ln.line(k), "", "", "unknown key %q (a pipelines file holds [pipeline.NAME] tables)", k)
		}
	}
	v, ok := raw["pipeline"]
	if !ok {
		d.fail(0, "", "", "no pipelines defined (want [pipeline.NAME] tables)")
		return f
	}
	all, ok := v.(map[string]any)
	if !ok {
		d.fail(d.ln.line("pipeline"), "", "", "pipeline: want a table of pipelines ([pipeline.NAME]), got %s", typeName(v))
		return f
	}
	if len(all) == 0 {
		d.fail(d.ln.line("pipeline"), "", "", "no pipelines defined (want [pipeline.NAME] tables)")
	}
	for _, name := range sortedByLine(d.ln, all, []string{"pipeline"}) {
		if p := d.pipeline(name, all[name]); p != nil {
			f.Pipelines = append(f.Pipelines, p)
		}
	}
	return f
}

func (d *decoder) pipeline(name string, v any) *Pipeline {
	base := []string{"pipeline", name}
	p := &Pipeline{Name: name, Source: d.file, Line: d.ln.line(base...)}
	if !nameRE.MatchString(name) {
		d.fail(p.Line, name, "", "bad pipeline name: want lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters")
	}
	t, ok := v.(map[string]any)
	if !ok {
		d.fail(p.Line, name, "", "want a table ([pipeline.%s]), got %s", name, typeName(v))
		return nil
	}
	for _, k := range sortedByLine(d.ln, t, base) {
		line := d.ln.line(append(base, k)...)
		val := t[k]
		switch k {
		case "description":
			s, ok := val.(string)
			if !ok {
				d.fail(line, name, "", "description: want a string, got %s", typeName(val))
			}
			p.Description = s
		case "locations":
			p.Locations = d.strings(line, name, "", k, val)
		case "stage":
			// handled below, in order
		default:
			d.fail(line, name, "", "%s", unknownKey(k, pipelineKeys))
		}
	}
	sv, ok := t["stage"]
	if !ok {
		d.fail(p.Line, name, "", "no stages (want [[pipeline.%s.stage]] tables)", name)
		return p
	}
	steps, ok := tables(sv)
	if !ok {
		d.fail(d.ln.line(append(base, "stage")...), name, "", "stage: want an array of tables ([[pipeline.%s.stage]]), got %s", name, typeName(sv))
		return p
	}
	if len(steps) == 0 {
		d.fail(d.ln.line(append(base, "stage")...), name, "", "no stages (want [[pipeline.%s.stage]] tables)", name)
	}
	first := map[string]int{}
	seen := map[string]bool{}
	for i, st := range steps {
		s, ok := d.step(name, i, st)
		if stageIDRE.MatchString(s.Stage) && !seen[s.Stage] {
			seen[s.Stage] = true
			if d.checkable == nil {
				d.checkable = map[*Pipeline][]Step{}
			}
			d.checkable[p] = append(d.checkable[p], s)
		}
		if !ok {
			continue
		}
		if l, dup := first[s.Stage]; dup {
			d.fail(s.Line, name, s.Stage, "stage listed twice in one pipeline (first at line %d)", l)
			continue
		}
		first[s.Stage] = s.Line
		p.Stages = append(p.Stages, s)
	}
	return p
}

// tables accepts both [[array.of.tables]] ([]map[string]any) and inline arrays of tables.
func tables(v any) ([]any, bool) {
	switch t := v.(type) {
	case []map[string]any:
		out := make([]any, len(t))
		for i := range t {
			out[i] = t[i]
		}
		return out, true
	case []any:
		return t, true
	}
	return nil, false
}

func (d *decoder) step(pipe string, i int, v any) (Step, bool) {
	base := []string{"pipeline", pipe, "stage", "#" + strconv.Itoa(i)}
	s := Step{Line: d.ln.line(base...)}
	label := "#" + strconv.Itoa(i+1)
	t, ok := v.(map[string]any)
	if !ok {
		d.fail(s.Line, pipe, label, "want a table, got %s", typeName(v))
		return s, false
	}
	nerr := len(d.errs)
	if id, ok := t["id"].(string); ok && stageIDRE.MatchString(id) {
		label = id
	}
	for _, k := range sortedByLine(d.ln, t, base) {
		line := d.ln.line(append(base, k)...)
		val := t[k]
		switch k {
		case "id":
			id, ok := val.(string)
			switch {
			case !ok:
				d.fail(line, pipe, label, "id: want a string, got %s", typeName(val))
			case !stageIDRE.MatchString(id):
				d.fail(line, pipe, label, "id %q: want a stage id \"stage.<name>\"", id)
			}
			s.Stage = id
		case "kinds":
			for _, kind := range d.strings(line, pipe, label, k, val) {
				if kindSet[kind] {
					s.Filter.Kinds = append(s.Filter.Kinds, kind)
					continue
				}
				if sug := suggest(kind, Kinds); sug != "" {
					d.fail(line, pipe, label, "kinds: unknown kind %q (did you mean %q?)", kind, sug)
				} else {
					d.fail(line, pipe, label, "kinds: unknown kind %q (known: %s)", kind, strings.Join(Kinds, ", "))
				}
			}
		case "mimes":
			for _, m := range d.strings(line, pipe, label, k, val) {
				switch {
				case mimeRE.MatchString(m):
					s.Filter.Mimes = append(s.Filter.Mimes, m)
				case mimeRE.MatchString(strings.ToLower(m)):
					d.fail(line, pipe, label, "mimes: %q: want lowercase", m)
				default:
					d.fail(line, pipe, label, "mimes: %q is not a MIME type or pattern (want \"type/subtype\" or \"type/*\")", m)
				}
			}
		case "globs", "exclude_globs":
			for _, g := range d.strings(line, pipe, label, k, val) {
				if err := CheckGlob(g); err != nil {
					d.fail(line, pipe, label, "%s: %q: %v", k, g, err)
					continue
				}
				if k == "globs" {
					s.Filter.Globs = append(s.Filter.Globs, g)
				} else {
					s.Filter.ExcludeGlobs = append(s.Filter.ExcludeGlobs, g)
				}
			}
		case "min_size":
			s.Filter.MinSize = d.size(line, pipe, label, k, val)
		case "max_size":
			s.Filter.MaxSize = d.size(line, pipe, label, k, val)
		case "config":
			s.Config, s.ConfigLine = d.config(line, pipe, label, val), line
		case "filter":
			d.fail(line, pipe, label, "unknown key \"filter\" (filter keys go in the stage table itself: kinds, mimes, globs, exclude_globs, min_size, max_size)")
		default:
			d.fail(line, pipe, label, "%s", unknownKey(k, stepKeys))
		}
	}
	if _, ok := t["id"]; !ok {
		d.fail(s.Line, pipe, label, "id: required (the stage to run, e.g. \"stage.filetype\")")
	}
	if f := s.Filter; f.MaxSize > 0 && f.MinSize > f.MaxSize {
		d.fail(d.ln.line(append(base, "min_size")...), pipe, label, "min_size (%d bytes) is larger than max_size (%d bytes)",
			f.MinSize, f.MaxSize)
	}
	return s, len(d.errs) == nerr
}

// strings decodes an array of non-empty strings.
func (d *decoder) strings(line int, pipe, stage, key string, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		d.fail(line, pipe, stage, "%s: want an array of strings, got %s", key, typeName(v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		switch {
		case !ok:
			d.fail(line, pipe, stage, "%s[%d]: want a string, got %s", key, i, typeName(e))
		case strings.TrimSpace(s) == "":
			d.fail(line, pipe, stage, "%s[%d]: empty string", key, i)
		default:
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) size(line int, pipe, stage, key string, v any) int64 {
	switch n := v.(type) {
	case int64:
		if n < 0 {
			d.fail(line, pipe, stage, "%s: %d is negative", key, n)
			return 0
		}
		return n
	case string:
		sz, err := ParseSize(n)
		if err != nil {
			d.fail(line, pipe, stage, "%s: %q is not a size: %v", key, n, err)
		}
		return sz
	}
	d.fail(line, pipe, stage, "%s: want a number of bytes or a string such as \"100 KB\", got %s", key, typeName(v))
	return 0
}

func (d *decoder) config(line int, pipe, stage string, v any) json.RawMessage {
	t, ok := v.(map[string]any)
	if !ok {
		d.fail(line, pipe, stage, "config: want a table, got %s", typeName(v))
		return nil
	}
	if err := jsonable(t, "config"); err != nil {
		d.fail(line, pipe, stage, "%v", err)
		return nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		d.fail(line, pipe, stage, "config: cannot be written as JSON: %v", err)
		return nil
	}
	return b
}

// jsonable rejects values JSON cannot carry (NaN and infinities); at names the value.
func jsonable(v any, at string) error {
	switch t := v.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("%s: %v cannot be written as JSON", at, t)
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if err := jsonable(t[k], at+"."+k); err != nil {
				return err
			}
		}
	case []map[string]any:
		for i, e := range t {
			if err := jsonable(e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := jsonable(e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// typeName names a decoded TOML value's type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date/time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

func unknownKey(k string, known []string) string {
	if sug := suggest(k, known); sug != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", k, sug)
	}
	return fmt.Sprintf("unknown key %q (known: %s)", k, strings.Join(known, ", "))
}

// suggest returns the known word closest to w, if it is close (a typo, not another word).
func suggest(w string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(w), k); dist < bestD {
			best, bestD = k, dist
		}
	}
	if bestD > 0 && bestD*3 > len(w)+1 { // too different for a short word
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// sortedByLine returns a table's keys in document order (by line, then name).
func sortedByLine[V any](ln lines, t map[string]V, base []string) []string {
	keys := sortedKeys(t)
	at := make(map[string]int, len(keys))
	for _, k := range keys {
		at[k] = ln.line(append(append([]string{}, base...), k)...)
	}
	sort.SliceStable(keys, func(i, j int) bool { return at[keys[i]] < at[keys[j]] })
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
