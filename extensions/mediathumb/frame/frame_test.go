package frame

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/extensions/mediathumb/internal/fixture"
	"github.com/cairnfs/cairn/internal/testtool"
)

// colourAt decodes a JPEG thumbnail and returns the colour at (fx, fy), fractions of its size.
func colourAt(t *testing.T, data []byte, fx, fy float64) (r, g, b uint32) {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding a thumbnail: %v", err)
	}
	bd := m.Bounds()
	r, g, b, _ = m.At(int(fx*float64(bd.Dx())), int(fy*float64(bd.Dy()))).RGBA()
	return r >> 8, g >> 8, b >> 8
}

func TestVideo(t *testing.T) {
	testtool.Need(t, "ffmpeg", "ffmpeg")
	p := fixture.Video(t, t.TempDir())
	res, err := Video(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Without ffprobe the duration is unknown and the frame is taken at a fixed offset.
	if _, ok := testtool.Optional(t, "ffprobe", "ffmpeg"); ok && (res.FrameAt < 0.39 || res.FrameAt > 0.41) {
		t.Errorf("frame at %.3f s, want 10%% of 4 s", res.FrameAt)
	}
	want := map[int][2]int{1024: {640, 360}, 256: {256, 144}} // never upscaled
	if len(res.Thumbs) != 2 {
		t.Fatalf("%d thumbnails", len(res.Thumbs))
	}
	for _, th := range res.Thumbs {
		if w := want[th.Variant]; th.Width != w[0] || th.Height != w[1] || th.Format != "jpg" {
			t.Errorf("variant %d: %s %d×%d, want jpg %v", th.Variant, th.Format, th.Width, th.Height, w)
		}
		if r, _, b := colourAt(t, th.Data, 0.25, 0.5); r < 200 || b > 60 {
			t.Errorf("variant %d: left half (%d,_,%d), want red", th.Variant, r, b)
		}
		if r, _, b := colourAt(t, th.Data, 0.75, 0.5); r > 60 || b < 200 {
			t.Errorf("variant %d: right half (%d,_,%d), want blue", th.Variant, r, b)
		}
	}
}

func TestPDF(t *testing.T) {
	testtool.Need(t, "pdftoppm", "poppler-utils")
	p := fixture.PDF(t, t.TempDir())
	res, err := PDF(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][2]int{1024: {791, 1024}, 256: {198, 256}}
	for _, th := range res.Thumbs {
		w := want[th.Variant]
		if th.Height != w[1] || th.Width < w[0]-1 || th.Width > w[0]+1 || th.Format != "jpg" {
			t.Errorf("variant %d: %s %d×%d, want jpg ~%v", th.Variant, th.Format, th.Width, th.Height, w)
		}
		if r, g, _ := colourAt(t, th.Data, 0.25, 0.25); r < 200 || g > 60 {
			t.Errorf("variant %d: top-left (%d,%d,_), want red", th.Variant, r, g)
		}
		if r, g, b := colourAt(t, th.Data, 0.75, 0.75); r < 200 || g < 200 || b < 200 {
			t.Errorf("variant %d: bottom-right (%d,%d,%d), want white paper", th.Variant, r, g, b)
		}
	}
	// Limits and broken files: clear errors.
	if _, err := PDF(context.Background(), p, Options{MaxPDFBytes: 100}); err == nil || !strings.HasPrefix(err.Error(), "PDF is ") ||
		!strings.Contains(err.Error(), "over the 100 bytes thumbnail limit") {
		t.Errorf("a PDF over the limit: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pdf")
	os.WriteFile(bad, []byte("%PDF-1.4\nnot really"), 0o644)
	if _, err := PDF(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "pdftoppm failed") {
		t.Errorf("a broken PDF: %v", err)
	}
}

// TestToolMissing: with nothing on PATH, a clear "not installed" error.
func TestToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.pdf"), []byte("%PDF-1.4\n"), 0o644)
	_, err := Video(context.Background(), filepath.Join(dir, "x.mp4"), Options{})
	if !errors.Is(err, ErrToolMissing) || err.Error() != "missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not available" {
		t.Errorf("video: %v", err)
	}
	_, err = PDF(context.Background(), filepath.Join(dir, "x.pdf"), Options{})
	if !errors.Is(err, ErrToolMissing) || err.Error() != "missing tool pdftoppm (Debian package poppler-utils): PDF thumbnails are not available" {
		t.Errorf("pdf: %v", err)
	}
}

// TestTimeoutKills: a tool that hangs (and its child) is killed at the
// deadline.
func TestTimeoutKills(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := "#!/bin/sh\nsleep 60 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(filepath.Join(dir, "pdftoppm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	pdf := fixture.PDF(t, dir)
	start := time.Now()
	_, err := PDF(context.Background(), pdf, Options{Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "pdftoppm timed out after 300ms and was killed") {
		t.Fatalf("error %v, want the timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	pid, _ := os.ReadFile(pidFile)
	if len(pid) > 0 {
		// The kill is immediate; the wait only gives a loaded machine time to reap the child.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			st, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
			if err != nil || strings.Contains(string(st), ") Z ") {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("the tool's child %s survived the deadline", strings.TrimSpace(string(pid)))
	}
}
