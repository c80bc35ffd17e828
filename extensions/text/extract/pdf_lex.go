package extract

import (
	"errors"
	"fmt"
	"strconv"
)

// PDF objects as the lexer returns them: nil (null), bool, float64
// (numbers), pdfName, pdfString (raw bytes), []any, pdfDict, pdfRef,
// *pdfStream (top-level objects only) and pdfKeyword (operators and other
// bare words).
type (
	pdfName    string
	pdfString  string
	pdfKeyword string
	pdfDict    map[pdfName]any
	pdfRef     struct{ num, gen int }
	pdfStream  struct {
		dict pdfDict
		off  int64 // of the data in the file
	}
)

// errWindow: the object runs past the end of the bytes the lexer holds.
var errWindow = errors.New("object runs past the read window")

const maxPDFNesting = 64

// lexer reads PDF tokens from b.
type lexer struct {
	b   []byte
	pos int
	eof bool // b ends where the input ends (not a window)
	// content: a content stream, where "n g R" is not a reference.
	content bool
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isPDFSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

// end is the error for running out of bytes.
func (l *lexer) end() error {
	if l.eof {
		return errors.New("unexpected end of data")
	}
	return errWindow
}

// token returns the next token: an object that is not compound, or a
// pdfKeyword for the delimiters "[", "]", "<<", ">>", "{", "}" and bare words.
func (l *lexer) token() (any, error) {
	l.skipSpace()
	if l.pos >= len(l.b) {
		if l.eof {
			return nil, errEOFToken
		}
		return nil, errWindow
	}
	c := l.b[l.pos]
	switch {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literal()
	case c == '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return pdfKeyword("<<"), nil
		}
		if l.pos+1 >= len(l.b) && !l.eof {
			return nil, errWindow
		}
		return l.hex()
	case c == '>':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '>' {
			l.pos += 2
			return pdfKeyword(">>"), nil
		}
		l.pos++
		return pdfKeyword(">"), nil
	case c == '[' || c == ']' || c == '{' || c == '}' || c == ')':
		l.pos++
		return pdfKeyword(string(c)), nil
	case c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.':
		return l.number()
	}
	start := l.pos
	for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
		l.pos++
	}
	if l.pos == len(l.b) && !l.eof {
		return nil, errWindow
	}
	switch w := string(l.b[start:l.pos]); w {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	default:
		return pdfKeyword(w), nil
	}
}

var errEOFToken = errors.New("end of data")

func (l *lexer) number() (any, error) {
	start := l.pos
	l.pos++
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' {
			l.pos++
			continue
		}
		break
	}
	if l.pos == len(l.b) && !l.eof {
		return nil, errWindow
	}
	s := string(l.b[start:l.pos])
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Malformed numbers such as "--5" or "5-": keep what parses.
		for len(s) > 0 && err != nil {
			s = s[:len(s)-1]
			v, err = strconv.ParseFloat(s, 64)
		}
		if err != nil {
			v = 0
		}
	}
	return v, nil
}

func (l *lexer) name() (any, error) {
	l.pos++
	var out []byte
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isPDFSpace(c) || isPDFDelim(c) {
			return pdfName(out), nil
		}
		if c == '#' && l.pos+2 < len(l.b) {
			if v, err := strconv.ParseUint(string(l.b[l.pos+1:l.pos+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				l.pos += 3
				continue
			}
		}
		out = append(out, c)
		l.pos++
	}
	if !l.eof {
		return nil, errWindow
	}
	return pdfName(out), nil
}

func (l *lexer) literal() (any, error) {
	l.pos++
	depth := 1
	var out []byte
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return pdfString(out), nil
			}
		case '\r':
			if l.pos < len(l.b) && l.b[l.pos] == '\n' {
				l.pos++
			}
			c = '\n'
		case '\\':
			if l.pos >= len(l.b) {
				return nil, l.end()
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, l.end()
}

func (l *lexer) hex() (any, error) {
	l.pos++
	var out []byte
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		var v byte
		switch {
		case c == '>':
			if half {
				out = append(out, hi<<4)
			}
			return pdfString(out), nil
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue // whitespace and junk
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return nil, l.end()
}

// object reads one object: compound objects whole, "n g R" as a pdfRef.
// Bare keywords come back as pdfKeyword.
func (l *lexer) object(depth int) (any, error) {
	if depth > maxPDFNesting {
		return nil, fmt.Errorf("objects nested deeper than %d", maxPDFNesting)
	}
	tok, err := l.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case pdfKeyword:
		switch t {
		case "[":
			var arr []any
			for {
				l.skipSpace()
				if l.pos < len(l.b) && l.b[l.pos] == ']' {
					l.pos++
					return arr, nil
				}
				v, err := l.object(depth + 1)
				if err != nil {
					return nil, err
				}
				if k, ok := v.(pdfKeyword); ok && (k == ">>" || k == "endobj") {
					return arr, nil // an unclosed array: stop at its container's end
				}
				arr = append(arr, v)
			}
		case "<<":
			d := pdfDict{}
			for {
				k, err := l.object(depth + 1)
				if err != nil {
					return nil, err
				}
				if kw, ok := k.(pdfKeyword); ok && (kw == ">>" || kw == "endobj" || kw == "stream") {
					if kw != ">>" {
						l.pos -= len(kw)
					}
					return d, nil
				}
				key, ok := k.(pdfName)
				if !ok {
					continue // junk where a key belongs: skip it
				}
				v, err := l.object(depth + 1)
				if err != nil {
					return nil, err
				}
				if kw, ok := v.(pdfKeyword); ok && kw == ">>" {
					return d, nil
				}
				d[key] = v
			}
		}
		return t, nil
	case float64:
		// "n g R"?
		save := l.pos
		if !l.content && t >= 0 && t == float64(int(t)) {
			if g, err := l.token(); err == nil {
				if gf, ok := g.(float64); ok && gf >= 0 && gf == float64(int(gf)) {
					if r, err := l.token(); err == nil && r == pdfKeyword("R") {
						return pdfRef{int(t), int(gf)}, nil
					} else if errors.Is(err, errWindow) {
						return nil, err
					}
				} else if errors.Is(err, errWindow) {
					return nil, err
				}
			} else if errors.Is(err, errWindow) {
				return nil, err
			}
		}
		l.pos = save
		return t, nil
	}
	return tok, nil
}
