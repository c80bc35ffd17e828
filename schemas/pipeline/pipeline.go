package pipeline

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// File is a parsed pipelines file (one TOML document may define several pipelines).
type File struct {
	Pipelines []*Pipeline `json:"pipelines"`
}

// Pipeline is a named list of steps.
type Pipeline struct {
	Name        string   `json:"name"` // [a-z0-9][a-z0-9_-]*
	Description string   `json:"description,omitempty"`
	Locations   []string `json:"locations,omitempty"` // location paths, names or UUIDs it is meant for (informational)
	Stages      []Step   `json:"stages"`              // as written; Resolve returns them in dependency order
	Source      string   `json:"source"`              // file name it came from ("built-in" for the default)
	Line        int      `json:"line"`                // line of its table
}

// Step is one stage of a pipeline with the filter and config it runs with.
type Step struct {
	Stage  string          `json:"stage"` // stage id, e.g. "stage.thumbnail"
	Filter Filter          `json:"filter"`
	Config json.RawMessage `json:"config,omitempty"` // the step's config table as a JSON object (nil when absent)
	Line   int             `json:"line"`
	// ConfigLine is the line of the config key (0 when absent), where config problems point.
	ConfigLine int `json:"-"`
}

// DefaultName is the name of the built-in pipeline.
const DefaultName = "default"

// BuiltIn is the Source of the built-in pipeline.
const BuiltIn = "built-in"

//go:embed default.toml
var defaultTOML []byte

// Default returns the built-in default pipeline file (one pipeline, "default"). Each call
// returns a fresh copy the caller may modify.
func Default() *File {
	f, err := Parse(BuiltIn, defaultTOML)
	if err != nil {
		panic("pipeline: the built-in default.toml is invalid: " + err.Error())
	}
	return f
}

// DefaultTOML returns the source of the built-in pipeline (for `cairn pipeline show default`).
func DefaultTOML() []byte { return append([]byte(nil), defaultTOML...) }

// Lookup returns the pipeline with this name, or nil.
func (f *File) Lookup(name string) *Pipeline {
	for _, p := range f.Pipelines {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Error is a validation error with position. Parse and Resolve return one *Error, or several
// joined with errors.Join (see Errors).
type Error struct {
	File     string // file name given to Parse ("" when unknown)
	Line     int    // 1-based; 0 when the problem has no single line
	Pipeline string // pipeline name, when the problem is inside one
	Stage    string // stage id (or "#N", 1-based, when the step has no valid id)
	Reason   string
}

// Error formats the error as
// `pipelines.toml:12: pipeline "thumbs", stage stage.thumbnail: min_size: "100 XB" is not a size`.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Pipeline != "" {
		fmt.Fprintf(&b, "pipeline %q", e.Pipeline)
		if e.Stage != "" {
			b.WriteString(", stage " + e.Stage)
		}
		b.WriteString(": ")
	} else if e.Stage != "" {
		b.WriteString("stage " + e.Stage + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Errors returns every *Error inside err (which may be one *Error or an errors.Join of them).
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && err == error(e) {
		return []*Error{e}
	}
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			out = append(out, Errors(x)...)
		}
		return out
	}
	if u := errors.Unwrap(err); u != nil {
		return Errors(u)
	}
	return nil
}

// join returns nil, the single error, or all of them joined.
func join(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}
