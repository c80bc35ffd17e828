package pipeline

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*/*.golden files")

// TestGolden parses every testdata/valid file (must pass; its JSON dump must equal the .golden
// file beside it) and every testdata/invalid file (must fail; the error text must equal the
// .golden file). Run with -update to rewrite the golden files after a deliberate change.
func TestGolden(t *testing.T) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.toml"))
		if len(files) == 0 {
			t.Fatalf("no golden files in testdata/%s", dir)
		}
		for _, p := range files {
			t.Run(dir+"/"+filepath.Base(p), func(t *testing.T) {
				src, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				f, err := Parse(filepath.Base(p), src)
				var got string
				if dir == "valid" {
					if err != nil {
						t.Fatalf("Parse: %v", err)
					}
					b, _ := json.MarshalIndent(f, "", "  ")
					got = string(b) + "\n"
				} else {
					if err == nil {
						t.Fatal("Parse accepted an invalid file")
					}
					for _, e := range Errors(err) {
						if e.Line <= 0 && !strings.Contains(e.Reason, "no pipelines") {
							t.Errorf("error without a line: %v", e)
						}
					}
					if n := len(Errors(err)); n != strings.Count(err.Error(), "\n")+1 {
						t.Errorf("Errors found %d errors in %q", n, err)
					}
					got = err.Error() + "\n"
				}
				golden := strings.TrimSuffix(p, ".toml") + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("got:\n%s\nwant (%s):\n%s", got, golden, want)
				}
			})
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "pipelines.toml", Line: 12, Pipeline: "thumbs", Stage: "stage.thumbnail", Reason: `min_size: "100 XB" is not a size`},
			`pipelines.toml:12: pipeline "thumbs", stage stage.thumbnail: min_size: "100 XB" is not a size`},
		{Error{File: "p.toml", Line: 3, Pipeline: "x", Reason: "no stages"}, `p.toml:3: pipeline "x": no stages`},
		{Error{File: "p.toml", Reason: "no pipelines defined"}, `p.toml: no pipelines defined`},
		{Error{Line: 4, Reason: "r"}, `line 4: r`},
		{Error{Stage: "stage.a", Reason: "r"}, `stage stage.a: r`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestParseErrorsAreTyped(t *testing.T) {
	_, err := Parse("p.toml", []byte("[pipeline.a]\n[[pipeline.a.stage]]\nid = \"stage.x\"\nkinds = [\"nope\"]\nmin_size = \"x\"\n"))
	var e *Error
	if !errors.As(err, &e) || e.File != "p.toml" || e.Pipeline != "a" || e.Stage != "stage.x" || e.Line != 4 {
		t.Fatalf("errors.As: %#v from %v", e, err)
	}
	if errs := Errors(err); len(errs) != 2 || errs[1].Line != 5 {
		t.Fatalf("Errors = %v", errs)
	}
	if Errors(nil) != nil {
		t.Error("Errors(nil) != nil")
	}
	// A syntax error carries the line the TOML parser reports.
	_, err = Parse("s.toml", []byte("[pipeline.a]\n\nid = = 3\n"))
	if !errors.As(err, &e) || e.Line != 3 || !strings.HasPrefix(e.Error(), "s.toml:3: toml: ") {
		t.Fatalf("syntax error: %v", err)
	}
	// Oversized input is refused before parsing.
	if _, err := Parse("big.toml", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("oversized: %v", err)
	}
}

func TestDefault(t *testing.T) {
	f := Default()
	p := f.Lookup(DefaultName)
	if len(f.Pipelines) != 1 || p == nil || p.Source != BuiltIn {
		t.Fatalf("Default() = %+v", f)
	}
	var ids []string
	for _, s := range p.Stages {
		ids = append(ids, s.Stage)
	}
	if got := strings.Join(ids, ","); got != "stage.filetype,stage.media,stage.text,stage.thumbnail,stage.mediathumb" {
		t.Errorf("default stages: %s", got)
	}
	text := p.Stages[2]
	if text.Filter.MaxSize != 256<<20 || !text.Filter.MatchType("spreadsheet", "") || text.Filter.MatchType("image", "image/png") ||
		!text.Filter.MatchType("archive", "application/gzip") { // compressed man pages and docs

		t.Errorf("stage.text filter: %+v", text.Filter)
	}
	if !p.Stages[4].Filter.MatchType("document", "application/pdf") || p.Stages[4].Filter.MatchType("image", "") {
		t.Errorf("stage.mediathumb filter: %+v", p.Stages[4].Filter)
	}
	// Each call returns a fresh copy.
	p.Stages[0].Stage = "changed"
	if Default().Pipelines[0].Stages[0].Stage != "stage.filetype" {
		t.Error("Default shares state between calls")
	}
	if f.Lookup("nope") != nil {
		t.Error("Lookup of a missing pipeline")
	}
	if !strings.Contains(string(DefaultTOML()), "[pipeline.default]") {
		t.Error("DefaultTOML")
	}
}

func TestLocate(t *testing.T) {
	src := "\ufeff# c\npipeline.a.description = \"\"\"multi\nline [x] = 1\n\"\"\"\n" +
		"[[pipeline.a.stage]]\nid = 'stage.x' # comment\n" +
		"[pipeline.a.stage.config]\nk = [\n  1,\n  { z = 2 },\n]\n" +
		"[[pipeline.a.stage]]\n\"id\" = \"stage.y\"\n" +
		"[pipeline.b]\nstage = [ {id=\"s\"},\n {id = \"t\"} ]\n"
	ln := locate(src)
	tests := []struct {
		path []string
		want int
	}{
		{[]string{"pipeline", "a", "description"}, 2},
		{[]string{"pipeline", "a", "stage", "#0"}, 5},
		{[]string{"pipeline", "a", "stage", "#0", "id"}, 6},
		{[]string{"pipeline", "a", "stage", "#0", "config"}, 7},
		{[]string{"pipeline", "a", "stage", "#0", "config", "k", "#1", "z"}, 10},
		{[]string{"pipeline", "a", "stage", "#1"}, 12},
		{[]string{"pipeline", "a", "stage", "#1", "id"}, 13},
		{[]string{"pipeline", "a", "stage", "#1", "nope"}, 12}, // falls back to the enclosing table
		{[]string{"pipeline", "b"}, 14},
		{[]string{"pipeline", "b", "stage", "#1", "id"}, 16},
		{[]string{"nothing"}, 0},
	}
	for _, tt := range tests {
		if got := ln.line(tt.path...); got != tt.want {
			t.Errorf("line(%s) = %d; want %d", strings.Join(tt.path, "."), got, tt.want)
		}
	}
}
