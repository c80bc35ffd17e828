package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cairnNoDefaultEnv runs the binary like a user who never heard of CAIRN_DEFAULT_PIPELINE: the
// variable TestMain sets for the kernel tests is removed from the child's environment.
func cairnNoDefaultEnv(t testing.TB, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_DEFAULT_PIPELINE=") && !strings.HasPrefix(kv, "CAIRN_LIBRARY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return runCmd(t, cmd)
}

// TestBenchIndexFreshHome runs the README's `cairn bench index` from a fresh home with the default
// pipeline in force: its index children must not run the pipeline (whose summary used to follow the
// index summary on stdout and break the parent's reading of it).
func TestBenchIndexFreshHome(t *testing.T) {
	home := t.TempDir()
	r := cairnNoDefaultEnv(t, home, "bench", "index", "--files", "300", "--json")
	if r.code != 0 {
		t.Fatalf("bench index: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rows := jsonLines[map[string]any](t, r.stdout)
	var whats []string
	for _, row := range rows {
		whats = append(whats, row["what"].(string))
	}
	for _, want := range []string{"cairn index --mode shallow", "cairn index --mode content", "cairn re-index (unchanged)", "db size content"} {
		found := false
		for _, w := range whats {
			found = found || w == want
		}
		if !found {
			t.Errorf("no %q row in %q", want, whats)
		}
	}
	for _, row := range rows {
		if strings.HasPrefix(row["what"].(string), "cairn ") && row["entries"].(float64) < 300 {
			t.Errorf("%s: %v entries, want ≥ 300", row["what"], row["entries"])
		}
	}
}

// TestBenchPipelineFreshHome runs `cairn bench pipeline` from a fresh home: a deep index with the
// default pipeline, then an empty re-run.
func TestBenchPipelineFreshHome(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(t.TempDir(), "tree")
	r := cairnNoDefaultEnv(t, home, "bench", "pipeline", "--files", "60", "--dir", dir, "--json")
	if r.code != 0 {
		t.Fatalf("bench pipeline: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rows := jsonLines[map[string]any](t, r.stdout)
	var runs []map[string]any
	stages := 0
	for _, row := range rows {
		if _, ok := row["stage"]; ok {
			stages++
			continue
		}
		runs = append(runs, row)
	}
	if len(runs) != 2 {
		t.Fatalf("want 2 runs (first, re-run), got %d: %v", len(runs), rows)
	}
	for _, run := range runs {
		if run["pipeline"] != "default" || run["files"].(float64) < 60 {
			t.Errorf("run %v: want pipeline default over ≥ 60 files", run)
		}
	}
	if stages == 0 {
		t.Errorf("no per-stage rows: %v", rows)
	}
}
