package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cairnPath runs cairn with PATH set to path (so which external tools exist is the test's
// choice, not the machine's).
func cairnPath(t testing.TB, home, path string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "PATH="+path, "CAIRN_LIBRARY=")
	return runCmd(t, cmd)
}

type stageStatusJSON struct {
	Stage       string
	Done        int64
	Failed      int64
	MissingTool int64 `json:"missing_tool"`
	Pending     int64
	Failures    []struct {
		Paths   []string
		Stage   string
		Error   string
		Content string `json:"content_uuid"`
	}
}

// TestDefaultPipelineStatusFailuresAndMissingTools runs the default pipeline (the real
// first-party extensions, a real library) over documents mediathumb does not handle
// (PostScript, RTF, troff, TeX), two PDFs with pdftoppm not installed, and a broken JPEG:
//   - `pipeline status` shows nothing pending after the run: its selection is the run's
//     (mediathumb's step names "document"; its manifest only PDFs and videos);
//   - failures are listed by path, in the text and in --json;
//   - the PDFs are not failures but one note naming the tool and its Debian package, and
//     `index` exits 0 when they are all that is left; a broken file makes it exit 1;
//   - once pdftoppm is on PATH the next run makes their thumbnails.
func TestDefaultPipelineStatusFailuresAndMissingTools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the default pipeline")
	}
	home, bin := t.TempDir(), t.TempDir() // bin: an empty PATH (no pdftoppm, no ffmpeg)
	dir := filepath.Join(t.TempDir(), "docs")
	writeFile(t, filepath.Join(dir, "paper.ps"), []byte("%!PS-Adobe-3.0\n%%Title: paper\n/Times-Roman findfont 12 scalefont setfont\nshowpage\n"))
	writeFile(t, filepath.Join(dir, "letter.rtf"), []byte("{\\rtf1\\ansi Dear reader,\\par see you.}\n"))
	writeFile(t, filepath.Join(dir, "man", "tool.1"), []byte(".TH TOOL 1\n.SH NAME\ntool \\- does things\n.SH SYNOPSIS\n.B tool\n"))
	writeFile(t, filepath.Join(dir, "thesis.tex"), []byte("\\documentclass{article}\n\\begin{document}\nHello.\n\\end{document}\n"))
	writeFile(t, filepath.Join(dir, "a.pdf"), []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"))
	writeFile(t, filepath.Join(dir, "sub", "b.pdf"), []byte("%PDF-1.5\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n"))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("plain text\n"))
	broken := filepath.Join(dir, "photos", "broken.jpg")
	writeFile(t, broken, append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{0x42}, 300)...))

	r := cairnPath(t, home, bin, "index", dir, "--pipeline", "default", "--no-progress", "--strict")
	t.Logf("first index: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "4 stage failures on broken or unsupported files") {
		t.Errorf("index --strict with a broken file: exit %d; want 1 and the count of failures (JPEG: media, thumbnail; fake PDFs: text)", r.code)
	}
	if !strings.Contains(r.stdout, "failed "+broken+" (stage.thumbnail)") {
		t.Errorf("the broken JPEG is not listed by path as a thumbnail failure")
	}
	note := "note: 2 document files were not processed by stage.mediathumb: pdftoppm is not installed (Debian package poppler-utils)"
	if n := strings.Count(r.stdout, note); n != 1 {
		t.Errorf("the missing-tool note is printed %d times, want once: %q", n, note)
	}
	if strings.Contains(r.stdout, "(stage.mediathumb)") {
		t.Errorf("a PDF waiting for pdftoppm is listed as a failure")
	}

	status := jsonLines[stageStatusJSON](t, must(t, home, "pipeline", "status", "--json", "--failed", "10"))
	if len(status) != 5 {
		t.Fatalf("status of %d stages, want the default's 5", len(status))
	}
	var thumbFailures int
	for _, s := range status {
		if s.Pending != 0 {
			t.Errorf("%s: %d pending after the run (a run hands them to no one)", s.Stage, s.Pending)
		}
		for _, f := range s.Failures {
			if len(f.Paths) == 0 || !strings.HasPrefix(f.Paths[0], dir+"/") {
				t.Errorf("%s: failure not listed by path: %+v", s.Stage, f)
			}
			if s.Stage == "stage.thumbnail" && f.Paths[0] == broken {
				thumbFailures++
			}
		}
		if s.Stage == "stage.mediathumb" && (s.MissingTool != 2 || s.Done != 0 || s.Failed != 0) {
			t.Errorf("mediathumb: %+v; want the 2 PDFs waiting for a tool and nothing else", s)
		}
	}
	if thumbFailures != 1 {
		t.Errorf("status --failed lists the broken JPEG %d times for stage.thumbnail", thumbFailures)
	}
	text := must(t, home, "pipeline", "status", "--failed", "10")
	if !strings.Contains(text, "failed "+broken+" (stage.thumbnail)") ||
		!strings.Contains(text, "note: stage.mediathumb: 2 contents wait for pdftoppm, which is not installed (Debian package poppler-utils)") {
		t.Errorf("status --failed does not name the broken file or the missing tool:\n%s", text)
	}
	// Without --strict a broken file is reported, and indexing still succeeds.
	writeFile(t, filepath.Join(dir, "photos", "broken2.jpg"), append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{0x43}, 200)...))
	r = cairnPath(t, home, bin, "index", dir, "--no-progress")
	if r.code != 0 || !strings.Contains(r.stdout, "failed "+filepath.Join(dir, "photos", "broken2.jpg")+" (stage.thumbnail)") ||
		!strings.Contains(r.stdout, "failures: 2 stage failures on broken or unsupported files") {
		t.Errorf("index with a new broken file: exit %d; want 0, the file listed and counted\n%s%s", r.code, r.stdout, r.stderr)
	}
	must2(t, os.Remove(filepath.Join(dir, "photos", "broken2.jpg")))

	// Only missing tools left: exit 0, the PDFs offered again, one note.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	r = cairnPath(t, home, bin, "index", dir, "--no-progress", "--strict")
	if r.code != 0 || strings.Count(r.stdout, note) != 1 {
		t.Errorf("index with only a missing tool: exit %d, note printed %d times\n%s%s", r.code, strings.Count(r.stdout, note), r.stdout, r.stderr)
	}

	// pdftoppm appears (a stand-in printing a PNG, as `pdftoppm -png -singlefile` does): the next
	// run makes the thumbnails without --retry-failed. The PNG lies beside the stand-in, in a
	// PATH folder: mediathumb's sandbox lets its tools read those, not any temporary folder.
	var img bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 40, 56))
	for i := range m.Pix {
		m.Pix[i] = 200
	}
	m.Set(3, 3, color.Black)
	must2(t, png.Encode(&img, m))
	pngPath := filepath.Join(bin, "page.png")
	must2(t, os.WriteFile(pngPath, img.Bytes(), 0o644))
	catPath, err := exec.LookPath("cat")
	must2(t, err)
	must2(t, os.WriteFile(filepath.Join(bin, "pdftoppm"), []byte("#!/bin/sh\nexec "+catPath+" "+pngPath+"\n"), 0o755))
	r = cairnPath(t, home, bin, "pipeline", "run", "default", "--no-progress")
	if r.code != 0 || strings.Contains(r.stdout, "note:") {
		t.Errorf("run with pdftoppm installed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range jsonLines[stageStatusJSON](t, must(t, home, "pipeline", "status", "--json")) {
		if s.Stage == "stage.mediathumb" && (s.Done != 2 || s.MissingTool != 0 || s.Pending != 0) {
			t.Errorf("mediathumb once pdftoppm is there: %+v; want the 2 PDFs done", s)
		}
	}
}
