//go:build !wasip1

package cairn_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/sdk/cairn"
)

// fakeHost records requests and answers each with the next response, or
// {"ok":null} when none is queued.
type fakeHost struct {
	requests []string
	answers  []string
}

func (f *fakeHost) handle(req []byte) []byte {
	f.requests = append(f.requests, string(req))
	if len(f.answers) == 0 {
		return []byte(`{"ok":null}`)
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return []byte(a)
}

func install(t *testing.T, answers ...string) *fakeHost {
	t.Helper()
	f := &fakeHost{answers: answers}
	t.Cleanup(cairn.SetHost(f.handle))
	return f
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	return reflect.DeepEqual(g, w)
}

func readGolden(t *testing.T, name string) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../../schemas/hostabi/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenKVSet: KVSet sends exactly schemas/hostabi/testdata/kv-set.json's request.
func TestGoldenKVSet(t *testing.T) {
	g := readGolden(t, "kv-set.json")
	f := install(t, string(g["response"]))
	if err := cairn.KVSet("last-run", []byte("2026-11-25")); err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, f.requests[0], string(g["request"])) {
		t.Errorf("request = %s\nwant      %s", f.requests[0], g["request"])
	}
}

// TestGoldenContentReadDenied: the request matches the golden file and the
// denial comes back as a typed error.
func TestGoldenContentReadDenied(t *testing.T) {
	g := readGolden(t, "content-read-denied.json")
	f := install(t, string(g["response"]))
	_, _, err := cairn.ReadContent(cairn.EntryTarget(42), 0, 4096)
	if !sameJSON(t, f.requests[0], string(g["request"])) {
		t.Errorf("request = %s\nwant      %s", f.requests[0], g["request"])
	}
	if !cairn.IsDenied(err) || cairn.IsNotFound(err) || cairn.ErrorCode(err) != cairn.CodeCapabilityDenied {
		t.Fatalf("err = %v, want capability_denied", err)
	}
	var e *cairn.Error
	if !errors.As(err, &e) || e.Fn != "content.read" || !strings.Contains(e.Message, "content.read is not granted") {
		t.Fatalf("err = %#v", err)
	}
	if want := "cairn: content.read: capability_denied: dev.example.hello: content.read is not granted (requested: no; granted: no)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

// TestGoldenStageBatch: a stage fed stage-batch.json's input produces its output.
func TestGoldenStageBatch(t *testing.T) {
	g := readGolden(t, "stage-batch.json")
	h := cairn.Stage("stage.hello", func(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
		out := make([]cairn.Outcome, len(items))
		for i := range items {
			out[i].Data = map[string]int{"words": 1} // ContentUUID filled by the SDK
		}
		return out
	})
	got, err := h.Handle(g["input"])
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, string(got), string(g["output"])) {
		t.Errorf("output = %s\nwant     %s", got, g["output"])
	}
	if hh, ok := cairn.Lookup("stage.hello"); !ok || hh != cairn.Handler(h) {
		t.Errorf("Lookup(stage.hello) = %v, %v", hh, ok)
	}
}

