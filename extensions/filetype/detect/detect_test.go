package detect

import (
	"archive/zip"
	"bytes"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
)

// countingReader counts the bytes read, to check Detect's bounded reads.
type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func mustNew(t testing.TB, user ...[]byte) *Detector {
	t.Helper()
	d, err := New(user...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func det(d *Detector, name string, b []byte) Result {
	return d.Detect(name, bytes.NewReader(b), int64(len(b)))
}

func zipOf(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range names {
		method := zip.Deflate
		content := "x"
		if n == "mimetype" {
			method = zip.Store
			content = names[len(names)-1]
		}
		if strings.Contains(n, "/") && n == names[len(names)-1] && names[0] == "mimetype" {
			break
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: n, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
	}
	w.Close()
	return buf.Bytes()
}

func TestBuiltinsCount(t *testing.T) {
	if n := len(mustNew(t).Types()); n < 250 {
		t.Errorf("%d built-in types, want ≥ 250", n)
	}
}

func TestDetect(t *testing.T) {
	d := mustNew(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	iso := make([]byte, 40000)
	copy(iso[32769:], "CD001")
	elfPIE := make([]byte, 200)
	copy(elfPIE, "\x7fELF\x02\x01\x01")
	elfPIE[16], elfPIE[32], elfPIE[54], elfPIE[56] = 3, 64, 56, 1 // ET_DYN, phoff 64, one entry
	elfPIE[64] = 3                                                // PT_INTERP
	elfLib := bytes.Clone(elfPIE)
	elfLib[64] = 1
	cases := []struct {
		name string
		data []byte
		mime string
		by   string
	}{
		{"a.png", png, "image/png", "magic"},
		{"a.txt", png, "image/png", "magic"},                        // misnamed
		{"noext", []byte("%PDF-1.7\n"), "application/pdf", "magic"}, // extensionless
		{"a.png", []byte("just some text\n"), "text/plain", "content"},
		{"empty.bin", nil, "inode/x-empty", "empty"},
		{"x", []byte("#!/usr/bin/env python3\nprint(1)\n"), "text/x-script.python", "shebang"},
		{"x", []byte("#!/usr/bin/env -S python3.12 -u\n"), "text/x-script.python", "shebang"},
		{"x.sh", []byte("#!/bin/bash\necho\n"), "text/x-shellscript", "shebang"},
		{"x", []byte("\xef\xbb\xbfhello\n"), "text/plain", "content"},
		{"x", []byte("\xff\xfeh\x00i\x00\n\x00"), "text/plain", "content"},
		{"x", []byte("\x00\x01\x02\x03binary"), "application/octet-stream", "content"},
		{"x", []byte(`{"a": [1, 2]}`), "application/json", "content"},
		{"x", []byte("<?xml version=\"1.0\"?>\n<a/>\n"), "text/xml", "magic"},
		{"x", []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"), "image/svg+xml", "magic"},
		{"x", []byte("<!DOCTYPE html>\n<html></html>\n"), "text/html", "magic"},
		{"main.go", []byte("package main\n"), "text/x-go", "extension"},
		// text that mentions a format's magic further in is what its name says (found indexing
		// this repo: Go tests and Markdown with "<svg" or "%PDF-" in them were typed SVG and PDF)
		{"fixture_test.go", []byte("package x\n\nconst icon = `<svg width=\"1\"/>`\n"), "text/x-go", "extension"},
		{"notes.md", []byte("# PDFs\n\nEvery PDF starts with %PDF-1.7 and ends with %%EOF.\n"), "text/markdown", "extension"},
		{"icon.svg", []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"), "image/svg+xml", "magic"},
		{"Makefile", []byte("all:\n\techo\n"), "text/x-makefile", "filename"},
		{"x.go", []byte("\x00\x00binary"), "application/octet-stream", "content"}, // text type, binary content
		{"x", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), "audio/x-wav", "magic"},
		{"x", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "video/x-msvideo", "magic"},
		{"x", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp", "magic"},
		{"x", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic", "magic"},
		{"x", []byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00"), "image/avif", "magic"},
		{"x", []byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00"), "audio/x-m4a", "magic"},
		{"x", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), "video/quicktime", "magic"},
		{"x", []byte("\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00"), "video/3gpp", "magic"},
		{"x", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), "video/webm", "magic"},
		{"x", []byte("\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska"), "video/x-matroska", "magic"},
		{"x", []byte("OggS\x00\x02" + strings.Repeat("\x00", 22) + "\x80theora"), "video/ogg", "magic"},
		{"x", []byte("OggS\x00\x02" + strings.Repeat("\x00", 22) + "OpusHead"), "audio/ogg", "magic"},
		{"x", []byte("SQLite format 3\x00"), "application/vnd.sqlite3", "magic"},
		{"x", []byte("\x00asm\x01\x00\x00\x00"), "application/wasm", "magic"},
		{"x", elfPIE, "application/x-pie-executable", "magic"},
		{"x.so", elfLib, "application/x-sharedlib", "magic"},
		{"disc", iso, "application/x-iso9660-image", "magic"}, // magic beyond the header
		{"x.xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"), "application/vnd.ms-excel", "magic"},
		{"x", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"), "application/x-ole-storage", "magic"},
		{"x", zipOf(t, "word/document.xml", "[Content_Types].xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "zip"},
		{"x", zipOf(t, "xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip"},
		{"x", zipOf(t, "ppt/presentation.xml"), "application/vnd.openxmlformats-officedocument.presentationml.presentation", "zip"},
		{"x", zipOf(t, "mimetype", "content.xml", "application/vnd.oasis.opendocument.spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet", "zip"},
		{"x", zipOf(t, "mimetype", "content.xml", "application/vnd.oasis.opendocument.presentation"), "application/vnd.oasis.opendocument.presentation", "zip"},
		{"x", zipOf(t, "META-INF/MANIFEST.MF", "a/B.class"), "application/java-archive", "zip"},
		{"x", zipOf(t, "AndroidManifest.xml", "classes.dex", "META-INF/MANIFEST.MF"), "application/vnd.android.package-archive", "zip"},
		{"x.whl", zipOf(t, "pkg/__init__.py", "pkg-1.0.dist-info/WHEEL"), "application/x-wheel+zip", "zip"},
		{"x.docx", zipOf(t, "a.txt"), "application/zip", "magic"}, // a plain ZIP named .docx
	}
	for _, c := range cases {
		got := det(d, c.name, c.data)
		if got.Mime != c.mime || got.By != c.by {
			t.Errorf("%s %.24q: %s by %s (%.2f), want %s by %s", c.name, c.data, got.Mime, got.By, got.Confidence, c.mime, c.by)
		}
	}
}

func TestBoundedReads(t *testing.T) {
	d := mustNew(t)
	big := make([]byte, 50<<20)
	copy(big, "PK\x03\x04")
	for _, name := range []string{"big.zip", "big.bin", "big.txt"} {
		cr := &countingReader{r: bytes.NewReader(big)}
		d.Detect(name, cr, int64(len(big)))
		if n := cr.n.Load(); n > 160<<10 {
			t.Errorf("%s: read %d bytes of a 50 MiB file", name, n)
		}
	}
}

func TestUserDefinitions(t *testing.T) {
	user := []byte(`
[[type]]
id = "image/png"
name = "My PNG"
extensions = ["png"]
category = "image"
priority = 100
magic_bytes = [{ pattern = "89 50 4E 47", priority = 100 }]

[[type]]
id = "application/x-mine"
name = "Mine"
extensions = ["mine"]
category = "binary"
priority = 50
magic_bytes = [{ pattern = "4D 49 ?? 4E 00-1F", offset = 2, priority = 90 }]
`)
	d := mustNew(t, user)
	if r := det(d, "a", []byte("\x89PNG\r\n\x1a\n")); r.Name != "My PNG" {
		t.Errorf("override: %+v", r)
	}
	if r := det(d, "a", []byte("..MIxN\x05")); r.Mime != "application/x-mine" {
		t.Errorf("user magic with wildcard and range: %+v", r)
	}
	if r := det(d, "a", []byte("..MIxN\x25")); r.Mime == "application/x-mine" {
		t.Errorf("range matched out of range: %+v", r)
	}
}

func TestDefinitionErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"[[type]\nid = 1", "definitions[0]: line 2"},
		{"[[type]]\nid = \"a/b\"\ncategory = \"image\"\nmagic_bytes = [{ pattern = \"ZZ\" }]\n", `definitions[0]: line 2: type "a/b": magic_bytes[0]: pattern "ZZ": bad hex byte "ZZ"`},
		{"[[type]]\nid = \"a/b\"\ncategory = \"pictures\"\n", `line 2: type "a/b": unknown category "pictures"`},
		{"[[type]]\nid = \"ab\"\ncategory = \"image\"\n", "id must be a MIME type"},
		{"[[type]]\nid = \"a/b\"\ncategory = \"image\"\nmagic_bytes = [{ pattern = \"20-10\" }]\n", "range 20-10 is empty"},
		{"[[type]]\nid = \"a/b\"\ncategory = \"image\"\ncolour = \"red\"\n", `line 4: unknown key "type.colour"`},
		{"[[type]]\nid = \"a/b\"\ncategory = \"image\"\nmagic_bytes = [{ string = \"x\", offset = 99999999 }]\n", "offset 99999999 out of"},
	}
	for _, c := range cases {
		_, err := New([]byte("# ok\n"), []byte(c.doc))
		if err != nil {
			err2 := strings.ReplaceAll(err.Error(), "definitions[1]", "definitions[0]")
			if strings.Contains(err2, c.want) {
				continue
			}
		}
		if _, err := New([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to say %q", c.doc, err, c.want)
		}
	}
}

// TestRandomInput: random bytes and truncated real headers never panic.
func TestRandomInput(t *testing.T) {
	d := mustNew(t)
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := [][]byte{[]byte("PK\x03\x04"), []byte("\x7fELF\x02\x01\x01"), []byte("RIFF"), []byte("\x1a\x45\xdf\xa3"), []byte("#!")}
	for i := 0; i < 3000; i++ {
		b := make([]byte, rng.IntN(600))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if i%2 == 0 {
			copy(b, seeds[i%len(seeds)])
		}
		if _, err := d.DetectErr("x", bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	d := mustNew(b)
	inputs := []struct {
		name string
		data []byte
	}{
		{"a.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
		{"noext", bytes.Repeat([]byte("plain text line\n"), 600)},
		{"main.go", []byte("package main\n\nfunc main() {}\n")},
		{"x.docx", zipOf(b, "[Content_Types].xml", "word/document.xml")},
		{"x", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00")},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			r := bytes.NewReader(in.data)
			for b.Loop() {
				d.Detect(in.name, r, int64(len(in.data)))
			}
		})
	}
}
