package extract

import (
	"errors"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// Default limits.
const (
	DefaultMaxInput  = 256 << 20 // bytes of input
	DefaultMaxOutput = 8 << 20   // bytes of text
)

// Limits bound the work of one extraction. Zero fields take the defaults.
type Limits struct {
	MaxInput  int64 // larger inputs fail with a *LimitError
	MaxOutput int   // text beyond this many bytes is cut and Result.Truncated set
}

func (l Limits) withDefaults() Limits {
	if l.MaxInput <= 0 {
		l.MaxInput = DefaultMaxInput
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultMaxOutput
	}
	return l
}

// Result is the text of a document.
type Result struct {
	Text   string // UTF-8, paragraphs separated by blank lines
	Format string // "plain", "markdown", "man", "html", "pdf", "rtf", "docx", "pptx", "xlsx", "odt", "ods", "odp", "epub"
	// Compression is "gzip" for text extracted from a gzip-compressed file (Format is then the
	// decompressed file's), "" otherwise.
	Compression string
	Truncated   bool   // Text stops at Limits.MaxOutput (or the input at MaxDecompressed)
	Pages       int    // PDF pages
	Title       string // the document's title, when it names one
}

// Sentinel errors callers branch on.
var (
	// ErrUnsupported: the type is not one Extract knows; there is no text.
	ErrUnsupported = errors.New("no text extraction for this type")
	// ErrTooLarge: the input, or a part of it, is over a limit.
	ErrTooLarge = errors.New("over the text-extraction limit")
	// ErrEncrypted: the document is encrypted.
	ErrEncrypted = errors.New("encrypted document")
)

// LimitError is the error of an input larger than Limits.MaxInput.
type LimitError struct {
	Size, Limit int64
}

func (e *LimitError) Error() string {
	return "file is " + FormatSize(e.Size) + ", over the " + FormatSize(e.Limit) + " text-extraction limit"
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *LimitError) Is(target error) bool { return target == ErrTooLarge }

// FormatSize renders n bytes the way limit errors do: "256 MiB", "2.0 GiB".
func FormatSize(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB"}
	f, u := float64(n), 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if u == 0 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	if f == float64(int64(f)) && f >= 10 || f == float64(int64(f)) && u <= 2 {
		return strconv.FormatInt(int64(f), 10) + " " + units[u]
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[u]
}

// extractor fills w from the input; it returns errFull (or nothing) when w
// is full.
type extractor func(r io.ReaderAt, size int64, w *writer, res *Result, lim Limits) error

var extractors = map[string]extractor{
	"plain":    extractPlain,
	"markdown": extractMarkdown,
	"man":      extractMan,
	"html":     extractHTML,
	"pdf":      extractPDF,
	"rtf":      extractRTF,
	"docx":     extractDOCX,
	"pptx":     extractPPTX,
	"xlsx":     extractXLSX,
	"odt":      extractODF,
	"ods":      extractODF,
	"odp":      extractODF,
	"epub":     extractEPUB,
}

// Extract returns the text of the document r of size bytes, named name
// (only its extension is used) with the MIME type mime ("" when unknown).
// The format comes from mime first, then from name's extension, then, for
// an unknown or generic type, from the first bytes. It fails with
// ErrUnsupported for other types, a *LimitError for inputs over
// lim.MaxInput, ErrEncrypted for encrypted documents, and a descriptive error
// for malformed ones; it never panics.
func Extract(name, mime string, r io.ReaderAt, size int64, lim Limits) (res Result, err error) {
	lim = lim.withDefaults()
	format := Detect(name, mime, r, size)
	if format == "" {
		return Result{}, ErrUnsupported
	}
	if size > lim.MaxInput {
		return Result{}, &LimitError{Size: size, Limit: lim.MaxInput}
	}
	if format == "gzip" {
		return extractGzip(name, r, size, lim)
	}
	return extractAs(format, r, size, lim)
}

// extractAs extracts the text of r as format.
func extractAs(format string, r io.ReaderAt, size int64, lim Limits) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{}
			err = fmt.Errorf("extract %s text: internal error on malformed input: %v\n%s", format, p, debug.Stack())
		}
	}()
	w := newWriter(lim.MaxOutput)
	res.Format = format
	err = extractors[format](r, size, w, &res, lim)
	if errors.Is(err, errFull) {
		err = nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("extract %s text: %w", format, err)
	}
	res.Text, res.Truncated = w.String(), w.full
	res.Title = strings.TrimSpace(collapseSpace(res.Title))
	return res, nil
}

