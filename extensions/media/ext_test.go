//go:build !wasip1

package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/cairnfs/cairn/extensions/media/probe"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// kinds are the content kinds of testdata's files, as the file-type stage
// would record them.
var kinds = map[string][2]string{
	".jpg": {"image/jpeg", "image"}, ".png": {"image/png", "image"}, ".wav": {"audio/wav", "audio"},
	".flac": {"audio/flac", "audio"}, ".mp3": {"audio/mpeg", "audio"}, ".opus": {"audio/ogg", "audio"},
	".webm": {"video/webm", "video"}, ".mp4": {"video/mp4", "video"},
}

// batch is every file of testdata as a stage item of its kind.
func batch(t *testing.T, fsys fs.FS) []cairn.Item {
	files, err := exttest.ScanFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	items := exttest.Items(files)
	for i := range items {
		k := kinds[path.Ext(items[i].Name)]
		items[i].Mime, items[i].Kind = k[0], k[1]
	}
	return items
}

// want is what the stage must answer for a file: probe's Info, {} for an
// unsupported format, or an error.
func want(b []byte, name string) (data string, fails bool) {
	info, err := probe.Probe(name, "", bytesReader(b), int64(len(b)))
	if errors.Is(err, probe.ErrUnsupported) {
		return "{}", false
	}
	if err != nil {
		return "", true
	}
	j, _ := json.Marshal(info)
	return string(j), false
}

func TestConformance(t *testing.T) {
	files := os.DirFS("testdata")
	items := batch(t, files)
	exttest.Run(t, ".", exttest.Options{
		Files: files,
		Batch: items,
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			if len(g.Outcomes) != len(items) {
				r.Errorf("%d outcomes for %d items", len(g.Outcomes), len(items))
				return
			}
			for i, it := range g.Items {
				b, err := fs.ReadFile(files, it.Name)
				if err != nil {
					r.Errorf("%s: %v", it.Name, err)
					continue
				}
				data, fails := want(b, it.Name)
				o := g.Outcomes[i]
				switch {
				case fails && o.Error == "":
					r.Errorf("%s: outcome %s, want an error", it.Name, o.Data)
				case !fails && (o.Error != "" || string(o.Data) != data):
					r.Errorf("%s: outcome %s %q, want %s", it.Name, o.Data, o.Error, data)
				}
			}
			if len(g.Calls) != 0 {
				r.Errorf("host calls %v: the stage needs none", g.Calls)
			}
		},
	})
}
