package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// TestStageReadsFilesWithNonUTF8Names runs a real WASM stage over files whose names are not valid
// UTF-8 (Latin-1 "café", a lone 0xff byte, in a folder with one too): items travel to the guest as
// JSON, which cannot carry such bytes, so each gets a UTF-8 alias path that the guest's /data
// resolves back to the real file.
func TestStageReadsFilesWithNonUTF8Names(t *testing.T) {
	names := []string{"caf\xe9.txt", "\xff.txt", "d\xe9j\xe0/n%41me \xff.txt", "plain.txt", "100%.txt"}
	tree := map[string]string{}
	for i, n := range names {
		tree[n] = "one two three"[:3+4*(i%3)] // 1, 2 or 3 words
	}
	lib := hosttest.NewLibrary(t, map[string]map[string]string{"docs": tree})
	h, err := host.New(host.Config{Store: lib.Store, LibraryDir: lib.Dir, DeviceID: lib.DeviceID, CacheDir: hosttest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	loc := lib.Locations["docs"].UUID
	if _, err := h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.rawnames",
			map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.txt"}}},
			manifest.Stage{ID: "stage.wordcount", Export: "count_words", Version: 1}),
		Wasm:  hosttest.Guest(t, "wordcount"),
		Grant: capability.Grant{"content.read": {Locations: []string{loc}}},
	}); err != nil {
		t.Fatal(err)
	}
	st, err := h.Registry().Stage("stage.wordcount")
	if err != nil {
		t.Fatal(err)
	}
	var items []pipeline.Item
	for _, n := range names {
		f := lib.Files["docs/"+n]
		items = append(items, pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := st.Process(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(names) {
		t.Fatalf("%d outcomes for %d items", len(out), len(names))
	}
	for i, o := range out {
		if o.Err != nil {
			t.Errorf("%q: %v", names[i], o.Err)
		}
	}
}
