package frame

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/cairnfs/cairn/sdk/cairn"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/extensions/thumbnail/thumb"
)

// Defaults.
const (
	DefaultTimeout     = 60 * time.Second // per child process
	DefaultMaxPDFBytes = 1 << 30          // larger PDFs are refused
	maxOutput          = 64 << 20         // bytes of a child's stdout kept
	maxStderr          = 4 << 10          // bytes of a child's stderr kept for errors
)

// Options configure Video and PDF. Zero fields take the defaults.
type Options struct {
	Variants    []int         // longest edges in pixels; nil means thumb.DefaultVariants
	Quality     int           // JPEG quality; 0 means thumb.DefaultQuality
	Timeout     time.Duration // per child process
	MaxPDFBytes int64
}

func (o Options) withDefaults() Options {
	if len(o.Variants) == 0 {
		o.Variants = thumb.DefaultVariants
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxPDFBytes <= 0 {
		o.MaxPDFBytes = DefaultMaxPDFBytes
	}
	return o
}

// largest is the largest variant, the size the tools render at.
func (o Options) largest() int { return slices.Max(o.Variants) }

// ErrToolMissing is matched by the error of a thumbnail whose tool is not
// installed.
var ErrToolMissing = errors.New("thumbnail tool not installed")

// ToolError is a missing tool: what it is for and the Debian package that
// installs it. Its text is the host ABI's missing-tool form
// (cairn.MissingTool), so the host tells it from a broken file:
// "missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not available".
type ToolError struct {
	Tool, What, Package string
}

func (e *ToolError) Error() string {
	return cairn.MissingTool(e.Tool, e.Package, e.What+" thumbnails are not available").Error()
}

// Is matches ErrToolMissing.
func (e *ToolError) Is(target error) bool { return target == ErrToolMissing }

// Result is the thumbnails of one file.
type Result struct {
	Thumbs  []thumb.Thumb
	FrameAt float64 // videos: the time of the frame, in seconds
}

// Video makes the thumbnails of the video at path from one frame.
func Video(ctx context.Context, path string, opts Options) (Result, error) {
	o := opts.withDefaults()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return Result{}, &ToolError{"ffmpeg", "video", "ffmpeg"}
	}
	at := 1.0
	if d, err := duration(ctx, path, o.Timeout); err == nil && d > 0 {
		at = d / 10
	} else if err == nil && d == 0 {
		at = 0
	}
	n := o.largest()
	scale := fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease", n, n)
	png, err := run(ctx, o.Timeout, ffmpeg, "-nostdin", "-v", "error", "-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", path,
		"-frames:v", "1", "-vf", scale, "-f", "image2pipe", "-vcodec", "png", "-")
	if err == nil && len(png) == 0 && at > 0 { // seeked past the end (a wrong duration): the first frame then
		at = 0
		png, err = run(ctx, o.Timeout, ffmpeg, "-nostdin", "-v", "error", "-i", path,
			"-frames:v", "1", "-vf", scale, "-f", "image2pipe", "-vcodec", "png", "-")
	}
	if err != nil {
		return Result{}, fmt.Errorf("extracting a video frame with ffmpeg: %w", err)
	}
	if len(png) == 0 {
		return Result{}, errors.New("extracting a video frame with ffmpeg: the file has no video frame")
	}
	thumbs, err := fromPNG(png, o)
	return Result{Thumbs: thumbs, FrameAt: at}, err
}

// duration asks ffprobe for the duration of the file in seconds; it fails
// when ffprobe is missing or does not know.
func duration(ctx context.Context, path string, timeout time.Duration) (float64, error) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		return 0, err
	}
	out, err := run(ctx, timeout, ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// PDF makes the thumbnails of the first page of the PDF at path.
func PDF(ctx context.Context, path string, opts Options) (Result, error) {
	o := opts.withDefaults()
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, fmt.Errorf("reading the PDF: %w", err)
	}
	if st.Size() > o.MaxPDFBytes {
		return Result{}, fmt.Errorf("PDF is %s, over the %s thumbnail limit", byteSize(st.Size()), byteSize(o.MaxPDFBytes))
	}
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		return Result{}, &ToolError{"pdftoppm", "PDF", "poppler-utils"}
	}
	png, err := run(ctx, o.Timeout, pdftoppm, "-png", "-f", "1", "-l", "1", "-singlefile",
		"-scale-to", strconv.Itoa(o.largest()), path)
	if err != nil {
		return Result{}, fmt.Errorf("rendering the first PDF page with pdftoppm: %w", err)
	}
	if len(png) == 0 {
		return Result{}, errors.New("rendering the first PDF page with pdftoppm: no image")
	}
	thumbs, err := fromPNG(png, o)
	return Result{Thumbs: thumbs}, err
}

// fromPNG makes the variants from the tool's PNG.
func fromPNG(png []byte, o Options) ([]thumb.Thumb, error) {
	return thumb.Generate(bytes.NewReader(png), int64(len(png)), "image/png", thumb.Options{Variants: o.Variants, Quality: o.Quality, Rendered: true})
}

// run runs a tool under a deadline and returns its stdout (at most
// maxOutput bytes). Its process group is killed at the deadline.
func run(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// Output past the cap is useless: stop the tool at once rather than let it run on.
	stdout := limitedBuffer{max: maxOutput, onOver: cancel}
	stderr := limitedBuffer{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = nil
	setGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	tool := name[strings.LastIndexByte(name, os.PathSeparator)+1:]
	switch {
	case stdout.over:
		return nil, fmt.Errorf("%s wrote more than %s and was stopped", name[strings.LastIndexByte(name, os.PathSeparator)+1:], byteSize(maxOutput))
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%s timed out after %s and was killed", tool, timeout)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s stopped: %w", tool, ctx.Err())
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("%s failed: %w", tool, err)
		}
		return nil, fmt.Errorf("%s failed: %w: %s", tool, err, msg)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps the first max bytes written and records whether
// there were more; the rest is discarded, never buffered. It must not embed
// bytes.Buffer: os/exec copies a child's output with io.Copy, which would
// use a promoted ReadFrom and bypass Write and its cap (a crafted PDF made
// pdftoppm write 625 MB of stderr, all kept).
type limitedBuffer struct {
	buf    bytes.Buffer
	max    int
	over   bool
	onOver func() // called once, when the cap is first exceeded
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		if !b.over && b.onOver != nil {
			b.onOver()
		}
		b.over = true
		return len(p), nil // keep draining: the tool must not block on a full pipe
	}
	return b.buf.Write(p)
}

// Bytes returns the bytes kept.
func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }

// String returns the bytes kept, with a note when some were dropped.
func (b *limitedBuffer) String() string {
	if b.over {
		return b.buf.String() + " … (truncated)"
	}
	return b.buf.String()
}

var _ io.Writer = (*limitedBuffer)(nil)

// byteSize formats n bytes for messages.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
