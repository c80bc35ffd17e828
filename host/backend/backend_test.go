package backend_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/backend"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/schemas/manifest"
)

type env struct {
	t   *testing.T
	lib *hosttest.Library
	be  *backend.Store
	d   *abi.Dispatcher
	c   *abi.Caller
	bus *events.Bus
}

var allCaps = map[string]manifest.Scope{
	"kv": {}, "entries.read": {}, "content.read": {}, "content.type": {}, "metadata.write": {},
	"tags.write": {}, "sidecars.write": {Kinds: []string{"thumb"}}, "events.emit": {},
	"events.subscribe": {Types: []string{"dev.test.*"}}, "actions.propose": {}, "jobs.dispatch": {},
}

func setup(t *testing.T) *env {
	lib := hosttest.NewLibrary(t, map[string]map[string]string{
		"photos": {"2024/a.jpg": "jpeg-a", "2024/b.jpg": "jpeg-b", "notes.txt": "hello", "dup.jpg": "same"},
		"docs":   {"report.pdf": "pdf", "dup.jpg": "same"},
	})
	bus := events.NewBus()
	t.Cleanup(bus.Close)
	be := backend.New(lib.Store, backend.Options{LibraryDir: lib.Dir, DeviceID: lib.DeviceID, Bus: bus})
	t.Cleanup(func() { be.Close() })
	caps, err := capability.Effective(&manifest.Manifest{ID: "dev.test.ext", Capabilities: allCaps}, capability.Grant{
		"kv": {}, "entries.read": {Locations: []string{capability.AllLocations}},
		"content.read": {Locations: []string{lib.Locations["photos"].UUID}, Globs: []string{"**/*.jpg"}},
		"content.type": {}, "metadata.write": {}, "tags.write": {}, "sidecars.write": {}, "events.emit": {},
		"events.subscribe": {}, "actions.propose": {}, "jobs.dispatch": {},
	})
	if err != nil {
		t.Fatal(err)
	}
	locs, err := be.Locations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files := datafs.New(caps.Files(capability.ContentRead), locs)
	t.Cleanup(func() { files.Close() })
	return &env{t: t, lib: lib, be: be, bus: bus, d: abi.NewDispatcher(be.Backends(), nil),
		c: abi.NewCaller(caps, abi.CallerOptions{Files: files})}
}

func (e *env) call(ctx context.Context, fn string, args any) (json.RawMessage, *abi.Error) {
	e.t.Helper()
	a, _ := json.Marshal(args)
	req, _ := json.Marshal(abi.Request{Fn: fn, Args: a})
	var r struct {
		OK    json.RawMessage `json:"ok"`
		Error *abi.Error      `json:"error"`
	}
	if err := json.Unmarshal(e.d.Handle(ctx, e.c, req), &r); err != nil {
		e.t.Fatal(err)
	}
	return r.OK, r.Error
}

