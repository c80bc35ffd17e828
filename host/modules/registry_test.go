package modules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// fakeExt answers one export with a fixed output and records the input.
type fakeExt struct {
	id      string
	exports map[string]string
	got     []byte
}

func (f *fakeExt) ID() string                 { return f.id }
func (f *fakeExt) HasExport(name string) bool { _, ok := f.exports[name]; return ok }
func (f *fakeExt) Call(_ context.Context, export string, in []byte) ([]byte, error) {
	f.got = in
	out, ok := f.exports[export]
	if !ok {
		return nil, errors.New("no export " + export)
	}
	return []byte(out), nil
}

type mapper map[string]string

func (m mapper) GuestPath(abs string) (string, bool) { p, ok := m[abs]; return p, ok }

func helloManifest(id string) *manifest.Manifest {
	return &manifest.Manifest{ID: id, Contributes: manifest.Contributions{
		Stages:   []manifest.Stage{{ID: "stage.hello", Export: "hello", Version: 1}},
		Sidecars: []manifest.Sidecar{{Kind: "thumb", Export: "thumb"}},
	}}
}

// TestStageGolden runs schemas/hostabi/testdata/stage-batch.json through ExtStage: the input it
// sends must be the golden input, and the golden output must become the pipeline outcomes.
func TestStageGolden(t *testing.T) {
	raw, err := os.ReadFile("../../schemas/hostabi/testdata/stage-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Input, Output json.RawMessage }
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	f := &fakeExt{id: "dev.example.hello", exports: map[string]string{"hello": string(g.Output), "thumb": "{}"}}
	var applied []string
	r := New()
	_, err = r.AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM,
		Paths: mapper{"/home/ann/a/hello.txt": "/data/a/hello.txt"},
		ApplyData: func(ext, stage string, contentID int64, data json.RawMessage) func(context.Context, *sql.Tx) error {
			return func(context.Context, *sql.Tx) error {
				applied = append(applied, ext+" "+stage+" "+string(data))
				return nil
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Stage("stage.hello")
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Process(context.Background(), []pipeline.Item{{ContentID: 7, ContentUUID: "5b1a6c6e-0e0d-5f3a-9a59-0d2a4ad3c0e1",
		CasID: "af1349b9f5f9a1a6", Size: 5, Path: "/home/ann/a/hello.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(f.got, &a)
	json.Unmarshal(g.Input, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("stage input = %s\nwant          %s", f.got, g.Input)
	}
	if len(out) != 1 || out[0].Err != nil || out[0].Apply == nil {
		t.Fatalf("outcomes = %+v", out)
	}
	out[0].Apply(context.Background(), nil)
	if len(applied) != 1 || applied[0] != `dev.example.hello stage.hello {"words": 1}` {
		t.Errorf("applied = %q", applied)
	}
}

func TestStageOutcomeChecks(t *testing.T) {
	items := []pipeline.Item{{ContentUUID: "a", Path: "/x/a"}, {ContentUUID: "b", Path: "/x/b"}}
	for name, c := range map[string]struct {
		out, err string
	}{
		"per-item error":  {out: `{"outcomes":[{"content_uuid":"a","error":"bad file"},{"content_uuid":"b"}]}`},
		"too few":         {out: `{"outcomes":[{"content_uuid":"a"}]}`, err: "answered 1 outcomes for 2 items"},
		"wrong order":     {out: `{"outcomes":[{"content_uuid":"b"},{"content_uuid":"a"}]}`, err: "one outcome per item, in order"},
		"not json":        {out: `nope`, err: "malformed JSON"},
		"missing outcome": {out: `{}`, err: "answered 0 outcomes"},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeExt{id: "dev.test.x", exports: map[string]string{"hello": c.out, "thumb": "{}"}}
			r := New()
			if _, err := r.AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM}); err != nil {
				t.Fatal(err)
			}
			st, _ := r.Stage("stage.hello")
			out, err := st.Process(context.Background(), items)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || out[0].Err == nil || out[0].Err.Error() != "bad file" || out[1].Err != nil {
				t.Fatalf("outcomes = %+v, %v", out, err)
			}
		})
	}
}

type builtinStage struct{ id string }

func (s builtinStage) ID() string   { return s.id }
func (s builtinStage) Version() int { return 1 }
func (s builtinStage) Process(context.Context, []pipeline.Item) ([]pipeline.Outcome, error) {
	return nil, nil
}

func TestDuplicatesFailLoudly(t *testing.T) {
	r := New()
	r.MustRegister(Info{ID: "stage.hello", Kind: Builtin, Module: builtinStage{"stage.hello"}})
	f := &fakeExt{id: "dev.test.x", exports: map[string]string{"hello": "", "thumb": ""}}
	_, err := r.AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM})
	if !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), "built-in (builtin)") || !strings.Contains(err.Error(), "wasm extension dev.test.x") {
		t.Fatalf("err = %v", err)
	}
	// All or nothing: the sidecar the extension also contributes was not registered.
	if _, ok := r.Get("sidecar.thumb"); ok {
		t.Error("a module of a refused extension was registered")
	}
	if err := r.Register(Info{ID: "stage.hello", Kind: Builtin, Module: builtinStage{"stage.hello"}}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second built-in: %v", err)
	}
	if err := r.Register(Info{ID: "hello", Kind: Builtin, Module: builtinStage{"hello"}}); err == nil {
		t.Error("an id without a namespace was accepted")
	}
	if err := r.Register(Info{ID: "loader.x", Kind: Builtin, Module: builtinStage{"loader.x"}}); err == nil {
		t.Error("a stage registered as a loader was accepted")
	}

	r.Unregister("stage.hello")
	ids, err := r.AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM})
	if err != nil || strings.Join(ids, ",") != "stage.hello,sidecar.thumb" {
		t.Fatalf("ids = %v, %v", ids, err)
	}
	g := &fakeExt{id: "dev.test.y", exports: f.exports}
	if _, err := r.AddExtension(Extension{Caller: g, Manifest: helloManifest(g.id), Kind: Process}); !errors.Is(err, ErrDuplicate) ||
		!strings.Contains(err.Error(), "dev.test.x") || !strings.Contains(err.Error(), "dev.test.y") {
		t.Fatalf("second extension: %v", err)
	}
	if got := r.RemoveExtension("dev.test.x"); len(got) != 2 {
		t.Errorf("removed %v", got)
	}
	if len(r.List("")) != 0 {
		t.Errorf("left %v", r.List(""))
	}
}

