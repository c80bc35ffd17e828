package extract

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// rtfSkip are destinations whose content is not document text.
var rtfSkip = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "pict": true, "listtable": true,
	"listoverridetable": true, "rsidtbl": true, "generator": true, "themedata": true,
	"colorschememapping": true, "latentstyles": true, "datastore": true, "xmlnsstbl": true,
	"fldinst": true, "object": true, "objdata": true, "nonshppict": true, "filetbl": true,
	"revtbl": true, "pgdsctbl": true, "mmathPr": true, "wgrffmtfilter": true, "private": true,
	"bkmkstart": true, "bkmkend": true, "xe": true, "tc": true, "falt": true, "panose": true,
	"listtext": true, "pntext": true, "pntxtb": true, "pntxta": true, "background": true,
}

// rtfSymbols are control words that stand for a character.
var rtfSymbols = map[string]string{
	"emdash": "\u2014", "endash": "\u2013", "lquote": "\u2018", "rquote": "\u2019",
	"ldblquote": "\u201C", "rdblquote": "\u201D", "bullet": "\u2022", "emspace": " ",
	"enspace": " ", "qmspace": " ", "zwj": "\u200D", "zwnj": "\u200C",
}

var rtfCodepages = map[int]*charmap.Charmap{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852, 866: charmap.CodePage866,
	1250: charmap.Windows1250, 1251: charmap.Windows1251, 1252: charmap.Windows1252, 1253: charmap.Windows1253,
	1254: charmap.Windows1254, 1255: charmap.Windows1255, 1256: charmap.Windows1256, 1257: charmap.Windows1257,
	1258: charmap.Windows1258, 10000: charmap.Macintosh,
}

const maxRTFDepth = 1000

type rtfState struct {
	dest string // "": document text; "skip"; "info"; "title"
	uc   int    // characters to skip after \uN
}

type rtfParser struct {
	br      *bufio.Reader
	w       *writer
	title   []byte
	stack   []rtfState
	st      rtfState
	first   bool // the next token is the first of its group
	cp      *charmap.Charmap
	skip    int    // fallback characters still to skip after \uN
	high    rune   // a pending UTF-16 high surrogate
	run     []byte // text not yet written
	started bool
}

// extractRTF writes the text of an RTF document: control words and groups
// interpreted, \'hh escapes decoded in the document's code page, \uN
// characters (with their fallbacks skipped), non-text destinations (font
// and colour tables, style sheets, pictures, document info) skipped.
func extractRTF(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	p := &rtfParser{br: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10), w: w,
		st: rtfState{uc: 1}, cp: charmap.Windows1252}
	err := p.parse()
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	res.Title = string(p.title)
	return err
}

