package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

func hasBOM(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) || bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF})
}

// utf8Reader returns the input as UTF-8: a UTF-8 byte-order mark dropped,
// UTF-16 with a byte-order mark converted. Other bytes pass as they are.
func utf8Reader(r io.ReaderAt, size int64) io.Reader {
	var bom [3]byte
	n, _ := r.ReadAt(bom[:], 0)
	sr := io.NewSectionReader(r, 0, size)
	switch {
	case n >= 3 && bom == [3]byte{0xEF, 0xBB, 0xBF}:
		return io.NewSectionReader(r, 3, size-3)
	case n >= 2 && bom[0] == 0xFF && bom[1] == 0xFE:
		return transform.NewReader(sr, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case n >= 2 && bom[0] == 0xFE && bom[1] == 0xFF:
		return transform.NewReader(sr, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	}
	return sr
}

// extractPlain copies the text, CRLF turned into LF, invalid UTF-8 replaced.
func extractPlain(r io.ReaderAt, size int64, w *writer, _ *Result, _ Limits) error {
	src := utf8Reader(r, size)
	buf := make([]byte, 64<<10)
	carry := 0 // bytes of a character or CRLF cut by the end of the last read
	for {
		n, err := src.Read(buf[carry:])
		n += carry
		end := n
		if err == nil {
			// Keep an incomplete character or a lone final CR for the next read.
			for k := 1; k <= utf8.UTFMax && k <= end; k++ {
				if utf8.RuneStart(buf[end-k]) {
					if !utf8.FullRune(buf[end-k : end]) {
						end -= k
					}
					break
				}
			}
			if end > 0 && buf[end-1] == '\r' {
				end--
			}
		}
		chunk := bytes.ReplaceAll(buf[:end], []byte("\r\n"), []byte("\n"))
		if werr := w.Text(string(chunk)); werr != nil {
			return werr
		}
		carry = copy(buf, buf[end:n])
		if errors.Is(err, io.EOF) {
			if carry > 0 {
				return w.Text(string(buf[:carry]))
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
	}
}

// lines calls fn for each line of the input (without its end of line); a
// line longer than 64 KiB comes in pieces.
func lines(src io.Reader, fn func(line string) error) error {
	br := bufio.NewReaderSize(src, 64<<10)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			b = bytes.TrimSuffix(b, []byte("\n"))
			b = bytes.TrimSuffix(b, []byte("\r"))
			if ferr := fn(string(b)); ferr != nil {
				return ferr
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}
