//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host/process/sandbox"
	"github.com/cairnfs/cairn/internal/testtool"
)

// redPNG is a 16×10 red PNG.
const redPNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAKCAIAAAAy3EnLAAAAFElEQVR42mP4z8BAEmIY1TA0NQAAMSGfYZEB6JsAAAAASUVORK5CYII="

// TestHostileMediathumbSandbox runs the built-in native mediathumb through the cairn binary's
// own trampoline. "stand-in": a shell script on PATH plays ffmpeg (this machine has none): it
// reads the video it is given, tries to read a secret outside every location, and prints a
// PNG; the stage works in the sandbox (system programs, the item, sidecars through the host)
// and, where the kernel has Landlock, the secret stays out of reach. "real-tools": the real
// ffmpeg and pdftoppm (CI installs them) make their thumbnails inside the sandbox's baseline.
func TestHostileMediathumbSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the default pipeline")
	}
	st := sandbox.Probe()
	clip, err := os.ReadFile(filepath.Join("..", "..", "extensions", "media", "testdata", "clip.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	// index runs the default pipeline over files with PATH=path, and returns the log and the
	// thumbnails made.
	index := func(t *testing.T, path string, files map[string][]byte) (string, []string) {
		home, data := t.TempDir(), t.TempDir()
		for name, b := range files {
			writeFile(t, filepath.Join(data, name), b)
		}
		run := func(args ...string) string {
			t.Helper()
			cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
			cmd.Env = []string{"PATH=" + path, "HOME=" + home, "CAIRN_DEBUG=1"}
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			if err := cmd.Run(); err != nil {
				t.Fatalf("cairn %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, so.String(), se.String())
			}
			return so.String() + se.String()
		}
		out := run("index", data, "--no-progress")
		if want := st.Report("dev.cairn.mediathumb"); !strings.Contains(out, want) {
			t.Errorf("the index log does not say %q:\n%s", want, out)
		}
		out += run("pipeline", "status", "--failed", "5")
		thumbs, _ := filepath.Glob(filepath.Join(home, "libraries", "*", "sidecars", "*", "*", "*", "thumb", "256.*"))
		return out, thumbs
	}

	t.Run("stand-in", func(t *testing.T) {
		testtool.NeedAll(t, testtool.Tool{Name: "cat", Package: "coreutils"}, testtool.Tool{Name: "base64", Package: "coreutils"})
		tools, private := t.TempDir(), t.TempDir()
		secret := filepath.Join(private, "id_ed25519")
		writeFile(t, secret, []byte("PRIVATE KEY"))
		script := fmt.Sprintf(`#!/bin/sh
# stand-in ffmpeg: reads its input file, tries a secret, prints a PNG
for a; do case "$a" in /*) cat "$a" > /dev/null || exit 9;; esac; done
if cat %q > /dev/null 2>&1; then echo "read the secret" >&2; exit 7; fi
echo %s | base64 -d
`, secret, redPNG)
		if !st.Available { // the secret is readable: only the stage's run is checked
			script = strings.Replace(script, "exit 7", "true", 1)
		}
		writeFile(t, filepath.Join(tools, "ffmpeg"), []byte(script))
		writeFile(t, filepath.Join(tools, "ffprobe"), []byte("#!/bin/sh\necho 4.0\n"))
		for _, f := range []string{"ffmpeg", "ffprobe"} {
			if err := os.Chmod(filepath.Join(tools, f), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		out, thumbs := index(t, tools+":/usr/bin:/bin", map[string][]byte{"clip.mp4": clip})
		if len(thumbs) != 1 {
			t.Fatalf("mediathumb made %d thumbnails through the sandbox, want 1:\n%s", len(thumbs), out)
		}
	})
	t.Run("real-tools", func(t *testing.T) {
		paths := testtool.NeedAll(t, testtool.Tool{Name: "ffmpeg", Package: "ffmpeg"}, testtool.Tool{Name: "pdftoppm", Package: "poppler-utils"})
		pdf, err := os.ReadFile(filepath.Join("..", "..", "extensions", "text", "testdata", "hello.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Dir(paths["ffmpeg"]) + ":" + filepath.Dir(paths["pdftoppm"]) + ":/usr/bin:/bin"
		out, thumbs := index(t, path, map[string][]byte{"clip.mp4": clip, "hello.pdf": pdf})
		if len(thumbs) != 2 {
			t.Fatalf("mediathumb made %d thumbnails with ffmpeg and pdftoppm in the sandbox, want 2:\n%s", len(thumbs), out)
		}
	})
}
