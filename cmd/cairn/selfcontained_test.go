package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelfContainedBinary is the newcomer issue's acceptance point 2: a cairn built with
// -trimpath, run with PATH holding only its own folder (no go, no ffmpeg, no source tree) and a
// fresh home, indexes a folder and runs the whole default pipeline from its embedded
// first-party extensions. The native mediathumb runs too (served by the binary itself) and
// reports that ffmpeg is missing rather than failing to start.
func TestSelfContainedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cairn with -trimpath and runs the default pipeline")
	}
	binDir, home, data := t.TempDir(), t.TempDir(), t.TempDir()
	bin := filepath.Join(binDir, "cairn")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -trimpath: %v\n%s", err, out)
	}
	for _, f := range []string{"photo.jpg", "photo.png", "clip.mp4", "tone.flac"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "extensions", "media", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(data, f), b)
	}
	writeFile(t, filepath.Join(data, "notes.md"), []byte("# Notes\n\nA plain *Markdown* file with some words in it.\n"))
	writeFile(t, filepath.Join(data, "page.html"), []byte("<html><body><h1>Title</h1><p>Some text of a page.</p></body></html>"))

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--home", home}, args...)...)
		cmd.Env = []string{"PATH=" + binDir, "HOME=" + home} // nothing else: no go, no tools, no CAIRN_*
		cmd.Dir = binDir
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			t.Fatalf("cairn %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, so.String(), se.String())
		}
		return so.String() + se.String()
	}
	out := run("index", data, "--no-progress")
	if strings.Contains(out, "CAIRN_SOURCE") || strings.Contains(out, "building first-party") {
		t.Fatalf("the binary tried to build its extensions from source:\n%s", out)
	}
	type status struct {
		Stage                          string
		Done, Failed, Pending, Missing int
		MissingTool                    int `json:"missing_tool"`
	}
	got := map[string]status{}
	for _, s := range jsonLines[status](t, run("pipeline", "status", "--json")) {
		got[s.Stage] = s
	}
	for stage, min := range map[string]int{"stage.filetype": 6, "stage.media": 3, "stage.text": 2, "stage.thumbnail": 2} {
		s, ok := got[stage]
		if !ok {
			t.Errorf("%s did not run; status: %+v\n%s", stage, got, out)
			continue
		}
		if s.Done < min || s.Failed != 0 || s.Pending != 0 {
			t.Errorf("%s: %d done, %d failed, %d pending; want ≥ %d done and nothing else\n%s", stage, s.Done, s.Failed, s.Pending, min, out)
		}
	}
	// The video reached the native stage, which ran and said ffmpeg is missing (a content
	// waiting for a tool, not a failure).
	if s, ok := got["stage.mediathumb"]; !ok || s.Done+s.Failed+s.MissingTool == 0 || s.Pending != 0 {
		t.Errorf("stage.mediathumb did not handle the video: %+v\n%s", s, out)
	}
	if st := run("pipeline", "status", "--failed", "5"); !strings.Contains(st, "ffmpeg") {
		t.Errorf("stage.mediathumb's outcome does not name ffmpeg:\n%s", st)
	}
}
