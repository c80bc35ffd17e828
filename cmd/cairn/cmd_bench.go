package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cairnfs/cairn/internal/benchpeer"
	"github.com/cairnfs/cairn/internal/treegen"
)

func init() {
	register(command{name: "bench", summary: "measure indexing against find and fd on a generated tree", run: runBench,
		usage: []string{
			"bench index [--files N] [--dir DIR] [--keep] [--json]\ttime find, fd and cairn's index modes on a generated tree",
			"bench pipeline [--files N] [--pipeline NAME] [--dir DIR] [--keep] [--json]\ttime a pipeline end to end and per stage",
		},
		about: "index: generates a tree, times `find` and `fd -HI` on it, then cairn's shallow index, content index and " +
			"unchanged re-index (each a child process, for its peak RSS), and prints the ratios. pipeline: indexes the " +
			"tree in deep mode and runs a pipeline (default: the built-in default) in one child process; prints end-to-end " +
			"and per-stage files/s and the peak RSS, then a second, empty run.",
		examples: []string{"cairn bench index --files 100000", "cairn bench pipeline --files 2000 --json"}})
}

// benchRow is one measured command.
type benchRow struct {
	What      string  `json:"what"`
	Entries   int64   `json:"entries"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"entries_per_s"`
	PeakRSS   int64   `json:"peak_rss_bytes"`
	VsFd      float64 `json:"time_vs_fd,omitempty"`
	VsFind    float64 `json:"time_vs_find,omitempty"`
	Note      string  `json:"note,omitempty"`
}