// Formats lists the formats Extract knows.
func Formats() []string {
	return []string{"plain", "markdown", "man", "gzip", "html", "pdf", "rtf", "docx", "pptx", "xlsx", "odt", "ods", "odp", "epub"}
}

var mimeFormats = map[string]string{
	"text/plain":            "plain",
	"text/markdown":         "markdown",
	"text/x-markdown":       "markdown",
	"text/html":             "html",
	"application/xhtml+xml": "html",
	"application/pdf":       "pdf",
	"application/x-pdf":     "pdf",
	"text/rtf":              "rtf",
	"application/rtf":       "rtf",
	"application/x-rtf":     "rtf",
	"application/epub+zip":  "epub",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.oasis.opendocument.text":                                   "odt",
	"application/vnd.oasis.opendocument.spreadsheet":                            "ods",
	"application/vnd.oasis.opendocument.presentation":                           "odp",
	// Text under application/: code, data and configuration.
	"application/json": "plain", "application/xml": "plain", "application/javascript": "plain",
	"application/x-javascript": "plain", "application/ecmascript": "plain", "application/x-yaml": "plain",
	"application/yaml": "plain", "application/toml": "plain", "application/x-sh": "plain",
	"application/x-shellscript": "plain", "application/sql": "plain", "application/x-httpd-php": "plain",
	"application/x-perl": "plain", "application/x-python": "plain", "application/x-ruby": "plain",
	"application/ld+json": "plain", "application/x-tex": "plain", "application/x-latex": "plain",
	"application/x-subrip": "plain", "application/x-ndjson": "plain", "application/graphql": "plain",
}

var extFormats = map[string]string{
	".txt": "plain", ".text": "plain", ".log": "plain", ".csv": "plain", ".tsv": "plain",
	".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
	".html": "html", ".htm": "html", ".xhtml": "html",
	".pdf": "pdf", ".rtf": "rtf", ".epub": "epub",
	".docx": "docx", ".docm": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx",
	".odt": "odt", ".ods": "ods", ".odp": "odp",
	".json": "plain", ".xml": "plain", ".yaml": "plain", ".yml": "plain", ".toml": "plain",
	".ini": "plain", ".cfg": "plain", ".conf": "plain", ".rst": "plain", ".tex": "plain",
	".go": "plain", ".py": "plain", ".js": "plain", ".ts": "plain", ".c": "plain", ".h": "plain",
	".cc": "plain", ".cpp": "plain", ".java": "plain", ".rs": "plain", ".rb": "plain", ".sh": "plain",
	".css": "plain", ".sql": "plain", ".srt": "plain", ".vtt": "plain", ".org": "plain", ".adoc": "plain",
}

// Detect returns the format Extract would use, or "" for an unsupported
// type. r may be nil when mime or name decide.
func Detect(name, mime string, r io.ReaderAt, size int64) string {
	mime = strings.ToLower(strings.TrimSpace(mime))
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = strings.TrimSpace(mime[:i])
	}
	if isGzip(name, mime) {
		return gzipFormat(name)
	}
	if r != nil && isManName(name, mime) {
		head := make([]byte, min(size, 512))
		n, _ := r.ReadAt(head, 0)
		if looksTroff(head[:n]) {
			return "man"
		}
	}
	if f, ok := mimeFormats[mime]; ok {
		return f
	}
	generic := mime == "" || mime == "application/octet-stream" || mime == "application/zip" || mime == "text/plain"
	if strings.HasPrefix(mime, "text/") && !generic {
		return "plain" // text/x-go, text/css, text/csv…
	}
	if f, ok := extFormats[strings.ToLower(path.Ext(name))]; ok {
		return f
	}
	if !generic || r == nil {
		return ""
	}
	return sniff(r, size)
}

// sniff looks at the first bytes of an untyped input.
func sniff(r io.ReaderAt, size int64) string {
	head := make([]byte, min(size, 4096))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case len(head) == 0:
		return ""
	case strings.HasPrefix(string(head), "%PDF-"):
		return "pdf"
	case strings.HasPrefix(string(head), `{\rtf`):
		return "rtf"
	case strings.HasPrefix(string(head), "PK\x03\x04"):
		return sniffZip(r, size)
	case hasBOM(head):
		return "plain"
	}
	s := strings.ToLower(string(head[:min(len(head), 512)]))
	if strings.Contains(s, "<!doctype html") || strings.Contains(s, "<html") {
		return "html"
	}
	if looksText(head) {
		return "plain"
	}
	return ""
}

// looksText: no NUL and mostly printable.
func looksText(b []byte) bool {
	bad := 0
	for _, c := range b {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b {
			bad++
		}
	}
	return bad*100 <= len(b)
}
