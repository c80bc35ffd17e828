package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/internal/treegen"
)

// pipelineSummary mirrors PipelineSummary's JSON.
type pipelineSummary struct {
	Pipeline string
	State    string
	Resumed  bool
	Steps    []struct {
		Stage        string
		Version      int
		Done, Failed int64
		RunDone      int64 `json:"run_done"`
		RunFailed    int64 `json:"run_failed"`
	}
	Error string
}

// libQuery runs a read-only query on the default library's database and returns one integer.
func libQuery(t testing.TB, home, q string, args ...any) int64 {
	t.Helper()
	p := filepath.Join(home, "libraries", "default.cairn", "library.db")
	db, err := sql.Open("sqlite", "file:"+p+"?mode=ro&_pragma=busy_timeout(5000)")
	must2(t, err)
	defer db.Close()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func ledger(t testing.TB, home, stage string) int64 {
	return libQuery(t, home, `SELECT count(*) FROM stage_ledger WHERE stage = ?`, stage)
}

func pipelineFiles() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_PIPELINE_FILES")); err == nil && n > 0 {
		return n
	}
	return 20000
}

func runPipelineJSON(t testing.TB, home string, args ...string) pipelineSummary {
	t.Helper()
	out := must(t, home, append([]string{"pipeline", "run"}, append(args, "--json", "--no-progress")...)...)
	s := jsonLines[pipelineSummary](t, out)
	if len(s) != 1 {
		t.Fatalf("pipeline run printed %d summaries:\n%s", len(s), out)
	}
	return s[0]
}

