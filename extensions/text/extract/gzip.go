package extract

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// MaxDecompressed caps the bytes a gzip-compressed file is decompressed to (a gzip bomb
// expands a thousandfold): the text is that of the first MaxDecompressed bytes, marked
// truncated.
const MaxDecompressed = 16 << 20

// gzipSniff is how much of a decompressed stream decides whether it is text at all, before
// the rest is decompressed.
const gzipSniff = 64 << 10

// isGzip reports whether a name or MIME type says gzip.
func isGzip(name, mime string) bool {
	if mime == "application/gzip" || mime == "application/x-gzip" {
		return true
	}
	ext := strings.ToLower(path.Ext(name))
	return (ext == ".gz" || ext == ".gzip") && (mime == "" || mime == "application/octet-stream")
}

// notTextInside are the inner extensions of compressed files that hold no text: archives and
// disk images, skipped without decompressing.
var notTextInside = map[string]bool{".tar": true, ".cpio": true, ".img": true, ".iso": true, ".qcow2": true,
	".vmdk": true, ".raw": true, ".bin": true, ".wasm": true, ".deb": true, ".rpm": true, ".zip": true, ".gz": true}

// gzipFormat is "gzip" for a compressed file that may hold text (a man page ls.1.gz, a
// changelog.gz, notes.txt.gz), "" for a compressed archive (.tar.gz, .tgz, .svgz).
func gzipFormat(name string) string {
	lower := strings.ToLower(name)
	switch path.Ext(lower) {
	case ".tgz", ".taz", ".svgz", ".emz", ".wmz":
		return ""
	}
	if notTextInside[path.Ext(innerName(lower))] {
		return ""
	}
	return "gzip"
}

// innerName is the name of the decompressed file: name without ".gz" or ".gzip".
func innerName(name string) string {
	if ext := path.Ext(name); strings.EqualFold(ext, ".gz") || strings.EqualFold(ext, ".gzip") {
		return strings.TrimSuffix(name, ext)
	}
	return name
}

// extractGzip decompresses a gzip file (at most MaxDecompressed bytes) and extracts the text
// of what it holds, by the inner name and content: a man page, plain text, HTML, a PDF…
// Compressed data that is not text (or is gzip again) is ErrUnsupported, found from its first
// 64 KiB without decompressing the rest.
func extractGzip(name string, r io.ReaderAt, size int64, lim Limits) (Result, error) {
	zr, err := gzip.NewReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		return Result{}, fmt.Errorf("extract gzip text: reading the gzip header: %w", err)
	}
	inner := innerName(name)
	buf := make([]byte, gzipSniff)
	n, err := readFull(zr, buf) // not io.ReadFull: it hides a truncated stream as the end
	buf = buf[:n]
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, fmt.Errorf("extract gzip text: decompressing: %w", err)
	}
	format := Detect(inner, "", bytes.NewReader(buf), int64(len(buf)))
	if format == "" || format == "gzip" {
		return Result{}, ErrUnsupported
	}
	truncated := false
	if err == nil { // maybe more to come
		rest, err := io.ReadAll(io.LimitReader(zr, MaxDecompressed-gzipSniff+1))
		if err != nil {
			return Result{}, fmt.Errorf("extract gzip text: decompressing: %w", err)
		}
		buf = append(buf, rest...)
		if len(buf) > MaxDecompressed {
			buf, truncated = buf[:MaxDecompressed], true
		}
	}
	lim.MaxInput = MaxDecompressed
	res, err := extractAs(format, bytes.NewReader(buf), int64(len(buf)), lim)
	if err != nil {
		return Result{}, err
	}
	res.Compression = "gzip"
	res.Truncated = res.Truncated || truncated
	return res, nil
}

// readFull reads into b until it is full (nil error) or the reader fails: io.EOF is the end of
// the stream, any other error (io.ErrUnexpectedEOF from a truncated stream) is returned.
func readFull(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
