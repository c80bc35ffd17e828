package extract

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// pdfFont decodes the codes of shown strings into text.
type pdfFont struct {
	cmap      *toUnicode // nil without a /ToUnicode CMap
	twoByte   bool       // composite font without codespace ranges: 2-byte codes
	ucs2      bool       // composite font whose codes are UTF-16BE
	enc       *[256]rune // simple fonts
	widths    map[int]float64
	defWidth  float64
	composite bool
}

// glyph is one decoded code.
type glyph struct {
	text  string
	width float64 // in thousandths of the font size
	space bool    // the single-byte code 32 (word spacing applies)
}

func (ft *pdfFont) decode(s pdfString, out []glyph) []glyph {
	b := []byte(s)
	for len(b) > 0 {
		n := 1
		switch {
		case ft.cmap != nil && len(ft.cmap.space) > 0:
			n = ft.cmap.codeLen(b)
		case ft.twoByte || ft.ucs2:
			n = min(2, len(b))
		}
		code := 0
		for _, c := range b[:n] {
			code = code<<8 | int(c)
		}
		b = b[n:]
		g := glyph{width: ft.defWidth, space: n == 1 && code == 32}
		if w, ok := ft.widths[code]; ok {
			g.width = w
		}
		if ft.cmap != nil {
			if t, ok := ft.cmap.lookup(code, n); ok {
				g.text = t
				out = append(out, g)
				continue
			}
		}
		switch {
		case ft.ucs2:
			g.text = string(rune(code))
		case ft.enc != nil && n == 1:
			if r := ft.enc[code]; r != 0 {
				g.text = string(r)
			}
		}
		out = append(out, g)
	}
	return out
}

// loadFont builds the decoder of a font dictionary.
func (f *pdfFile) loadFont(d pdfDict) *pdfFont {
	ft := &pdfFont{widths: map[int]float64{}, defWidth: 500}
	sub, _ := d["Subtype"].(pdfName)
	if s, ok := f.resolve(d["ToUnicode"]).(*pdfStream); ok {
		if data, err := f.streamData(s); err == nil || len(data) > 0 {
			ft.cmap = parseCMap(data)
		}
	}
	if sub == "Type0" {
		ft.composite = true
		ft.twoByte = true
		ft.defWidth = 1000
		if enc, ok := f.resolve(d["Encoding"]).(pdfName); ok && (strings.Contains(string(enc), "UCS2") || strings.Contains(string(enc), "UTF16")) {
			ft.ucs2 = true
		}
		if desc, ok := f.resolve(d["DescendantFonts"]).([]any); ok && len(desc) > 0 {
			if cid, ok := f.resolve(desc[0]).(pdfDict); ok {
				if dw, ok := f.resolve(cid["DW"]).(float64); ok {
					ft.defWidth = dw
				}
				f.cidWidths(ft, f.resolve(cid["W"]))
			}
		}
		return ft
	}
	ft.enc = f.simpleEncoding(d, sub)
	if fc, ok := f.resolve(d["FirstChar"]).(float64); ok {
		if ws, ok := f.resolve(d["Widths"]).([]any); ok {
			for i, w := range ws {
				if v, ok := f.resolve(w).(float64); ok && i < 256 {
					ft.widths[int(fc)+i] = v
				}
			}
		}
	}
	if sub == "Type3" {
		ft.widths = nil // glyph space is the font matrix's: widths are not thousandths
	}
	return ft
}

func (f *pdfFile) cidWidths(ft *pdfFont, w any) {
	arr, _ := w.([]any)
	for i := 0; i+1 < len(arr) && len(ft.widths) < 1<<16; {
		first, _ := f.resolve(arr[i]).(float64)
		switch next := f.resolve(arr[i+1]).(type) {
		case []any:
			for k, v := range next {
				if fv, ok := f.resolve(v).(float64); ok {
					ft.widths[int(first)+k] = fv
				}
			}
			i += 2
		case float64:
			if i+2 >= len(arr) {
				return
			}
			wv, _ := f.resolve(arr[i+2]).(float64)
			for c := int(first); c <= int(next) && c-int(first) < 1<<16; c++ {
				ft.widths[c] = wv
			}
			i += 3
		default:
			return
		}
	}
}

