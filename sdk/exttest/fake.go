package exttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
)

// HostCall is one call the module made to the host, as a Host recorded it.
type HostCall struct {
	Fn      string          // e.g. "metadata.set"
	Args    json.RawMessage // the request's args, as sent
	Code    string          // "" when the call succeeded, else the error code
	Message string          // the error message, if any
}

// Host is the host side the checks observe. Fake implements it; a real host
// under test can implement it over its own dispatcher.
type Host interface {
	// Calls returns the calls made since the last Reset, in order.
	Calls() []HostCall
	// Reset forgets the calls and restores the backends' initial state.
	Reset()
}

// Snapshotter is an optional Host interface: Snapshot returns the backends'
// state, compared with reflect.DeepEqual by the determinism check.
type Snapshotter interface {
	Snapshot() any
}

// capability each v1 function needs ("" for none).
var fnCapability = map[string]string{
	"log":              "",
	"config.get":       "",
	"kv.get":           "kv",
	"kv.set":           "kv",
	"kv.delete":        "kv",
	"kv.list":          "kv",
	"entries.query":    "entries.read",
	"content.read":     "content.read",
	"content.set_type": "content.type",
	"metadata.set":     "metadata.write",
	"sidecar.write":    "sidecars.write",
	"tags.apply":       "tags.write",
	"events.emit":      "events.emit",
	"events.poll":      "events.subscribe",
	"job.progress":     "jobs.dispatch",
	"job.checkpoint":   "jobs.dispatch",
	"action.propose":   "actions.propose",
}

// Limits the fake enforces (v1.md).
const (
	maxKeyLen      = 512
	maxValueLen    = 1 << 20
	maxListLimit   = 1000
	maxContentRead = 4 << 20
	maxSidecar     = 16 << 20
	maxLogMessage  = 16 << 10
)

// MetaKey identifies one metadata value.
type MetaKey struct {
	Namespace string
	Target    string // "content:<uuid>" or "entry:<id>"
	Key       string
}

// Tag is an applied tag.
type Tag struct {
	Namespace  string
	Target     string
	Tag        string
	Confidence float64
}

// Action is a proposed action.
type Action struct {
	ID     string
	Kind   string
	Params json.RawMessage
	Reason string
}

// LogRecord is a log call.
type LogRecord struct {
	Level string
	Msg   string
	Attrs map[string]any
}

// Progress is a job.progress call.
type Progress struct {
	Done, Total int64
	Phase       string
}

// State is the fake's in-memory backends.
type State struct {
	KV       map[string][]byte
	Metadata map[MetaKey]json.RawMessage
	Types    map[string][2]string // content UUID → {mime, kind}
	Sidecars map[string][]byte    // path → bytes
	// ContentSidecars are the sidecars stored as the content itself (storage
	// "content", ABI 1.1): path → format. A path is in one map or the other.
	ContentSidecars map[string]string
	Tags            []Tag
	Emitted         []cairn.Event
	Pending         []cairn.Event // not yet polled
	Progress        []Progress
	Checkpoints     []json.RawMessage
	Actions         []Action
	Logs            []LogRecord
}

