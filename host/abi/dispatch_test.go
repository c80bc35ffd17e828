package abi

import (
	"context"
	"encoding/json"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// fake is an in-memory backend for every area. Its Entries ignores the query's location filter
// on purpose, to show that the dispatcher's own scope filter holds.
type fake struct {
	mu       sync.Mutex
	kv       map[string][]byte
	entries  []Entry
	copies   map[string][]FileRef
	audit    []AuditRecord
	events   []Event
	sidecars []Sidecar
}

func newFake() *fake { return &fake{kv: map[string][]byte{}, copies: map[string][]FileRef{}} }

func (f *fake) KVGet(_ context.Context, ext, key string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.kv[ext+"\x00"+key]
	return v, ok, nil
}
func (f *fake) KVSet(_ context.Context, ext, key string, v []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kv[ext+"\x00"+key] = v
	return nil
}
func (f *fake) KVDelete(_ context.Context, ext, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.kv, ext+"\x00"+key)
	return nil
}
func (f *fake) KVList(_ context.Context, ext, prefix, after string, limit int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.kv {
		e, key, _ := strings.Cut(k, "\x00")
		if e == ext && strings.HasPrefix(key, prefix) && key > after {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
func (f *fake) Entries(_ context.Context, q EntryQuery) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, e := range f.entries {
			if e.ID > q.After && !yield(e, nil) {
				return
			}
		}
	}
}
func (f *fake) Copies(_ context.Context, ref ContentRef) ([]FileRef, error) {
	c, ok := f.copies[ref.ContentUUID]
	if !ok {
		return nil, ErrNotFound
	}
	return c, nil
}
func (f *fake) SetType(context.Context, string, string, string) error { return nil }
func (f *fake) Audit(_ context.Context, r AuditRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, r)
	return nil
}
func (f *fake) Emit(_ context.Context, ext, typ string, p json.RawMessage) error {
	f.events = append(f.events, Event{Type: typ, Payload: p})
	return nil
}
func (f *fake) Poll(_ context.Context, ext string, types []string, max int) ([]Event, error) {
	return f.events, nil // every event, whatever the types: the dispatcher filters
}

// WriteSidecar records s; a StorageContent sidecar has no path of its own.
func (f *fake) WriteSidecar(_ context.Context, ext string, s Sidecar) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sidecars = append(f.sidecars, s)
	if s.Storage == StorageContent {
		return "", nil
	}
	return "sidecars/" + s.ContentUUID + "/" + s.Kind + "/" + s.Variant + "." + s.Format, nil
}

func backends(f *fake) Backends {
	return Backends{KV: f, Entries: f, Content: f, Audit: f, Events: f, Sidecars: f}
}

