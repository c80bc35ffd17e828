package detect

import (
	"bytes"
	"encoding/json"
	"strings"
)

// notText marks the bytes file(1) never accepts in text: controls other than
// BEL, BS, TAB, LF, FF, CR and ESC, and DEL. Bytes ≥ 0x80 are accepted
// (UTF-8, ISO-8859, other extended ASCII), as file does.
var notText = func() (t [256]bool) {
	for b := 0; b < 0x20; b++ {
		t[b] = true
	}
	for _, b := range []byte{7, 8, 9, 10, 12, 13, 27} {
		t[b] = false
	}
	t[0x7F] = true
	return t
}()

// looksText tells whether b is text: UTF-16 with a BOM, or bytes with no
// control characters text does not use.
func looksText(b []byte) bool {
	if utf16BOM(b) {
		return true
	}
	for _, c := range b {
		if notText[c] {
			return false
		}
	}
	return true
}

func utf16BOM(b []byte) bool {
	if len(b) < 4 || len(b)%2 != 0 && len(b) < HeaderSize {
		return false
	}
	if !(b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		return false
	}
	// No UTF-16 NUL characters (pairs of zero bytes at even offsets) in text.
	for i := 2; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return false
		}
	}
	return true
}

// sniff types content no magic, name or shebang identified.
func (d *Detector) sniff(s *source) Result {
	if !s.isText() {
		return d.result(d.binary, 0.5, "content")
	}
	b := bytes.TrimPrefix(s.hdr, []byte("\xEF\xBB\xBF"))
	if int64(len(s.hdr)) == s.size { // whole file: JSON can be checked
		t := bytes.TrimSpace(b)
		if len(t) > 1 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
			return d.result(d.json, 0.8, "content")
		}
	}
	return d.result(d.plain, 0.6, "content")
}

// shebang types a script by its #! line's interpreter.
func (d *Detector) shebang(hdr []byte) *fileType {
	if !bytes.HasPrefix(hdr, []byte("#!")) {
		return nil
	}
	line := hdr[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return nil
	}
	prog := f[0][strings.LastIndexByte(f[0], '/')+1:]
	if prog == "env" {
		prog = ""
		for _, a := range f[1:] {
			if !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
				prog = a[strings.LastIndexByte(a, '/')+1:]
				break
			}
		}
	}
	if t := d.byInter[prog]; t != nil {
		return t
	}
	// python3.12 → python3 → python
	p := strings.TrimRight(prog, "0123456789.")
	if t := d.byInter[p]; t != nil {
		return t
	}
	return nil
}
