package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// pdfBuilder writes small PDFs for tests: objects in order (object i+1 is
// objs[i]), optionally packed into an object stream with a cross-reference
// stream, with correct offsets.
type pdfBuilder struct {
	objs []string // object bodies; a body "stream:<dict>\x00<data>" is a stream
}

func (p *pdfBuilder) add(body string) int {
	p.objs = append(p.objs, body)
	return len(p.objs)
}

func stream(dict, data string) string { return "stream:" + dict + "\x00" + data }

func flateString(s string) string {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func writeObj(b *bytes.Buffer, num int, body string) {
	fmt.Fprintf(b, "%d 0 obj\n", num)
	if d, ok := strings.CutPrefix(body, "stream:"); ok {
		dict, data, _ := strings.Cut(d, "\x00")
		fmt.Fprintf(b, "<< %s /Length %d >>\nstream\n%s\nendstream\nendobj\n", dict, len(data), data)
		return
	}
	fmt.Fprintf(b, "%s\nendobj\n", body)
}

// bytes returns the PDF with a classic xref table (objStm false) or with
// every non-stream object in one compressed object stream and a compressed
// cross-reference stream with a PNG predictor.
func (p *pdfBuilder) bytes(root int, info string, objStm bool) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	n := len(p.objs)
	offs := make([]int, n+3)
	if !objStm {
		for i, body := range p.objs {
			offs[i+1] = b.Len()
			writeObj(&b, i+1, body)
		}
		xref := b.Len()
		fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", n+1)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%010d 00000 n \n", offs[i])
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", n+1, root, info, xref)
		return b.Bytes()
	}
	// Streams stay top-level; the rest go into object stream n+1.
	inStm := map[int]int{} // object → index in the object stream
	var header, body strings.Builder
	for i, o := range p.objs {
		if strings.HasPrefix(o, "stream:") {
			offs[i+1] = b.Len()
			writeObj(&b, i+1, o)
			continue
		}
		inStm[i+1] = len(inStm)
		fmt.Fprintf(&header, "%d %d ", i+1, body.Len())
		body.WriteString(o + "\n")
	}
	stmNum, xrefNum := n+1, n+2
	offs[stmNum] = b.Len()
	data := header.String() + body.String()
	writeObj(&b, stmNum, stream(fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode", len(inStm), header.Len()), flateString(data)))
	offs[xrefNum] = b.Len()
	// Rows of 1+2+2 bytes, each after a PNG "Up" filter byte.
	var rows []byte
	prev := make([]byte, 5)
	for i := 0; i <= xrefNum; i++ {
		row := make([]byte, 5)
		switch {
		case i == 0:
			row = []byte{0, 0, 0, 0xFF, 0xFF}
		case inStm[i] > 0 || (i <= n && !strings.HasPrefix(p.objs[i-1], "stream:")):
			row = []byte{2, byte(stmNum >> 8), byte(stmNum), byte(inStm[i] >> 8), byte(inStm[i])}
		default:
			row = []byte{1, byte(offs[i] >> 8), byte(offs[i]), 0, 0}
		}
		rows = append(rows, 2)
		for k := range row {
			rows = append(rows, row[k]-prev[k])
		}
		prev = row
	}
	writeObj(&b, xrefNum, stream(fmt.Sprintf("/Type /XRef /Size %d /W [1 2 2] /Root %d 0 R %s /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 5 >>",
		xrefNum+1, root, info), flateString(string(rows))))
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", offs[xrefNum])
	return b.Bytes()
}

// simplePDF is a one-page PDF showing lines in Helvetica (WinAnsi).
func simplePDF(objStm bool, lines ...string) []byte {
	var p pdfBuilder
	var content strings.Builder
	content.WriteString("BT /F1 12 Tf 72 720 Td 14 TL\n")
	for _, l := range lines {
		content.WriteString("(" + strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	p.add("<< /Type /Catalog /Pages 2 0 R >>")
	p.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>")
	p.add(stream("/Filter /FlateDecode", flateString(content.String())))
	p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	return p.bytes(1, "", objStm)
}
