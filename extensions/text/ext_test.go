//go:build !wasip1

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// fixture is exttest's default tree plus an HTML page, a small PDF and a
// damaged PDF.
func fixture(t *testing.T) fstest.MapFS {
	files := fstest.MapFS{}
	err := fs.WalkDir(exttest.DefaultFiles(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(exttest.DefaultFiles(), p)
		files[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := os.ReadFile("testdata/hello.pdf")
	if err != nil {
		t.Fatal(err)
	}
	files["docs/page.html"] = &fstest.MapFile{Data: []byte(`<html><head><title>Page</title><script>x()</script></head>` +
		`<body><p>Visible &amp; decoded.</p></body></html>`), Mode: 0o644}
	files["docs/hello.pdf"] = &fstest.MapFile{Data: pdf, Mode: 0o644}
	files["docs/broken.pdf"] = &fstest.MapFile{Data: []byte("%PDF-1.4\nnothing here\n"), Mode: 0o644}
	var man, tarball bytes.Buffer
	zw := gzip.NewWriter(&man)
	zw.Write([]byte(".TH LS 1\n.SH NAME\nls \\- list directory contents\n"))
	zw.Close()
	zw = gzip.NewWriter(&tarball)
	zw.Write(append([]byte("notes.txt"), make([]byte, 1024)...))
	zw.Close()
	files["man/ls.1.gz"] = &fstest.MapFile{Data: man.Bytes(), Mode: 0o644}
	files["backup.tar.gz"] = &fstest.MapFile{Data: tarball.Bytes(), Mode: 0o644}
	return files
}

func TestConformance(t *testing.T) {
	files := fixture(t)
	exttest.Run(t, ".", exttest.Options{
		Files: files,
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			sidecars, self := g.Fake.State().Sidecars, g.Fake.State().ContentSidecars
			seen := map[string]bool{}
			for i, it := range g.Items {
				o := g.Outcomes[i]
				seen[it.Name] = true
				var data map[string]any
				json.Unmarshal(o.Data, &data)
				sc, hasSidecar := sidecars["sidecars/"+it.ContentUUID+"/text/plain.txt"]
				_, isSelf := self["sidecars/"+it.ContentUUID+"/text/plain.txt"]
				if data["storage"] == "content" || isSelf || it.Name == "hello.txt" {
					// plain UTF-8 as it is: its own sidecar, no copy
					b, _ := fs.ReadFile(files, strings.TrimPrefix(it.Path, exttest.MountPoint+"/"))
					if o.Error != "" || hasSidecar || !isSelf || data["storage"] != "content" || data["chars"] != float64(len([]rune(string(b)))) ||
						!utf8.Valid(b) || bytes.ContainsAny(b, "\r\x00") || bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
						r.Errorf("%s: outcome %s %q, copy %v, stored as content %v: want storage content, no copy, and a plain UTF-8 file", it.Name, o.Data, o.Error, hasSidecar, isSelf)
					}
					continue
				}
				switch it.Name {
				case "ls.1.gz": // a compressed man page: its text, rendered
					if o.Error != "" || data["format"] != "man" || data["compression"] != "gzip" || string(sc) != "NAME\nls - list directory contents" {
						r.Errorf("%s: outcome %s %q, sidecar %q", it.Name, o.Data, o.Error, sc)
					}
					continue
				case "backup.tar.gz": // an archive: skipped
					if o.Error != "" || string(o.Data) != "{}" || hasSidecar {
						r.Errorf("%s: outcome %s %q, sidecar %q: want {} and no sidecar", it.Name, o.Data, o.Error, sc)
					}
					continue
				case "broken.pdf":
					if o.Error == "" || !strings.Contains(o.Error, "pdf") {
						r.Errorf("%s: outcome %s %q, want a PDF error", it.Name, o.Data, o.Error)
					}
					continue
				case "empty.txt":
					if o.Error != "" || data["chars"] != 0.0 || hasSidecar {
						r.Errorf("%s: outcome %s %q, sidecar %v: want chars 0 and no sidecar", it.Name, o.Data, o.Error, hasSidecar)
					}
					continue
				}
				if o.Error != "" || !hasSidecar || data["chars"] != float64(len([]rune(string(sc)))) {
					r.Errorf("%s: outcome %s %q, sidecar %q", it.Name, o.Data, o.Error, sc)
					continue
				}
				switch it.Name {
				case "page.html":
					if string(sc) != "Visible & decoded." || data["title"] != "Page" || data["format"] != "html" {
						r.Errorf("%s: %s, sidecar %q", it.Name, o.Data, sc)
					}
				case "hello.pdf":
					if !strings.Contains(string(sc), "Hello from a PDF.") || data["pages"] != 1.0 || data["format"] != "pdf" {
						r.Errorf("%s: %s, sidecar %q", it.Name, o.Data, sc)
					}
				}
			}
			for _, n := range []string{"hello.txt", "poem.md", "page.html", "hello.pdf", "broken.pdf", "empty.txt", "ls.1.gz", "backup.tar.gz"} {
				if !seen[n] {
					r.Errorf("golden batch lacks %s", n)
				}
			}
			for _, c := range g.Calls {
				if c.Fn != "sidecar.write" {
					r.Errorf("unexpected host call %s", c.Fn)
				}
			}
		},
	})
}