func (s State) clone() State {
	c := s
	c.KV = cloneMap(s.KV)
	c.Metadata = cloneMap(s.Metadata)
	c.Types = cloneMap(s.Types)
	c.Sidecars = cloneMap(s.Sidecars)
	c.ContentSidecars = cloneMap(s.ContentSidecars)
	c.Tags = slices.Clone(s.Tags)
	c.Emitted = slices.Clone(s.Emitted)
	c.Pending = slices.Clone(s.Pending)
	c.Progress = slices.Clone(s.Progress)
	c.Checkpoints = slices.Clone(s.Checkpoints)
	c.Actions = slices.Clone(s.Actions)
	c.Logs = slices.Clone(s.Logs)
	return c
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Fake is an in-memory cairn:host/v1 host: kv, entries and content over a
// fixture tree, metadata, types, sidecars, tags, events, jobs and actions,
// with the manifest's capabilities enforced on every call (a call outside
// them answers capability_denied and is recorded). It is safe for concurrent
// use, and never panics on any request.
//
// Scopes it checks: content.read globs (on content.read; the /data mount
// holds only the covered files), entries.read globs (results are filtered),
// sidecars.write kinds, events.emit and events.subscribe types; metadata and
// tags go to the capability's namespace (the extension's id by default).
// Locations in scopes are ignored: the fixture is one location.
type Fake struct {
	mu      sync.Mutex
	m       *manifest.Manifest
	grant   map[string]manifest.Scope // nil: everything requested
	config  json.RawMessage
	fsys    fs.FS
	files   []File
	byUUID  map[string]File
	byID    map[int64]File
	initial []cairn.Event
	state   State
	calls   []HostCall
	actions int
}

// NewFake makes a fake host for the extension m, over opts.Files (default
// DefaultFiles), answering config.get with opts.Config, granting
// opts.Grant (default: everything requested) and queueing opts.Events for
// events.poll.
func NewFake(m *manifest.Manifest, opts Options) (*Fake, error) {
	o := opts.withDefaults()
	files, err := ScanFiles(o.Files)
	if err != nil {
		return nil, fmt.Errorf("exttest: scan fixture: %w", err)
	}
	f := &Fake{m: m, grant: o.Grant, config: o.Config, fsys: o.Files, files: files,
		byUUID: map[string]File{}, byID: map[int64]File{}, initial: slices.Clone(o.Events)}
	for _, fl := range files {
		f.byID[fl.Entry.ID] = fl
		if fl.Entry.ContentUUID != "" {
			f.byUUID[fl.Entry.ContentUUID] = fl
		}
	}
	f.Reset()
	return f, nil
}

// has reports whether capability c is both requested and granted.
func (f *Fake) has(c string) bool {
	if _, ok := f.m.Capabilities[c]; !ok {
		return false
	}
	if f.grant == nil {
		return true
	}
	_, ok := f.grant[c]
	return ok
}

// narrow keeps the requested values some granted value covers (all of them
// when the grant lists none).
func narrow(req, granted []string, covers func(grant, req string) bool) []string {
	if len(granted) == 0 {
		return slices.Clone(req)
	}
	var out []string
	for _, r := range req {
		if slices.ContainsFunc(granted, func(g string) bool { return covers(g, r) }) {
			out = append(out, r)
		}
	}
	return out
}

func equal(a, b string) bool { return a == b }

// Reset forgets the recorded calls and restores the initial state: empty
// backends, opts.Events pending.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
	f.actions = 0
	f.state = State{KV: map[string][]byte{}, Metadata: map[MetaKey]json.RawMessage{}, Types: map[string][2]string{},
		Sidecars: map[string][]byte{}, ContentSidecars: map[string]string{}, Pending: slices.Clone(f.initial)}
}

// Calls returns the calls made since the last Reset.
func (f *Fake) Calls() []HostCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Denials returns the calls since the last Reset that were answered
// capability_denied.
func (f *Fake) Denials() []HostCall {
	var out []HostCall
	for _, c := range f.Calls() {
		if c.Code == cairn.CodeCapabilityDenied {
			out = append(out, c)
		}
	}
	return out
}

// State returns a copy of the backends.
func (f *Fake) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.clone()
}

// Snapshot returns State() for the determinism check.
func (f *Fake) Snapshot() any { return f.State() }

// Files returns the fixture's files, directories included, in path order.
func (f *Fake) Files() []File { return slices.Clone(f.files) }

// Items returns the fixture's files as batch items, in path order.
func (f *Fake) Items() []cairn.Item { return Items(f.files) }

// Mounted reports whether the /data mount holds the file rel: whether
// content.read is effective and its globs cover rel.
func (f *Fake) Mounted(rel string) bool {
	return f.has("content.read") && f.allowedPath("content.read", rel)
}

