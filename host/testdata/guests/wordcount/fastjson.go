package main

// A reflection-free codec for the v1 stage messages. encoding/json is slow in a Go guest: its
// scanner makes an indirect call per input byte, and reflection per field, and Go compiled to
// wasm pays heavily for both (~85 µs per item to decode a stage batch, measured; this codec does
// the same in a few µs). The *_fast exports use it so that the benchmarks can tell the host's
// per-item cost from encoding/json's.

import (
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

var errSyntax = errors.New("stage input: malformed JSON")

type lexer struct {
	b []byte
	i int
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

func (l *lexer) expect(c byte) error {
	l.ws()
	if l.i >= len(l.b) || l.b[l.i] != c {
		return errSyntax
	}
	l.i++
	return nil
}

// peek returns the next non-space byte (0 at the end).
func (l *lexer) peek() byte {
	l.ws()
	if l.i >= len(l.b) {
		return 0
	}
	return l.b[l.i]
}

func (l *lexer) str() (string, error) {
	if err := l.expect('"'); err != nil {
		return "", err
	}
	start := l.i
	for l.i < len(l.b) { // fast path: no escapes
		c := l.b[l.i]
		if c == '"' {
			// The input is ours for the whole call: strings can alias it.
			s := unsafe.String(&l.b[start], l.i-start)
			if l.i == start {
				s = ""
			}
			l.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		l.i++
	}
	out := append([]byte(nil), l.b[start:l.i]...)
	for l.i < len(l.b) {
		c := l.b[l.i]
		switch {
		case c == '"':
			l.i++
			return string(out), nil
		case c == '\\':
			if l.i+1 >= len(l.b) {
				return "", errSyntax
			}
			e := l.b[l.i+1]
			l.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := l.hex4()
				if !ok {
					return "", errSyntax
				}
				if r >= 0xD800 && r < 0xDC00 && l.i+1 < len(l.b) && l.b[l.i] == '\\' && l.b[l.i+1] == 'u' {
					l.i += 2
					r2, ok := l.hex4()
					if !ok {
						return "", errSyntax
					}
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", errSyntax
			}
		default:
			out = append(out, c)
			l.i++
		}
	}
	return "", errSyntax
}

func (l *lexer) hex4() (rune, bool) {
	if l.i+4 > len(l.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(l.b[l.i:l.i+4]), 16, 32)
	l.i += 4
	return rune(n), err == nil
}

// number reads an integer.
func (l *lexer) number() (int64, error) {
	l.ws()
	neg := l.i < len(l.b) && l.b[l.i] == '-'
	if neg {
		l.i++
	}
	start := l.i
	var n int64
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		n = n*10 + int64(l.b[l.i]-'0')
		l.i++
	}
	if l.i == start || l.i-start > 18 {
		return 0, errSyntax
	}
	if neg {
		n = -n
	}
	return n, nil
}

// skip skips any JSON value.
func (l *lexer) skip() error {
	switch l.peek() {
	case '"':
		_, err := l.str()
		return err
	case '{', '[':
		depth := 0
		for l.i < len(l.b) {
			switch l.b[l.i] {
			case '"':
				if _, err := l.str(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					l.i++
					return nil
				}
			}
			l.i++
		}
		return errSyntax
	case 0:
		return errSyntax
	default: // number, true, false, null
		for l.i < len(l.b) && l.b[l.i] != ',' && l.b[l.i] != '}' && l.b[l.i] != ']' {
			l.i++
		}
		return nil
	}
}

// object calls field for each key of an object; field must consume the value.
func (l *lexer) object(field func(key string) error) error {
	if err := l.expect('{'); err != nil {
		return err
	}
	if l.peek() == '}' {
		l.i++
		return nil
	}
	for {
		k, err := l.str()
		if err != nil {
			return err
		}
		if err := l.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.i++
		case '}':
			l.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (l *lexer) item() (Item, error) {
	var it Item
	err := l.object(func(k string) error {
		var err error
		switch k {
		case "content_uuid":
			it.ContentUUID, err = l.str()
		case "cas_id":
			it.CasID, err = l.str()
		case "path":
			it.Path, err = l.str()
		case "name":
			it.Name, err = l.str()
		case "size":
			it.Size, err = l.number()
		default:
			err = l.skip()
		}
		return err
	})
	return it, err
}

// parseStageInput decodes {stage, version, config, items} (config is skipped).
func parseStageInput(b []byte) (StageInput, error) {
	var in StageInput
	l := &lexer{b: b}
	err := l.object(func(k string) error {
		switch k {
		case "stage":
			s, err := l.str()
			in.Stage = s
			return err
		case "version":
			n, err := l.number()
			in.Version = int(n)
			return err
		case "items":
			if err := l.expect('['); err != nil {
				return err
			}
			if l.peek() == ']' {
				l.i++
				return nil
			}
			for {
				it, err := l.item()
				if err != nil {
					return err
				}
				in.Items = append(in.Items, it)
				switch l.peek() {
				case ',':
					l.i++
				case ']':
					l.i++
					return nil
				default:
					return errSyntax
				}
			}
		}
		return l.skip()
	})
	return in, err
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// outWriter writes {"outcomes":[…]} straight into the output buffer.
type outWriter struct {
	b      []byte
	n      int // outcomes written
	fields int // data fields of the current outcome
}

func (w *outWriter) begin(uuid string) {
	if w.n == 0 {
		w.b = append(w.b, `{"outcomes":[`...)
	} else {
		w.b = append(w.b, ',')
	}
	w.n++
	w.fields = 0
	w.b = append(w.b, `{"content_uuid":`...)
	w.b = appendString(w.b, uuid)
}

func (w *outWriter) key(k string) {
	if w.fields == 0 {
		w.b = append(w.b, `,"data":{`...)
	} else {
		w.b = append(w.b, ',')
	}
	w.fields++
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
}

// Str and Int add a data field to the current outcome.
func (w *outWriter) Str(k, v string) { w.key(k); w.b = appendString(w.b, v) }
func (w *outWriter) Int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// fail ends the current outcome with an error instead of data (none may have been written).
func (w *outWriter) fail(msg string) {
	w.b = append(w.b, `,"error":`...)
	w.b = appendString(w.b, msg)
}

func (w *outWriter) end() {
	if w.fields > 0 {
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

func (w *outWriter) finish() []byte {
	if w.n == 0 {
		return append(w.b, `{"outcomes":[]}`...)
	}
	return append(w.b, "]}"...)
}
