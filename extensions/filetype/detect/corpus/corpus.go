// Package corpus generates a labelled corpus of real files made by real
// tools (ffmpeg, ImageMagick, ghostscript, pandoc, zip, 7z, xz, zstd, gcc,
// go, sqlite3, …) for the file-type accuracy test: each file's label is its
// true MIME type. A recipe whose tools are missing is left out.
//
// Run it from Go (Generate) or from the command line:
//
//	go run ./extensions/filetype/detect/corpus/cmd/makecorpus DIR
//
// which writes the files to DIR/files and prints "name<TAB>label<TAB>format".
package corpus

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sample is one generated file.
type Sample struct {
	Path   string // absolute path
	Name   string // base name
	Label  string // true MIME type
	Format string // human format name
}

// Recipe makes one file with a shell script run in the output directory,
// with $SRC the directory of the base inputs (see sources).
type Recipe struct {
	Format string
	Label  string
	Name   string
	Needs  []string // tools that must be on PATH
	Script string
	After  bool // run after every other recipe (derived files: misnamed copies)
}

// Skipped reports recipes left out.
type Skipped struct {
	Name, Reason string
}

// Generate writes the corpus into dir (dir/src for inputs, dir/files for
// the samples) and returns the samples made and the recipes skipped.
// Recipes run in parallel, each with a 60 s limit.
func Generate(ctx context.Context, dir string) ([]Sample, []Skipped, error) {
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "files")
	for _, d := range []string{src, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, fmt.Errorf("corpus: make %s: %w", d, err)
		}
	}
	for name, content := range sources {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			return nil, nil, fmt.Errorf("corpus: write source %s: %w", name, err)
		}
	}
	var (
		mu      sync.Mutex
		samples []Sample
		skipped []Skipped
	)
	run := func(rs []Recipe) {
		sem := make(chan struct{}, max(2, runtime.NumCPU()))
		var wg sync.WaitGroup
		for _, r := range rs {
			if missing := missingTool(r.Needs); missing != "" {
				mu.Lock()
				skipped = append(skipped, Skipped{r.Name, missing + " not installed"})
				mu.Unlock()
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				err := runRecipe(ctx, r, src, out)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					skipped = append(skipped, Skipped{r.Name, err.Error()})
					return
				}
				samples = append(samples, Sample{Path: filepath.Join(out, r.Name), Name: r.Name, Label: r.Label, Format: r.Format})
			}()
		}
		wg.Wait()
	}
	var first, after []Recipe
	for _, r := range Recipes {
		if r.After {
			after = append(after, r)
		} else {
			first = append(first, r)
		}
	}
	run(first)
	run(after)
	sort.Slice(samples, func(i, j int) bool { return samples[i].Name < samples[j].Name })
	return samples, skipped, nil
}

func missingTool(tools []string) string {
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return t
		}
	}
	return ""
}

func runRecipe(ctx context.Context, r Recipe, src, out string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-ec", r.Script)
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "SRC="+src, "OUT="+r.Name, "SOURCE_DATE_EPOCH=1700000000",
		"GOFLAGS=-trimpath", "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(b))
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return fmt.Errorf("%v: %s", err, msg)
	}
	fi, err := os.Stat(filepath.Join(out, r.Name))
	if err != nil {
		return fmt.Errorf("recipe made no %s: %w", r.Name, err)
	}
	if fi.Size() == 0 && r.Label != "inode/x-empty" {
		return fmt.Errorf("recipe made an empty %s", r.Name)
	}
	return nil
}
