package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/extensions/mediathumb/internal/fixture"
	"github.com/cairnfs/cairn/host/process"
	"github.com/cairnfs/cairn/internal/testtool"
	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// build compiles the extension once per test.
func build(t *testing.T) (bin string, m *manifest.Manifest) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts the extension")
	}
	bin = filepath.Join(t.TempDir(), "mediathumb")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	m, err := exttest.LoadManifest(manifest.FileName)
	if err != nil {
		t.Fatal(err)
	}
	return bin, m
}

// nativeRuntime runs the binary as a go-plugin child whose host calls the
// fake answers, as extensions/hellonative's test does.
type nativeRuntime struct {
	bin  string
	m    *manifest.Manifest
	fake *exttest.Fake
	env  []string
}

func (r *nativeRuntime) HasExport(name string) bool { return name == "stage_mediathumb" }

func (r *nativeRuntime) Instance(ctx context.Context) (exttest.Instance, error) {
	p, err := process.Launch(ctx, process.Config{ID: r.m.ID, Path: r.bin, Env: r.env, Dispatcher: process.DispatcherFunc(
		func(_ context.Context, _ string, req []byte) []byte { return r.fake.Handle(req) })})
	if err != nil {
		return nil, err
	}
	return nativeInstance{p}, nil
}

func (r *nativeRuntime) Close(context.Context) error { return nil }

type nativeInstance struct{ p *process.Process }

func (i nativeInstance) Call(ctx context.Context, export string, input []byte) ([]byte, error) {
	return i.p.Run(ctx, export, input)
}
func (i nativeInstance) MemoryBytes() uint64             { return 0 }
func (i nativeInstance) Close(ctx context.Context) error { return i.p.Close(ctx) }

// TestConformance runs the exttest suite on the process (its fixture holds
// no video or PDF: every item is skipped), bar the WASM memory check.
func TestConformance(t *testing.T) {
	bin, m := build(t)
	fake, err := exttest.NewFake(m, exttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exttest.RunSubject(t, exttest.Subject{Manifest: m, Runtime: &nativeRuntime{bin: bin, m: m, fake: fake}, Host: fake, Items: fake.Items()},
		exttest.Options{Skip: []string{"memory"}})
}

// runBatch starts the process with env added, runs one batch and returns
// its outcomes and the fake host.
func runBatch(t *testing.T, bin string, m *manifest.Manifest, env []string, config string, items []cairn.Item) ([]exttest.Outcome, *exttest.Fake) {
	t.Helper()
	fake, err := exttest.NewFake(m, exttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	inst, err := (&nativeRuntime{bin: bin, m: m, fake: fake, env: env}).Instance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	in, _ := json.Marshal(map[string]any{"stage": "stage.mediathumb", "version": 1, "config": json.RawMessage(config), "items": items})
	out, err := inst.Call(ctx, "stage_mediathumb", in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil || len(res.Outcomes) != len(items) {
		t.Fatalf("output %s: %v", out, err)
	}
	return res.Outcomes, fake
}

// TestStage runs a batch of a video, a PDF, a too-large PDF (by config) and
// a text file through the process, with the real tools when installed.
func TestStage(t *testing.T) {
	testtool.NeedAll(t, testtool.Tool{Name: "ffmpeg", Package: "ffmpeg"}, testtool.Tool{Name: "pdftoppm", Package: "poppler-utils"})
	bin, m := build(t)
	dir := t.TempDir()
	video, pdf := fixture.Video(t, dir), fixture.PDF(t, dir)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	items := []cairn.Item{
		{ContentUUID: "u-video", Name: "clip.mp4", Path: video, Kind: "video", Mime: "video/mp4"},
		{ContentUUID: "u-pdf", Name: "page.pdf", Path: pdf, Kind: "document", Mime: "application/pdf"},
		{ContentUUID: "u-text", Name: "notes.txt", Path: text, Kind: "text", Mime: "text/plain"},
		{ContentUUID: "u-gone", Name: "gone.mp4", Path: filepath.Join(dir, "gone.mp4"), Kind: "video"},
	}
	outs, fake := runBatch(t, bin, m, nil, `{"timeout_s": 30}`, items)
	want := []string{
		`{"variants":[{"variant":"1024","width":640,"height":360,"format":"jpg"},{"variant":"256","width":256,"height":144,"format":"jpg"}],"tool":"ffmpeg","frame_at_s":0.4}`,
		`{"variants":[{"variant":"1024","width":792,"height":1024,"format":"jpg"},{"variant":"256","width":198,"height":256,"format":"jpg"}],"tool":"pdftoppm"}`,
		`{"skipped":"not a video or PDF (kind text, mime text/plain)"}`,
		"error: extracting a video frame with ffmpeg: ffmpeg failed",
	}
	for i, o := range outs {
		got := string(o.Data)
		if o.Error != "" {
			got = "error: " + o.Error
		}
		if w, isErr := strings.CutPrefix(want[i], "error: "); isErr && !strings.HasPrefix(o.Error, w) || !isErr && got != want[i] {
			t.Errorf("%s: %s\nwant %s", items[i].Name, got, want[i])
		}
	}
	sc := fake.State().Sidecars
	for _, p := range []string{"sidecars/u-video/thumb/256.jpg", "sidecars/u-video/thumb/1024.jpg",
		"sidecars/u-pdf/thumb/256.jpg", "sidecars/u-pdf/thumb/1024.jpg"} {
		if len(sc[p]) < 100 || string(sc[p][:2]) != "\xff\xd8" {
			t.Errorf("sidecar %s: %d bytes, want a JPEG", p, len(sc[p]))
		}
	}
	if len(sc) != 4 {
		t.Errorf("%d sidecars, want 4", len(sc))
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
	// A PDF over the configured size limit fails before pdftoppm runs.
	outs, _ = runBatch(t, bin, m, nil, `{"max_pdf_bytes": 100}`, items[1:2])
	if !strings.HasPrefix(outs[0].Error, "PDF is ") || !strings.HasSuffix(outs[0].Error, "over the 100 bytes thumbnail limit") {
		t.Errorf("PDF over the limit: %+v", outs[0])
	}
}

// TestToolsMissing runs the process with an empty PATH: each item fails
// with the clear "not installed" message, and nothing is written.
func TestToolsMissing(t *testing.T) {
	bin, m := build(t)
	dir := t.TempDir()
	video, pdf := filepath.Join(dir, "a.mp4"), filepath.Join(dir, "b.pdf")
	os.WriteFile(video, []byte("not really a video"), 0o644)
	os.WriteFile(pdf, []byte("%PDF-1.4\n"), 0o644)
	items := []cairn.Item{
		{ContentUUID: "u1", Name: "a.mp4", Path: video, Kind: "video", Mime: "video/mp4"},
		{ContentUUID: "u2", Name: "b.pdf", Path: pdf, Kind: "document", Mime: "application/pdf"},
	}
	empty := t.TempDir()
	outs, fake := runBatch(t, bin, m, []string{"PATH=" + empty}, `{}`, items)
	want := []string{
		"missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not available",
		"missing tool pdftoppm (Debian package poppler-utils): PDF thumbnails are not available",
	}
	for i, o := range outs {
		if o.Error != want[i] {
			t.Errorf("%s: %+v, want error %q", items[i].Name, o, want[i])
		}
	}
	if n := len(fake.State().Sidecars); n != 0 {
		t.Errorf("%d sidecars written", n)
	}
}
