package extract

import (
	"errors"
	"io"
	"math"
	"strings"
)

const (
	maxPDFPageDepth = 64 // page tree levels
	maxPDFFormDepth = 8  // form XObjects inside form XObjects
)

// extractPDF writes the text of every page in order, a blank line between
// pages.
func extractPDF(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	f, err := openPDF(r, size)
	if err != nil {
		return err
	}
	if info, ok := f.resolve(f.trailer["Info"]).(pdfDict); ok {
		if t, ok := f.resolve(info["Title"]).(pdfString); ok {
			res.Title = pdfTextString(t)
		}
	}
	root, ok := f.resolve(f.trailer["Root"]).(pdfDict)
	if !ok {
		return errors.New("no document catalogue (/Root)")
	}
	x := &pdfText{f: f, w: w, fonts: map[int]*pdfFont{}}
	var walkErr error
	visited := map[int]bool{}
	var walk func(node any, inherited pdfDict, depth int) error
	walk = func(node any, inherited pdfDict, depth int) error {
		if ref, ok := node.(pdfRef); ok {
			if visited[ref.num] {
				return nil // a cycle in the page tree
			}
			visited[ref.num] = true
		}
		d, ok := f.resolve(node).(pdfDict)
		if !ok || depth > maxPDFPageDepth {
			return nil
		}
		res := inherited
		if rd, ok := f.resolve(d["Resources"]).(pdfDict); ok {
			res = rd
		}
		kids, isTree := f.resolve(d["Kids"]).([]any)
		if isTree && d["Type"] != pdfName("Page") {
			for _, k := range kids {
				if err := walk(k, res, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		res0 := x.pages
		x.pages++
		if x.stopped {
			return nil // full: count the remaining pages only
		}
		if res0 > 0 {
			w.Para()
		}
		err := x.page(d, res)
		if errors.Is(err, errFull) {
			x.stopped = true
			return nil
		}
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		if err != nil && walkErr == nil {
			walkErr = err // a broken page: keep the others
		}
		return nil
	}
	if err := walk(root["Pages"], nil, 0); err != nil {
		return err
	}
	res.Pages = x.pages
	if x.pages == 0 {
		return errors.New("no pages")
	}
	if x.stopped {
		return errFull
	}
	if walkErr != nil && strings.TrimSpace(w.String()) == "" {
		return walkErr
	}
	return nil
}

// pdfText interprets content streams.
type pdfText struct {
	f       *pdfFile
	w       *writer
	fonts   map[int]*pdfFont
	pages   int
	stopped bool

	// text state
	font         *pdfFont
	size, tl, th float64
	tc, tw       float64
	tm, tlm      [6]float64
	lastX, lastY float64
	haveLast     bool
	glyphs       []glyph
	pending      strings.Builder
}

func (x *pdfText) page(d pdfDict, res pdfDict) error {
	x.haveLast = false
	x.th, x.tc, x.tw, x.tl, x.font = 1, 0, 0, 0, nil
	var data []byte
	for _, c := range asArray(x.f.resolve(d["Contents"])) {
		s, ok := x.f.resolve(c).(*pdfStream)
		if !ok {
			continue
		}
		b, err := x.f.streamData(s)
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		data = append(data, b...)
		data = append(data, '\n')
	}
	return x.run(data, res, 0, map[int]bool{})
}

func identity() [6]float64 { return [6]float64{1, 0, 0, 1, 0, 0} }

// mul returns a×b for PDF matrices [a b c d e f].
func mul(a, b [6]float64) [6]float64 {
	return [6]float64{
		a[0]*b[0] + a[1]*b[2], a[0]*b[1] + a[1]*b[3],
		a[2]*b[0] + a[3]*b[2], a[2]*b[1] + a[3]*b[3],
		a[4]*b[0] + a[5]*b[2] + b[4], a[4]*b[1] + a[5]*b[3] + b[5],
	}
}

func num(v any) float64 {
	f, _ := v.(float64)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// run interprets one content stream with the resources res.
func (x *pdfText) run(data []byte, res pdfDict, depth int, forms map[int]bool) error {
	l := &lexer{b: data, eof: true, content: true}
	var ops []any
	for {
		v, err := l.object(0)
		if errors.Is(err, errEOFToken) {
			return x.flush()
		}
		if err != nil {
			return x.flush() // a damaged stream: keep the text before the damage
		}
		op, ok := v.(pdfKeyword)
		if !ok {
			if len(ops) < 64 {
				ops = append(ops, v)
			}
			continue
		}
		arg := func(i int) any {
			if i >= 0 && i < len(ops) {
				return ops[i]
			}
			return nil
		}
		last := func(k int) []any { // the last k operands, padded
			out := make([]any, k)
			for i := 0; i < k && i < len(ops); i++ {
				out[k-1-i] = ops[len(ops)-1-i]
			}
			return out
		}
		switch op {
		case "BT":
			x.tm, x.tlm = identity(), identity()
		case "ET":
		case "Tf":
			a := last(2)
			x.size = num(a[1])
			if name, ok := a[0].(pdfName); ok {
				x.font = x.fontNamed(res, name)
			}
		case "Td", "TD":
			a := last(2)
			if op == "TD" {
				x.tl = -num(a[1])
			}
			x.tlm = mul([6]float64{1, 0, 0, 1, num(a[0]), num(a[1])}, x.tlm)
			x.tm = x.tlm
		case "Tm":
			a := last(6)
			x.tlm = [6]float64{num(a[0]), num(a[1]), num(a[2]), num(a[3]), num(a[4]), num(a[5])}
			x.tm = x.tlm
		case "T*":
			x.nextLine()
		case "TL":
			x.tl = num(arg(len(ops) - 1))
		case "Tc":
			x.tc = num(arg(len(ops) - 1))
		case "Tw":
			x.tw = num(arg(len(ops) - 1))
		case "Tz":
			x.th = num(arg(len(ops)-1)) / 100
		case "Tj":
			if s, ok := arg(len(ops) - 1).(pdfString); ok {
				if err := x.show(s); err != nil {
					return err
				}
			}
		case "'":
			x.nextLine()
			if s, ok := arg(len(ops) - 1).(pdfString); ok {
				if err := x.show(s); err != nil {
					return err
				}
			}
		case "\"":
			a := last(3)
			x.tw, x.tc = num(a[0]), num(a[1])
			x.nextLine()
			if s, ok := a[2].(pdfString); ok {
				if err := x.show(s); err != nil {
					return err
				}
			}
		case "TJ":
			arr, _ := arg(len(ops) - 1).([]any)
			for _, e := range arr {
				switch t := e.(type) {
				case pdfString:
					if err := x.show(t); err != nil {
						return err
					}
				case float64:
					x.tm = mul([6]float64{1, 0, 0, 1, -t / 1000 * x.size * x.th, 0}, x.tm)
				}
			}
		case "Do":
			if name, ok := arg(len(ops) - 1).(pdfName); ok && depth < maxPDFFormDepth {
				if err := x.form(res, name, depth, forms); err != nil {
					return err
				}
			}
		case "BI":
			// An inline image: skip its data up to "EI".
			id := strings.Index(string(l.b[l.pos:]), "ID")
			if id < 0 {
				return x.flush()
			}
			l.pos += id + 3
			for l.pos < len(l.b) {
				k := strings.Index(string(l.b[l.pos:]), "EI")
				if k < 0 {
					l.pos = len(l.b)
					break
				}
				l.pos += k + 2
				if (l.pos-3 < 0 || isPDFSpace(l.b[l.pos-3])) && (l.pos >= len(l.b) || isPDFSpace(l.b[l.pos]) || isPDFDelim(l.b[l.pos])) {
					break
				}
			}
		}
		ops = ops[:0]
	}
}

func (x *pdfText) nextLine() {
	x.tlm = mul([6]float64{1, 0, 0, 1, 0, -x.tl}, x.tlm)
	x.tm = x.tlm
}

func (x *pdfText) fontNamed(res pdfDict, name pdfName) *pdfFont {
	fonts, _ := x.f.resolve(res["Font"]).(pdfDict)
	ref := fonts[name]
	if r, ok := ref.(pdfRef); ok {
		if ft, ok := x.fonts[r.num]; ok {
			return ft
		}
	}
	d, ok := x.f.resolve(ref).(pdfDict)
	if !ok {
		return nil
	}
	ft := x.f.loadFont(d)
	if r, ok := ref.(pdfRef); ok && len(x.fonts) < 10000 {
		x.fonts[r.num] = ft
	}
	return ft
}

func (x *pdfText) form(res pdfDict, name pdfName, depth int, forms map[int]bool) error {
	xobjs, _ := x.f.resolve(res["XObject"]).(pdfDict)
	ref := xobjs[name]
	r, isRef := ref.(pdfRef)
	if isRef {
		if forms[r.num] {
			return nil
		}
		forms[r.num] = true
		defer delete(forms, r.num)
	}
	s, ok := x.f.resolve(ref).(*pdfStream)
	if !ok || s.dict["Subtype"] != pdfName("Form") {
		return nil
	}
	data, err := x.f.streamData(s)
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	fres := res
	if d, ok := x.f.resolve(s.dict["Resources"]).(pdfDict); ok {
		fres = d
	}
	saved := *x
	err = x.run(data, fres, depth+1, forms)
	// The form's text state does not leak out; where it left the text does.
	x.font, x.size, x.tm, x.tlm, x.tl, x.th, x.tc, x.tw = saved.font, saved.size, saved.tm, saved.tlm, saved.tl, saved.th, saved.tc, saved.tw
	return err
}

// show decodes a string and writes it, after a space or a new line when it
// starts away from where the last string ended.
func (x *pdfText) show(s pdfString) error {
	if x.font == nil {
		x.font = &pdfFont{enc: &standardEncoding, defWidth: 500}
	}
	scale := math.Hypot(x.tm[2], x.tm[3]) * math.Abs(x.size)
	if scale == 0 {
		scale = 1
	}
	xpos, ypos := x.tm[4], x.tm[5]
	if x.haveLast {
		dy := math.Abs(ypos - x.lastY)
		switch {
		case dy > scale*0.5:
			if err := x.flush(); err != nil {
				return err
			}
			x.w.Line()
		case xpos-x.lastX > scale*0.15 || x.lastX-xpos > scale*1.0:
			x.pending.WriteByte(' ')
		}
	}
	x.glyphs = x.font.decode(s, x.glyphs[:0])
	for _, g := range x.glyphs {
		x.pending.WriteString(g.text)
		adv := g.width / 1000 * x.size
		if x.font.widths == nil && !x.font.composite {
			adv = 0.5 * x.size // Type 3: no usable widths
		}
		adv += x.tc
		if g.space {
			adv += x.tw
		}
		x.tm = mul([6]float64{1, 0, 0, 1, adv * x.th, 0}, x.tm)
	}
	x.lastX, x.lastY, x.haveLast = x.tm[4], x.tm[5], true
	if x.pending.Len() > 32<<10 {
		return x.flush()
	}
	return nil
}

func (x *pdfText) flush() error {
	if x.pending.Len() == 0 {
		return nil
	}
	s := x.pending.String()
	x.pending.Reset()
	return x.w.Flow(s)
}