func (f *pdfFile) simpleEncoding(d pdfDict, sub pdfName) *[256]rune {
	enc := new([256]rune)
	base := &standardEncoding
	if sub == "TrueType" {
		base = &winAnsiEncoding
	}
	if bf, _ := f.resolve(d["BaseFont"]).(pdfName); strings.Contains(string(bf), "Symbol") || strings.Contains(string(bf), "Dingbats") {
		base = &winAnsiEncoding // no Unicode for their own encodings here: keep ASCII readable
	}
	var diffs []any
	switch e := f.resolve(d["Encoding"]).(type) {
	case pdfName:
		if b := namedEncoding(e); b != nil {
			base = b
		}
	case pdfDict:
		if n, ok := f.resolve(e["BaseEncoding"]).(pdfName); ok {
			if b := namedEncoding(n); b != nil {
				base = b
			}
		}
		diffs, _ = f.resolve(e["Differences"]).([]any)
	}
	*enc = *base
	code := 0
	for _, v := range diffs {
		switch t := f.resolve(v).(type) {
		case float64:
			code = int(t)
		case pdfName:
			if code >= 0 && code < 256 {
				enc[code] = glyphRune(string(t))
			}
			code++
		}
	}
	return enc
}

func namedEncoding(n pdfName) *[256]rune {
	switch n {
	case "WinAnsiEncoding":
		return &winAnsiEncoding
	case "MacRomanEncoding":
		return &macRomanEncoding
	case "StandardEncoding":
		return &standardEncoding
	case "PDFDocEncoding":
		return &pdfDocEncoding
	}
	return nil
}

var winAnsiEncoding, macRomanEncoding, standardEncoding, pdfDocEncoding [256]rune

// glyphNames maps Adobe glyph names to characters.
var glyphNames = map[string]rune{
	"fi": 'ﬁ', "fl": 'ﬂ', "ff": 'ﬀ', "ffi": 'ﬃ', "ffl": 'ﬄ', "dotlessi": 'ı', "Lslash": 'Ł', "lslash": 'ł',
	"fraction": '⁄', "minus": '−', "breve": '˘', "dotaccent": '˙', "ring": '˚', "ogonek": '˛', "caron": 'ˇ',
	"hungarumlaut": '˝', "nbspace": '\u00A0', "sfthyphen": '\u00AD', "quotesingle": '\'', "grave": '`',
	"Delta": 'Δ', "Omega": 'Ω', "pi": 'π', "mu": 'µ', "lessequal": '≤', "greaterequal": '≥', "notequal": '≠',
	"infinity": '∞', "summation": '∑', "product": '∏', "radical": '√', "integral": '∫', "approxequal": '≈',
	"partialdiff": '∂', "lozenge": '◊', "apple": '\uF8FF', "Idotaccent": 'İ', "Gbreve": 'Ğ', "gbreve": 'ğ',
	"Scedilla": 'Ş', "scedilla": 'ş', "Ccaron": 'Č', "ccaron": 'č', "Rcaron": 'Ř', "rcaron": 'ř',
	"Ecaron": 'Ě', "ecaron": 'ě', "Zacute": 'Ź', "zacute": 'ź', "Sacute": 'Ś', "sacute": 'ś', "Nacute": 'Ń',
	"nacute": 'ń', "Cacute": 'Ć', "cacute": 'ć', "Aogonek": 'Ą', "aogonek": 'ą', "Eogonek": 'Ę', "eogonek": 'ę',
	"Zdotaccent": 'Ż', "zdotaccent": 'ż', "Uring": 'Ů', "uring": 'ů', "Ohungarumlaut": 'Ő', "ohungarumlaut": 'ő',
	"Uhungarumlaut": 'Ű', "uhungarumlaut": 'ű', "Tcaron": 'Ť', "tcaron": 'ť', "Dcaron": 'Ď', "dcaron": 'ď',
	"Ncaron": 'Ň', "ncaron": 'ň', "dcroat": 'đ', "Dcroat": 'Đ',
}

// cp1252 glyph names, code 0x20 on ("" for undefined codes).
var cp1252Names = strings.Fields(`space exclam quotedbl numbersign dollar percent ampersand quotesingle
parenleft parenright asterisk plus comma hyphen period slash zero one two three four five six seven eight
nine colon semicolon less equal greater question at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z
bracketleft backslash bracketright asciicircum underscore grave a b c d e f g h i j k l m n o p q r s t u v w
x y z braceleft bar braceright asciitilde - Euro - quotesinglbase florin quotedblbase ellipsis dagger
daggerdbl circumflex perthousand Scaron guilsinglleft OE - Zcaron - - quoteleft quoteright quotedblleft
quotedblright bullet endash emdash tilde trademark scaron guilsinglright oe - zcaron Ydieresis space
exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft
logicalnot hyphen registered macron degree plusminus twosuperior threesuperior acute mu paragraph
periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters
questiondown Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex
Edieresis Igrave Iacute Icircumflex Idieresis Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis
multiply Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls agrave aacute acircumflex
atilde adieresis aring ae ccedilla egrave eacute ecircumflex edieresis igrave iacute icircumflex
idieresis eth ntilde ograve oacute ocircumflex otilde odieresis divide oslash ugrave uacute ucircumflex
udieresis yacute thorn ydieresis`)

