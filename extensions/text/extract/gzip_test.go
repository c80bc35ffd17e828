package extract_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"

	"github.com/cairnfs/cairn/extensions/text/extract"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDetectCompressed: gzip files that may hold text are "gzip" (by name or MIME type),
// archives and compressed images are not; troff with a man-page name or MIME type is "man".
func TestDetectCompressed(t *testing.T) {
	man := []byte(".TH LS 1\n.SH NAME\nls\n")
	for _, c := range []struct {
		name, mime string
		data       []byte
		want       string
	}{
		{"ls.1.gz", "application/gzip", nil, "gzip"},
		{"changelog.gz", "application/x-gzip", nil, "gzip"},
		{"notes.txt.gz", "", nil, "gzip"},
		{"backup.tar.gz", "application/gzip", nil, ""},
		{"backup.tgz", "application/gzip", nil, ""},
		{"icon.svgz", "application/gzip", nil, ""},
		{"disk.img.gz", "", nil, ""},
		{"ls.1", "text/troff", man, "man"},
		{"open.3pm", "", man, "man"},
		{"notes.1", "text/plain", []byte("just text\n"), "plain"},
	} {
		if got := extract.Detect(c.name, c.mime, bytes.NewReader(c.data), int64(len(c.data))); got != c.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", c.name, c.mime, got, c.want)
		}
	}
}

// TestGzipNotText: compressed binary data and a bomb of zeros are not decompressed into text
// (ErrUnsupported from the first 64 KiB); a bomb of text stops at MaxDecompressed.
func TestGzipNotText(t *testing.T) {
	zeros := gzipped(t, make([]byte, 100<<20)) // 100 MiB in ~100 KiB
	if _, err := extract.Extract("zeros.gz", "application/gzip", bytes.NewReader(zeros), int64(len(zeros)), extract.Limits{}); !errors.Is(err, extract.ErrUnsupported) {
		t.Errorf("a bomb of zeros: %v, want ErrUnsupported", err)
	}
	text := gzipped(t, bytes.Repeat([]byte("0123456789abcde\n"), (40<<20)/16)) // 40 MiB of text
	res, err := extract.Extract("log.txt.gz", "application/gzip", bytes.NewReader(text), int64(len(text)), extract.Limits{MaxOutput: 64 << 20})
	if err != nil || !res.Truncated || len(res.Text) != extract.MaxDecompressed || res.Compression != "gzip" || res.Format != "plain" {
		t.Errorf("a bomb of text: %d bytes, truncated %v, %s/%s, %v; want the first %d bytes, truncated", len(res.Text), res.Truncated,
			res.Compression, res.Format, err, extract.MaxDecompressed)
	}
	if _, err := extract.Extract("x.gz", "application/gzip", bytes.NewReader([]byte("\x1f\x8b\x08garbage")), 10, extract.Limits{}); err == nil {
		t.Error("a damaged gzip header: no error")
	}
}