// TestRequests: every typed helper sends the v1 function and arguments, and
// decodes the v1 result.
func TestRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		call   func() (any, error)
		want   string // request
		result any
	}{
		{"log", ``, func() (any, error) { return nil, cairn.Log(cairn.LevelInfo, "hi", "n", 3, "k") },
			`{"fn":"log","args":{"level":"info","msg":"hi","attrs":{"n":3,"!BADKEY":"k"}}}`, nil},
		{"log-no-attrs", ``, func() (any, error) { return nil, cairn.Log(cairn.LevelWarn, "w") },
			`{"fn":"log","args":{"level":"warn","msg":"w"}}`, nil},
		{"config", `{"ok":{"min":3}}`, func() (any, error) {
			var c struct{ Min int }
			err := cairn.Config(&c)
			return c.Min, err
		}, `{"fn":"config.get","args":{}}`, 3},
		{"kv.get", `{"ok":{"value":"aGk="}}`, func() (any, error) {
			v, ok, err := cairn.KVGet("k")
			return string(v) + "/" + boolString(ok), err
		}, `{"fn":"kv.get","args":{"key":"k"}}`, "hi/true"},
		{"kv.get-missing", `{"ok":{"value":null}}`, func() (any, error) {
			v, ok, err := cairn.KVGet("k")
			return string(v) + "/" + boolString(ok), err
		}, `{"fn":"kv.get","args":{"key":"k"}}`, "/false"},
		{"kv.get-empty", `{"ok":{"value":""}}`, func() (any, error) {
			v, ok, err := cairn.KVGet("k")
			return boolString(v != nil) + "/" + boolString(ok), err
		}, `{"fn":"kv.get","args":{"key":"k"}}`, "true/true"},
		{"kv.set-empty", ``, func() (any, error) { return nil, cairn.KVSet("k", nil) },
			`{"fn":"kv.set","args":{"key":"k","value":""}}`, nil},
		{"kv.delete", ``, func() (any, error) { return nil, cairn.KVDelete("k") },
			`{"fn":"kv.delete","args":{"key":"k"}}`, nil},
		{"kv.list", `{"ok":{"keys":["a1","a2"],"next":"a2"}}`, func() (any, error) {
			k, next, err := cairn.KVList("a", "a0", 2)
			return strings.Join(k, ",") + "|" + next, err
		}, `{"fn":"kv.list","args":{"prefix":"a","after":"a0","limit":2}}`, "a1,a2|a2"},
		{"entries.query", `{"ok":{"entries":[{"id":7,"path":"/data/x","name":"x","kind":"file","size":3,"mtime_ns":1}],"next":7}}`,
			func() (any, error) {
				es, next, err := cairn.QueryEntriesPage(cairn.EntryQuery{Glob: "**/*.txt", Kind: "file", Limit: 1})
				if len(es) != 1 {
					return nil, err
				}
				return es[0].Path + "|" + itoa(next), err
			}, `{"fn":"entries.query","args":{"glob":"**/*.txt","kind":"file","limit":1}}`, "/data/x|7"},
		{"content.read", `{"ok":{"data":"aGVsbG8=","eof":true}}`, func() (any, error) {
			d, eof, err := cairn.ReadContent(cairn.ContentTarget("u1"), 5, 10)
			return string(d) + "/" + boolString(eof), err
		}, `{"fn":"content.read","args":{"content_uuid":"u1","offset":5,"length":10}}`, "hello/true"},
		{"content.set_type", ``, func() (any, error) { return nil, cairn.SetType("u1", "text/plain", "text") },
			`{"fn":"content.set_type","args":{"content_uuid":"u1","mime":"text/plain","kind":"text"}}`, nil},
		{"metadata.set", ``, func() (any, error) {
			return nil, cairn.SetMetadata(cairn.ContentTarget("u1"), "counts", map[string]int{"words": 2})
		}, `{"fn":"metadata.set","args":{"target":{"content_uuid":"u1"},"key":"counts","value":{"words":2}}}`, nil},
		{"metadata.set-entry", ``, func() (any, error) { return nil, cairn.SetMetadata(cairn.EntryTarget(9), "k", nil) },
			`{"fn":"metadata.set","args":{"target":{"entry_id":9},"key":"k","value":null}}`, nil},
		{"sidecar.write", `{"ok":{"path":"sidecars/u1/thumb/256.webp"}}`, func() (any, error) {
			return cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: "u1", Kind: "thumb", Variant: "256", Format: "webp", Data: []byte{1, 2}})
		}, `{"fn":"sidecar.write","args":{"content_uuid":"u1","kind":"thumb","variant":"256","format":"webp","data":"AQI="}}`, "sidecars/u1/thumb/256.webp"},
		{"tags.apply", ``, func() (any, error) { return nil, cairn.ApplyTag(cairn.EntryTarget(3), "cat", 0.5) },
			`{"fn":"tags.apply","args":{"target":{"entry_id":3},"tag":"cat","confidence":0.5}}`, nil},
		{"events.emit", ``, func() (any, error) { return nil, cairn.Emit("dev.x.done", nil) },
			`{"fn":"events.emit","args":{"type":"dev.x.done","payload":{}}}`, nil},
		{"events.poll", `{"ok":{"events":[{"type":"a","payload":{"n":1}}]}}`, func() (any, error) {
			ev, err := cairn.PollEvents(10)
			if len(ev) != 1 {
				return nil, err
			}
			return ev[0].Type + string(ev[0].Payload), err
		}, `{"fn":"events.poll","args":{"max":10}}`, `a{"n":1}`},
		{"job.progress", ``, func() (any, error) { return nil, cairn.Progress(3, 10, "scan") },
			`{"fn":"job.progress","args":{"done":3,"total":10,"phase":"scan"}}`, nil},
		{"job.checkpoint", ``, func() (any, error) { return nil, cairn.Checkpoint(map[string]int{"after": 4}) },
			`{"fn":"job.checkpoint","args":{"state":{"after":4}}}`, nil},
		{"action.propose", `{"ok":{"id":"act-1"}}`, func() (any, error) {
			return cairn.ProposeAction("move", map[string]string{"to": "/x"}, "tidy")
		}, `{"fn":"action.propose","args":{"kind":"move","params":{"to":"/x"},"reason":"tidy"}}`, "act-1"},
		{"action.propose-numeric-id", `{"ok":{"id":12}}`, func() (any, error) {
			return cairn.ProposeAction("move", nil, "tidy")
		}, `{"fn":"action.propose","args":{"kind":"move","params":{},"reason":"tidy"}}`, "12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var answers []string
			if tc.answer != "" {
				answers = append(answers, tc.answer)
			}
			f := install(t, answers...)
			got, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			if len(f.requests) != 1 || !sameJSON(t, f.requests[0], tc.want) {
				t.Errorf("requests = %q\nwant       %s", f.requests, tc.want)
			}
			if tc.result != nil && got != tc.result {
				t.Errorf("result = %#v, want %#v", got, tc.result)
			}
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestErrors(t *testing.T) {
	restore := cairn.SetHost(nil)
	err := cairn.KVDelete("k")
	restore()
	if !cairn.IsUnavailable(err) || !strings.Contains(err.Error(), "SetHost") {
		t.Errorf("no host: err = %v, want unavailable naming SetHost", err)
	}
	for answer, code := range map[string]string{
		``:             cairn.CodeInternal,
		`not json`:     cairn.CodeInternal,
		`{"error":{}}`: cairn.CodeInternal,
		`{"error":{"code":"not_found","message":"no such content"}}`:       cairn.CodeNotFound,
		`{"error":{"code":"limit_exceeded","message":"value over 1 MiB"}}`: cairn.CodeLimitExceeded,
		`{"error":{"code":"invalid_argument","message":"bad key"}}`:        cairn.CodeInvalidArgument,
		`{"error":{"code":"unknown_function","message":"kv.get"}}`:         cairn.CodeUnknownFunction,
		`{"ok":{"value":42}}`: cairn.CodeInternal, // a result of the wrong type
	} {
		f := &fakeHost{answers: []string{answer}}
		if answer == "" {
			f.answers = []string{""}
		}
		restore := cairn.SetHost(f.handle)
		_, _, err := cairn.KVGet("k")
		restore()
		if got := cairn.ErrorCode(err); got != code {
			t.Errorf("answer %q: err = %v (code %q), want code %q", answer, err, got, code)
		}
	}
	e := &cairn.Error{Fn: "kv.get", Code: cairn.CodeNotFound, Message: "x"}
	wrapped := errors.Join(errors.New("context"), e)
	if !errors.Is(wrapped, cairn.ErrNotFound) || errors.Is(wrapped, cairn.ErrCapabilityDenied) ||
		!cairn.IsNotFound(wrapped) || cairn.ErrorCode(wrapped) != cairn.CodeNotFound {
		t.Errorf("wrapped errors do not match by code")
	}
	if errors.Is(e, &cairn.Error{Code: cairn.CodeNotFound, Message: "other"}) {
		t.Errorf("a target with a message matched by code")
	}
	if cairn.ErrorCode(errors.New("plain")) != "" || cairn.IsDenied(nil) {
		t.Errorf("plain errors have a code")
	}
}

func TestStageHandlerChecks(t *testing.T) {
	var n int
	h := cairn.Stage("stage.checks", func(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
		switch n {
		case 1: // one short
			return make([]cairn.Outcome, len(items)-1)
		case 2: // swapped
			return []cairn.Outcome{items[1].OK(nil), items[0].OK(nil)}
		case 3: // config reaches the handler
			var c struct{ Level int }
			if err := ctx.DecodeConfig(&c); err != nil || c.Level != 7 || ctx.Version != 2 || ctx.Stage != "stage.checks" {
				panic("bad ctx")
			}
		}
		out := make([]cairn.Outcome, len(items))
		for i, it := range items {
			out[i] = it.OK(map[string]string{"name": it.Name})
		}
		return out
	})
	batch := `{"stage":"stage.checks","version":2,"config":{"level":7},"items":[{"content_uuid":"a","name":"a.txt"},{"content_uuid":"b","name":"b.txt"}]}`
	for i, want := range []string{
		`{"outcomes":[{"content_uuid":"a","data":{"name":"a.txt"}},{"content_uuid":"b","data":{"name":"b.txt"}}]}`,
		"error: returned 1 outcomes for 2 items",
		"error: outcome 0 is for content b but item 0 is a",
		`{"outcomes":[{"content_uuid":"a","data":{"name":"a.txt"}},{"content_uuid":"b","data":{"name":"b.txt"}}]}`,
	} {
		n = i
		out, err := h.Handle([]byte(batch))
		if strings.HasPrefix(want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(want, "error: ")) {
				t.Errorf("case %d: err = %v, want %q", i, err, want)
			}
			continue
		}
		if err != nil || !sameJSON(t, string(out), want) {
			t.Errorf("case %d: %s, %v; want %s", i, out, err, want)
		}
	}
	n = 0
	for input, want := range map[string]string{
		`{"stage":"stage.checks","items":[]}`: `{"outcomes":[]}`,
		`{"items":null}`:                      `{"outcomes":[]}`,
		`{}`:                                  `{"outcomes":[]}`,
		``:                                    "error: empty input",
		`{"items":42}`:                        "error: stage.checks: decode input",
		`{"items":[{"size":"big"}]}`:          "error: stage.checks: decode input",
		`{"stage":"stage.other","items":[]}`:  "error: the host sent a batch for stage.other",
		`[`:                                   "error: decode input",
	} {
		out, err := h.Handle([]byte(input))
		if strings.HasPrefix(want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(want, "error: ")) {
				t.Errorf("%q: err = %v, want %q", input, err, want)
			}
			continue
		}
		if err != nil || string(out) != want {
			t.Errorf("%q: %s, %v; want %s", input, out, err, want)
		}
	}
}