func init() {
	for i := range 256 {
		winAnsiEncoding[i] = charmap.Windows1252.DecodeByte(byte(i))
		macRomanEncoding[i] = charmap.Macintosh.DecodeByte(byte(i))
		pdfDocEncoding[i] = rune(i)
		if i < 0x20 && i != '\t' && i != '\n' && i != '\r' {
			winAnsiEncoding[i], macRomanEncoding[i], pdfDocEncoding[i] = 0, 0, 0
		}
		if i >= 0x20 && i < 0x7F {
			standardEncoding[i] = rune(i)
		}
	}
	standardEncoding['\''] = '’'
	standardEncoding['`'] = '‘'
	for i, r := range []rune("•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž") {
		pdfDocEncoding[0x80+i] = r
	}
	pdfDocEncoding[0xA0] = '€'
	for code, r := range map[int]rune{0xA1: '¡', 0xA2: '¢', 0xA3: '£', 0xA4: '⁄', 0xA5: '¥', 0xA6: 'ƒ', 0xA7: '§',
		0xA8: '¤', 0xA9: '\'', 0xAA: '“', 0xAB: '«', 0xAC: '‹', 0xAD: '›', 0xAE: 'ﬁ', 0xAF: 'ﬂ', 0xB1: '–',
		0xB2: '†', 0xB3: '‡', 0xB4: '·', 0xB6: '¶', 0xB7: '•', 0xB8: '‚', 0xB9: '„', 0xBA: '”', 0xBB: '»',
		0xBC: '…', 0xBD: '‰', 0xBF: '¿', 0xC1: '`', 0xC2: '´', 0xC3: 'ˆ', 0xC4: '˜', 0xC5: '¯', 0xC6: '˘',
		0xC7: '˙', 0xC8: '¨', 0xCA: '˚', 0xCB: '¸', 0xCD: '˝', 0xCE: '˛', 0xCF: 'ˇ', 0xD0: '—', 0xE1: 'Æ',
		0xE3: 'ª', 0xE8: 'Ł', 0xE9: 'Ø', 0xEA: 'Œ', 0xEB: 'º', 0xF1: 'æ', 0xF5: 'ı', 0xF8: 'ł', 0xF9: 'ø',
		0xFA: 'œ', 0xFB: 'ß'} {
		standardEncoding[code] = r
	}
	for i, name := range cp1252Names {
		if name == "-" {
			continue
		}
		if _, dup := glyphNames[name]; !dup {
			glyphNames[name] = charmap.Windows1252.DecodeByte(byte(0x20 + i))
		}
	}
}

// glyphRune returns the character a glyph name stands for (0 if unknown):
// Adobe names, "uniXXXX", "uXXXX[XX]", and names with a ".suffix".
func glyphRune(name string) rune {
	if r, ok := glyphNames[name]; ok {
		return r
	}
	base, _, _ := strings.Cut(name, ".")
	if r, ok := glyphNames[base]; ok {
		return r
	}
	if strings.HasPrefix(base, "uni") && len(base) >= 7 {
		if v, err := strconv.ParseUint(base[3:7], 16, 32); err == nil {
			return rune(v)
		}
	}
	if strings.HasPrefix(base, "u") && len(base) >= 5 && len(base) <= 7 {
		if v, err := strconv.ParseUint(base[1:], 16, 32); err == nil {
			return rune(v)
		}
	}
	if len(base) == 1 {
		return rune(base[0])
	}
	return 0
}

// toUnicode is a parsed /ToUnicode CMap.
type toUnicode struct {
	space  []codeRange // codespace ranges
	chars  map[uint64]string
	ranges []bfRange
}

type codeRange struct {
	lo, hi uint32
	n      int
}

type bfRange struct {
	lo, hi uint32
	n      int
	dst    []rune   // the first destination; later codes increment its last character
	arr    []string // or one destination per code
}

