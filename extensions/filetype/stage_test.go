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

// TestStageNative runs the stage as plain Go against exttest's fake host.
func TestStageNative(t *testing.T) {
	fake := exttest.InstallFake(t, "cairn.toml", exttest.Options{})
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	items := []cairn.Item{
		{ContentUUID: "u1", Name: "photo.txt", Size: int64(len(png)), Path: write("photo.txt", png)},
		{ContentUUID: "u2", Name: "run", Size: 20, Path: write("run", []byte("#!/bin/sh\necho hi\n"))},
		{ContentUUID: "u3", Name: "gone.bin", Size: 1, Path: filepath.Join(dir, "gone.bin")},
		{ContentUUID: "u4", Name: "thing.cairnx", Size: 9, Path: write("thing.cairnx", []byte("CAIRNX01\n"))},
	}
	user := "[[type]]\nid = \"application/x-cairn-test\"\nname = \"Cairn test\"\nextensions = [\"cairnx\"]\ncategory = \"binary\"\npriority = 50\nmagic_bytes = [{ string = \"CAIRNX\", priority = 90 }]\n"
	in, _ := json.Marshal(map[string]any{"stage": "stage.filetype", "version": 1,
		"config": map[string]any{"definitions": []string{user}}, "items": items})
	out, err := filetype.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Outcomes []exttest.Outcome }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"mime":"image/png","kind":"image","name":"PNG image","confidence":0.9,"by":"magic"}`,
		`{"mime":"text/x-shellscript","kind":"code","name":"Shell script","confidence":0.9,"by":"shebang"}`,
		"error",
		`{"mime":"application/x-cairn-test","kind":"binary","name":"Cairn test","confidence":1,"by":"magic"}`,
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
	if len(fake.Calls()) != 0 {
		t.Errorf("host calls: %+v", fake.Calls())
	}

	// A bad user document fails every item with the document, line and reason.
	in, _ = json.Marshal(map[string]any{"stage": "stage.filetype", "version": 1,
		"config": map[string]any{"definitions": []string{"[[type]]\nid = \"x/y\"\ncategory = \"nope\"\n"}}, "items": items[:1]})
	out, err = filetype.Handle(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if e := res.Outcomes[0].Error; e == "" || !strings.Contains(e, "definitions[0]: line 2") || !strings.Contains(e, `unknown category "nope"`) {
		t.Errorf("bad definitions: %q", e)
	}
}
