package extract

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// errFull stops an extractor once the writer holds MaxOutput bytes.
var errFull = errors.New("text output full")

// Separator strengths: the strongest pending one is written before the
// next text, none at the start or the end.
const (
	sepNone = iota
	sepSpace
	sepTab
	sepLine // one newline
	sepPara // a blank line
)

// writer accumulates text up to max bytes. Text is written as is (invalid
// UTF-8 replaced, NUL dropped); separators between pieces of text are
// deferred so that runs of them collapse and none trail.
type writer struct {
	b    strings.Builder
	max  int
	full bool
	sep  int
}

func newWriter(max int) *writer { return &writer{max: max} }

// Sep asks for a separator of strength s before the next text.
func (w *writer) Sep(s int) { w.sep = max(w.sep, s) }

// Space, Tab, Line and Para are Sep shorthands.
func (w *writer) Space() { w.Sep(sepSpace) }
func (w *writer) Tab()   { w.Sep(sepTab) }
func (w *writer) Line()  { w.Sep(sepLine) }
func (w *writer) Para()  { w.Sep(sepPara) }

// Text appends s after the pending separator. It returns errFull once the
// writer is full.
func (w *writer) Text(s string) error {
	if w.full {
		return errFull
	}
	if s == "" {
		return nil
	}
	if w.b.Len() > 0 {
		switch w.sep {
		case sepSpace:
			if err := w.raw(" "); err != nil {
				return err
			}
		case sepTab:
			if err := w.raw("\t"); err != nil {
				return err
			}
		case sepLine:
			if err := w.raw("\n"); err != nil {
				return err
			}
		case sepPara:
			if err := w.raw("\n\n"); err != nil {
				return err
			}
		}
	}
	w.sep = sepNone
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return w.raw(s)
}

// Flow appends s with its whitespace collapsed into separators, as HTML
// renders text: runs of spaces, tabs and newlines become one space.
func (w *writer) Flow(s string) error {
	for {
		i := strings.IndexFunc(s, isSpaceRune)
		if i < 0 {
			return w.Text(s)
		}
		if err := w.Text(s[:i]); err != nil {
			return err
		}
		w.Space()
		s = strings.TrimLeftFunc(s[i:], isSpaceRune)
		if s == "" {
			return nil
		}
	}
}

func isSpaceRune(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// Rune appends r (a separator when it is whitespace).
func (w *writer) Rune(r rune) error {
	switch r {
	case ' ':
		w.Space()
		return nil
	case '\t':
		w.Tab()
		return nil
	case '\n', '\r':
		w.Line()
		return nil
	}
	var buf [utf8.UTFMax]byte
	return w.Text(string(buf[:utf8.EncodeRune(buf[:], r)]))
}

// raw appends s, cutting it at a character boundary when it does not fit.
func (w *writer) raw(s string) error {
	room := w.max - w.b.Len()
	if len(s) <= room {
		w.b.WriteString(s)
		return nil
	}
	cut := room
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	w.b.WriteString(s[:cut])
	w.full = true
	return errFull
}

// String returns the text.
func (w *writer) String() string { return w.b.String() }

// collapseSpace turns every run of whitespace in s into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