func TestMissingExport(t *testing.T) {
	f := &fakeExt{id: "dev.test.x", exports: map[string]string{"thumb": ""}}
	if _, err := New().AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM}); err == nil || !strings.Contains(err.Error(), `"hello"`) {
		t.Fatalf("err = %v", err)
	}
}

// deadlineExt is a Caller whose every call ran past its deadline.
type deadlineExt struct{ fakeExt }

func (f *deadlineExt) Call(context.Context, string, []byte) ([]byte, error) {
	return nil, fmt.Errorf("calling %s: %w", f.id, ext.ErrDeadline)
}

// TestStageDeadlineIsMarked: a stage call stopped at its deadline reaches the runner as
// pipeline.ErrStageDeadline, so the runner isolates the hanging file with one call per item
// instead of halving (one deadline per level).
func TestStageDeadlineIsMarked(t *testing.T) {
	f := &deadlineExt{fakeExt{id: "dev.test.x", exports: map[string]string{"hello": "", "thumb": "{}"}}}
	r := New()
	if _, err := r.AddExtension(Extension{Caller: f, Manifest: helloManifest(f.id), Kind: WASM}); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Stage("stage.hello")
	_, err := st.Process(context.Background(), []pipeline.Item{{ContentUUID: "a", Path: "/x/a"}})
	if !errors.Is(err, pipeline.ErrStageDeadline) || !errors.Is(err, ext.ErrDeadline) {
		t.Fatalf("a call past its deadline: %v; want pipeline.ErrStageDeadline", err)
	}
}
