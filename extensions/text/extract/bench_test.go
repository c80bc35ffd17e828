package extract

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/internal/testtool"
)

// benchText is about 256 KiB of prose in Markdown paragraphs.
func benchText() string {
	var b strings.Builder
	for i := 0; b.Len() < 256<<10; i++ {
		b.WriteString("## Section " + strconv.Itoa(i) + "\n\n")
		for _, s := range sentences {
			b.WriteString(s + " Some *emphasis* and a [link](https://example.com/" + strconv.Itoa(i) + ").\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func benchExtract(b *testing.B, name string, data []byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Extract(name, "", bytes.NewReader(data), int64(len(data)), Limits{})
		if err != nil || len(res.Text) == 0 {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

// pdfOfText is a PDF of many pages of the text, one compressed content
// stream per page.
func pdfOfText(text string) []byte {
	var p pdfBuilder
	p.add("<< /Type /Catalog /Pages 2 0 R >>")
	lines := strings.Split(text, "\n")
	const perPage = 50
	npages := (len(lines) + perPage - 1) / perPage
	var kids []string
	for i := range npages {
		kids = append(kids, strconv.Itoa(4+2*i)+" 0 R")
	}
	p.add("<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count " + strconv.Itoa(npages) + " >>")
	p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i := range npages {
		var c strings.Builder
		c.WriteString("BT /F1 10 Tf 50 750 Td 12 TL\n")
		for _, l := range lines[i*perPage : min(len(lines), (i+1)*perPage)] {
			c.WriteString("(" + strings.NewReplacer("(", `\(`, ")", `\)`, `\`, `\\`).Replace(l) + ") Tj T*\n")
		}
		c.WriteString("ET\n")
		p.add("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents " + strconv.Itoa(5+2*i) + " 0 R >>")
		p.add(stream("/Filter /FlateDecode", flateString(c.String())))
	}
	return p.bytes(1, "", false)
}

// pandocBench converts the benchmark text with pandoc, or skips.
func pandocBench(b *testing.B, ext string) []byte {
	b.Helper()
	pandoc := testtool.Need(b, "pandoc", "pandoc")
	dir := b.TempDir()
	src := filepath.Join(dir, "src.md")
	os.WriteFile(src, []byte(benchText()), 0o644)
	out := filepath.Join(dir, "doc."+ext)
	if msg, err := exec.Command(pandoc, "-s", "-o", out, src).CombinedOutput(); err != nil {
		b.Fatalf("pandoc: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkPlain(b *testing.B)    { benchExtract(b, "a.txt", []byte(benchText())) }
func BenchmarkMarkdown(b *testing.B) { benchExtract(b, "a.md", []byte(benchText())) }
func BenchmarkUTF16(b *testing.B) {
	var u []byte
	u = append(u, 0xFF, 0xFE)
	for _, r := range benchText() {
		u = append(u, byte(r), byte(r>>8))
	}
	benchExtract(b, "a.txt", u)
}
func BenchmarkPDF(b *testing.B)  { benchExtract(b, "a.pdf", pdfOfText(benchText())) }
func BenchmarkHTML(b *testing.B) { benchExtract(b, "a.html", pandocBench(b, "html")) }
func BenchmarkDOCX(b *testing.B) { benchExtract(b, "a.docx", pandocBench(b, "docx")) }
func BenchmarkODT(b *testing.B)  { benchExtract(b, "a.odt", pandocBench(b, "odt")) }
func BenchmarkEPUB(b *testing.B) { benchExtract(b, "a.epub", pandocBench(b, "epub")) }
func BenchmarkRTF(b *testing.B)  { benchExtract(b, "a.rtf", pandocBench(b, "rtf")) }
func BenchmarkPPTX(b *testing.B) { benchExtract(b, "a.pptx", pandocBench(b, "pptx")) }