func TestStageEach(t *testing.T) {
	h := cairn.StageEach("stage.each", func(ctx cairn.Ctx, it cairn.Item) (any, error) {
		switch it.Name {
		case "panic":
			var m map[string]int
			m["x"] = 1
		case "fail":
			return nil, errors.New("cannot read")
		}
		return map[string]int64{"size": it.Size}, nil
	})
	out, err := h.Handle([]byte(`{"items":[{"content_uuid":"a","name":"ok","size":3},{"content_uuid":"b","name":"panic"},{"content_uuid":"c","name":"fail"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Outcomes []cairn.Outcome }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	o := got.Outcomes
	if len(o) != 3 || o[0].Error != "" || o[0].ContentUUID != "a" ||
		!strings.HasPrefix(o[1].Error, "panic: assignment to entry in nil map") || o[1].ContentUUID != "b" ||
		o[2].Error != "cannot read" || o[2].Data != nil {
		t.Errorf("outcomes = %+v", o)
	}
}

func TestRegistryDuplicatesPanic(t *testing.T) {
	cairn.Query("dup", func(cairn.Ctx, json.RawMessage) (any, error) { return nil, nil })
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "query.dup registered twice") {
			t.Errorf("recover() = %v", r)
		}
	}()
	cairn.Query("dup", func(cairn.Ctx, json.RawMessage) (any, error) { return nil, nil })
}

func TestLoaderSidecarQueryInit(t *testing.T) {
	l := cairn.Loader("loader.test", func(ctx cairn.Ctx, items []cairn.Item) []cairn.FileType {
		var out []cairn.FileType
		for _, it := range items {
			if strings.HasSuffix(it.Name, ".txt") {
				out = append(out, cairn.FileType{ContentUUID: it.ContentUUID, Mime: "text/plain", Kind: "text", Confidence: 0.9})
			}
			if it.Name == "bogus" {
				out = append(out, cairn.FileType{ContentUUID: "elsewhere", Confidence: 1})
			}
		}
		return out
	})
	out, err := l.Handle([]byte(`{"items":[{"content_uuid":"a","name":"a.txt"},{"content_uuid":"b","name":"b.png"}]}`))
	if err != nil || string(out) != `{"types":[{"content_uuid":"a","mime":"text/plain","kind":"text","confidence":0.9}]}` {
		t.Errorf("loader: %s, %v", out, err)
	}
	if out, err := l.Handle([]byte(`{"items":[]}`)); err != nil || string(out) != `{"types":[]}` {
		t.Errorf("loader, empty: %s, %v", out, err)
	}
	if _, err := l.Handle([]byte(`{"items":[{"content_uuid":"a","name":"bogus"}]}`)); err == nil {
		t.Error("loader: a type outside the batch was accepted")
	}

	var variant string
	s := cairn.Sidecar("thumb", func(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
		variant = ctx.Variant
		out := make([]cairn.Outcome, len(items))
		return out
	})
	if out, err := s.Handle([]byte(`{"kind":"thumb","variant":"256","items":[{"content_uuid":"a"}]}`)); err != nil ||
		string(out) != `{"outcomes":[{"content_uuid":"a"}]}` || variant != "256" {
		t.Errorf("sidecar: %s, %v, variant %q", out, err, variant)
	}
	if _, err := s.Handle([]byte(`{"kind":"preview","items":[]}`)); err == nil {
		t.Error("sidecar: another kind was accepted")
	}

	q := cairn.Query("echo", func(ctx cairn.Ctx, args json.RawMessage) (any, error) {
		if string(args) == `{"fail":true}` {
			return nil, errors.New("asked to fail")
		}
		return args, nil
	})
	if out, err := q.Handle([]byte(`{"args":{"a":1}}`)); err != nil || string(out) != `{"a":1}` {
		t.Errorf("query: %s, %v", out, err)
	}
	if out, err := q.Handle([]byte(`{}`)); err != nil || string(out) != `{}` {
		t.Errorf("query without args: %s, %v", out, err)
	}
	if _, err := q.Handle([]byte(`{"args":{"fail":true}}`)); err == nil || err.Error() != "asked to fail" {
		t.Errorf("query error: %v", err)
	}

	var got cairn.Ctx
	in := cairn.Init(func(ctx cairn.Ctx) error { got = ctx; return nil })
	if out, err := in.Handle([]byte(`{"abi":"1.0","extension":"dev.x.y","config":{"a":1}}`)); err != nil || string(out) != `{}` ||
		got.ABI != "1.0" || got.Extension != "dev.x.y" || string(got.Config) != `{"a":1}` {
		t.Errorf("init: %s, %v, ctx %+v", out, err, got)
	}
	ids := cairn.Registered()
	for _, id := range []string{"loader.test", "sidecar.thumb", "query.echo", cairn.InitExport} {
		if _, ok := cairn.Lookup(id); !ok {
			t.Errorf("%s not registered (registered: %v)", id, ids)
		}
	}
}

// pagingHost answers kv.list and entries.query in pages of two from fixed
// data, and content.read in 1-byte chunks... of at most length bytes.
func pagingHost(t *testing.T, content []byte) *[]string {
	var fns []string
	keys := []string{"a", "b", "c", "d", "e"}
	t.Cleanup(cairn.SetHost(func(req []byte) []byte {
		var r struct {
			Fn   string
			Args struct {
				After  json.RawMessage
				Offset int64
				Length int
			}
		}
		if err := json.Unmarshal(req, &r); err != nil {
			t.Fatal(err)
		}
		fns = append(fns, r.Fn)
		switch r.Fn {
		case "kv.list":
			var after string
			json.Unmarshal(r.Args.After, &after)
			var page []string
			for _, k := range keys {
				if k > after && len(page) < 2 {
					page = append(page, k)
				}
			}
			res := map[string]any{"keys": page}
			if len(page) == 2 && page[1] != keys[len(keys)-1] {
				res["next"] = page[1]
			}
			b, _ := json.Marshal(map[string]any{"ok": res})
			return b
		case "entries.query":
			var after int64
			json.Unmarshal(r.Args.After, &after)
			var page []cairn.Entry
			for id := after + 1; id <= 5 && len(page) < 2; id++ {
				page = append(page, cairn.Entry{ID: id})
			}
			res := map[string]any{"entries": page}
			if len(page) == 2 && page[1].ID < 5 {
				res["next"] = page[1].ID
			}
			b, _ := json.Marshal(map[string]any{"ok": res})
			return b
		case "content.read":
			end := min(r.Args.Offset+int64(min(r.Args.Length, 3)), int64(len(content)))
			b, _ := json.Marshal(map[string]any{"ok": map[string]any{"data": content[r.Args.Offset:end], "eof": end == int64(len(content))}})
			return b
		}
		return []byte(`{"error":{"code":"unknown_function","message":"?"}}`)
	}))
	return &fns
}

func TestIterators(t *testing.T) {
	fns := pagingHost(t, []byte("hello, world"))
	var keys []string
	for k, err := range cairn.KVKeys("") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if strings.Join(keys, "") != "abcde" || len(*fns) != 3 {
		t.Errorf("KVKeys = %v in %d calls", keys, len(*fns))
	}
	*fns = nil
	var ids []int64
	for e, err := range cairn.QueryEntries(cairn.EntryQuery{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
		if e.ID == 4 {
			break
		}
	}
	if !reflect.DeepEqual(ids, []int64{1, 2, 3, 4}) || len(*fns) != 2 {
		t.Errorf("QueryEntries = %v in %d calls", ids, len(*fns))
	}
	b, err := io.ReadAll(cairn.ContentReader(cairn.ContentTarget("u")))
	if err != nil || !bytes.Equal(b, []byte("hello, world")) {
		t.Errorf("ContentReader = %q, %v", b, err)
	}

	restore := cairn.SetHost(func([]byte) []byte { return []byte(`{"error":{"code":"capability_denied","message":"no"}}`) })
	defer restore()
	for _, err := range cairn.QueryEntries(cairn.EntryQuery{}) {
		if !cairn.IsDenied(err) {
			t.Errorf("QueryEntries error = %v", err)
		}
	}
	if _, err := io.ReadAll(cairn.ContentReader(cairn.ContentTarget("u"))); !cairn.IsDenied(err) {
		t.Errorf("ContentReader error = %v", err)
	}
}

// TestGoldenHTTP: HTTP sends the request of each golden http.request example
// and decodes its answer, or its error.
func TestGoldenHTTP(t *testing.T) {
	for name, req := range map[string]cairn.HTTPRequest{
		"http/get.json": {Method: "GET", URL: "https://api.example.com/v1/items?page=2",
			Headers: map[string]string{"Accept": "application/json"}, TimeoutMS: 5000},
		"http/post-redirect-same-host.json":    {Method: "POST", URL: "https://api.example.com/v1/upload", Body: []byte("hello")},
		"http/redirect-other-host-denied.json": {URL: "https://api.example.com/v1/moved"},
	} {
		g := readGolden(t, name)
		f := install(t, string(g["response"]))
		resp, err := cairn.HTTP(req)
		if !sameJSON(t, f.requests[0], string(g["request"])) {
			t.Errorf("%s: request = %s\nwant      %s", name, f.requests[0], g["request"])
		}
		var want struct {
			OK    *cairn.HTTPResponse `json:"ok"`
			Error *cairn.Error        `json:"error"`
		}
		json.Unmarshal(g["response"], &want)
		switch {
		case want.Error != nil:
			if cairn.ErrorCode(err) != want.Error.Code || !cairn.IsDenied(err) {
				t.Errorf("%s: err = %v, want %s", name, err, want.Error.Code)
			}
		case err != nil || !reflect.DeepEqual(resp, *want.OK):
			t.Errorf("%s: HTTP = %+v, %v; want %+v", name, resp, err, *want.OK)
		}
	}
}

// TestGoldenSidecarWriteContent: ContentIsSidecar sends exactly
// sidecar-write-content.json's request (no data) and gets no path back.
func TestGoldenSidecarWriteContent(t *testing.T) {
	g := readGolden(t, "sidecar-write-content.json")
	f := install(t, string(g["response"]))
	if err := cairn.ContentIsSidecar("0b6f2c1e-3d4a-4c5b-9e8f-7a6b5c4d3e2f", "text", "plain", "txt"); err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, f.requests[0], string(g["request"])) {
		t.Errorf("request = %s\nwant      %s", f.requests[0], g["request"])
	}
	if _, err := cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: "u", Kind: "text", Variant: "plain", Format: "txt",
		Storage: cairn.StorageContent, Data: []byte("x")}); cairn.ErrorCode(err) != cairn.CodeInvalidArgument || len(f.requests) != 1 {
		t.Errorf("data with StorageContent: %v (%d requests), want invalid_argument before any call", err, len(f.requests))
	}
}
