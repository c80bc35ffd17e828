package exttest_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// TestGood runs the whole suite on a well-behaved extension that calls most
// of ABI v1 through sdk/cairn, in a real Extism host: the end-to-end test of
// sdk/cairn's host calls as well as of the harness.
func TestGood(t *testing.T) {
	exttest.Run(t, "testdata/good", exttest.Options{
		Config: json.RawMessage(`{"tag":"prose"}`),
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			st := g.Fake.State()
			switch g.ID {
			case "stage.good":
				if len(g.Items) != 7 { // the fixture's text files
					r.Errorf("golden batch has %d items, want the 7 text files", len(g.Items))
				}
				for i, it := range g.Items {
					o := g.Outcomes[i]
					if o.Error != "" {
						r.Errorf("%s: %s", it.Name, o.Error)
						continue
					}
					var d struct{ Bytes, Notes int }
					json.Unmarshal(o.Data, &d)
					if d.Bytes != int(it.Size) || d.Notes != 4 {
						r.Errorf("%s: data %s, want %d bytes and the 4 files under notes/", it.Name, o.Data, it.Size)
					}
					mk := exttest.MetaKey{Namespace: "dev.cairn.exttest.good", Target: "content:" + it.ContentUUID, Key: "bytes"}
					if got := string(st.Metadata[mk]); got != itoa(it.Size) {
						r.Errorf("%s: metadata bytes = %q, want %d", it.Name, got, it.Size)
					}
					if string(st.KV["seen/"+it.ContentUUID]) != it.Name {
						r.Errorf("%s: kv not set", it.Name)
					}
				}
				if len(st.Tags) != 7 || st.Tags[0].Tag != "prose" { // the config reached cairn_init
					r.Errorf("tags = %+v, want 7 tags \"prose\"", st.Tags)
				}
				if len(st.Emitted) != 1 || string(st.Emitted[0].Payload) != `{"items":7}` || len(st.Progress) != 1 {
					r.Errorf("events %+v, progress %+v", st.Emitted, st.Progress)
				}
			case "sidecar.preview":
				if len(st.Sidecars) != len(g.Items) {
					r.Errorf("%d sidecars for %d items", len(st.Sidecars), len(g.Items))
				}
			case "loader.good":
				if len(g.Types) != 4 { // hello.txt and three notes/*.txt
					r.Errorf("types = %+v, want the 4 .txt files", g.Types)
				}
			}
		},
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestQueriesThroughRealHost calls the good extension's queries in a real
// Extism host: a denied host call comes back to the guest as a typed error,
// and kv state persists across calls.
func TestQueriesThroughRealHost(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "good.wasm")
	if err := exttest.Build(t.Context(), "testdata/good", ".", module); err != nil {
		t.Fatal(err)
	}
	m, err := exttest.LoadManifest("testdata/good/cairn.toml")
	if err != nil {
		t.Fatal(err)
	}
	s, closeFn, err := exttest.Load(t.Context(), m, module, dir, exttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	inst, err := s.Runtime.Instance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(t.Context())
	init := `{"abi":"1.0","extension":"dev.cairn.exttest.good","config":{}}`
	if out, err := inst.Call(t.Context(), "cairn_init", []byte(init)); err != nil || string(out) != "{}" {
		t.Fatalf("cairn_init: %s, %v", out, err)
	}
	out, err := inst.Call(t.Context(), "query_probe", []byte(`{"args":{}}`))
	want := `{"code":"capability_denied","denied":true,"error":"cairn: content.set_type: capability_denied: dev.cairn.exttest.good: content.type is not granted (requested: no; granted: no)"}`
	if err != nil || string(out) != want {
		t.Errorf("query_probe = %s, %v\nwant          %s", out, err, want)
	}
	batch, _ := json.Marshal(map[string]any{"stage": "stage.good", "version": 1, "items": s.Items[:3]})
	if _, err := inst.Call(t.Context(), "stage_good", batch); err != nil {
		t.Fatal(err)
	}
	if out, err := inst.Call(t.Context(), "query_seen", []byte(`{"args":{}}`)); err != nil || string(out) != `{"seen":"3"}` {
		t.Errorf("query_seen = %s, %v", out, err)
	}
	if _, err := inst.Call(t.Context(), "stage_good", []byte(`{"stage":"stage.other","items":[]}`)); err == nil ||
		!strings.Contains(err.Error(), "the host sent a batch for stage.other") {
		t.Errorf("a batch for another stage: %v", err)
	}
}

// TestBad: the suite catches every rule the bad extension breaks, and only
// those.
func TestBad(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "bad.wasm")
	if err := exttest.Build(t.Context(), "testdata/bad", ".", module); err != nil {
		t.Fatal(err)
	}
	m, err := exttest.LoadManifest("testdata/bad/cairn.toml")
	if err != nil {
		t.Fatal(err)
	}
	s, closeFn, err := exttest.Load(t.Context(), m, module, dir, exttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	rep := exttest.Evaluate(context.Background(), s, exttest.Options{})
	t.Logf("report:\n%s", rep)
	want := []string{"exports", "stage.bad/golden", "stage.bad/malformed", "stage.bad/capabilities",
		"stage.bad/deterministic", "stage.bad/memory"}
	if got := rep.Failed(); !slices.Equal(got, want) {
		t.Errorf("failed checks = %q\nwant            %q", got, want)
	}
	for name, substr := range map[string]string{
		"exports":                 `"query_missing"`,
		"stage.bad/golden":        "8 outcomes for 9 items",
		"stage.bad/malformed":     "trapped the instance",
		"stage.bad/capabilities":  `called tags.apply`,
		"stage.bad/deterministic": "second call on the same instance",
		"stage.bad/memory":        "grew from",
	} {
		c := rep.Check(name)
		if c == nil || !strings.Contains(strings.Join(c.Errors, "\n"), substr) {
			t.Errorf("%s: errors do not mention %q", name, substr)
		}
	}
	if c := rep.Check("stage.bad/deadline"); c == nil || !strings.Contains(strings.Join(c.Logs, "\n"), "stopped by its") {
		t.Errorf("deadline: the spinning call was not reported stopped: %+v", c)
	}
}

// TestManifestCheck: the manifest check fails an ABI range without the SDK's version, an
// extension that contributes nothing, and an invalid manifest.
func TestManifestCheck(t *testing.T) {
	m := &manifest.Manifest{ID: "dev.x.y", Name: "y", Version: "1.0.0", ABI: ">=2.0", Kind: "wasm",
		Entry: manifest.Entry{File: "y.wasm"}}
	rep := exttest.Evaluate(context.Background(), exttest.Subject{Manifest: m}, exttest.Options{})
	c := rep.Check("manifest")
	if c == nil || len(c.Errors) != 2 || !strings.Contains(c.Errors[0], "does not admit ABI "+cairn.ABIVersion) ||
		!strings.Contains(c.Errors[1], "contributes nothing") {
		t.Errorf("manifest check: %+v", c)
	}
	m.Version = "one"
	if c := exttest.Evaluate(context.Background(), exttest.Subject{Manifest: m}, exttest.Options{}).Check("manifest"); c == nil || !c.Failed() {
		t.Errorf("an invalid manifest passed")
	}
}

func fakeFor(t *testing.T, toml string, opts exttest.Options) *exttest.Fake {
	t.Helper()
	m, err := manifest.Parse([]byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	f, err := exttest.NewFake(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.Install(t)
	return f
}

const head = `id = "dev.x.fake"
name = "fake"
version = "1.0.0"
abi = "^1.0"
kind = "wasm"
[entry]
file = "f.wasm"
[[contributes.stages]]
id = "stage.f"
export = "f"
version = 1
`

// TestFakeCapabilities drives the fake natively through sdk/cairn.
func TestFakeCapabilities(t *testing.T) {
	f := fakeFor(t, head+`
[capabilities]
"kv" = {}
"entries.read" = { globs = ["notes/*.txt"] }
"content.read" = { globs = ["**/*.md"] }
"sidecars.write" = { kinds = ["thumb"] }
"events.emit" = {}
"events.subscribe" = { types = ["dev.cairn.index.*"] }
"metadata.write" = { namespace = "shared" }
`, exttest.Options{Events: []cairn.Event{
		{Type: "dev.cairn.index.done", Payload: json.RawMessage(`{"n":1}`)},
		{Type: "dev.other.thing", Payload: json.RawMessage(`{}`)},
	}})
	items := f.Items()
	byName := map[string]cairn.Item{}
	for _, it := range items {
		byName[it.Name] = it
	}

	// Not requested at all.
	if err := cairn.ApplyTag(cairn.EntryTarget(1), "x", 1); !cairn.IsDenied(err) ||
		!strings.Contains(err.Error(), "tags.write is not granted (requested: no; granted: no)") {
		t.Errorf("tags.apply: %v", err)
	}
	// Scoped: entries.read sees notes/*.txt only.
	var names []string
	for e, err := range cairn.QueryEntries(cairn.EntryQuery{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name)
	}
	if want := []string{"empty.txt", "no-newline.txt", "unicode.txt"}; !slices.Equal(names, want) {
		t.Errorf("entries = %q, want %q", names, want)
	}
	// content.read covers **/*.md only.
	if d, eof, err := cairn.ReadContent(cairn.ContentTarget(byName["poem.md"].ContentUUID), 2, 5); err != nil || string(d) != "Cairn" || eof {
		t.Errorf("content.read poem.md = %q, %v, %v", d, eof, err)
	}
	if _, _, err := cairn.ReadContent(cairn.ContentTarget(byName["hello.txt"].ContentUUID), 0, 5); !cairn.IsDenied(err) {
		t.Errorf("content.read hello.txt: %v, want denied", err)
	}
	if _, _, err := cairn.ReadContent(cairn.ContentTarget("nope"), 0, 5); !cairn.IsNotFound(err) {
		t.Errorf("content.read of a missing content: %v", err)
	}
	if _, _, err := cairn.ReadContent(cairn.ContentTarget(byName["poem.md"].ContentUUID), 0, 5<<20); !cairn.IsLimitExceeded(err) {
		t.Errorf("content.read over 4 MiB: %v", err)
	}
	// sidecars.write kinds.
	if p, err := cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: "u", Kind: "thumb", Variant: "256", Format: "webp", Data: []byte{1}}); err != nil || p != "sidecars/u/thumb/256.webp" {
		t.Errorf("sidecar thumb: %q, %v", p, err)
	}
	if _, err := cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: "u", Kind: "ocr", Variant: "a", Format: "txt"}); !cairn.IsDenied(err) {
		t.Errorf("sidecar ocr: %v, want denied", err)
	}
	// events.emit defaults to the extension's own types.
	if err := cairn.Emit("dev.x.fake.done", nil); err != nil {
		t.Errorf("emit own type: %v", err)
	}
	if err := cairn.Emit("dev.cairn.index.done", nil); !cairn.IsDenied(err) {
		t.Errorf("emit another's type: %v, want denied", err)
	}
	ev, err := cairn.PollEvents(0)
	if err != nil || len(ev) != 1 || ev[0].Type != "dev.cairn.index.done" {
		t.Errorf("poll = %+v, %v", ev, err)
	}
	// kv and its limits.
	for _, k := range []string{"b", "a", "c"} {
		if err := cairn.KVSet(k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for k, err := range cairn.KVKeys("") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Errorf("keys = %q", keys)
	}
	if err := cairn.KVSet(strings.Repeat("k", 513), nil); !cairn.IsInvalidArgument(err) {
		t.Errorf("long key: %v", err)
	}
	if err := cairn.KVSet("big", make([]byte, 1<<20+1)); !cairn.IsLimitExceeded(err) {
		t.Errorf("big value: %v", err)
	}
	if _, _, err := cairn.KVList("", "", 1001); !cairn.IsInvalidArgument(err) {
		t.Errorf("limit 1001: %v", err)
	}
	// metadata goes to the requested namespace.
	if err := cairn.SetMetadata(cairn.EntryTarget(3), "k", []int{1}); err != nil {
		t.Fatal(err)
	}
	if err := cairn.SetMetadata(cairn.Target{}, "k", 1); !cairn.IsInvalidArgument(err) {
		t.Errorf("metadata without a target: %v", err)
	}
	st := f.State()
	if got := string(st.Metadata[exttest.MetaKey{Namespace: "shared", Target: "entry:3", Key: "k"}]); got != "[1]" {
		t.Errorf("metadata = %v", st.Metadata)
	}
	if d := f.Denials(); len(d) != 4 {
		t.Errorf("denials = %d, want 4: %+v", len(d), d)
	}
	// Garbage requests never panic.
	for req, code := range map[string]string{
		`nonsense`:                          cairn.CodeInvalidArgument,
		`{"fn":"fs.delete","args":{}}`:      cairn.CodeUnknownFunction,
		`{"fn":"kv.get","args":[1]}`:        cairn.CodeInvalidArgument,
		`{"fn":"log","args":{"level":"x"}}`: cairn.CodeInvalidArgument,
	} {
		var resp struct{ Error *cairn.Error }
		if err := json.Unmarshal(f.Handle([]byte(req)), &resp); err != nil || resp.Error == nil || resp.Error.Code != code {
			t.Errorf("%s: %+v, %v; want %s", req, resp.Error, err, code)
		}
	}
	f.Reset()
	if len(f.Calls()) != 0 || len(f.State().KV) != 0 || len(f.State().Pending) != 2 {
		t.Errorf("Reset kept state")
	}
}

// TestFakeGrant: the user's grant narrows what the manifest requests.
func TestFakeGrant(t *testing.T) {
	f := fakeFor(t, head+`
[capabilities]
"kv" = {}
"content.read" = {}
"jobs.dispatch" = {}
"actions.propose" = {}
`, exttest.Options{Grant: map[string]manifest.Scope{"content.read": {Globs: []string{"notes/**"}}, "actions.propose": {}}})
	if err := cairn.KVSet("a", nil); !cairn.IsDenied(err) || !strings.Contains(err.Error(), "(requested: yes; granted: no)") {
		t.Errorf("kv not granted: %v", err)
	}
	if f.Mounted("hello.txt") || !f.Mounted("notes/poem.md") {
		t.Errorf("mount does not follow the grant")
	}
	if id, err := cairn.ProposeAction("move", map[string]string{"to": "x"}, "tidy"); err != nil || id != "action-1" {
		t.Errorf("propose: %q, %v", id, err)
	}
	if _, err := cairn.ProposeAction("move", nil, ""); !cairn.IsInvalidArgument(err) {
		t.Errorf("propose without a reason: %v", err)
	}
}

func TestScanFiles(t *testing.T) {
	files, err := exttest.ScanFiles(exttest.DefaultFiles())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := exttest.ScanFiles(exttest.DefaultFiles())
	if !slices.EqualFunc(files, again, func(a, b exttest.File) bool { return a == b }) {
		t.Error("ScanFiles is not deterministic")
	}
	items := exttest.Items(files)
	kinds := map[string]int{}
	for _, it := range items {
		kinds[it.Kind]++
		if !strings.HasPrefix(it.Path, "/data/") || len(it.ContentUUID) != 36 || it.CasID == "" {
			t.Errorf("item %+v", it)
		}
	}
	if len(items) != 9 || kinds["text"] != 7 || kinds["image"] != 1 || kinds["binary"] != 1 {
		t.Errorf("%d items, kinds %v", len(items), kinds)
	}
}