func cmapKey(code, n int) uint64 { return uint64(n)<<32 | uint64(uint32(code)) }

// codeLen returns the length of the code at the start of b.
func (c *toUnicode) codeLen(b []byte) int {
	code := uint32(0)
	for n := 1; n <= 4 && n <= len(b); n++ {
		code = code<<8 | uint32(b[n-1])
		for _, r := range c.space {
			if r.n == n && code >= r.lo && code <= r.hi {
				return n
			}
		}
	}
	// Not in any range: take the shortest length the ranges use.
	short := 4
	for _, r := range c.space {
		short = min(short, r.n)
	}
	return min(short, len(b))
}

func (c *toUnicode) lookup(code, n int) (string, bool) {
	if s, ok := c.chars[cmapKey(code, n)]; ok {
		return s, true
	}
	for _, r := range c.ranges {
		if r.n != n || uint32(code) < r.lo || uint32(code) > r.hi {
			continue
		}
		off := int(uint32(code) - r.lo)
		if r.arr != nil {
			if off < len(r.arr) {
				return r.arr[off], true
			}
			return "", false
		}
		if len(r.dst) == 0 {
			return "", false
		}
		d := append([]rune(nil), r.dst...)
		d[len(d)-1] += rune(off)
		return string(d), true
	}
	return "", false
}

func utf16Text(b []byte) []rune {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	if len(b)%2 == 1 { // a one-byte destination
		u = append(u, uint16(b[len(b)-1]))
	}
	return utf16.Decode(u)
}

func codeOf(s pdfString) (uint32, int) {
	var v uint32
	for _, c := range []byte(s) {
		v = v<<8 | uint32(c)
	}
	return v, len(s)
}

// parseCMap reads the codespace ranges, bfchar and bfrange sections.
func parseCMap(data []byte) *toUnicode {
	c := &toUnicode{chars: map[uint64]string{}}
	l := &lexer{b: data, eof: true, content: true}
	var ops []any
	mode := ""
	for len(c.chars)+len(c.ranges) < 1<<20 {
		v, err := l.object(0)
		if err != nil {
			break
		}
		kw, ok := v.(pdfKeyword)
		if !ok {
			ops = append(ops, v)
			continue
		}
		switch kw {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			mode = string(kw)
		case "endcodespacerange":
			for i := 0; i+1 < len(ops); i += 2 {
				lo, ok1 := ops[i].(pdfString)
				hi, ok2 := ops[i+1].(pdfString)
				if ok1 && ok2 && len(lo) > 0 && len(lo) <= 4 {
					a, n := codeOf(lo)
					b, _ := codeOf(hi)
					c.space = append(c.space, codeRange{a, b, n})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(ops); i += 2 {
				src, ok := ops[i].(pdfString)
				if !ok || len(src) == 0 || len(src) > 4 {
					continue
				}
				code, n := codeOf(src)
				switch d := ops[i+1].(type) {
				case pdfString:
					c.chars[cmapKey(int(code), n)] = string(utf16Text([]byte(d)))
				case pdfName:
					if r := glyphRune(string(d)); r != 0 {
						c.chars[cmapKey(int(code), n)] = string(r)
					}
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(ops); i += 3 {
				lo, ok1 := ops[i].(pdfString)
				hi, ok2 := ops[i+1].(pdfString)
				if !ok1 || !ok2 || len(lo) == 0 || len(lo) > 4 {
					continue
				}
				a, n := codeOf(lo)
				b, _ := codeOf(hi)
				if b < a {
					continue
				}
				r := bfRange{lo: a, hi: b, n: n}
				switch d := ops[i+2].(type) {
				case pdfString:
					r.dst = utf16Text([]byte(d))
				case []any:
					for _, x := range d {
						s, _ := x.(pdfString)
						r.arr = append(r.arr, string(utf16Text([]byte(s))))
					}
				}
				c.ranges = append(c.ranges, r)
			}
		}
		_ = mode
		ops = ops[:0]
	}
	return c
}

// pdfTextString decodes a text string (document information): UTF-16BE or
// UTF-8 with a byte-order mark, else PDFDocEncoding.
func pdfTextString(s pdfString) string {
	b := []byte(s)
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return string(utf16Text(b[2:]))
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		return string(b[3:])
	}
	var out []rune
	for _, c := range b {
		if r := pdfDocEncoding[c]; r != 0 {
			out = append(out, r)
		}
	}
	return string(out)
}
