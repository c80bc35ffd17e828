package pipeline_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/sdk/cairn"
)

// TestMissingTool: the host reads back exactly what sdk/cairn.MissingTool writes (the outcome
// error text of schemas/hostabi/v1.md "Missing tools"), and nothing else.
func TestMissingTool(t *testing.T) {
	for _, c := range []struct {
		msg             string
		tool, pkg, what string // tool "" : not a missing tool
	}{
		{cairn.MissingTool("ffmpeg", "ffmpeg", "video thumbnails are not available").Error(), "ffmpeg", "ffmpeg", "video thumbnails are not available"},
		{cairn.MissingTool("pdftoppm", "poppler-utils", "").Error(), "pdftoppm", "poppler-utils", ""},
		{cairn.MissingTool("exiftool", "", "no EXIF").Error(), "exiftool", "", "no EXIF"},
		{"missing tool gs: no PostScript text", "gs", "", "no PostScript text"},
		{"missing tool ffmpeg (Debian package ffmpeg: oops", "", "", ""},
		{"missing tool : x", "", "", ""},
		{"decoding: missing tool ffmpeg: x", "", "", ""},
		{"ffmpeg is not installed", "", "", ""},
		{"missing tool two words (Debian package x): y", "", "", ""},
	} {
		mt := pipeline.MissingTool(errors.New(c.msg))
		switch {
		case c.tool == "" && mt != nil:
			t.Errorf("%q: parsed as missing tool %+v", c.msg, mt)
		case c.tool != "" && (mt == nil || mt.Tool != c.tool || mt.Package != c.pkg || mt.Detail != c.what):
			t.Errorf("%q: %+v, want tool %q package %q detail %q", c.msg, mt, c.tool, c.pkg, c.what)
		case mt != nil && mt.Error() != c.msg:
			t.Errorf("%q: formats back as %q", c.msg, mt.Error())
		}
	}
	wrapped := fmt.Errorf("stage: %w", &pipeline.MissingToolError{Tool: "ffmpeg"})
	if mt := pipeline.MissingTool(wrapped); mt == nil || mt.Tool != "ffmpeg" {
		t.Errorf("wrapped *MissingToolError: %v", mt)
	}
}