func caller(t *testing.T, id string, req map[string]manifest.Scope, grant capability.Grant, o CallerOptions) *Caller {
	t.Helper()
	caps, err := capability.Effective(&manifest.Manifest{ID: id, Capabilities: req}, grant)
	if err != nil {
		t.Fatal(err)
	}
	return NewCaller(caps, o)
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("../../schemas/hostabi/testdata/*.json")
	ran := 0
	for _, p := range files {
		raw, _ := os.ReadFile(p)
		var g struct {
			Request  json.RawMessage `json:"request"`
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if g.Request == nil {
			continue // not a host call (e.g. an export's input/output)
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			ran++
			f := newFake()
			d := NewDispatcher(backends(f), nil)
			// dev.example.hello asks for kv and text sidecars (and is granted them).
			c := caller(t, "dev.example.hello", map[string]manifest.Scope{"kv": {}, "sidecars.write": {Kinds: []string{"text"}}},
				capability.Grant{"kv": {}, "sidecars.write": {}}, CallerOptions{})
			got := d.Handle(context.Background(), c, g.Request)
			if !jsonEqual(t, got, g.Response) {
				t.Errorf("response = %s\nwant       %s", got, g.Response)
			}
		})
	}
	if ran < 2 {
		t.Fatalf("ran %d golden host calls, want ≥ 2", ran)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// call runs one request and decodes the response.
func call(t *testing.T, d *Dispatcher, c *Caller, fn string, args any) (json.RawMessage, *Error) {
	t.Helper()
	a, _ := json.Marshal(args)
	req, _ := json.Marshal(Request{Fn: fn, Args: a})
	var r struct {
		OK    json.RawMessage `json:"ok"`
		Error *Error          `json:"error"`
	}
	if err := json.Unmarshal(d.Handle(context.Background(), c, req), &r); err != nil {
		t.Fatal(err)
	}
	return r.OK, r.Error
}

func TestDenialIsAuditedAndCounted(t *testing.T) {
	f := newFake()
	d := NewDispatcher(backends(f), nil)
	c := caller(t, "dev.test.a", nil, nil, CallerOptions{})
	_, e := call(t, d, c, "kv.set", map[string]any{"key": "k", "value": "AA=="})
	if e == nil || e.Code != CodeCapabilityDenied || e.Message != "dev.test.a: kv is not granted (requested: no; granted: no)" {
		t.Fatalf("error = %+v", e)
	}
	if c.Stats().Denied != 1 || d.Denied() != 1 {
		t.Errorf("denials: caller %d, dispatcher %d", c.Stats().Denied, d.Denied())
	}
	if len(f.audit) != 1 || f.audit[0].Actor != "dev.test.a" || f.audit[0].Action != "hostcall kv.set" || f.audit[0].Outcome != "denied" ||
		!strings.Contains(f.audit[0].Detail, `"key":"k"`) {
		t.Errorf("audit = %+v", f.audit)
	}
}

func TestUnknownFunctionAndBadRequests(t *testing.T) {
	d := NewDispatcher(backends(newFake()), nil)
	c := caller(t, "dev.test.a", map[string]manifest.Scope{"kv": {}}, capability.Grant{"kv": {}}, CallerOptions{})
	if _, e := call(t, d, c, "fs.delete_everything", nil); e == nil || e.Code != CodeUnknownFunction {
		t.Errorf("unknown fn: %+v", e)
	}
	if got := string(d.Handle(context.Background(), c, []byte("not json"))); !strings.Contains(got, CodeInvalidArgument) {
		t.Errorf("not json: %s", got)
	}
	if _, e := call(t, d, c, "kv.set", map[string]any{"key": strings.Repeat("k", 513), "value": ""}); e == nil || e.Code != CodeInvalidArgument {
		t.Errorf("long key: %+v", e)
	}
	if _, e := call(t, d, c, "kv.set", map[string]any{"key": "k", "value": "not base64!"}); e == nil || e.Code != CodeInvalidArgument {
		t.Errorf("bad base64: %+v", e)
	}
	if _, e := call(t, d, c, "log", map[string]any{"level": "loud", "msg": "x"}); e == nil || e.Code != CodeInvalidArgument {
		t.Errorf("bad level: %+v", e)
	}
}

func TestRateLimit(t *testing.T) {
	d := NewDispatcher(backends(newFake()), nil)
	c := caller(t, "dev.test.a", nil, nil, CallerOptions{Rate: 1, Burst: 3})
	now := time.Unix(1000, 0)
	c.limiter.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if _, e := call(t, d, c, "config.get", nil); e != nil {
			t.Fatalf("call %d: %+v", i, e)
		}
	}
	if _, e := call(t, d, c, "config.get", nil); e == nil || e.Code != CodeLimitExceeded {
		t.Fatalf("4th call: %+v", e)
	}
	now = now.Add(time.Second)
	if _, e := call(t, d, c, "config.get", nil); e != nil {
		t.Fatalf("after a second: %+v", e)
	}
	if c.Stats().Limited != 1 {
		t.Errorf("limited = %d", c.Stats().Limited)
	}
}

func TestKVList(t *testing.T) {
	d := NewDispatcher(backends(newFake()), nil)
	c := caller(t, "dev.test.a", map[string]manifest.Scope{"kv": {}}, capability.Grant{"kv": {}}, CallerOptions{})
	other := caller(t, "dev.test.b", map[string]manifest.Scope{"kv": {}}, capability.Grant{"kv": {}}, CallerOptions{})
	for _, k := range []string{"a1", "a2", "a3", "b1"} {
		call(t, d, c, "kv.set", map[string]any{"key": k, "value": "AA=="})
	}
	call(t, d, other, "kv.set", map[string]any{"key": "a9", "value": "AA=="})
	ok, e := call(t, d, c, "kv.list", map[string]any{"prefix": "a", "limit": 2})
	if e != nil || string(ok) != `{"keys":["a1","a2"],"next":"a2"}` {
		t.Fatalf("page 1 = %s %+v", ok, e)
	}
	ok, _ = call(t, d, c, "kv.list", map[string]any{"prefix": "a", "limit": 2, "after": "a2"})
	if string(ok) != `{"keys":["a3"]}` {
		t.Fatalf("page 2 = %s", ok)
	}
	ok, _ = call(t, d, c, "kv.get", map[string]any{"key": "zz"})
	if string(ok) != `{"value":null}` {
		t.Fatalf("missing key = %s", ok)
	}
}

func TestEntriesScope(t *testing.T) {
	f := newFake()
	f.entries = []Entry{
		{ID: 1, Location: "L1", Rel: "a.jpg", Name: "a.jpg", Kind: "file"},
		{ID: 2, Location: "L1", Rel: "b.txt", Name: "b.txt", Kind: "file"},
		{ID: 3, Location: "L2", Rel: "c.jpg", Name: "c.jpg", Kind: "file"},
		{ID: 4, Location: "L1", Rel: "d/e.jpg", Name: "e.jpg", Kind: "file"},
	}
	d := NewDispatcher(backends(f), nil)
	c := caller(t, "dev.test.a", map[string]manifest.Scope{"entries.read": {Globs: []string{"**/*.jpg"}}},
		capability.Grant{"entries.read": {Locations: []string{"L1"}}}, CallerOptions{})
	ok, e := call(t, d, c, "entries.query", map[string]any{})
	if e != nil {
		t.Fatal(e)
	}
	var res struct {
		Entries []Entry
		Next    *int64
	}
	json.Unmarshal(ok, &res)
	if len(res.Entries) != 2 || res.Entries[0].Path != "/data/L1/a.jpg" || res.Entries[1].Path != "/data/L1/d/e.jpg" || res.Next != nil {
		t.Fatalf("entries = %s", ok)
	}
	ok, _ = call(t, d, c, "entries.query", map[string]any{"limit": 1})
	json.Unmarshal(ok, &res)
	if len(res.Entries) != 1 || res.Next == nil || *res.Next != 1 {
		t.Fatalf("limit 1 = %s", ok)
	}
	if _, e := call(t, d, c, "entries.query", map[string]any{"location": "L2"}); e == nil || e.Code != CodeCapabilityDenied {
		t.Fatalf("location L2: %+v", e)
	}
}

func TestContentReadScope(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pub"), 0o755)
	os.WriteFile(filepath.Join(dir, "pub", "a.jpg"), []byte("0123456789"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.jpg"), []byte("secret"), 0o644)
	f := newFake()
	f.copies["C-pub"] = []FileRef{{Location: "L1", Rel: "pub/a.jpg", Size: 10}}
	f.copies["C-secret"] = []FileRef{{Location: "L1", Rel: "secret.jpg", Size: 6}}
	d := NewDispatcher(backends(f), nil)
	caps, _ := capability.Effective(&manifest.Manifest{ID: "dev.test.a", Capabilities: map[string]manifest.Scope{"content.read": {}}},
		capability.Grant{"content.read": {Locations: []string{"L1"}, Globs: []string{"pub/**"}}})
	files := datafs.New(caps.Files(capability.ContentRead), []datafs.Location{{UUID: "L1", Path: dir}})
	c := NewCaller(caps, CallerOptions{Files: files})

	ok, e := call(t, d, c, "content.read", map[string]any{"content_uuid": "C-pub", "offset": 3, "length": 4})
	if e != nil || string(ok) != `{"data":"MzQ1Ng==","eof":false}` {
		t.Fatalf("read = %s %+v", ok, e)
	}
	ok, _ = call(t, d, c, "content.read", map[string]any{"content_uuid": "C-pub", "offset": 8, "length": 4096})
	if string(ok) != `{"data":"ODk=","eof":true}` {
		t.Fatalf("read to end = %s", ok)
	}
	// Outside the scope and not in the library at all get the same answer, naming only the
	// argument (TestHostileContentReadOracle in host checks it on a real library).
	_, secret := call(t, d, c, "content.read", map[string]any{"content_uuid": "C-secret", "length": 6})
	if secret == nil || secret.Code != CodeCapabilityDenied || strings.Contains(secret.Message, "secret.jpg") ||
		secret.Message != "dev.test.a: content.read does not cover content C-secret (no local copy of it in the granted locations and globs)" {
		t.Fatalf("secret: %+v", secret)
	}
	if _, e := call(t, d, c, "content.read", map[string]any{"content_uuid": "C-pub", "length": MaxContentRead + 1}); e == nil || e.Code != CodeLimitExceeded {
		t.Fatalf("over 4 MiB: %+v", e)
	}
	_, nope := call(t, d, c, "content.read", map[string]any{"content_uuid": "C-secret-nope", "length": 6})
	if nope == nil || nope.Code != secret.Code || nope.Message != strings.Replace(secret.Message, "C-secret", "C-secret-nope", 1) {
		t.Fatalf("unknown content: %+v, want the answer of an existing one outside the scope", nope)
	}
}

func TestEventsScope(t *testing.T) {
	f := newFake()
	d := NewDispatcher(backends(f), nil)
	c := caller(t, "dev.test.a", map[string]manifest.Scope{"events.emit": {}, "events.subscribe": {Types: []string{"dev.test.*"}}},
		capability.Grant{"events.emit": {}, "events.subscribe": {}}, CallerOptions{})
	if _, e := call(t, d, c, "events.emit", map[string]any{"type": "dev.test.a.done", "payload": map[string]any{"n": 1}}); e != nil {
		t.Fatal(e)
	}
	if _, e := call(t, d, c, "events.emit", map[string]any{"type": "job.progress", "payload": map[string]any{}}); e == nil || e.Code != CodeCapabilityDenied {
		t.Fatalf("emit job.progress: %+v", e)
	}
	f.events = append(f.events, Event{Type: "secret.kernel", Payload: json.RawMessage(`{}`)})
	ok, _ := call(t, d, c, "events.poll", map[string]any{})
	if string(ok) != `{"events":[{"type":"dev.test.a.done","payload":{"n":1}}]}` {
		t.Fatalf("poll = %s", ok)
	}
	if _, e := call(t, d, c, "job.progress", map[string]any{"done": 1}); e == nil || e.Code != CodeCapabilityDenied {
		t.Fatalf("job.progress without jobs.dispatch: %+v", e)
	}
}
