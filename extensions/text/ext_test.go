//go:build !wasip1

package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

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
	return files
}

func TestConformance(t *testing.T) {
	files := fixture(t)
	exttest.Run(t, ".", exttest.Options{
		Files: files,
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			sidecars := g.Fake.State().Sidecars
			seen := map[string]bool{}
			for i, it := range g.Items {
				o := g.Outcomes[i]
				seen[it.Name] = true
				var data map[string]any
				json.Unmarshal(o.Data, &data)
				sc, hasSidecar := sidecars["sidecars/"+it.ContentUUID+"/text/plain.txt"]
				switch it.Name {
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
				case "hello.txt":
					want, _ := fs.ReadFile(files, "hello.txt")
					if string(sc) != string(want) || data["format"] != "plain" {
						r.Errorf("%s: %s, sidecar %q, want %q", it.Name, o.Data, sc, want)
					}
				}
			}
			for _, n := range []string{"hello.txt", "poem.md", "page.html", "hello.pdf", "broken.pdf", "empty.txt"} {
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
