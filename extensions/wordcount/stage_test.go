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
	items := []cairn.Item{
		{ContentUUID: "u1", Name: "a.txt", Kind: "text", Size: 12, Path: write("a.txt", "hello world\n")},
		{ContentUUID: "u2", Name: "b.png", Kind: "image", Size: 3, Path: write("b.png", "PNG")},
		{ContentUUID: "u3", Name: "c.md", Size: 9, Path: write("c.md", "# a\nb c\n\n")}, // no kind: by extension
		{ContentUUID: "u4", Name: "d.bin", Mime: "application/octet-stream", Size: 1, Path: write("d.bin", "x")},
		{ContentUUID: "u5", Name: "gone.txt", Kind: "text", Size: 1, Path: filepath.Join(dir, "gone.txt")},
		{ContentUUID: "u6", Name: "big.txt", Kind: "text", Size: 200, Path: write("big.txt", strings.Repeat("word ", 40))},
	}
	in, _ := json.Marshal(map[string]any{"stage": "stage.wordcount", "version": 1, "config": map[string]int{"max_size": 100}, "items": items})
	out, err := wordcount.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"lines":1,"words":2,"bytes":12}`,
		`{"skipped":"not text (kind image)"}`,
		`{"lines":3,"words":4,"bytes":9}`,
		`{"skipped":"not text (application/octet-stream)"}`,
		"error",
		`{"skipped":"larger than 100 bytes"}`,
	}
	for i, o := range res.Outcomes {
		got := string(o.Data)
		if o.Error != "" {
			got = "error"
		}
		if got != want[i] {
			t.Errorf("%s: %s (%s), want %s", items[i].Name, got, o.Error, want[i])
		}
	}
	md := fake.State().Metadata
	if len(md) != 2 {
		t.Errorf("metadata = %v, want the two counted files", md)
	}
	key := exttest.MetaKey{Namespace: "dev.cairn.wordcount", Target: "content:u3", Key: MetadataKey}
	if string(md[key]) != `{"lines":3,"words":4,"bytes":9}` {
		t.Errorf("metadata %v = %s", key, md[key])
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
}
