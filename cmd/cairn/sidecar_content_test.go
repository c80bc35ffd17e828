package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSidecarStoredAsContent indexes real files through the real WASM stages and a real
// library: a plain UTF-8 text file is its own text sidecar and a small image its own
// thumbnail (storage "content": no copy under sidecars/; `sidecar path` and `show --json`
// give the file itself), while CRLF text and a gzip-compressed man page get text sidecar
// files, and an SVG gets its size and is its own thumbnail.
func TestSidecarStoredAsContent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds extensions")
	}
	home := t.TempDir()
	dir := filepath.Join(t.TempDir(), "docs")
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte(strings.Repeat("plain UTF-8 text, café\n", 200)))
	writeFile(t, filepath.Join(dir, "dos.txt"), []byte("one\r\ntwo\r\n"))
	var man bytes.Buffer
	zw := gzip.NewWriter(&man)
	zw.Write([]byte(".TH LS 1\n.SH NAME\nls \\- list directory contents\n"))
	zw.Close()
	writeFile(t, filepath.Join(dir, "man", "ls.1.gz"), man.Bytes())
	var small bytes.Buffer
	m := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 37)
	}
	must2(t, png.Encode(&small, m))
	writeFile(t, filepath.Join(dir, "small.png"), small.Bytes())
	writeFile(t, filepath.Join(dir, "icon.svg"), []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32"><rect width="48" height="32"/></svg>`))
	writeFile(t, filepath.Join(home, "pipelines", "content.toml"), []byte(`[pipeline.content]
description = "types, media, text and thumbnails"

[[pipeline.content.stage]]
id = "stage.filetype"

[[pipeline.content.stage]]
id = "stage.media"

[[pipeline.content.stage]]
id = "stage.text"

[[pipeline.content.stage]]
id = "stage.thumbnail"
`))
	must(t, home, "index", dir, "--no-progress", "--pipeline", "content")

	path := func(file, kind string) string {
		return strings.TrimSpace(must(t, home, "sidecar", "path", filepath.Join(dir, file), "--kind", kind))
	}
	for file, kind := range map[string]string{"notes.txt": "text", "small.png": "thumb", "icon.svg": "thumb"} {
		if p := path(file, kind); p != filepath.Join(dir, file) {
			t.Errorf("sidecar path %s --kind %s = %s, want the file itself", file, kind, p)
		}
	}
	for file, want := range map[string]string{"dos.txt": "one\ntwo\n", "man/ls.1.gz": "NAME\nls - list directory contents"} {
		p := path(file, "text")
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want || !strings.Contains(p, string(filepath.Separator)+"sidecars"+string(filepath.Separator)) {
			t.Errorf("text sidecar of %s at %s: %q %v, want %q under sidecars/", file, p, b, err, want)
		}
	}

	type entry struct {
		Sidecars []sidecarJSON
		Media    json.RawMessage
	}
	e := jsonLines[entry](t, must(t, home, "show", filepath.Join(dir, "notes.txt"), "--json"))[0]
	if len(e.Sidecars) != 1 || e.Sidecars[0].Storage != "content" || e.Sidecars[0].Path != filepath.Join(dir, "notes.txt") || e.Sidecars[0].Status != "ready" {
		t.Errorf("show notes.txt: sidecars %+v, want one ready text sidecar, storage content, path the file", e.Sidecars)
	}
	e = jsonLines[entry](t, must(t, home, "show", filepath.Join(dir, "icon.svg"), "--json"))[0]
	if string(e.Media) != `{"width":48,"height":32}` || len(e.Sidecars) != 2 {
		t.Errorf("show icon.svg: media %s, sidecars %+v; want 48×32 and its 2 thumbnails", e.Media, e.Sidecars)
	}
	ls := jsonLines[sidecarJSON](t, must(t, home, "sidecar", "ls", dir, "--json"))
	self := 0
	for _, sc := range ls {
		if sc.Storage == "content" {
			self++
		}
	}
	if len(ls) != 7 || self != 5 { // text: notes, dos, ls.1.gz; thumb: small.png ×2, icon.svg ×2
		t.Errorf("sidecar ls: %d sidecars, %d stored as content; want 7 and 5:\n%+v", len(ls), self, ls)
	}

	// Only the two text sidecars that are not their file are files under sidecars/.
	var files []string
	filepath.WalkDir(filepath.Join(home, "libraries"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, string(filepath.Separator)+"sidecars"+string(filepath.Separator)) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 2 {
		t.Errorf("%d files under sidecars/, want 2 (dos.txt's and ls.1.gz's text): %v", len(files), files)
	}
}
