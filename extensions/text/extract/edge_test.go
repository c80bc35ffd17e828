package extract

import (
	"archive/zip"
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func extractBytes(name, mime string, b []byte, lim Limits) (Result, error) {
	return Extract(name, mime, bytes.NewReader(b), int64(len(b)), lim)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// type0PDF shows text through a composite font whose 2-byte codes map to
// Unicode only through its ToUnicode CMap, with TJ kerning, hex strings and
// a form XObject.
func type0PDF(objStm bool) []byte {
	var p pdfBuilder
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
		"1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
		"2 beginbfchar <0001> <0048> <0002> <00E9> endbfchar\n" +
		"2 beginbfrange <0010> <0019> <0061> <0020> <0021> [<0020> <D83DDE00>] endbfrange\n" +
		"endcmap CMapName currentdict /CMap defineresource pop end end\n"
	// "Hello" is H(0001) e(0014) l(001B→'l'? no: 0x10+11) …: codes for a..j only;
	// the text is built from what the CMap maps: H é a b c d e f g h i j, space, 😀.
	content := "BT /F1 10 Tf 50 700 Td [<0001>-20<0002> -400 <001000110012>] TJ <0020> Tj <0013001400150016001700180019> Tj <0021> Tj ET\n" +
		"/Fm1 Do\n"
	p.add("<< /Type /Catalog /Pages 2 0 R >>")
	p.add("<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R /F2 9 0 R >> /XObject << /Fm1 8 0 R >> >> >>")
	p.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>") // resources inherited
	p.add(stream("/Filter /FlateDecode", flateString(content)))
	p.add("<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Some /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>")
	p.add("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Some /DW 600 /W [1 [700 500] 16 25 550] >>")
	p.add(stream("", cmap))
	p.add(stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792]", "BT /F2 12 Tf 1 0 0 1 50 600 Tm (Form text with \\(parens\\) and caf\\351.) Tj ET"))
	p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /BaseEncoding /WinAnsiEncoding /Differences [233 /eacute] >> >>")
	return p.bytes(1, "/Info << /Title <FEFF004D00790020005400690074006C0065> >>", objStm)
}

// zipOf builds a ZIP from name/content pairs.
func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const docxBody = `<?xml version="1.0"?><w:document xmlns:w="x"><w:body>` +
	`<w:p><w:r><w:t>First</w:t></w:r><w:r><w:t xml:space="preserve"> paragraph</w:t><w:tab/><w:t>tabbed</w:t></w:r></w:p>` +
	`<w:p><w:r><w:t>Line</w:t><w:br/><w:t>break &amp; entity</w:t><w:delText>deleted</w:delText><w:instrText>HYPERLINK x</w:instrText></w:r></w:p>` +
	`</w:body></w:document>`

func TestExtractCases(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	cases := []struct {
		name, mime string
		data       []byte
		lim        Limits
		format     string
		want       []string // substrings of the normalised text
		not        []string // must not appear
		title      string
		pages      int
		truncated  bool
	}{
		{name: "utf16le.txt", data: readTestdata(t, "utf16le.txt"), format: "plain",
			want: []string{"Hello, wörld — UTF-16 text.\nSecond line: 日本語 😀"}},
		{name: "utf16be.txt", mime: "text/plain", data: readTestdata(t, "utf16be.txt"), format: "plain",
			want: []string{"Hello, wörld — UTF-16 text.\nSecond line: 日本語 😀"}},
		{name: "bom", data: readTestdata(t, "bom-utf8.txt"), format: "plain",
			want: []string{"Hello, wörld with a BOM.", "Bad byte: \uFFFD here."}, not: []string{"\uFEFF"}},
		{name: "unicode.rtf", data: readTestdata(t, "unicode.rtf"), format: "rtf", title: "Unicode Escapes",
			want: []string{"Café naïve costs € 5 – “quoted”.", "Emoji 😀 and bold text visible link.",
				"Escaped {braces} and back\\slash. Next line tabbed."},
			not: []string{"Times", "Hidden", "Someone", "HYPERLINK", "89504e", "?"}},
		{name: "page.html", mime: "text/html; charset=utf-8", format: "html", title: "The Title",
			data: []byte(`<!DOCTYPE html><html><head><title>The Title</title><style>p{color:red}</style>` +
				`<script>var hidden = 1;</script></head><body><h1>Head&amp;ing</h1><p>Para with <b>bold</b> ` +
				"and\n  spaces &lt;tag&gt; &eacute;&#233;.</p><img alt=\"An image\"><pre>  keep\n  lines</pre></body></html>"),
			want: []string{"Head&ing", "Para with bold and spaces <tag> éé.", "An image", "keep lines"},
			not:  []string{"color", "hidden", "The Title"}},
		{name: "no-head.html", format: "html", data: []byte(`<title>T</title><body><p>Body text</p>`),
			want: []string{"Body text"}, title: "T"},
		{name: "notes.md", format: "markdown", title: "Doc",
			data: []byte("---\ntitle: Doc\ntags: [a]\n---\n# Heading *one*\n\nSome `code_span` and a_b_c and [a link](http://u.example/x) " +
				"![alt text](img.png) <https://auto.example/> and ~~gone~~ ***both***.\n\n> quoted\n\n1. item\n\n[ref]: http://ref.example/\n"),
			want: []string{"Heading one", "Some code_span and a_b_c and a link alt text https://auto.example/ and gone both.", "quoted", "item"},
			not:  []string{"u.example", "img.png", "ref.example", "tags", "**", "#"}},
		{name: "simple.pdf", data: simplePDF(false, "Plain PDF line one.", "Line (two) with \\ backslash."), format: "pdf", pages: 1,
			want: []string{"Plain PDF line one. Line (two) with \\ backslash."}},
		{name: "objstm.pdf", data: simplePDF(true, "Object stream PDF."), format: "pdf", pages: 1,
			want: []string{"Object stream PDF."}},
		{name: "type0.pdf", data: type0PDF(false), format: "pdf", pages: 1, title: "My Title",
			want: []string{"Hé abc defghij😀", "Form text with (parens) and café."}},
		{name: "type0-objstm.pdf", data: type0PDF(true), format: "pdf", pages: 1, title: "My Title",
			want: []string{"Hé abc defghij😀", "Form text with (parens) and café."}},
		{name: "doc.docx", format: "docx", data: zipOf(t, "word/document.xml", docxBody),
			want: []string{"First paragraph tabbed", "Line break & entity"}, not: []string{"deleted", "HYPERLINK"}},
		{name: "sheet.xlsx", format: "xlsx", data: zipOf(t,
			"xl/sharedStrings.xml", `<sst><si><t>Name</t></si><si><r><t>Al</t></r><r><t>ice</t></r></si></sst>`,
			"xl/workbook.xml", `<workbook/>`,
			"xl/worksheets/sheet1.xml", `<worksheet><sheetData><row><c t="s"><v>0</v></c><c><v>42</v></c></row>`+
				`<row><c t="s"><v>1</v></c><c t="inlineStr"><is><t>inline</t></is></c></row></sheetData></worksheet>`),
			want: []string{"Name 42 Alice inline"}},
		{name: "cut.txt", data: []byte(long), lim: Limits{MaxOutput: 101}, format: "plain", truncated: true,
			want: []string{strings.Repeat("é", 50)}, not: []string{strings.Repeat("é", 51)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := extractBytes(tc.name, tc.mime, tc.data, tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Text
			if tc.format != "plain" {
				got = normalise(got)
			}
			if res.Format != tc.format || res.Title != tc.title || res.Pages != tc.pages || res.Truncated != tc.truncated {
				t.Errorf("format %q title %q pages %d truncated %v, want %q %q %d %v", res.Format, res.Title, res.Pages,
					res.Truncated, tc.format, tc.title, tc.pages, tc.truncated)
			}
			for _, s := range tc.want {
				if !strings.Contains(got, s) {
					t.Errorf("missing %q in %q", s, got)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(got, s) {
					t.Errorf("%q should not be in %q", s, got)
				}
			}
			if !utf8.ValidString(res.Text) {
				t.Errorf("invalid UTF-8 in %q", res.Text)
			}
			if tc.lim.MaxOutput > 0 && len(res.Text) > tc.lim.MaxOutput {
				t.Errorf("%d bytes of text, over MaxOutput %d", len(res.Text), tc.lim.MaxOutput)
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	good := simplePDF(false, "Recovered text.")
	badXref := bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1) // an offset past the end
	encrypted := bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt << /Filter /Standard /V 2 >>"), 1)
	cases := []struct {
		name, mime string
		data       []byte
		is         error  // errors.Is, or nil for any error
		msg        string // in the message
		text       string // or: no error, and this text
	}{
		{name: "pixel.png", mime: "image/png", data: []byte("\x89PNG\r\n"), is: ErrUnsupported},
		{name: "blob", data: []byte{0, 1, 2, 3, 0xFF, 0}, is: ErrUnsupported},
		{name: "enc.pdf", data: encrypted, is: ErrEncrypted, msg: "encrypted PDF"},
		{name: "badxref.pdf", data: badXref, text: "Recovered text."},
		{name: "cut.pdf", data: good[:bytes.LastIndex(good, []byte("xref"))], text: "Recovered text."}, // no xref, no trailer
		{name: "garbage.pdf", data: []byte("%PDF-1.4\nthis is not a pdf at all\n"), msg: "no catalogue"},
		{name: "empty.pdf", data: nil, mime: "application/pdf", msg: "not a PDF"},
		{name: "notzip.docx", data: []byte("PK\x03\x04 not really"), msg: "zip"},
		{name: "nodoc.docx", data: zipOf(t, "other.xml", "<a/>"), msg: "no word/document.xml"},
		{name: "bad.rtf", data: []byte("hello"), msg: "not RTF"},
		{name: "deep.rtf", data: []byte(`{\rtf1 ` + strings.Repeat("{", 5000)), msg: "nested deeper"},
		{name: "nospine.epub", data: zipOf(t, "META-INF/container.xml", "<container/>"), msg: "no rootfile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := extractBytes(tc.name, tc.mime, tc.data, Limits{})
			if tc.text != "" {
				if err != nil || !strings.Contains(res.Text, tc.text) {
					t.Fatalf("got %q, %v; want the text %q", res.Text, err, tc.text)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; text %q", res.Text)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Errorf("a panic: %v", err)
			}
		})
	}
}

// TestHugeFile: a 2 GiB PDF (sparse: only its size is real) fails at once
// with the limit in the message, without reading it.
func TestHugeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.pdf")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(p, 2<<30); err != nil {
		t.Fatal(err)
	}
	_, err = Extract("huge.pdf", "application/pdf", f, 2<<30, Limits{})
	if !errors.Is(err, ErrTooLarge) || err.Error() != "file is 2.0 GiB, over the 256 MiB text-extraction limit" {
		t.Fatalf("error %v", err)
	}
}

// TestHostileZipBombs: members that inflate past the cap, and too many members,
// fail with ErrTooLarge.
func TestHostileZipBombs(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="x"><w:body>`))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range (maxMemberBytes >> 20) + 1 {
		w.Write(chunk)
	}
	zw.Close()
	if b.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes", b.Len())
	}
	_, err := extractBytes("bomb.docx", "", b.Bytes(), Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "inflates past 128 MiB") {
		t.Errorf("bomb: %v", err)
	}

	var files []string
	for i := range maxZipEntries + 1 {
		files = append(files, "f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i), "")
	}
	files = append(files, "word/document.xml", docxBody)
	_, err = extractBytes("many.docx", "", zipOf(t, files...), Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "entries") {
		t.Errorf("many entries: %v", err)
	}
}

// TestHostileCorruptInputs flips random bytes of valid documents: extraction may
// fail, but never panics (a recovered panic says "internal error").
func TestHostileCorruptInputs(t *testing.T) {
	seeds := map[string][]byte{
		"a.pdf":  type0PDF(true),
		"b.pdf":  type0PDF(false),
		"c.rtf":  readTestdata(t, "unicode.rtf"),
		"d.docx": zipOf(t, "word/document.xml", docxBody),
		"e.html": []byte(`<html><head><title>x</title></head><body><p>text &amp; more</p></body></html>`),
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for name, seed := range seeds {
		for range 300 {
			b := bytes.Clone(seed)
			for range 1 + rng.IntN(8) {
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			}
			if rng.IntN(4) == 0 {
				b = b[:rng.IntN(len(b))]
			}
			_, err := extractBytes(name, "", b, Limits{})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}