func (e *env) must(fn string, args any) json.RawMessage {
	e.t.Helper()
	ok, err := e.call(context.Background(), fn, args)
	if err != nil {
		e.t.Fatalf("%s: %+v", fn, err)
	}
	return ok
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.lib.Store.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestKV(t *testing.T) {
	e := setup(t)
	e.must("kv.set", map[string]any{"key": "a/1", "value": "aGk="})
	e.must("kv.set", map[string]any{"key": "a/2", "value": ""})
	e.must("kv.set", map[string]any{"key": "b", "value": "eA=="})
	if got := string(e.must("kv.get", map[string]any{"key": "a/1"})); got != `{"value":"aGk="}` {
		t.Errorf("get = %s", got)
	}
	if got := string(e.must("kv.get", map[string]any{"key": "a/2"})); got != `{"value":""}` {
		t.Errorf("get empty = %s", got)
	}
	if got := string(e.must("kv.list", map[string]any{"prefix": "a/"})); got != `{"keys":["a/1","a/2"]}` {
		t.Errorf("list = %s", got)
	}
	e.must("kv.delete", map[string]any{"key": "a/1"})
	if got := string(e.must("kv.get", map[string]any{"key": "a/1"})); got != `{"value":null}` {
		t.Errorf("get deleted = %s", got)
	}
}

func TestEntriesQuery(t *testing.T) {
	e := setup(t)
	photos := e.lib.Locations["photos"].UUID
	var res struct {
		Entries []abi.Entry `json:"entries"`
	}
	json.Unmarshal(e.must("entries.query", map[string]any{"location": photos, "glob": "**/*.jpg", "kind": "file"}), &res)
	var paths []string
	for _, x := range res.Entries {
		paths = append(paths, x.Path)
		if x.ContentUUID == "" || x.CasID == "" || x.Kind != "file" {
			t.Errorf("entry %+v lacks its content identity", x)
		}
	}
	want := []string{"/data/" + photos + "/2024/a.jpg", "/data/" + photos + "/2024/b.jpg", "/data/" + photos + "/dup.jpg"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths = %v, want %v", paths, want)
	}
	json.Unmarshal(e.must("entries.query", map[string]any{"kind": "dir"}), &res)
	if len(res.Entries) != 1 || !strings.HasSuffix(res.Entries[0].Path, "/2024") {
		t.Errorf("dirs = %+v", res.Entries)
	}
}

func TestContentRead(t *testing.T) {
	e := setup(t)
	a := e.lib.Files["photos/2024/a.jpg"]
	if got := string(e.must("content.read", map[string]any{"entry_id": a.EntryID, "length": 100})); got != `{"data":"anBlZy1h","eof":true}` {
		t.Errorf("read a.jpg = %s", got)
	}
	// dup.jpg has a copy in docs (not granted) and one in photos (granted): the granted one is read.
	dup := e.lib.Files["docs/dup.jpg"]
	if got := string(e.must("content.read", map[string]any{"content_uuid": dup.ContentUUID, "length": 4})); got != `{"data":"c2FtZQ==","eof":true}` {
		t.Errorf("read dup = %s", got)
	}
	for name, f := range map[string]hosttest.File{"notes.txt (glob)": e.lib.Files["photos/notes.txt"], "report.pdf (location)": e.lib.Files["docs/report.pdf"]} {
		_, err := e.call(context.Background(), "content.read", map[string]any{"entry_id": f.EntryID, "length": 10})
		if err == nil || err.Code != abi.CodeCapabilityDenied {
			t.Errorf("%s: %+v", name, err)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE actor = 'dev.test.ext' AND outcome = 'denied' AND action = 'hostcall content.read'`); n != 2 {
		t.Errorf("audit rows = %d, want 2", n)
	}
}

func TestWrites(t *testing.T) {
	e := setup(t)
	a := e.lib.Files["photos/2024/a.jpg"]
	e.must("content.set_type", map[string]any{"content_uuid": a.ContentUUID, "mime": "image/jpeg", "kind": "image"})
	var kind, mime string
	e.lib.Store.SQL().QueryRow(`SELECT k.name, m.name FROM content_identities c JOIN content_kinds k ON k.id = c.kind_id JOIN mime_types m ON m.id = c.mime_id WHERE c.id = ?`, a.ContentID).Scan(&kind, &mime)
	if kind != "image" || mime != "image/jpeg" {
		t.Errorf("type = %s %s", kind, mime)
	}

	for _, v := range []any{1, map[string]any{"stars": 5}} {
		e.must("metadata.set", map[string]any{"target": map[string]any{"content_uuid": a.ContentUUID}, "key": "rating", "value": v})
		e.must("metadata.set", map[string]any{"target": map[string]any{"entry_id": a.EntryID}, "key": "rating", "value": v})
	}
	if n := e.count(`SELECT count(*) FROM user_metadata WHERE namespace = 'dev.test.ext' AND key = 'rating' AND value = '{"stars":5}'`); n != 2 {
		t.Errorf("metadata rows = %d, want 2 (one per target, updated in place)", n)
	}
	if _, err := e.call(context.Background(), "metadata.set", map[string]any{"target": map[string]any{"entry_id": 999999}, "key": "k", "value": 1}); err == nil || err.Code != abi.CodeNotFound {
		t.Errorf("metadata on a missing entry: %+v", err)
	}

	e.must("tags.apply", map[string]any{"target": map[string]any{"content_uuid": a.ContentUUID}, "tag": "sunset", "confidence": 0.5})
	e.must("tags.apply", map[string]any{"target": map[string]any{"content_uuid": a.ContentUUID}, "tag": "sunset", "confidence": 0.9})
	if n := e.count(`SELECT count(*) FROM tag_applications ta JOIN tags t ON t.id = ta.tag_id WHERE t.namespace = 'dev.test.ext' AND t.name = 'sunset' AND ta.confidence = 0.9 AND ta.source = 'dev.test.ext'`); n != 1 {
		t.Errorf("tag applications = %d", n)
	}

	var sc struct{ Path string }
	json.Unmarshal(e.must("sidecar.write", map[string]any{"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "256", "format": "webp", "data": "d2VicA=="}), &sc)
	if b, err := os.ReadFile(filepath.Join(e.lib.Dir, sc.Path)); err != nil || string(b) != "webp" || !strings.HasPrefix(sc.Path, "sidecars/"+a.ContentUUID[:2]+"/"+a.ContentUUID[2:4]+"/") {
		t.Errorf("sidecar at %q: %q %v", sc.Path, b, err)
	}
	if n := e.count(`SELECT count(*) FROM sidecars WHERE content_id = ? AND kind = 'thumb' AND status = 'ready' AND size = 4`, a.ContentID); n != 1 {
		t.Errorf("sidecar rows = %d", n)
	}
	if _, err := e.call(context.Background(), "sidecar.write", map[string]any{"content_uuid": a.ContentUUID, "kind": "ocr", "variant": "x", "format": "txt", "data": ""}); err == nil || err.Code != abi.CodeCapabilityDenied {
		t.Errorf("sidecar of a kind not granted: %+v", err)
	}
	if _, err := e.call(context.Background(), "sidecar.write", map[string]any{"content_uuid": "../../../etc", "kind": "thumb", "variant": "x", "format": "txt", "data": ""}); err == nil || err.Code != abi.CodeInvalidArgument {
		t.Errorf("sidecar with a path for a uuid: %+v", err)
	}

	var act struct{ ID string }
	json.Unmarshal(e.must("action.propose", map[string]any{"kind": "delete", "params": map[string]any{"entry": a.EntryID}, "reason": "duplicate"}), &act)
	if n := e.count(`SELECT count(*) FROM proposed_actions WHERE uuid = ? AND source = 'dev.test.ext' AND status = 'proposed'`, act.ID); n != 1 {
		t.Errorf("proposed actions = %d", n)
	}
}

func TestEvents(t *testing.T) {
	e := setup(t)
	if got := string(e.must("events.poll", map[string]any{})); got != `{"events":[]}` {
		t.Fatalf("first poll = %s", got)
	}
	e.must("events.emit", map[string]any{"type": "dev.test.ext.found", "payload": map[string]any{"n": 1}})
	e.bus.Publish(backend.Event{Source: "kernel", Type: "job.progress", Payload: json.RawMessage(`{}`)})
	var got struct{ Events []abi.Event }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		// delivery is asynchronous (the bus's pump goroutine): wait for it, on a busy machine too
		json.Unmarshal(e.must("events.poll", map[string]any{}), &got)
		if len(got.Events) > 0 {
			break
		}
	}
	if len(got.Events) != 1 || got.Events[0].Type != "dev.test.ext.found" || string(got.Events[0].Payload) != `{"n":1}` {
		t.Errorf("poll = %+v", got.Events)
	}
}

func TestJobCheckpoint(t *testing.T) {
	e := setup(t)
	m := jobs.NewManager(e.lib.Store.SQL())
	ctx := context.Background()
	job, err := m.Create(ctx, "ext.test", "target")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Execute(ctx, job, func(ctx context.Context, r *jobs.Run) error {
		ctx = abi.WithJob(ctx, backend.Job(r, e.lib.Store.SQL()))
		if _, err := e.call(ctx, "job.progress", map[string]any{"done": 3, "total": 10, "phase": "faces"}); err != nil {
			t.Errorf("progress: %+v", err)
		}
		if _, err := e.call(ctx, "job.checkpoint", map[string]any{"state": map[string]any{"after": 42}}); err != nil {
			t.Errorf("checkpoint: %+v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var cp string
	e.lib.Store.SQL().QueryRow(`SELECT checkpoint FROM jobs WHERE id = ?`, job.ID).Scan(&cp)
	if cp != `{"after":42}` {
		t.Errorf("checkpoint = %q", cp)
	}
	if _, err := e.call(ctx, "job.progress", map[string]any{"done": 1}); err == nil || err.Code != abi.CodeUnavailable {
		t.Errorf("progress outside a job: %+v", err)
	}
}

// TestSidecarStoredAsContent: a sidecar.write with storage "content" (ABI 1.1) records a ready
// sidecar that is the content itself: no file, the content's size, the file an earlier write
// made removed; the store reads it back as StorageContent with no library path of its own; a
// later file write turns it back into a file.
func TestSidecarStoredAsContent(t *testing.T) {
	e := setup(t)
	a := e.lib.Files["photos/2024/a.jpg"]
	var first struct{ Path string }
	json.Unmarshal(e.must("sidecar.write", map[string]any{"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "1024", "format": "png", "data": "cG5n"}), &first)
	old := filepath.Join(e.lib.Dir, first.Path)
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the file sidecar: %v", err)
	}

	ok := e.must("sidecar.write", map[string]any{"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "1024", "format": "jpg", "storage": "content"})
	var got struct{ Path, Storage string }
	if err := json.Unmarshal(ok, &got); err != nil || got.Path != "" || got.Storage != "content" {
		t.Errorf("sidecar.write storage content: %s (%v), want {path: \"\", storage: content}", ok, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the former file sidecar %s is still there (%v): a content sidecar keeps no copy", first.Path, err)
	}
	scs, err := e.lib.Store.SidecarsOf(context.Background(), a.ContentID, "thumb")
	if err != nil || len(scs) != 1 {
		t.Fatalf("SidecarsOf: %+v %v", scs, err)
	}
	sc := scs[0]
	if sc.Storage != store.StorageContent || sc.Status != "ready" || sc.Size != a.Size || sc.Format != "jpg" || sc.Checksum != "" || sc.Rel() != "" {
		t.Errorf("record %+v (rel %q): want ready, storage content, size %d, format jpg, no checksum, no rel", sc, sc.Rel(), a.Size)
	}
	if f := sc.File(e.lib.Dir, a.Abs); f != a.Abs {
		t.Errorf("File = %q, want the content's own file %q", f, a.Abs)
	}
	if n := e.count(`SELECT count(*) FROM sidecar_devices sd JOIN sidecars s ON s.id = sd.sidecar_id WHERE s.content_id = ?`, a.ContentID); n != 1 {
		t.Errorf("sidecar_devices rows = %d, want 1", n)
	}

	for name, args := range map[string]map[string]any{
		"data with storage content": {"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "256", "format": "jpg", "storage": "content", "data": "eA=="},
		"unknown storage":           {"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "256", "format": "jpg", "storage": "elsewhere"},
	} {
		if _, err := e.call(context.Background(), "sidecar.write", args); err == nil || err.Code != abi.CodeInvalidArgument {
			t.Errorf("%s: %+v, want invalid_argument", name, err)
		}
	}

	var again struct{ Path string }
	json.Unmarshal(e.must("sidecar.write", map[string]any{"content_uuid": a.ContentUUID, "kind": "thumb", "variant": "1024", "format": "jpg", "data": "anBn"}), &again)
	scs, _ = e.lib.Store.SidecarsOf(context.Background(), a.ContentID, "thumb")
	if len(scs) != 1 || scs[0].Storage != store.StorageFile || scs[0].Size != 3 || scs[0].Rel() != again.Path || scs[0].File(e.lib.Dir, a.Abs) != filepath.Join(e.lib.Dir, again.Path) {
		t.Errorf("after a file write: %+v, path %q", scs, again.Path)
	}
}