func runBench(ctx context.Context, a *app, args []string) error {
	fs := newFlags("bench", a)
	files := fs.Int("files", 100_000, "files in the generated tree")
	dir := fs.String("dir", "", "where to generate the tree (default: a temporary folder; an existing tree made by cairn bench with the same --files and --seed is reused)")
	seed := fs.Uint64("seed", 1, "generator seed")
	keep := fs.Bool("keep", false, "keep the generated tree")
	asJSON := fs.Bool("json", false, "print JSON lines")
	pipelineName := fs.String("pipeline", "default", "bench pipeline: the pipeline to run")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if (len(pos) != 1 || (pos[0] != "index" && pos[0] != "pipeline")) && !(len(pos) == 2 && pos[0] == "gen") {
		return usagef("usage: cairn bench index|pipeline [--files N] [--dir DIR]")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if len(pos) == 2 && pos[0] == "gen" { // internal: cairn bench gen DIR (see below)
		st, err := treegen.Generate(ctx, pos[1], treegen.Options{Files: *files, Seed: *seed}, nil)
		if err != nil {
			return err
		}
		return a.jsonLine(st)
	}
	root := *dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "cairn-bench-")
		if err != nil {
			return err
		}
		root = filepath.Join(tmp, "tree")
		if !*keep {
			defer os.RemoveAll(tmp)
		}
	}
	stamp := filepath.Join(root, ".cairn-bench")
	want := fmt.Sprintf("files=%d seed=%d treegen=%d", *files, *seed, treegen.Version)
	if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == want {
		fmt.Fprintf(a.stderr, "reusing the tree in %s\n", root)
	} else {
		fmt.Fprintf(a.stderr, "generating %d files in %s ...\n", *files, root)
		start := time.Now()
		// In a child process: children are started with vfork and inherit this process's peak RSS
		// as their own starting figure, so this process must stay small for the peers' RSS to be theirs.
		gen := exec.CommandContext(ctx, self, "bench", "gen", root, "--files", fmt.Sprint(*files), "--seed", fmt.Sprint(*seed))
		gen.Stderr = a.stderr
		out, err := gen.Output()
		if err != nil {
			return fmt.Errorf("generating the tree: %w", err)
		}
		var st treegen.Stats
		if err := json.Unmarshal(out, &st); err != nil {
			return fmt.Errorf("generating the tree: %w", err)
		}
		fmt.Fprintf(a.stderr, "generated %d files, %d dirs, %s in %s\n", st.Files, st.Dirs, humanBytes(st.Bytes), time.Since(start).Round(time.Millisecond))
		if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
			return err
		}
	}
	// Warm the cache: every tool below runs on a warm tree.
	benchpeer.Find(ctx, root)
	if pos[0] == "pipeline" {
		return benchPipeline(ctx, a, self, root, *pipelineName, *asJSON)
	}

	var rows []benchRow
	emit := func(r benchRow) {
		rows = append(rows, r)
		if *asJSON {
			a.jsonLine(r)
			return
		}
		fmt.Fprintf(a.stdout, "%-28s %9d entries %8.2fs %10.0f/s  rss %7s", r.What, r.Entries, r.Seconds, r.PerSecond, humanBytes(r.PeakRSS))
		if r.VsFd > 0 {
			fmt.Fprintf(a.stdout, "  %5.2f× fd", r.VsFd)
		}
		if r.VsFind > 0 {
			fmt.Fprintf(a.stdout, "  %5.2f× find", r.VsFind)
		}
		if r.Note != "" {
			fmt.Fprintf(a.stdout, "  (%s)", r.Note)
		}
		fmt.Fprintln(a.stdout)
	}
	peer := func(r benchpeer.Result) benchRow {
		return benchRow{What: strings.Join(append([]string{r.Tool}, r.Args...), " "), Entries: int64(r.Entries), Seconds: r.Wall.Seconds(),
			PerSecond: float64(r.Entries) / max(r.Wall.Seconds(), 1e-9), PeakRSS: r.PeakRSS}
	}
	find := benchpeer.Find(ctx, root)
	if find.Err != nil {
		return fmt.Errorf("find: %w", find.Err)
	}
	emit(peer(find))
	fd := benchpeer.Fd(ctx, root)
	if fd.Err == nil {
		emit(peer(fd))
	} else {
		fmt.Fprintf(a.stderr, "fd: %v (install fd-find for the fd ratio)\n", fd.Err)
	}
	ratio := func(r *benchRow) {
		if fd.Err == nil {
			r.VsFd = r.Seconds / fd.Wall.Seconds()
		}
		r.VsFind = r.Seconds / find.Wall.Seconds()
	}
	runIndex := func(home, what, mode string) (benchRow, error) {
		// --no-pipeline: this measures indexing; a fresh location gets the default pipeline,
		// whose run (and its summary on stdout) is `cairn bench pipeline`'s business.
		args := []string{"--home", home, "index", root, "--json", "--no-progress", "--no-ignore", "--no-pipeline"}
		if mode != "" {
			args = append(args, "--mode", mode)
		}
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = a.stderr
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		if err != nil {
			return benchRow{}, fmt.Errorf("%s: %w", what, err)
		}
		var s struct {
			Files, Dirs, Symlinks int64
			Hashed                int64 `json:"run_hashed"`
		}
		if err := json.Unmarshal(out, &s); err != nil {
			return benchRow{}, fmt.Errorf("%s: reading summary: %w", what, err)
		}
		n := s.Files + s.Dirs + s.Symlinks
		r := benchRow{What: what, Entries: n, Seconds: wall.Seconds(), PerSecond: float64(n) / wall.Seconds()}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSS = ru.Maxrss * 1024
		}
		ratio(&r)
		return r, nil
	}
	homes := map[string]string{}
	for _, mode := range []string{"shallow", "content"} {
		h, err := os.MkdirTemp("", "cairn-bench-home-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(h)
		homes[mode] = h
		r, err := runIndex(h, "cairn index --mode "+mode, mode)
		if err != nil {
			return err
		}
		emit(r)
	}
	first := rows[len(rows)-1]
	again, err := runIndex(homes["content"], "cairn re-index (unchanged)", "")
	if err != nil {
		return err
	}
	again.Note = fmt.Sprintf("%.1f× faster than the first content index", first.Seconds/again.Seconds)
	emit(again)
	// Database size per million entries.
	for _, mode := range []string{"shallow", "content"} {
		db := filepath.Join(homes[mode], "libraries", "default.cairn", "library.db")
		st, err := os.Stat(db)
		if err != nil {
			return err
		}
		var n int64
		for _, r := range rows {
			if r.What == "cairn index --mode "+mode {
				n = r.Entries
			}
		}
		per := float64(st.Size()) / float64(max(n, 1)) * 1e6
		if *asJSON {
			a.jsonLine(map[string]any{"what": "db size " + mode, "bytes": st.Size(), "entries": n, "bytes_per_million_entries": int64(per)})
		} else {
			fmt.Fprintf(a.stdout, "db size (%s): %s for %d entries = %s per 1M entries\n", mode, humanBytes(st.Size()), n, humanBytes(int64(per)))
		}
	}
	return nil
}

