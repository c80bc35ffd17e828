//go:build linux

package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host/process/sandbox"
)

// redPNG is a 16×10 red PNG.
const redPNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAKCAIAAAAy3EnLAAAAFElEQVR42mP4z8BAEmIY1TA0NQAAMSGfYZEB6JsAAAAASUVORK5CYII="

// TestHostileMediathumbSandbox runs the built-in native mediathumb through the cairn binary's
// own trampoline, with a stand-in ffmpeg on PATH (this machine has none): a shell script that
// reads the video it is given, tries to read a secret outside every location, and prints a
// PNG. The stage works in the sandbox (system programs, the item, sidecars through the host)
// and, where the kernel has Landlock, the secret stays out of reach.
func TestHostileMediathumbSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the default pipeline")
	}
	if _, err := base64.StdEncoding.DecodeString(redPNG); err != nil {
		t.Fatal(err)
	}
	st := sandbox.Probe()
	tools, home, data, private := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	secret := filepath.Join(private, "id_ed25519")
	writeFile(t, secret, []byte("PRIVATE KEY"))
	clip, err := os.ReadFile(filepath.Join("..", "..", "extensions", "media", "testdata", "clip.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(data, "clip.mp4"), clip)
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
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
		cmd.Env = []string{"PATH=" + tools + ":/usr/bin:/bin", "HOME=" + home, "CAIRN_DEBUG=1"}
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
	status := run("pipeline", "status", "--failed", "5")
	thumbs, _ := filepath.Glob(filepath.Join(home, "libraries", "*", "sidecars", "*", "*", "*", "thumb", "*.jpg"))
	if len(thumbs) == 0 {
		t.Fatalf("mediathumb made no thumbnail through the sandbox:\n%s\n%s", status, out)
	}
}
