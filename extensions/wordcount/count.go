package main

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// Counts are what the stage records for a file.
type Counts struct {
	Lines int64 `json:"lines"` // newline characters, as wc -l
	Words int64 `json:"words"` // maximal runs of non-space characters, as wc -w
	Bytes int64 `json:"bytes"`
}

// Counter counts lines, words and bytes of a UTF-8 stream written to it in
// chunks of any size: a character split across two writes is decoded once
// whole. Spaces are unicode.IsSpace; invalid UTF-8 bytes count as word
// characters. The zero Counter is ready; call Counts after the last Write.
type Counter struct {
	c       Counts
	inWord  bool
	pending [utf8.UTFMax]byte // the start of a character cut by the end of a write
	np      int
}

// Write counts p. It never fails.
func (c *Counter) Write(p []byte) (int, error) {
	n := len(p)
	c.c.Bytes += int64(n)
	for c.np > 0 { // finish the cut character
		k := copy(c.pending[c.np:], p)
		buf := c.pending[:c.np+k]
		if !utf8.FullRune(buf) { // still cut: k == len(p)
			c.np += k
			return n, nil
		}
		r, size := utf8.DecodeRune(buf)
		c.char(r)
		if size >= c.np {
			p = p[size-c.np:]
			c.np = 0
		} else { // an invalid byte: decode the rest of pending again
			copy(c.pending[:], c.pending[size:c.np])
			c.np -= size
		}
	}
	for i := 0; i < len(p); {
		end := len(p)
		if i+8 <= len(p) {
			if w := binary.LittleEndian.Uint64(p[i:]); w&hi == 0 { // eight ASCII bytes at once
				c.ascii8(w)
				i += 8
				continue
			}
			end = i + 8 // not all ASCII: these eight bytes one by one
		}
		for i < end {
			b := p[i]
			if b < utf8.RuneSelf {
				switch b {
				case '\n':
					c.c.Lines++
					c.inWord = false
				case ' ', '\t', '\v', '\f', '\r':
					c.inWord = false
				default:
					if !c.inWord {
						c.inWord = true
						c.c.Words++
					}
				}
				i++
				continue
			}
			if !utf8.FullRune(p[i:]) {
				c.np = copy(c.pending[:], p[i:])
				return n, nil
			}
			r, size := utf8.DecodeRune(p[i:])
			c.char(r)
			i += size
		}
	}
	return n, nil
}

func (c *Counter) char(r rune) {
	if unicode.IsSpace(r) {
		c.inWord = false
		return
	}
	if !c.inWord {
		c.inWord = true
		c.c.Words++
	}
}

// Counts returns the counts so far, counting a character still cut at the
// end of the stream as a word character.
func (c *Counter) Counts() Counts {
	out := c.c
	if c.np > 0 && !c.inWord {
		out.Words++
	}
	return out
}

// SWAR (SIMD within a register) constants.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// ascii8 counts eight ASCII bytes (w's high bits are clear) with one loop
// iteration instead of eight: under wazero with WithCloseOnContextDone every
// loop iteration costs a termination check, ~10× the work of this body.
func (c *Counter) ascii8(w uint64) {
	// 0x80 in each byte of w that is 9..13 (\t \n \v \f \r), or that equals
	// ' ', or '\n'. No byte carries into the next: every byte is < 0x80.
	ctl := (w + lo*(0x80-9)) &^ (w + lo*(0x80-14)) & hi
	nl := zeroBytes(w ^ lo*'\n')
	space := ctl | zeroBytes(w^lo*' ')
	// One bit per byte, byte 0 in bit 0.
	sp := uint8(((space >> 7) * 0x0102040810204080) >> 56)
	word := ^sp
	prev := word<<1 | b2u8(c.inWord)
	c.c.Words += int64(bits.OnesCount8(word &^ prev))
	c.c.Lines += int64(bits.OnesCount64(nl))
	c.inWord = word&0x80 != 0
}

// zeroBytes has 0x80 in exactly the bytes of x that are zero.
func zeroBytes(x uint64) uint64 {
	const m7 = 0x7F7F7F7F7F7F7F7F
	y := (x & m7) + m7 // the high bit of a byte is set iff its low 7 bits are not all zero
	return ^(y | x | m7)
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