// benchPipeline runs `cairn index ROOT --mode deep --pipeline NAME` in a child process (fresh
// home) and reports the end-to-end rate, each stage's rate and the peak RSS; then a re-run.
func benchPipeline(ctx context.Context, a *app, self, root, name string, asJSON bool) error {
	home, err := os.MkdirTemp("", "cairn-bench-home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	env := append(os.Environ(), "CAIRN_LIBRARY=")
	if os.Getenv("CAIRN_FIRSTPARTY_CACHE") == "" {
		env = append(env, "CAIRN_FIRSTPARTY_CACHE="+filepath.Join(a.home.Dir, "cache", "firstparty"))
	}
	// Load the extensions once before anything is timed: their modules are compiled into the
	// home's cache (and, with CAIRN_FIRSTPARTY=source, built from the source tree).
	for _, args := range [][]string{{"library", "create", "default"}, {"pipeline", "validate"}} {
		warm := exec.CommandContext(ctx, self, append([]string{"--home", home}, args...)...)
		warm.Env, warm.Stderr = env, a.stderr
		if err := warm.Run(); err != nil {
			return fmt.Errorf("preparing the extensions (cairn %s): %w", strings.Join(args, " "), err)
		}
	}
	run := func(what string) error {
		cmd := exec.CommandContext(ctx, self, "--home", home, "index", root, "--mode", "deep", "--pipeline", name, "--json", "--no-progress", "--no-ignore")
		cmd.Stderr = a.stderr
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var idx struct {
			Files, Dirs, Symlinks int64
		}
		var pipe PipelineSummary
		for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			target := any(&idx)
			if i > 0 {
				target = &pipe
			}
			if err := json.Unmarshal([]byte(line), target); err != nil {
				return fmt.Errorf("%s: reading the summary: %w", what, err)
			}
		}
		var rss int64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024
		}
		row := map[string]any{"what": what, "files": idx.Files, "seconds": wall.Seconds(),
			"files_per_s": float64(idx.Files) / wall.Seconds(), "peak_rss_bytes": rss, "pipeline": pipe.Pipeline, "state": pipe.State}
		if asJSON {
			a.jsonLine(row)
		} else {
			fmt.Fprintf(a.stdout, "%-34s %9d files %8.2fs %9.0f files/s  rss %s  (pipeline %s: %s)\n", what, idx.Files, wall.Seconds(),
				float64(idx.Files)/wall.Seconds(), humanBytes(rss), pipe.Pipeline, pipe.State)
		}
		for _, st := range pipe.Steps {
			n := st.Done + st.Failed
			sec := float64(st.Millis) / 1000
			rate := float64(n) / max(sec, 1e-3)
			if asJSON {
				a.jsonLine(map[string]any{"what": what + ": " + st.Stage, "stage": st.Stage, "contents": n, "failed": st.Failed,
					"seconds": sec, "contents_per_s": rate})
				continue
			}
			fmt.Fprintf(a.stdout, "  %-32s %9d contents %7.2fs %9.0f/s  (%d failed)\n", st.Stage, n, sec, rate, st.Failed)
		}
		return nil
	}
	if err := run("index --mode deep + pipeline " + name); err != nil {
		return err
	}
	return run("re-run (nothing changed)")
}