func (p *rtfParser) parse() error {
	for {
		c, err := p.br.ReadByte()
		if errors.Is(err, io.EOF) {
			if !p.started {
				return errors.New("empty RTF")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if !p.started {
			if c != '{' {
				return errors.New(`not RTF: it does not start with "{\rtf"`)
			}
			p.started = true
		}
		switch c {
		case '{':
			if len(p.stack) >= maxRTFDepth {
				return fmt.Errorf("groups nested deeper than %d", maxRTFDepth)
			}
			p.stack = append(p.stack, p.st)
			p.first = true
			p.skip = 0
			continue
		case '}':
			if err := p.flush(); err != nil {
				return err
			}
			if len(p.stack) == 0 {
				return nil // the end of the document; ignore what follows
			}
			p.st = p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			p.skip = 0
			p.first = false
			continue
		case '\\':
			if err := p.control(); err != nil {
				return err
			}
			continue
		case '\r', '\n':
			continue
		}
		p.first = false
		p.char(c)
	}
}

// char adds a byte of text in the document's code page.
func (p *rtfParser) char(c byte) {
	if p.skip > 0 {
		p.skip--
		return
	}
	if c < 0x80 {
		p.emit(rune(c))
		return
	}
	p.emit(p.cp.DecodeByte(c))
}

func (p *rtfParser) emit(r rune) {
	if p.st.dest == "title" {
		if len(p.title) < 4096 {
			p.title = append(p.title, string(r)...)
		}
		return
	}
	if p.st.dest != "" {
		return
	}
	if p.high != 0 {
		if utf16.IsSurrogate(r) {
			r = utf16.DecodeRune(p.high, r)
		}
		p.high = 0
	}
	if r >= 0xD800 && r < 0xDC00 {
		p.high = r
		return
	}
	p.run = append(p.run, string(r)...)
	if len(p.run) >= 32<<10 {
		_ = p.flush() // errFull surfaces at the next separator or the end
	}
}

func (p *rtfParser) flush() error {
	if len(p.run) == 0 {
		return nil
	}
	err := p.w.Text(string(p.run))
	p.run = p.run[:0]
	return err
}

// sep writes the pending text and asks for a separator.
func (p *rtfParser) sep(s int) error {
	if p.st.dest != "" {
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	p.w.Sep(s)
	return nil
}

func (p *rtfParser) control() error {
	c, err := p.br.ReadByte()
	if err != nil {
		return nil // a lone backslash at the end
	}
	first := p.first
	p.first = false
	switch {
	case c == '\'':
		var h [2]byte
		if _, err := io.ReadFull(p.br, h[:]); err != nil {
			return nil
		}
		v, err := strconv.ParseUint(string(h[:]), 16, 8)
		if err != nil {
			return nil // a bad escape: drop it
		}
		p.char(byte(v))
		return nil
	case c == '*':
		p.st.dest = "skip"
		return nil
	case c == '\\' || c == '{' || c == '}':
		p.char(c)
		return nil
	case c == '~':
		p.emit('\u00A0')
		return nil
	case c == '_':
		p.emit('\u2011')
		return nil
	case c == '\n' || c == '\r':
		return p.sep(sepPara)
	case !isLetter(c):
		return nil // \- \| \: and other symbols
	}
	word := []byte{c}
	for len(word) < 32 {
		b, err := p.br.ReadByte()
		if err != nil {
			break
		}
		if !isLetter(b) {
			p.br.UnreadByte()
			break
		}
		word = append(word, b)
	}
	param, hasParam := 0, false
	if b, err := p.br.ReadByte(); err == nil {
		neg := b == '-'
		if neg {
			b, err = p.br.ReadByte()
		}
		digits := 0
		for err == nil && b >= '0' && b <= '9' && digits < 10 {
			param = param*10 + int(b-'0')
			digits++
			hasParam = true
			b, err = p.br.ReadByte()
		}
		if neg {
			param = -param
		}
		if err == nil && b != ' ' {
			p.br.UnreadByte()
		}
	}
	return p.word(string(word), param, hasParam, first)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *rtfParser) word(word string, param int, hasParam, first bool) error {
	if first {
		switch {
		case word == "info":
			p.st.dest = "info"
			return nil
		case word == "title" && p.st.dest == "info":
			p.st.dest = "title"
			return nil
		case p.st.dest == "info":
			p.st.dest = "skip"
		case rtfSkip[word]:
			p.st.dest = "skip"
			return nil
		}
	}
	if s, ok := rtfSymbols[word]; ok {
		for _, r := range s {
			p.emit(r)
		}
		return nil
	}
	switch word {
	case "par", "sect", "page":
		return p.sep(sepPara)
	case "line", "row":
		return p.sep(sepLine)
	case "tab", "cell":
		return p.sep(sepTab)
	case "u":
		if !hasParam {
			return nil
		}
		if param < 0 {
			param += 65536
		}
		p.emit(rune(param))
		p.skip = p.st.uc
	case "uc":
		if hasParam && param >= 0 && param < 10 {
			p.st.uc = param
		}
	case "ansicpg":
		if cm, ok := rtfCodepages[param]; ok {
			p.cp = cm
		}
	case "mac":
		p.cp = charmap.Macintosh
	case "pc":
		p.cp = charmap.CodePage437
	case "pca":
		p.cp = charmap.CodePage850
	case "bin":
		if hasParam && param > 0 {
			if _, err := p.br.Discard(param); err != nil {
				return nil
			}
		}
	}
	return nil
}
