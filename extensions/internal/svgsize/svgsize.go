package svgsize

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// MaxHeader is how far into a file the root element is looked for (comments, a DOCTYPE and
// processing instructions may come first).
const MaxHeader = 1 << 20

// ErrNotSVG is the error of a file whose root element is not <svg>.
var ErrNotSVG = errors.New("not an SVG image")

// Size is an SVG's intrinsic size in CSS pixels (96 per inch), rounded, at least 1; zero when
// the file does not say (no width/height and no viewBox).
type Size struct {
	Width, Height int
}

// Looks reports whether the first bytes of a file look like SVG: XML whose first 4 KiB name an
// <svg element.
func Looks(head []byte) bool {
	h := head[:min(len(head), 4096)]
	h = bytes.TrimPrefix(h, []byte("\xef\xbb\xbf"))
	t := bytes.TrimLeft(h, " \t\r\n")
	return (bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<svg")) || bytes.HasPrefix(t, []byte("<!")) || bytes.HasPrefix(t, []byte("<!--"))) &&
		bytes.Contains(h, []byte("<svg"))
}

// Read finds the root element of the SVG in r (within MaxHeader bytes) and returns its size.
// A root element that is not <svg> is ErrNotSVG; malformed XML before it is an error.
func Read(r io.Reader) (Size, error) {
	d := xml.NewDecoder(io.LimitReader(r, MaxHeader))
	d.Strict = false // real-world SVGs carry undeclared entities and namespace prefixes
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Size{}, fmt.Errorf("reading the SVG header: no root element in the first %d bytes: %w", MaxHeader, ErrNotSVG)
			}
			return Size{}, fmt.Errorf("reading the SVG header: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "svg" {
			return Size{}, fmt.Errorf("reading the SVG header: the root element is <%s>: %w", se.Name.Local, ErrNotSVG)
		}
		var w, h, vb string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "width":
				w = a.Value
			case "height":
				h = a.Value
			case "viewBox":
				vb = a.Value
			}
		}
		return size(w, h, vb), nil
	}
}

// size resolves width, height and viewBox the way a browser sizes an <img> of the SVG:
// absolute lengths win; a missing or relative one comes from the viewBox's aspect ratio.
func size(ws, hs, vb string) Size {
	w, wok := length(ws)
	h, hok := length(hs)
	var vw, vh float64
	if f := strings.FieldsFunc(vb, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' || r == '\r' }); len(f) == 4 {
		vw, _ = strconv.ParseFloat(f[2], 64)
		vh, _ = strconv.ParseFloat(f[3], 64)
		if !(vw > 0 && vh > 0) || math.IsInf(vw, 0) || math.IsInf(vh, 0) {
			vw, vh = 0, 0
		}
	}
	switch {
	case wok && hok:
	case wok && vw > 0:
		h, hok = w*vh/vw, true
	case hok && vw > 0:
		w, wok = h*vw/vh, true
	case vw > 0:
		w, h, wok, hok = vw, vh, true, true
	}
	if !wok || !hok {
		return Size{}
	}
	return Size{px(w), px(h)}
}

// units are CSS pixels per unit.
var units = map[string]float64{"": 1, "px": 1, "pt": 96.0 / 72, "pc": 16, "in": 96, "cm": 96 / 2.54, "mm": 96 / 25.4,
	"q": 96 / 101.6, "em": 16, "ex": 8}

// length parses an absolute SVG length ("24", "24px", "2.5in"); relative ("100%") is not.
func length(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] >= 'A' && s[i-1] <= 'Z') {
		i--
	}
	u, ok := units[strings.ToLower(s[i:])]
	if !ok || i == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) || v*u > 1<<20 {
		return 0, false
	}
	return v * u, true
}

func px(v float64) int { return max(1, int(math.Round(v))) }
