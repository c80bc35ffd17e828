package stage

import (
	"path/filepath"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
	pipedef "github.com/cairnfs/cairn/schemas/pipeline"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// TestFilterMatchesWhat: the manifest's stage filter selects exactly the contents what() makes
// thumbnails of. A filter wider than what() sends files the stage only skips; a narrower one
// (or a pipeline step wider than it) left PostScript, troff, RTF and TeX documents pending in
// `pipeline status` forever.
func TestFilterMatchesWhat(t *testing.T) {
	m, err := exttest.LoadManifest(filepath.Join("..", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Contributes.Stages) != 1 {
		t.Fatalf("%d stages in the manifest", len(m.Contributes.Stages))
	}
	mf := m.Contributes.Stages[0].Filter
	f := pipedef.Filter{Kinds: mf.Kinds, Mimes: mf.Mimes}
	for _, c := range []struct{ kind, mime string }{
		{"video", "video/mp4"}, {"video", "video/x-matroska"}, {"video", ""}, {"unknown", "video/webm"},
		{"document", "application/pdf"}, {"document", "application/postscript"}, {"document", "text/rtf"},
		{"text", "text/troff"}, {"text", "text/x-tex"}, {"image", "image/jpeg"}, {"audio", "audio/mpeg"},
		{"document", "application/msword"}, {"unknown", ""}, {"image", "application/illustrator"},
	} {
		it := cairn.Item{Kind: c.kind, Mime: c.mime}
		if got, want := f.MatchType(c.kind, c.mime), what(it) != ""; got != want {
			t.Errorf("kind %q, mime %q: the manifest filter selects it: %v; what() handles it: %v", c.kind, c.mime, got, want)
		}
	}
}