// TestPipelineKillResumeRerunAndVersionBump is acceptance point 3 of the pipelines issue: a
// pipeline (the first-party file-type stage, then an installed extension's stage) over a
// generated tree is killed with SIGKILL mid-run, resumes without redoing a finished batch, a
// second run does nothing, and bumping the installed stage's version re-runs only that stage.
// CAIRN_PIPELINE_FILES sets the tree size (default 20,000; the figure is 100,000).
func TestPipelineKillResumeRerunAndVersionBump(t *testing.T) {
	if testing.Short() {
		t.Skip("builds extensions and a tree")
	}
	home, work := t.TempDir(), t.TempDir()
	dir := filepath.Join(t.TempDir(), "tree")
	if _, err := treegen.Generate(context.Background(), dir, treegen.Options{Files: pipelineFiles(), Seed: 4}, nil); err != nil {
		t.Fatal(err)
	}
	extDir := newExt(t, work, home, "counter", "dev.test.counter", "0.1.0", "", "")
	mustIn(t, work, home, "ext", "install", extDir, "--yes", "--trust")
	writeFile(t, filepath.Join(home, "pipelines", "p.toml"), []byte(`[pipeline.p]
description = "types, then a count of every text file"

[[pipeline.p.stage]]
id = "stage.filetype"

[[pipeline.p.stage]]
id = "stage.counter"
kinds = ["text"]
`))
	must(t, home, "index", dir, "--no-progress", "--no-ignore", "--pipeline", "p", "--no-pipeline")
	contents := libQuery(t, home, `SELECT count(*) FROM content_identities`)

	// Run, and kill -9 once the file-type stage has committed some batches.
	cmd := exec.Command(cairnBin, "--home", home, "pipeline", "run", "p", dir, "--json", "--no-progress")
	cmd.Env = append(os.Environ(), "CAIRN_LIBRARY=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must2(t, cmd.Start())
	waitForJob(t, home, "file-type batches committed", func(j jobRow) bool {
		return j.Phase == "stage:stage.filetype" && j.Done >= 1024
	})
	cmd.Process.Kill()
	cmd.Wait()
	before := ledger(t, home, "stage.filetype")
	if before == 0 || before >= contents {
		t.Fatalf("killed with %d of %d contents typed; want a partial run\n%s", before, contents, stderr.String())
	}

	s := runPipelineJSON(t, home, "p", dir)
	if s.State != "completed" || !s.Resumed || len(s.Steps) != 2 {
		t.Fatalf("resumed run: %+v", s)
	}
	if got := s.Steps[0].RunDone + s.Steps[0].RunFailed; got != contents-before {
		t.Fatalf("resumed file-type stage handled %d contents; %d were left after the kill (redo %d)", got, contents-before, got-(contents-before))
	}
	t.Logf("%d contents: %d typed before the kill, %d by the resumed run (redo %d)", contents, before,
		s.Steps[0].RunDone+s.Steps[0].RunFailed, s.Steps[0].RunDone+s.Steps[0].RunFailed-(contents-before))
	if n := ledger(t, home, "stage.filetype"); n != contents {
		t.Fatalf("file-type ledger has %d rows for %d contents", n, contents)
	}
	texts := libQuery(t, home, `SELECT count(*) FROM content_identities c JOIN content_kinds k ON k.id = c.kind_id WHERE k.name = 'text'`)
	if texts == 0 || s.Steps[1].RunDone+s.Steps[1].RunFailed != texts {
		t.Fatalf("counter stage handled %d+%d contents; %d are text", s.Steps[1].Done, s.Steps[1].Failed, texts)
	}
	if unknown := libQuery(t, home, `SELECT count(*) FROM content_identities WHERE kind_id = 0`); unknown > contents/20 {
		t.Errorf("%d of %d contents still of unknown kind after the file-type stage", unknown, contents)
	}

	// A second run does nothing.
	s = runPipelineJSON(t, home, "p", dir)
	for _, st := range s.Steps {
		if st.RunDone+st.RunFailed != 0 {
			t.Fatalf("second run did work: %+v", s)
		}
	}

	// Bumping the installed extension's stage version re-runs only its stage.
	p := filepath.Join(extDir, "cairn.toml")
	b, err := os.ReadFile(p)
	must2(t, err)
	m := strings.Replace(string(b), `version = "0.1.0"`, `version = "0.2.0"`, 1)
	m = strings.Replace(m, "version = 1\n", "version = 2\n", 1)
	if m == string(b) {
		t.Fatal("could not bump the manifest's versions")
	}
	must2(t, os.WriteFile(p, []byte(m), 0o644))
	mustIn(t, work, home, "ext", "install", extDir, "--yes", "--trust")
	s = runPipelineJSON(t, home, "p", dir)
	if s.Steps[0].RunDone+s.Steps[0].RunFailed != 0 || s.Steps[1].Version != 2 || s.Steps[1].RunDone+s.Steps[1].RunFailed != texts {
		t.Fatalf("after the version bump: %+v (want only the counter stage, over %d texts)", s, texts)
	}

	// status agrees: nothing pending.
	type status struct {
		Stage   string
		Done    int64
		Failed  int64
		Pending int64
	}
	for _, st := range jsonLines[status](t, must(t, home, "pipeline", "status", "p", dir, "--json")) {
		if st.Pending != 0 {
			t.Errorf("status after the runs: %+v", st)
		}
	}
}

// TestUserPipelineFilters is acceptance point 4: a user pipeline "thumbnails only for
// Pictures/** images over 100 KB" makes thumbnails for exactly those files; an invalid
// pipeline file is rejected with its line and the reason.
func TestUserPipelineFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds extensions")
	}
	home := t.TempDir()
	dir := filepath.Join(t.TempDir(), "home")
	big, small := testJPEG(t, 900, 700, true), testJPEG(t, 64, 48, false)
	if len(big) < 100<<10 || len(small) >= 100<<10 {
		t.Fatalf("fixture sizes %d and %d do not straddle 100 KB", len(big), len(small))
	}
	writeFile(t, filepath.Join(dir, "Pictures", "big.jpg"), big)
	writeFile(t, filepath.Join(dir, "Pictures", "trips", "big-copy-renamed.jpeg"), append(append([]byte{}, big...), 0)) // another content
	writeFile(t, filepath.Join(dir, "Pictures", "small.jpg"), small)
	writeFile(t, filepath.Join(dir, "Downloads", "big.jpg"), append(append([]byte{}, big...), 1, 2))
	writeFile(t, filepath.Join(dir, "Pictures", "notes.txt"), []byte(strings.Repeat("not a picture\n", 10000)))
	writeFile(t, filepath.Join(home, "pipelines", "thumbs.toml"), []byte(`[pipeline.thumbs]
description = "thumbnails only for Pictures/** images over 100 KB"

[[pipeline.thumbs.stage]]
id = "stage.filetype"

[[pipeline.thumbs.stage]]
id = "stage.thumbnail"
kinds = ["image"]
globs = ["Pictures/**"]
min_size = "100 KB"
`))
	must(t, home, "index", dir, "--no-progress", "--pipeline", "thumbs")
	type entry struct {
		Path     string
		Mime     *string
		Sidecars []sidecarJSON
		Media    json.RawMessage
	}
	want := map[string]bool{"Pictures/big.jpg": true, "Pictures/trips/big-copy-renamed.jpeg": true}
	for _, rel := range []string{"Pictures/big.jpg", "Pictures/trips/big-copy-renamed.jpeg", "Pictures/small.jpg", "Downloads/big.jpg", "Pictures/notes.txt"} {
		e := jsonLines[entry](t, must(t, home, "show", filepath.Join(dir, rel), "--json"))[0]
		var thumbs []string
		for _, sc := range e.Sidecars {
			if sc.Kind == "thumb" && sc.Status == "ready" {
				thumbs = append(thumbs, sc.Variant)
				if _, err := os.Stat(sc.Path); err != nil {
					t.Errorf("%s: sidecar file: %v", rel, err)
				}
			}
		}
		if want[rel] != (len(thumbs) == 2) || (!want[rel] && len(thumbs) != 0) {
			t.Errorf("%s: thumbnails %v; want them: %v", rel, thumbs, want[rel])
		}
		if strings.HasSuffix(rel, "jpg") || strings.HasSuffix(rel, "jpeg") {
			if e.Mime == nil || *e.Mime != "image/jpeg" {
				t.Errorf("%s: mime %v", rel, e.Mime)
			}
		}
	}
	ls := must(t, home, "sidecar", "ls", filepath.Join(dir, "Pictures"), "--json")
	if n := len(jsonLines[map[string]any](t, ls)); n != 4 {
		t.Errorf("sidecar ls Pictures: %d sidecars, want 4 (2 files × 256, 1024)\n%s", n, ls)
	}
	p := strings.TrimSpace(must(t, home, "sidecar", "path", filepath.Join(dir, "Pictures", "big.jpg"), "--kind", "thumb", "--variant", "256"))
	if !strings.HasSuffix(p, "/thumb/256.jpg") {
		t.Errorf("sidecar path: %s", p)
	}

	// regenerate forgets and remakes exactly that file's thumbnails.
	rg := jsonLines[pipelineSummary](t, must(t, home, "sidecar", "regenerate", filepath.Join(dir, "Pictures", "big.jpg"), "--kind", "thumb", "--json"))
	if len(rg) != 1 || rg[0].State != "completed" || len(rg[0].Steps) != 2 || rg[0].Steps[0].RunDone != 0 || rg[0].Steps[1].RunDone != 1 {
		t.Errorf("sidecar regenerate: %+v; want only the thumbnail stage, for one file", rg)
	}

	bad := filepath.Join(t.TempDir(), "bad.toml")
	writeFile(t, bad, []byte("[pipeline.x]\ndescription = \"x\"\n\n[[pipeline.x.stage]]\nid = \"stage.thumbnail\"\nmin_size = \"100 XB\"\n"))
	r := cairn(t, home, "pipeline", "validate", bad)
	if r.code == 0 || !strings.Contains(r.stderr, "bad.toml:6") || !strings.Contains(r.stderr, "min_size") {
		t.Fatalf("invalid pipeline file: exit %d, stderr %q; want bad.toml:6 and the reason", r.code, r.stderr)
	}
}

// testJPEG encodes a w×h JPEG; noisy pixels make it large.
func testJPEG(t testing.TB, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x), uint8(y), 128, 255}
			if noisy {
				c = color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	must2(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}))
	return buf.Bytes()
}
