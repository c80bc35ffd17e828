package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/internal/treegen"
)

func TestLibraryAndLocationLifecycle(t *testing.T) {
	home, a, b := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(a, "x.txt"), []byte("x"))
	writeFile(t, filepath.Join(b, "y.txt"), []byte("y"))
	must(t, home, "library", "create", "one")
	must(t, home, "library", "create", "two")
	libs := jsonLines[struct{ Name string }](t, must(t, home, "library", "list", "--json"))
	if len(libs) != 2 || libs[0].Name != "one" || libs[1].Name != "two" {
		t.Fatalf("library list: %+v", libs)
	}
	if r := cairn(t, home, "location", "list"); r.code != 1 || !strings.Contains(r.stderr, "--library") {
		t.Fatalf("two libraries, no --library: exit %d %q", r.code, r.stderr)
	}
	must(t, home, "--library", "one", "location", "add", a, "--mode", "shallow")
	must(t, home, "--library", "one", "location", "add", b)
	if r := cairn(t, home, "--library", "one", "location", "add", filepath.Join(a)); r.code == 0 {
		t.Fatal("adding a location twice succeeded")
	}
	if r := cairn(t, home, "--library", "one", "location", "add", filepath.Dir(a)); r.code == 0 {
		t.Fatal("adding a location that contains another succeeded")
	}
	must(t, home, "--library", "one", "index", "--no-progress")
	type loc struct {
		Path  string
		Mode  string
		State string
		Files int64
	}
	locs := jsonLines[loc](t, must(t, home, "--library", "one", "location", "list", "--json"))
	if len(locs) != 2 || locs[0].Files != 1 || locs[1].Files != 1 || locs[0].State != "indexed" {
		t.Fatalf("location list: %+v", locs)
	}
	must(t, home, "--library", "one", "location", "remove", a)
	if locs := jsonLines[loc](t, must(t, home, "--library", "one", "location", "list", "--json")); len(locs) != 1 || locs[0].Path != b {
		t.Fatalf("after remove: %+v", locs)
	}
	if r := cairn(t, home, "--library", "one", "ls", a); r.code != 1 {
		t.Fatalf("ls of a removed location: exit %d", r.code)
	}
	must(t, home, "library", "delete", "two")
	if libs := jsonLines[struct{ Name string }](t, must(t, home, "library", "list", "--json")); len(libs) != 1 {
		t.Fatalf("after delete: %+v", libs)
	}
}

// TestPauseResumeFromAnotherProcess: `cairn jobs pause` stops a running index at its next batch,
// `cairn jobs resume` lets it go on, and the index completes with every file.
func TestPauseResumeFromAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a tree")
	}
	home, dir := t.TempDir(), filepath.Join(t.TempDir(), "tree")
	st, err := treegen.Generate(context.Background(), dir, treegen.Options{Files: 60000, Seed: 9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cairnBin, "--home", home, "index", dir, "--json", "--no-progress", "--no-ignore")
	var out strings.Builder
	cmd.Stdout = &out
	must2(t, cmd.Start())
	defer cmd.Process.Kill()
	waitForJob(t, home, "content phase", func(j jobRow) bool {
		return j.State == "running" && j.Phase == "content" && j.Done < j.Total/2
	})
	must(t, home, "jobs", "pause", "1")
	waitForJob(t, home, "paused", func(j jobRow) bool { return j.State == "paused" })
	var j struct{ Done int64 }
	json.Unmarshal([]byte(strings.SplitN(must(t, home, "jobs", "list", "--json"), "\n", 2)[0]), &j)
	time.Sleep(500 * time.Millisecond)
	var j2 struct{ Done int64 }
	json.Unmarshal([]byte(strings.SplitN(must(t, home, "jobs", "list", "--json"), "\n", 2)[0]), &j2)
	if j2.Done != j.Done {
		t.Fatalf("progress moved while paused: %d → %d", j.Done, j2.Done)
	}
	must(t, home, "jobs", "resume", "1")
	must2(t, cmd.Wait())
	var s summary
	must2(t, json.Unmarshal([]byte(out.String()), &s))
	if s.State != "completed" || s.Files != int64(st.Files) || s.Hashed != int64(st.Files-st.Empty) {
		t.Fatalf("after pause/resume: %+v (tree %+v)", s, st)
	}
}
