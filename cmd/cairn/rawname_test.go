package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestNonUTF8NamesGetTypesMediaAndText: files whose names are not valid UTF-8 (Latin-1 "café",
// a lone 0xff) go through the default pipeline like any other: the WASM stages open them through
// their /data alias paths, so they get a type, text and media facts.
func TestNonUTF8NamesGetTypesMediaAndText(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the first-party extensions")
	}
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "caf\xe9.txt"), []byte("un caf\xc3\xa9 cr\xc3\xa8me, s'il vous pla\xc3\xaet\n"))
	writeFile(t, filepath.Join(dir, "d\xe9j\xe0", "\xff.md"), []byte("# Title\n\nSome *markdown* text.\n"))
	writeFile(t, filepath.Join(dir, "ph\xf6to.jpg"), testJPEG(t, 64, 48, false))
	out := must(t, home, "index", dir, "--pipeline", "default", "--json", "--no-progress")
	sums := jsonLines[pipelineSummary](t, out)
	if len(sums) != 2 {
		t.Fatalf("want the index and the pipeline summaries:\n%s", out)
	}
	t.Logf("pipeline: %+v", sums[1])
	for _, st := range sums[1].Steps {
		if st.Failed != 0 {
			t.Errorf("%s: %d failed", st.Stage, st.Failed)
		}
	}
	for _, f := range []string{"caf\xe9.txt", "d\xe9j\xe0/\xff.md", "ph\xf6to.jpg"} {
		var show map[string]any
		if err := json.Unmarshal([]byte(must(t, home, "show", filepath.Join(dir, f), "--json")), &show); err != nil {
			t.Fatal(err)
		}
		if show["filetype"] == nil {
			t.Errorf("%q: no file type: %v", f, show)
		}
		if want := "text"; filepath.Ext(f) != ".jpg" && show[want] == nil {
			t.Errorf("%q: no text: %v", f, show)
		}
		if filepath.Ext(f) == ".jpg" && show["media"] == nil {
			t.Errorf("%q: no media facts: %v", f, show)
		}
	}
}
