package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// PDF bounds.
const (
	maxPDFStream    = 32 << 20  // decoded bytes of one stream
	maxPDFDecoded   = 512 << 20 // decoded bytes of all streams of a file
	maxPDFObjects   = 4 << 20   // cross-reference entries
	maxPDFObjWindow = 16 << 20  // bytes of one object (its stream data aside)
	maxPDFCache     = 200000    // objects kept parsed
)

type xrefEntry struct {
	off    int64 // type 1: offset; type 2: index in the object stream
	stream int   // type 2: the object stream's number; 0 for type 1
}

// pdfFile reads objects of a PDF through an io.ReaderAt.
type pdfFile struct {
	r       io.ReaderAt
	size    int64
	xref    map[int]xrefEntry
	trailer pdfDict
	cache   map[int]any
	objstm  map[int]*objStream
	decoded int64 // bytes decoded from streams so far
	busy    map[int]bool
}

type objStream struct {
	data  []byte
	first int
	offs  map[int]int // object number → offset after first
}

func openPDF(r io.ReaderAt, size int64) (*pdfFile, error) {
	f := &pdfFile{r: r, size: size, xref: map[int]xrefEntry{}, cache: map[int]any{}, objstm: map[int]*objStream{},
		busy: map[int]bool{}}
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	if !bytes.Contains(head[:n], []byte("%PDF-")) {
		return nil, errors.New("not a PDF: no %PDF- header")
	}
	err := f.readXrefChain()
	if err != nil || f.trailer["Root"] == nil {
		// A damaged file: rebuild the cross-reference table by scanning.
		f.xref, f.trailer = map[int]xrefEntry{}, nil
		if rerr := f.reconstruct(); rerr != nil {
			if err == nil {
				err = errors.New("trailer has no /Root")
			}
			return nil, fmt.Errorf("read cross-reference table: %v; rebuild it: %w", err, rerr)
		}
	}
	if f.trailer["Encrypt"] != nil {
		return nil, fmt.Errorf("encrypted PDF: text extraction is not supported: %w", ErrEncrypted)
	}
	return f, nil
}

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)`)

func (f *pdfFile) readXrefChain() error {
	tail := min(f.size, 2048)
	buf := make([]byte, tail)
	if _, err := f.r.ReadAt(buf, f.size-tail); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the end of the file: %w", err)
	}
	ms := startxrefRE.FindAllSubmatch(buf, -1)
	if ms == nil {
		return errors.New("no startxref")
	}
	off, _ := strconv.ParseInt(string(ms[len(ms)-1][1]), 10, 64)
	seen := map[int64]bool{}
	for off > 0 || len(seen) == 0 {
		if seen[off] || off < 0 || off >= f.size {
			if len(seen) == 0 {
				return fmt.Errorf("startxref %d is outside the file", off)
			}
			break
		}
		seen[off] = true
		trailer, err := f.readXrefSection(off)
		if err != nil {
			return err
		}
		if f.trailer == nil {
			f.trailer = trailer
		}
		if xs, ok := trailer["XRefStm"].(float64); ok && !seen[int64(xs)] { // a hybrid file
			seen[int64(xs)] = true
			if _, err := f.readXrefSection(int64(xs)); err != nil {
				return err
			}
		}
		prev, ok := trailer["Prev"].(float64)
		if !ok {
			break
		}
		off = int64(prev)
	}
	return nil
}

// window returns up to n bytes of the file from off, and whether they reach
// its end.
func (f *pdfFile) window(off int64, n int) ([]byte, bool, error) {
	n = int(min(int64(n), f.size-off))
	if n <= 0 {
		return nil, true, nil
	}
	b := make([]byte, n)
	k, err := f.r.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read at %d: %w", off, err)
	}
	return b[:k], off+int64(k) >= f.size, nil
}

// parseAt runs parse on a window of the file at off, growing the window
// while the object runs past it.
func (f *pdfFile) parseAt(off int64, parse func(l *lexer) error) error {
	for n := 4096; ; n *= 4 {
		b, eof, err := f.window(off, n)
		if err != nil {
			return err
		}
		err = parse(&lexer{b: b, eof: eof})
		if !errors.Is(err, errWindow) {
			return err
		}
		if eof || n >= maxPDFObjWindow {
			return fmt.Errorf("object at %d is larger than %s: %w", off, FormatSize(maxPDFObjWindow), ErrTooLarge)
		}
	}
}

func (f *pdfFile) readXrefSection(off int64) (pdfDict, error) {
	var trailer pdfDict
	var isStream bool
	err := f.parseAt(off, func(l *lexer) error {
		tok, err := l.token()
		if err != nil {
			return err
		}
		if tok != pdfKeyword("xref") {
			isStream = true
			return nil
		}
		for {
			t, err := l.object(0)
			if err != nil {
				return err
			}
			if t == pdfKeyword("trailer") {
				d, err := l.object(0)
				if err != nil {
					return err
				}
				trailer, _ = d.(pdfDict)
				return nil
			}
			start, ok := t.(float64)
			c, err := l.object(0)
			if err != nil {
				return err
			}
			count, ok2 := c.(float64)
			if !ok || !ok2 || start < 0 || count < 0 {
				return fmt.Errorf("bad xref subsection header at %d", off)
			}
			for i := 0; i < int(count); i++ {
				o, err1 := l.object(0)
				_, err2 := l.object(0)
				kind, err3 := l.object(0)
				if err := errors.Join(err1, err2, err3); err != nil {
					return err
				}
				if len(f.xref) >= maxPDFObjects {
					return fmt.Errorf("more than %d objects: %w", maxPDFObjects, ErrTooLarge)
				}
				num := int(start) + i
				if _, done := f.xref[num]; !done && kind == pdfKeyword("n") {
					if v, ok := o.(float64); ok {
						f.xref[num] = xrefEntry{off: int64(v)}
					}
				} else if !done && kind == pdfKeyword("f") {
					f.xref[num] = xrefEntry{off: -1}
				}
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("xref table at %d: %w", off, err)
	}
	if !isStream {
		if trailer == nil {
			return nil, fmt.Errorf("xref table at %d: no trailer", off)
		}
		return trailer, nil
	}
	return f.readXrefStream(off)
}

func (f *pdfFile) readXrefStream(off int64) (pdfDict, error) {
	obj, err := f.readObjectAt(off, -1)
	if err != nil {
		return nil, fmt.Errorf("xref stream at %d: %w", off, err)
	}
	s, ok := obj.(*pdfStream)
	if !ok || s.dict["Type"] != pdfName("XRef") {
		return nil, fmt.Errorf("startxref %d points at neither an xref table nor an xref stream", off)
	}
	data, err := f.streamData(s)
	if err != nil {
		return nil, fmt.Errorf("xref stream at %d: %w", off, err)
	}
	var w [3]int
	ws, _ := s.dict["W"].([]any)
	if len(ws) != 3 {
		return nil, fmt.Errorf("xref stream at %d: bad /W", off)
	}
	for i := range w {
		v, _ := ws[i].(float64)
		if v < 0 || v > 8 {
			return nil, fmt.Errorf("xref stream at %d: bad /W", off)
		}
		w[i] = int(v)
	}
	width := w[0] + w[1] + w[2]
	if width == 0 {
		return nil, fmt.Errorf("xref stream at %d: bad /W", off)
	}
	index, _ := s.dict["Index"].([]any)
	if index == nil {
		size, _ := s.dict["Size"].(float64)
		index = []any{0.0, size}
	}
	field := func(b []byte, def int64) int64 {
		if len(b) == 0 {
			return def
		}
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := 0
	for i := 0; i+1 < len(index); i += 2 {
		start, _ := index[i].(float64)
		count, _ := index[i+1].(float64)
		for k := 0; k < int(count) && pos+width <= len(data); k++ {
			e := data[pos : pos+width]
			pos += width
			if len(f.xref) >= maxPDFObjects {
				return nil, fmt.Errorf("more than %d objects: %w", maxPDFObjects, ErrTooLarge)
			}
			num := int(start) + k
			if _, done := f.xref[num]; done {
				continue
			}
			typ := field(e[:w[0]], 1)
			a, b := field(e[w[0]:w[0]+w[1]], 0), field(e[w[0]+w[1]:], 0)
			switch typ {
			case 0:
				f.xref[num] = xrefEntry{off: -1}
			case 1:
				f.xref[num] = xrefEntry{off: a}
			case 2:
				f.xref[num] = xrefEntry{stream: int(a), off: b}
			}
		}
	}
	return s.dict, nil
}

var objHeaderRE = regexp.MustCompile(`(?m)(?:^|[\r\n\s])(\d{1,10})\s+(\d{1,5})\s+obj\b`)

// reconstruct scans the whole file for "n g obj" headers and trailers.
func (f *pdfFile) reconstruct() error {
	const chunk = 1 << 20
	for off := int64(0); off < f.size; off += chunk - 64 {
		b, _, err := f.window(off, chunk)
		if err != nil {
			return err
		}
		for _, m := range objHeaderRE.FindAllSubmatchIndex(b, -1) {
			num, _ := strconv.Atoi(string(b[m[2]:m[3]]))
			if len(f.xref) >= maxPDFObjects {
				return fmt.Errorf("more than %d objects: %w", maxPDFObjects, ErrTooLarge)
			}
			f.xref[num] = xrefEntry{off: off + int64(m[2])} // later definitions win
		}
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("trailer"))
			if j < 0 {
				break
			}
			i += j + len("trailer")
			l := &lexer{b: b[i:], eof: true}
			if d, err := l.object(0); err == nil {
				if d, ok := d.(pdfDict); ok && d["Root"] != nil {
					f.trailer = d
				}
			}
		}
		if int64(len(b)) < chunk {
			break
		}
	}
	if f.trailer == nil {
		// No trailer: find the catalogue among the objects.
		for num := range f.xref {
			if d, ok := f.resolve(pdfRef{num: num}).(pdfDict); ok && d["Type"] == pdfName("Catalog") {
				f.trailer = pdfDict{"Root": pdfRef{num: num}}
				break
			}
			if s, ok := f.resolve(pdfRef{num: num}).(*pdfStream); ok && s.dict["Type"] == pdfName("XRef") && s.dict["Root"] != nil {
				f.trailer = s.dict
				break
			}
		}
	}
	if f.trailer == nil {
		return errors.New("no catalogue found")
	}
	return nil
}

// readObjectAt reads "num gen obj …" at off (num -1: any number).
func (f *pdfFile) readObjectAt(off int64, num int) (any, error) {
	var obj any
	err := f.parseAt(off, func(l *lexer) error {
		n, err := l.token()
		if err != nil {
			return err
		}
		if _, err := l.token(); err != nil {
			return err
		}
		kw, err := l.token()
		if err != nil {
			return err
		}
		if nf, ok := n.(float64); !ok || kw != pdfKeyword("obj") || num >= 0 && int(nf) != num {
			return fmt.Errorf("no object %d at offset %d", num, off)
		}
		obj, err = l.object(0)
		if err != nil {
			return err
		}
		d, ok := obj.(pdfDict)
		if !ok {
			return nil
		}
		save := l.pos
		if t, err := l.token(); err != nil || t != pdfKeyword("stream") {
			l.pos = save
			return nil
		}
		// The data starts after the end of line that follows "stream".
		if l.pos < len(l.b) && l.b[l.pos] == '\r' {
			l.pos++
		}
		if l.pos < len(l.b) && l.b[l.pos] == '\n' {
			l.pos++
		}
		obj = &pdfStream{dict: d, off: off + int64(l.pos)}
		return nil
	})
	return obj, err
}

// resolve follows references; a missing or broken object is null.
func (f *pdfFile) resolve(v any) any {
	for range 16 {
		ref, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = f.object(ref.num)
	}
	return nil
}

func (f *pdfFile) object(num int) any {
	if v, ok := f.cache[num]; ok {
		return v
	}
	e, ok := f.xref[num]
	if !ok || e.off < 0 || f.busy[num] {
		return nil
	}
	f.busy[num] = true
	defer delete(f.busy, num)
	var v any
	if e.stream > 0 {
		v = f.fromObjStream(e.stream, num)
	} else {
		v, _ = f.readObjectAt(e.off, num)
	}
	if len(f.cache) < maxPDFCache {
		f.cache[num] = v
	}
	return v
}

func (f *pdfFile) fromObjStream(snum, num int) any {
	os, ok := f.objstm[snum]
	if !ok {
		if len(f.objstm) >= 8 {
			clear(f.objstm) // keep a few decoded object streams at most
		}
		os = f.loadObjStream(snum)
		f.objstm[snum] = os
	}
	if os == nil {
		return nil
	}
	o, ok := os.offs[num]
	if !ok || os.first+o > len(os.data) {
		return nil
	}
	l := &lexer{b: os.data[os.first+o:], eof: true}
	v, err := l.object(0)
	if err != nil {
		return nil
	}
	return v
}

func (f *pdfFile) loadObjStream(snum int) *objStream {
	s, ok := f.object(snum).(*pdfStream)
	if !ok {
		return nil
	}
	data, err := f.streamData(s)
	if err != nil && len(data) == 0 {
		return nil
	}
	n, _ := s.dict["N"].(float64)
	first, _ := s.dict["First"].(float64)
	if first < 0 || int(first) > len(data) {
		return nil
	}
	os := &objStream{data: data, first: int(first), offs: map[int]int{}}
	l := &lexer{b: data[:int(first)], eof: true, content: true}
	for i := 0; i < int(n) && i < 1<<20; i++ {
		a, err1 := l.token()
		b, err2 := l.token()
		num, ok1 := a.(float64)
		off, ok2 := b.(float64)
		if err1 != nil || err2 != nil || !ok1 || !ok2 {
			break
		}
		os.offs[int(num)] = int(off)
	}
	return os
}

// streamData returns a stream's decoded data (and, with an error, what
// decoded before it).
func (f *pdfFile) streamData(s *pdfStream) ([]byte, error) {
	length := int64(-1)
	if v, ok := f.resolve(s.dict["Length"]).(float64); ok && v >= 0 {
		length = int64(v)
	}
	if length < 0 || s.off+length > f.size || !f.endsStream(s.off+length) {
		length = f.findEndstream(s.off)
	}
	if length > maxPDFStream*4 {
		return nil, fmt.Errorf("stream of %s: %w", FormatSize(length), ErrTooLarge)
	}
	raw := make([]byte, length)
	n, err := f.r.ReadAt(raw, s.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	raw = raw[:n]
	filters := asArray(f.resolve(s.dict["Filter"]))
	parms := asArray(f.resolve(s.dict["DecodeParms"]))
	data := raw
	for i, flt := range filters {
		name, _ := f.resolve(flt).(pdfName)
		var parm pdfDict
		if i < len(parms) {
			parm, _ = f.resolve(parms[i]).(pdfDict)
		}
		data, err = f.decode(name, data, parm)
		if err != nil {
			return data, err
		}
	}
	return data, nil
}

func asArray(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

func (f *pdfFile) endsStream(off int64) bool {
	b, _, err := f.window(off, 32)
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("endstream"))
}

func (f *pdfFile) findEndstream(off int64) int64 {
	const chunk = 1 << 20
	for o := off; o < f.size; o += chunk - 16 {
		b, _, err := f.window(o, chunk)
		if err != nil {
			break
		}
		if i := bytes.Index(b, []byte("endstream")); i >= 0 {
			n := o + int64(i) - off
			for n > 0 {
				c, _, _ := f.window(off+n-1, 1)
				if len(c) == 0 || (c[0] != '\n' && c[0] != '\r') {
					break
				}
				n--
			}
			return n
		}
		if o+chunk >= f.size {
			break
		}
	}
	return f.size - off
}

// decode applies one filter.
func (f *pdfFile) decode(name pdfName, data []byte, parm pdfDict) ([]byte, error) {
	var r io.Reader
	switch name {
	case "FlateDecode", "Fl":
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			r = flate.NewReader(bytes.NewReader(data)) // raw deflate
		} else {
			r = zr
		}
	case "ASCIIHexDecode", "AHx":
		l := &lexer{b: append(append([]byte{'<'}, data...), '>'), eof: true}
		s, err := l.hex()
		if err != nil {
			return nil, err
		}
		return []byte(s.(pdfString)), nil
	case "ASCII85Decode", "A85":
		data = bytes.TrimPrefix(bytes.TrimSpace(data), []byte("<~"))
		if i := bytes.Index(data, []byte("~>")); i >= 0 {
			data = data[:i]
		}
		r = ascii85.NewDecoder(bytes.NewReader(data))
	case "RunLengthDecode", "RL":
		return runLength(data), nil
	default:
		return nil, fmt.Errorf("unsupported filter %s", name)
	}
	out, err := f.readCapped(r)
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p, _ := parm["Predictor"].(float64); p >= 10 {
		cols, _ := parm["Columns"].(float64)
		colors, _ := parm["Colors"].(float64)
		bpc, _ := parm["BitsPerComponent"].(float64)
		out = pngUnpredict(out, int(max(cols, 1)), int(max(colors, 1)), int(max(bpc, 8)))
	}
	return out, err
}

func (f *pdfFile) readCapped(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, maxPDFStream+1))
	f.decoded += n
	if n > maxPDFStream {
		return nil, fmt.Errorf("a stream decodes past %s: %w", FormatSize(maxPDFStream), ErrTooLarge)
	}
	if f.decoded > maxPDFDecoded {
		return nil, fmt.Errorf("streams decode past %s in all: %w", FormatSize(maxPDFDecoded), ErrTooLarge)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && n > 0 {
		err = nil // a stream cut short: keep what decoded
	}
	return buf.Bytes(), err
}

func runLength(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data) && len(out) < maxPDFStream; {
		n := int(data[i])
		i++
		switch {
		case n == 128:
			return out
		case n < 128:
			end := min(i+n+1, len(data))
			out = append(out, data[i:end]...)
			i = end
		default:
			if i < len(data) {
				out = append(out, bytes.Repeat(data[i:i+1], 257-n)...)
				i++
			}
		}
	}
	return out
}

// pngUnpredict undoes PNG predictors (one filter-type byte per row).
func pngUnpredict(data []byte, cols, colors, bpc int) []byte {
	bpp := max(1, colors*bpc/8)
	row := (cols*colors*bpc + 7) / 8
	out := make([]byte, 0, len(data))
	prev := make([]byte, row)
	for i := 0; i+1+row <= len(data); i += row + 1 {
		ft := data[i]
		cur := append([]byte(nil), data[i+1:i+1+row]...)
		for k := range cur {
			var a, b, c byte
			if k >= bpp {
				a = cur[k-bpp]
				c = prev[k-bpp]
			}
			b = prev[k]
			switch ft {
			case 1:
				cur[k] += a
			case 2:
				cur[k] += b
			case 3:
				cur[k] += byte((int(a) + int(b)) / 2)
			case 4:
				cur[k] += paeth(a, b, c)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