// InstallFake loads the manifest at manifestPath, makes a Fake for it and installs it for the
// rest of the test: the usual start of a native stage test or benchmark.
func InstallFake(t testing.TB, manifestPath string, opts Options) *Fake {
	t.Helper()
	m, err := LoadManifest(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFake(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.Install(t)
	return f
}

// Install makes f answer the host calls of sdk/cairn in this process (native
// builds) until the test ends.
func (f *Fake) Install(t testing.TB) {
	t.Cleanup(cairn.SetHost(f.Handle))
}

// Handle answers one v1 request (JSON) with a v1 response (JSON). It is the
// body of the cairn:host/v1 call import, and a cairn.HostFunc.
func (f *Fake) Handle(request []byte) (response []byte) {
	var req struct {
		Fn   string          `json:"fn"`
		Args json.RawMessage `json:"args"`
	}
	var (
		ok  any
		err *cairn.Error
	)
	defer func() {
		if r := recover(); r != nil {
			err = &cairn.Error{Code: cairn.CodeInternal, Message: fmt.Sprintf("exttest fake: panic: %v", r)}
			ok = nil
			response = encodeResponse(nil, err)
		}
	}()
	if e := json.Unmarshal(request, &req); e != nil || req.Fn == "" {
		err = &cairn.Error{Code: cairn.CodeInvalidArgument, Message: "request: want {\"fn\": string, \"args\": object}"}
		f.record(HostCall{Fn: req.Fn, Args: req.Args, Code: err.Code, Message: err.Message})
		return encodeResponse(nil, err)
	}
	if len(req.Args) == 0 || string(req.Args) == "null" {
		req.Args = json.RawMessage("{}")
	}
	f.mu.Lock()
	defer f.mu.Unlock() // also when dispatch panics
	ok, err = f.dispatch(req.Fn, req.Args)
	call := HostCall{Fn: req.Fn, Args: slices.Clone(req.Args)}
	if err != nil {
		call.Code, call.Message = err.Code, err.Message
	}
	f.calls = append(f.calls, call)
	return encodeResponse(ok, err)
}

func (f *Fake) record(c HostCall) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func encodeResponse(ok any, err *cairn.Error) []byte {
	var b []byte
	var e error
	if err != nil {
		b, e = json.Marshal(map[string]any{"error": err})
	} else {
		b, e = json.Marshal(map[string]any{"ok": ok})
	}
	if e != nil {
		return []byte(`{"error":{"code":"internal","message":"exttest fake: encode response"}}`)
	}
	return b
}

func errf(code, format string, args ...any) *cairn.Error {
	return &cairn.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// dispatch runs fn with f.mu held.
func (f *Fake) dispatch(fn string, args json.RawMessage) (any, *cairn.Error) {
	capName, known := fnCapability[fn]
	if !known {
		return nil, errf(cairn.CodeUnknownFunction, "%s: this host provides ABI %s, which has no such function", fn, cairn.ABIVersion)
	}
	if capName != "" && !f.has(capName) {
		_, req := f.m.Capabilities[capName]
		_, granted := f.grant[capName]
		if f.grant == nil {
			granted = req
		}
		return nil, errf(cairn.CodeCapabilityDenied, "%s: %s is not granted (requested: %s; granted: %s)",
			f.m.ID, capName, yesNo(req), yesNo(granted))
	}
	decode := func(v any) *cairn.Error {
		if err := json.Unmarshal(args, v); err != nil {
			return errf(cairn.CodeInvalidArgument, "%s: arguments: %v", fn, err)
		}
		return nil
	}
	switch fn {
	case "log":
		var a struct {
			Level string
			Msg   string
			Attrs map[string]any
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, a.Level) {
			return nil, errf(cairn.CodeInvalidArgument, "log: level %q: want trace, debug, info, warn or error", a.Level)
		}
		if len(a.Msg) > maxLogMessage {
			return nil, errf(cairn.CodeLimitExceeded, "log: message over %d bytes", maxLogMessage)
		}
		f.state.Logs = append(f.state.Logs, LogRecord{Level: a.Level, Msg: a.Msg, Attrs: a.Attrs})
		return nil, nil

	case "config.get":
		return f.config, nil

	case "kv.get", "kv.set", "kv.delete":
		var a struct {
			Key   string
			Value *[]byte
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if a.Key == "" || len(a.Key) > maxKeyLen {
			return nil, errf(cairn.CodeInvalidArgument, "%s: key must be 1 to %d bytes", fn, maxKeyLen)
		}
		switch fn {
		case "kv.get":
			v, ok := f.state.KV[a.Key]
			if !ok {
				return map[string]any{"value": nil}, nil
			}
			return map[string]any{"value": v}, nil
		case "kv.set":
			if a.Value == nil {
				return nil, errf(cairn.CodeInvalidArgument, "kv.set: value: want base64")
			}
			if len(*a.Value) > maxValueLen {
				return nil, errf(cairn.CodeLimitExceeded, "kv.set: value over 1 MiB")
			}
			f.state.KV[a.Key] = slices.Clone(*a.Value)
		default:
			delete(f.state.KV, a.Key)
		}
		return nil, nil

	case "kv.list":
		var a struct {
			Prefix, After string
			Limit         int
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		limit, e := pageLimit(fn, a.Limit)
		if e != nil {
			return nil, e
		}
		keys := []string{}
		for _, k := range sortedKeys(f.state.KV) {
			if len(k) >= len(a.Prefix) && k[:len(a.Prefix)] == a.Prefix && k > a.After {
				keys = append(keys, k)
			}
		}
		res := map[string]any{"keys": keys}
		if len(keys) > limit {
			res["keys"] = keys[:limit]
			res["next"] = keys[limit-1]
		}
		return res, nil

	case "entries.query":
		var a struct {
			Location, Glob, Kind string
			After                int64
			Limit                int
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		limit, e := pageLimit(fn, a.Limit)
		if e != nil {
			return nil, e
		}
		if a.Kind != "" && !slices.Contains([]string{"file", "dir", "symlink"}, a.Kind) {
			return nil, errf(cairn.CodeInvalidArgument, "entries.query: kind %q: want file, dir or symlink", a.Kind)
		}
		entries := []cairn.Entry{}
		var next int64
		for _, fl := range f.files {
			if fl.Entry.ID <= a.After || (a.Location != "" && a.Location != fixtureLocation) ||
				(a.Kind != "" && fl.Entry.Kind != a.Kind) || (a.Glob != "" && !matchGlob(a.Glob, fl.Rel)) ||
				!f.allowedPath("entries.read", fl.Rel) {
				continue
			}
			if len(entries) == limit {
				next = entries[len(entries)-1].ID
				break
			}
			entries = append(entries, fl.Entry)
		}
		res := map[string]any{"entries": entries}
		if next != 0 {
			res["next"] = next
		}
		return res, nil

	case "content.read":
		var a struct {
			ContentUUID string `json:"content_uuid"`
			EntryID     int64  `json:"entry_id"`
			Offset      int64
			Length      int
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if (a.ContentUUID == "") == (a.EntryID == 0) {
			return nil, errf(cairn.CodeInvalidArgument, "content.read: give exactly one of content_uuid and entry_id")
		}
		if a.Offset < 0 || a.Length < 0 {
			return nil, errf(cairn.CodeInvalidArgument, "content.read: offset and length must not be negative")
		}
		if a.Length > maxContentRead {
			return nil, errf(cairn.CodeLimitExceeded, "content.read: length over 4 MiB")
		}
		fl, ok := f.byUUID[a.ContentUUID]
		if a.EntryID != 0 {
			fl, ok = f.byID[a.EntryID]
		}
		if !ok || fl.Entry.Kind != "file" {
			return nil, errf(cairn.CodeNotFound, "content.read: no such content or file entry")
		}
		if !f.allowedPath("content.read", fl.Rel) {
			return nil, errf(cairn.CodeCapabilityDenied, "%s: content.read does not cover %s", f.m.ID, fl.Rel)
		}
		data, err := fs.ReadFile(f.fsys, fl.Rel)
		if err != nil {
			return nil, errf(cairn.CodeUnavailable, "content.read: %v", err)
		}
		start := min(a.Offset, int64(len(data)))
		end := min(start+int64(a.Length), int64(len(data)))
		return map[string]any{"data": data[start:end], "eof": end == int64(len(data))}, nil

	case "content.set_type":
		var a struct {
			ContentUUID string `json:"content_uuid"`
			Mime, Kind  string
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if a.ContentUUID == "" || a.Mime == "" || a.Kind == "" {
			return nil, errf(cairn.CodeInvalidArgument, "content.set_type: want content_uuid, mime and kind")
		}
		f.state.Types[a.ContentUUID] = [2]string{a.Mime, a.Kind}
		return nil, nil

	case "metadata.set":
		var a struct {
			Target cairn.Target
			Key    string
			Value  json.RawMessage
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		target, e := targetKey(fn, a.Target)
		if e != nil {
			return nil, e
		}
		if a.Key == "" || len(a.Key) > 256 {
			return nil, errf(cairn.CodeInvalidArgument, "metadata.set: key must be 1 to 256 bytes")
		}
		if len(a.Value) == 0 {
			a.Value = json.RawMessage("null")
		}
		if len(a.Value) > maxValueLen {
			return nil, errf(cairn.CodeLimitExceeded, "metadata.set: value over 1 MiB")
		}
		f.state.Metadata[MetaKey{Namespace: f.namespace("metadata.write"), Target: target, Key: a.Key}] = compact(a.Value)
		return nil, nil

	case "sidecar.write":
		var a struct {
			ContentUUID           string `json:"content_uuid"`
			Kind, Variant, Format string
			Data                  *[]byte
			Storage               string
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		self := a.Storage == cairn.StorageContent
		if !sidecarKindRE.MatchString(a.Kind) || !sidecarVariantRE.MatchString(a.Variant) ||
			!sidecarFormatRE.MatchString(a.Format) || a.ContentUUID == "" || (a.Data == nil) != self ||
			(a.Storage != "" && a.Storage != "file" && !self) {
			return nil, errf(cairn.CodeInvalidArgument, "sidecar.write: want content_uuid, kind, variant, format and data, or storage \"content\" and no data")
		}
		if kinds := f.sidecarKinds(); !slices.Contains(kinds, a.Kind) {
			return nil, errf(cairn.CodeCapabilityDenied, "%s: sidecars.write does not cover kind %q (covers %v)", f.m.ID, a.Kind, kinds)
		}
		if !self && len(*a.Data) > maxSidecar {
			return nil, errf(cairn.CodeLimitExceeded, "sidecar.write: data over 16 MiB")
		}
		p := "sidecars/" + a.ContentUUID + "/" + a.Kind + "/" + a.Variant + "." + a.Format
		if self {
			delete(f.state.Sidecars, p)
			f.state.ContentSidecars[p] = a.Format
			return map[string]any{"path": "", "storage": a.Storage}, nil
		}
		delete(f.state.ContentSidecars, p)
		f.state.Sidecars[p] = slices.Clone(*a.Data)
		return map[string]any{"path": p}, nil

	case "tags.apply":
		var a struct {
			Target     cairn.Target
			Tag        string
			Confidence *float64
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		target, e := targetKey(fn, a.Target)
		if e != nil {
			return nil, e
		}
		if a.Tag == "" || len(a.Tag) > 256 || !utf8.ValidString(a.Tag) {
			return nil, errf(cairn.CodeInvalidArgument, "tags.apply: tag must be 1 to 256 bytes of UTF-8")
		}
		conf := 1.0
		if a.Confidence != nil {
			conf = *a.Confidence
		}
		if conf < 0 || conf > 1 || math.IsNaN(conf) {
			return nil, errf(cairn.CodeInvalidArgument, "tags.apply: confidence %v: want 0 to 1", conf)
		}
		f.state.Tags = append(f.state.Tags, Tag{Namespace: f.namespace("tags.write"), Target: target, Tag: a.Tag, Confidence: conf})
		return nil, nil

	case "events.emit":
		var a struct {
			Type    string
			Payload json.RawMessage
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if a.Type == "" || !isObject(a.Payload) {
			return nil, errf(cairn.CodeInvalidArgument, "events.emit: want a type and a payload object")
		}
		types := f.m.Capabilities["events.emit"].Types
		if len(types) == 0 {
			types = []string{f.m.ID + ".*"}
		}
		types = narrow(types, f.grant["events.emit"].Types, typeCovers)
		if !slices.ContainsFunc(types, func(p string) bool { return typeCovers(p, a.Type) }) {
			return nil, errf(cairn.CodeCapabilityDenied, "%s: events.emit does not cover type %q (covers %v)", f.m.ID, a.Type, types)
		}
		f.state.Emitted = append(f.state.Emitted, cairn.Event{Type: a.Type, Payload: compact(a.Payload)})
		return nil, nil

	case "events.poll":
		var a struct{ Max int }
		if e := decode(&a); e != nil {
			return nil, e
		}
		limit, e := pageLimit(fn, a.Max)
		if e != nil {
			return nil, e
		}
		types := narrow(f.m.Capabilities["events.subscribe"].Types, f.grant["events.subscribe"].Types, typeCovers)
		events := []cairn.Event{}
		var keep []cairn.Event
		for _, ev := range f.state.Pending {
			if len(events) < limit && slices.ContainsFunc(types, func(p string) bool { return typeCovers(p, ev.Type) }) {
				events = append(events, ev)
			} else {
				keep = append(keep, ev)
			}
		}
		f.state.Pending = keep
		return map[string]any{"events": events}, nil

	case "job.progress":
		var a struct {
			Done, Total int64
			Phase       string
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if a.Done < 0 || a.Total < 0 {
			return nil, errf(cairn.CodeInvalidArgument, "job.progress: done and total must not be negative")
		}
		f.state.Progress = append(f.state.Progress, Progress{Done: a.Done, Total: a.Total, Phase: a.Phase})
		return nil, nil

	case "job.checkpoint":
		var a struct{ State json.RawMessage }
		if e := decode(&a); e != nil {
			return nil, e
		}
		if len(a.State) > maxValueLen {
			return nil, errf(cairn.CodeLimitExceeded, "job.checkpoint: state over 1 MiB")
		}
		f.state.Checkpoints = append(f.state.Checkpoints, compact(a.State))
		return nil, nil

	case "action.propose":
		var a struct {
			Kind   string
			Params json.RawMessage
			Reason string
		}
		if e := decode(&a); e != nil {
			return nil, e
		}
		if a.Kind == "" || a.Reason == "" || !isObject(a.Params) {
			return nil, errf(cairn.CodeInvalidArgument, "action.propose: want a kind, params (a JSON object) and a reason")
		}
		f.actions++
		id := "action-" + strconv.Itoa(f.actions)
		f.state.Actions = append(f.state.Actions, Action{ID: id, Kind: a.Kind, Params: compact(a.Params), Reason: a.Reason})
		return map[string]string{"id": id}, nil
	}
	return nil, errf(cairn.CodeInternal, "%s: not implemented by the exttest fake", fn)
}

var (
	sidecarKindRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	sidecarVariantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	sidecarFormatRE  = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
)

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func pageLimit(fn string, n int) (int, *cairn.Error) {
	switch {
	case n < 0 || n > maxListLimit:
		return 0, errf(cairn.CodeInvalidArgument, "%s: limit %d: want 0 to %d", fn, n, maxListLimit)
	case n == 0:
		return 100, nil
	}
	return n, nil
}

func targetKey(fn string, t cairn.Target) (string, *cairn.Error) {
	if (t.EntryID == 0) == (t.ContentUUID == "") {
		return "", errf(cairn.CodeInvalidArgument, "%s: target: give exactly one of entry_id and content_uuid", fn)
	}
	if t.EntryID != 0 {
		return "entry:" + strconv.FormatInt(t.EntryID, 10), nil
	}
	return "content:" + t.ContentUUID, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return slices.Clone(raw)
	}
	return b.Bytes()
}

func (f *Fake) namespace(c string) string {
	if ns := f.grant[c].Namespace; ns != "" {
		return ns
	}
	if ns := f.m.Capabilities[c].Namespace; ns != "" {
		return ns
	}
	return f.m.ID
}

func (f *Fake) sidecarKinds() []string {
	kinds := f.m.Capabilities["sidecars.write"].Kinds
	if len(kinds) == 0 {
		for _, s := range f.m.Contributes.Sidecars {
			kinds = append(kinds, s.Kind)
		}
	}
	return narrow(kinds, f.grant["sidecars.write"].Kinds, equal)
}

// allowedPath reports whether capability c's globs (requested, and granted
// when the grant names globs) cover rel. No globs cover everything.
func (f *Fake) allowedPath(c, rel string) bool {
	req := f.m.Capabilities[c].Globs
	if len(req) > 0 && !matchAny(req, rel) {
		return false
	}
	if g := f.grant[c].Globs; len(g) > 0 && !matchAny(g, rel) {
		return false
	}
	return true
}

// Interface guards.
var (
	_ Host           = (*Fake)(nil)
	_ Snapshotter    = (*Fake)(nil)
	_ cairn.HostFunc = (&Fake{}).Handle
)
