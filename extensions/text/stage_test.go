//go:build !wasip1

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/extensions/text/extract"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// TestStageNative runs the stage as plain Go against exttest's fake host,
// with items whose paths are native files.
func TestStageNative(t *testing.T) {
	fake := exttest.InstallFake(t, "cairn.toml", exttest.Options{})

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pdf, err := os.ReadFile("testdata/hello.pdf")
	if err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pdf")
	write("huge.pdf", "")
	if err := os.Truncate(huge, 2<<30); err != nil { // sparse: only the size is real
		t.Fatal(err)
	}
	items := []cairn.Item{
		{ContentUUID: "u1", Name: "a.txt", Mime: "text/plain", Kind: "text", Path: write("a.txt", "hello world\n")},
		{ContentUUID: "u2", Name: "b.png", Mime: "image/png", Kind: "image", Path: write("b.png", "PNG")},
		{ContentUUID: "u3", Name: "c.md", Path: write("c.md", "# Title\n\nSome *text* [x](http://hidden.example).\n")},
		{ContentUUID: "u4", Name: "hello.pdf", Mime: "application/pdf", Kind: "document", Path: write("hello.pdf", string(pdf))},
		{ContentUUID: "u5", Name: "gone.txt", Kind: "text", Path: filepath.Join(dir, "gone.txt")},
		{ContentUUID: "u6", Name: "huge.pdf", Mime: "application/pdf", Kind: "document", Size: 2 << 30, Path: huge},
		{ContentUUID: "u7", Name: "long.txt", Mime: "text/plain", Path: write("long.txt", strings.Repeat("word ", 100))},
		{ContentUUID: "u8", Name: "dos.txt", Mime: "text/plain", Path: write("dos.txt", "one\r\ntwo\r\n")},
		{ContentUUID: "u9", Name: "latin1.txt", Mime: "text/plain", Path: write("latin1.txt", "caf\xe9\n")},
		{ContentUUID: "u10", Name: "bom.txt", Mime: "text/plain", Path: write("bom.txt", "\xef\xbb\xbfhi\n")},
	}
	in, _ := json.Marshal(map[string]any{"stage": "stage.text", "version": 1, "config": map[string]int{"max_output_bytes": 20},
		"items": items})
	out, err := textStage.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"chars":12,"format":"plain","storage":"content","truncated":false}`,
		`{}`,
		`{"chars":19,"format":"markdown","title":"Title","truncated":false}`,
		`{"chars":17,"format":"pdf","pages":1,"truncated":false}`,
		"error: open gone.txt",
		"error: file is 2.0 GiB, over the 256 MiB text-extraction limit",
		`{"chars":20,"format":"plain","truncated":true}`,
		`{"chars":8,"format":"plain","truncated":false}`,
		`{"chars":5,"format":"plain","truncated":false}`,
		`{"chars":3,"format":"plain","truncated":false}`,
	}
	for i, o := range res.Outcomes {
		got := string(o.Data)
		if o.Error != "" {
			got = "error: " + o.Error
		}
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("%s: %s, want %s", items[i].Name, got, want[i])
		}
	}
	sc := fake.State().Sidecars
	// a.txt is already plain UTF-8: its own sidecar, no copy; CRLF, Latin-1 and a byte-order
	// mark are not, so they get one.
	for uuid, text := range map[string]string{"u3": "Title\n\nSome text x.", "u4": "Hello from a PDF.",
		"u7": "word word word word ", "u8": "one\ntwo\n", "u9": "caf\uFFFD\n", "u10": "hi\n"} {
		if got := string(sc["sidecars/"+uuid+"/text/plain.txt"]); got != text {
			t.Errorf("sidecar of %s: %q, want %q", uuid, got, text)
		}
	}
	if len(sc) != 6 {
		t.Errorf("%d sidecars, want 6: %v", len(sc), sc)
	}
	self := fake.State().ContentSidecars
	if len(self) != 1 || self["sidecars/u1/text/plain.txt"] != "txt" {
		t.Errorf("sidecars stored as the content: %v, want only a.txt's", self)
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
}

// gz compresses data.
func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStageGzip: gzip-compressed text gets its text (a man page rendered from troff, a
// changelog as it is), with a sidecar; a compressed archive, compressed binary data and a
// gzip bomb's excess do not get decompressed into text; a damaged file fails.
func TestStageGzip(t *testing.T) {
	fake := exttest.InstallFake(t, "cairn.toml", exttest.Options{})
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	man := ".\\\" a comment\n.TH LS 1 \"2024\" \"coreutils\"\n.SH NAME\nls \\- list directory contents\n.SH DESCRIPTION\n" +
		".TP\n\\fB\\-a\\fR, \\fB\\-\\-all\\fR\ndo not ignore entries starting with .\n.PP\nSee \\fIdir\\fP(1)\\(em or not.\n"
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "notes.txt", Mode: 0o644, Size: 5})
	tw.Write([]byte("notes"))
	tw.Close()
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	bomb := bytes.Repeat([]byte("all work and no play\n"), (20<<20)/21) // 20 MiB of text in ~60 KiB
	ls := gz(t, []byte(man))
	items := []cairn.Item{
		{ContentUUID: "g1", Name: "ls.1.gz", Mime: "application/gzip", Kind: "archive", Path: write("ls.1.gz", ls)},
		{ContentUUID: "g2", Name: "changelog.gz", Mime: "application/gzip", Kind: "archive", Path: write("changelog.gz", gz(t, []byte("pkg (1.0) unstable\n  * First.\n")))},
		{ContentUUID: "g3", Name: "notes.tar.gz", Mime: "application/gzip", Kind: "archive", Path: write("notes.tar.gz", gz(t, tarball.Bytes()))},
		{ContentUUID: "g4", Name: "blob.gz", Mime: "application/gzip", Kind: "archive", Path: write("blob.gz", gz(t, bin))},
		{ContentUUID: "g5", Name: "bomb.txt.gz", Mime: "application/gzip", Kind: "archive", Path: write("bomb.txt.gz", gz(t, bomb))},
		{ContentUUID: "g6", Name: "cut.1.gz", Mime: "application/gzip", Kind: "archive", Path: write("cut.1.gz", ls[:len(ls)/2])},
		{ContentUUID: "g7", Name: "ls.1", Mime: "text/troff", Kind: "document", Path: write("ls.1", []byte(man))},
	}
	in, _ := json.Marshal(map[string]any{"stage": "stage.text", "version": 1, "config": map[string]int{"max_output_bytes": 64 << 20},
		"items": items})
	out, err := textStage.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	manText := "NAME\nls - list directory contents\n\nDESCRIPTION\n-a, --all\ndo not ignore entries starting with .\n\nSee dir(1)— or not."
	want := []string{
		fmt.Sprintf(`{"chars":%d,"compression":"gzip","format":"man","title":"LS(1)","truncated":false}`, len([]rune(manText))),
		`{"chars":30,"compression":"gzip","format":"plain","truncated":false}`,
		`{}`,
		`{}`,
		fmt.Sprintf(`{"chars":%d,"compression":"gzip","format":"plain","truncated":true}`, extract.MaxDecompressed),
		"error: extract gzip text: decompressing: unexpected EOF",
		fmt.Sprintf(`{"chars":%d,"format":"man","title":"LS(1)","truncated":false}`, len([]rune(manText))),
	}
	if len(res.Outcomes) != len(items) {
		t.Fatalf("%d outcomes for %d items", len(res.Outcomes), len(items))
	}
	for i, o := range res.Outcomes {
		got := string(o.Data)
		if o.Error != "" {
			got = "error: " + o.Error
		}
		if got != want[i] {
			t.Errorf("%s: %s, want %s", items[i].Name, got, want[i])
		}
	}
	sc := fake.State().Sidecars
	for uuid, text := range map[string]string{"g1": manText, "g2": "pkg (1.0) unstable\n  * First.\n", "g7": manText} {
		if got := string(sc["sidecars/"+uuid+"/text/plain.txt"]); got != text {
			t.Errorf("sidecar of %s:\n%q\nwant\n%q", uuid, got, text)
		}
	}
	if got := sc["sidecars/g5/text/plain.txt"]; len(got) != extract.MaxDecompressed || !bytes.Equal(got, bomb[:extract.MaxDecompressed]) {
		t.Errorf("bomb sidecar: %d bytes, want the first %d decompressed bytes", len(got), extract.MaxDecompressed)
	}
	if len(sc) != 4 || len(fake.State().ContentSidecars) != 0 {
		t.Errorf("sidecars %d (want 4), stored as content %v (want none)", len(sc), fake.State().ContentSidecars)
	}
}
