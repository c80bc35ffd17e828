package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and either returns pipelines that each have stages, or
// errors that are all *Error values naming the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.toml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add(DefaultTOML())
	f.Add([]byte("pipeline.a.stage = [{id='stage.x', globs=['**/[!a]?'], min_size='1.5 KiB'}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.toml", data)
		if err != nil {
			errs := Errors(err)
			if len(errs) == 0 {
				t.Fatalf("error is not a *Error: %v", err)
			}
			for _, e := range errs {
				if e.File != "fuzz.toml" || e.Line < 0 || e.Reason == "" {
					t.Fatalf("bad error: %#v", e)
				}
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatal("errors.As fails")
			}
			return
		}
		if len(file.Pipelines) == 0 {
			t.Fatal("no pipelines and no error")
		}
		for _, p := range file.Pipelines {
			if len(p.Stages) == 0 {
				t.Fatalf("pipeline %q without stages and no error", p.Name)
			}
			for _, s := range p.Stages {
				s.Filter.Match("a/b.jpg", "image", "image/jpeg", 10)
				if s.Filter.MaxSize > 0 && s.Filter.MinSize > s.Filter.MaxSize {
					t.Fatal("min_size > max_size accepted")
				}
			}
		}
	})
}

// FuzzGlob: compiling and matching any pattern against any path never panics, and valid
// patterns given as globs and as exclude_globs agree.
func FuzzGlob(f *testing.F) {
	for _, s := range []string{"*.jpg|a/b.jpg", "Pictures/**|Pictures/x", "a/**/b|a/x/y/b", "[!a-z]?|x/1b", `\*|*`} {
		g, p, _ := strings.Cut(s, "|")
		f.Add(g, p)
	}
	f.Fuzz(func(t *testing.T, glob, path string) {
		in := Filter{Globs: []string{glob}}.MatchPath(path)
		out := Filter{ExcludeGlobs: []string{glob}}.MatchPath(path)
		if CheckGlob(glob) == nil && in == out {
			t.Fatalf("glob %q on %q: include %v, exclude-pass %v", glob, path, in, out)
		}
	})
}
