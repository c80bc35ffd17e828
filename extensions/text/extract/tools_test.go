package extract

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/internal/testtool"
)

// sentences are in every document the tools make; extraction must return
// each of them, whitespace normalised.
var sentences = []string{
	"The quick brown fox jumps over the lazy dog.",
	"Cairn indexes files on your own machine.",
	"Zebras graze near the riverbank at dawn.",
	"Café naïve façade, déjà vu: 10 × 3 = 30.",
}

const docTitle = "Field Notes"

// markdownSource has the sentences among markup that must not come out.
func markdownSource() string {
	return "# First section\n\n" + sentences[0] + "\n\n" +
		"A [link text](https://example.com/hidden-url) and *emphasis* and **strong**.\n\n" +
		"- " + sentences[1] + "\n- second item\n\n" +
		"## Second section\n\n" + sentences[2] + "\n\n" +
		"```\ncode line kept\n```\n\n" + sentences[3] + "\n"
}

func normalise(s string) string { return strings.Join(strings.Fields(s), " ") }

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func extractFile(t *testing.T, path, mime string, lim Limits) Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	res, err := Extract(filepath.Base(path), mime, f, st.Size(), lim)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return res
}

func checkSentences(t *testing.T, name string, res Result, want []string) {
	t.Helper()
	got := normalise(res.Text)
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("%s (%s): missing %q in:\n%.2000s", name, res.Format, s, got)
		}
	}
}

// TestPandocDocuments extracts documents pandoc writes from one Markdown
// source, by MIME type and by extension alone.
func TestPandocDocuments(t *testing.T) {
	testtool.Need(t, "pandoc", "pandoc")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "src.md"), []byte(markdownSource()), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file, mime, format string
		title              bool // pandoc writes the title into this format's metadata
	}{
		{"doc.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", true},
		{"doc.odt", "application/vnd.oasis.opendocument.text", "odt", true},
		{"doc.epub", "application/epub+zip", "epub", true},
		{"doc.html", "text/html", "html", true},
		{"doc.rtf", "application/rtf", "rtf", false},
		{"doc.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx", false},
		{"src.md", "text/markdown", "markdown", false},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			if tc.file != "src.md" {
				run(t, dir, "pandoc", "-s", "--metadata", "title="+docTitle, "-o", tc.file, "src.md")
			}
			for _, mime := range []string{tc.mime, ""} {
				res := extractFile(t, filepath.Join(dir, tc.file), mime, Limits{})
				if res.Format != tc.format {
					t.Errorf("%s with mime %q: format %q, want %q", tc.file, mime, res.Format, tc.format)
				}
				checkSentences(t, tc.file, res, sentences)
				if strings.Contains(res.Text, "hidden-url") {
					t.Errorf("%s: a link URL came out: %.500s", tc.file, res.Text)
				}
				if !strings.Contains(normalise(res.Text), "link text") {
					t.Errorf("%s: the link text is missing", tc.file)
				}
				if tc.title && res.Title != docTitle {
					t.Errorf("%s: title %q, want %q", tc.file, res.Title, docTitle)
				}
			}
		})
	}
}

// psProgram shows the sentences on two pages, in Latin-1 (ISO Latin 1
// re-encoded Times) so accented letters go through the font encoding.
func psProgram() string {
	var b strings.Builder
	b.WriteString("%!PS\n[ /Title (" + docTitle + ") /DOCINFO pdfmark\n")
	b.WriteString("/Times-Roman findfont dup length dict begin { 1 index /FID ne { def } { pop pop } ifelse } forall\n" +
		"/Encoding ISOLatin1Encoding def currentdict end /Times-Latin1 exch definefont pop\n")
	b.WriteString("/Times-Latin1 findfont 12 scalefont setfont\n")
	y := 720
	for i, s := range sentences {
		if i == 2 {
			b.WriteString("showpage\n")
			y = 720
		}
		b.WriteString("72 " + itoa(y) + " moveto (" + psEscape(s) + ") show\n")
		y -= 20
	}
	b.WriteString("showpage\n")
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// psEscape writes s as a PostScript string body in Latin-1 octal escapes.
func psEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x80:
			b.WriteRune(r)
		case r < 0x100:
			b.WriteString("\\" + string([]byte{byte('0' + r>>6), byte('0' + r>>3&7), byte('0' + r&7)}))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// TestGhostscriptPDF extracts PDFs ghostscript writes, at several PDF
// versions (1.5 and later may use object and cross-reference streams).
func TestGhostscriptPDF(t *testing.T) {
	testtool.Need(t, "gs", "ghostscript")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.ps"), []byte(psProgram()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"1.4", "1.7", "2.0"} {
		t.Run(level, func(t *testing.T) {
			out := "out" + level + ".pdf"
			run(t, dir, "gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", "-dCompatibilityLevel="+level,
				"-sOutputFile="+out, "in.ps")
			res := extractFile(t, filepath.Join(dir, out), "application/pdf", Limits{})
			checkSentences(t, out, res, sentences)
			if res.Pages != 2 {
				t.Errorf("%s: %d pages, want 2", out, res.Pages)
			}
			if level != "2.0" && res.Title != docTitle { // 2.0 drops the document information dictionary
				t.Errorf("%s: title %q, want %q", out, res.Title, docTitle)
			}
			// The first page's sentences come before the second page's.
			got := normalise(res.Text)
			if strings.Index(got, sentences[0]) > strings.Index(got, sentences[2]) {
				t.Errorf("%s: pages out of order: %s", out, got)
			}
		})
	}
}
