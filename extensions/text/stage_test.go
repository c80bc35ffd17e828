//go:build !wasip1

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		`{"chars":12,"format":"plain","truncated":false}`,
		`{}`,
		`{"chars":19,"format":"markdown","title":"Title","truncated":false}`,
		`{"chars":17,"format":"pdf","pages":1,"truncated":false}`,
		"error: open gone.txt",
		"error: file is 2.0 GiB, over the 256 MiB text-extraction limit",
		`{"chars":20,"format":"plain","truncated":true}`,
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
	for uuid, text := range map[string]string{"u1": "hello world\n", "u3": "Title\n\nSome text x.", "u4": "Hello from a PDF.",
		"u7": "word word word word "} {
		if got := string(sc["sidecars/"+uuid+"/text/plain.txt"]); got != text {
			t.Errorf("sidecar of %s: %q, want %q", uuid, got, text)
		}
	}
	if len(sc) != 4 {
		t.Errorf("%d sidecars, want 4: %v", len(sc), sc)
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
}
