//go:build !wasip1

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

func bytesReader(b []byte) io.ReaderAt { return bytes.NewReader(b) }

// TestStageNative runs the stage as plain Go against exttest's fake host,
// with items whose paths are native files.
func TestStageNative(t *testing.T) {
	fake := exttest.InstallFake(t, "cairn.toml", exttest.Options{})
	item := func(name, kind string) cairn.Item {
		return cairn.Item{ContentUUID: "u-" + name, Name: name, Kind: kind, Path: filepath.Join("testdata", name)}
	}
	items := []cairn.Item{
		item("photo.jpg", "image"),
		item("notmedia.png", "image"),
		item("broken.jpg", "image"),
		item("tone.flac", "audio"),
		item("gone.mp4", "video"),
		item("clip.webm", "video"),
		item("icon.svg", "image"),
		item("viewbox.svg", "image"),
		item("page.svg", "image"),
	}
	in, _ := json.Marshal(map[string]any{"stage": "stage.media", "version": 1, "items": items})
	out, err := media.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	wants := []string{
		`{"width":48,"height":32,"orientation":6,"taken_at":"2023-04-05T10:11:12+02:00","gps":{"lat":-33.856812,"lon":-151.215312},"camera_make":"Canon","camera_model":"Canon EOS R5","lens":"RF24-105mm F4 L IS USM","bit_depth":8}`,
		`{}`,
		"error: probing broken.jpg as jpeg: reading the marker at offset 2: file ends at offset 2, before the end-of-image marker: malformed file",
		`{"duration_s":0.25,"codec":"flac","sample_rate":8000,"channels":1,"bit_depth":16,"bitrate":297088}`,
		"error: ",
		`{"width":32,"height":24,"duration_s":0.3,"codec":"vp9","fps":10,"bitrate":45093}`,
		`{"width":48,"height":32}`,  // the root's width and height
		`{"width":128,"height":64}`, // its viewBox
		`{}`,                        // named .svg, but its root is not <svg>: not media
	}
	if len(res.Outcomes) != len(items) {
		t.Fatalf("%d outcomes for %d items", len(res.Outcomes), len(items))
	}
	for i, o := range res.Outcomes {
		got := string(o.Data)
		if o.Error != "" {
			got = "error: " + o.Error
		}
		if o.ContentUUID != items[i].ContentUUID || !strings.HasPrefix(got, wants[i]) || (strings.HasSuffix(items[i].Name, ".svg") && got != wants[i]) {
			t.Errorf("%s: %s %s\nwant %s", items[i].Name, o.ContentUUID, got, wants[i])
		}
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
}
