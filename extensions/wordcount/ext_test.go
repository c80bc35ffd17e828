//go:build !wasip1

package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// fixture is exttest's default tree plus files that exercise the counter
// through the /data mount: a 100 KiB file whose multi-byte characters cross
// the stage's 64 KiB read boundary, and CRLF text.
func fixture(t *testing.T) fs.FS {
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
	var big bytes.Buffer
	for i := 0; big.Len() < 100<<10; i++ {
		big.WriteString("Line " + strconv.Itoa(i) + ": héllo wörld ✓ 日本語 and more\n")
	}
	files["long/big.txt"] = &fstest.MapFile{Data: big.Bytes(), Mode: 0o644}
	files["long/crlf.txt"] = &fstest.MapFile{Data: []byte("one two\r\nthree\r\n"), Mode: 0o644}
	return files
}

func TestConformance(t *testing.T) {
	files := fixture(t)
	exttest.Run(t, ".", exttest.Options{
		Files: files,
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			md := g.Fake.State().Metadata
			for i, it := range g.Items {
				data, err := fs.ReadFile(files, it.Path[len(exttest.MountPoint)+1:])
				if err != nil {
					r.Errorf("%s: %v", it.Name, err)
					continue
				}
				var c Counter
				c.Write(data)
				want, _ := json.Marshal(c.Counts())
				o := g.Outcomes[i]
				if o.Error != "" || string(o.Data) != string(want) {
					r.Errorf("%s: outcome %s %s, want %s", it.Name, o.Data, o.Error, want)
				}
				key := exttest.MetaKey{Namespace: "dev.cairn.wordcount", Target: "content:" + it.ContentUUID, Key: MetadataKey}
				if string(md[key]) != string(want) {
					r.Errorf("%s: metadata %s, want %s", it.Name, md[key], want)
				}
			}
			if len(g.Items) != 9 { // the 7 default text files and the 2 added
				r.Errorf("golden batch: %d items, want the 9 text files", len(g.Items))
			}
			for _, c := range g.Calls {
				if c.Fn != "metadata.set" {
					r.Errorf("unexpected host call %s", c.Fn)
				}
			}
		},
	})
}
