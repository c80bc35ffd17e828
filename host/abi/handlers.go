package abi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
)

const auditTimeout = 5 * time.Second

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"log":              {"", (*Dispatcher).logFn},
		"config.get":       {"", (*Dispatcher).configGet},
		"kv.get":           {capability.KV, (*Dispatcher).kvGet},
		"kv.set":           {capability.KV, (*Dispatcher).kvSet},
		"kv.delete":        {capability.KV, (*Dispatcher).kvDelete},
		"kv.list":          {capability.KV, (*Dispatcher).kvList},
		"entries.query":    {capability.EntriesRead, (*Dispatcher).entriesQuery},
		"content.read":     {capability.ContentRead, (*Dispatcher).contentRead},
		"content.set_type": {capability.ContentType, (*Dispatcher).contentSetType},
		"metadata.set":     {capability.MetadataWrite, (*Dispatcher).metadataSet},
		"sidecar.write":    {capability.SidecarsWrite, (*Dispatcher).sidecarWrite},
		"tags.apply":       {capability.TagsWrite, (*Dispatcher).tagsApply},
		"events.emit":      {capability.EventsEmit, (*Dispatcher).eventsEmit},
		"events.poll":      {capability.EventsSubscribe, (*Dispatcher).eventsPoll},
		"job.progress":     {capability.JobsDispatch, (*Dispatcher).jobProgress},
		"job.checkpoint":   {capability.JobsDispatch, (*Dispatcher).jobCheckpoint},
		"action.propose":   {capability.ActionsPropose, (*Dispatcher).actionPropose},
		"http.request":     {capability.Net, (*Dispatcher).httpRequest},
	}
}

// decode reads args into v, reporting malformed arguments as invalid_argument.
func decode(fn string, args json.RawMessage, v any) error {
	if err := json.Unmarshal(args, v); err != nil {
		return Errorf(CodeInvalidArgument, "%s: arguments: %v", fn, err)
	}
	return nil
}

func invalid(fn, format string, a ...any) error {
	return &Error{Code: CodeInvalidArgument, Message: fn + ": " + fmt.Sprintf(format, a...)}
}

func unavailable(fn, what string) error {
	return &Error{Code: CodeUnavailable, Message: fn + ": " + what + " is not available in this host"}
}

var levels = map[string]slog.Level{"trace": slog.LevelDebug - 4, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warn": slog.LevelWarn, "error": slog.LevelError}

func (d *Dispatcher) logFn(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Level string         `json:"level"`
		Msg   string         `json:"msg"`
		Attrs map[string]any `json:"attrs"`
	}
	if err := decode("log", args, &a); err != nil {
		return nil, err
	}
	lvl, ok := levels[a.Level]
	if !ok {
		return nil, invalid("log", "level %q: want trace, debug, info, warn or error", a.Level)
	}
	msg := a.Msg
	if len(msg) > MaxLogMessage {
		msg = msg[:MaxLogMessage] + "…(truncated)"
	}
	attrs := make([]any, 0, 2*len(a.Attrs))
	size := int64(len(msg))
	if len(a.Attrs) > 0 {
		b, _ := json.Marshal(a.Attrs)
		if len(b) > MaxLogMessage {
			attrs = append(attrs, "attrs_dropped", fmt.Sprintf("%d bytes of attributes, over the %d-byte limit", len(b), MaxLogMessage))
		} else {
			for k, v := range a.Attrs {
				attrs = append(attrs, k, v)
			}
		}
		size += int64(min(len(b), MaxLogMessage))
	}
	allowed, note := c.logBudget(ctx, size)
	switch {
	case allowed == size:
		c.log.Log(ctx, lvl, msg, attrs...)
		return nil, nil
	case allowed > 0 || note:
		cut := msg[:min(int64(len(msg)), allowed)]
		c.log.Log(ctx, lvl, cut+"…(truncated: log quota reached)", "log_quota",
			fmt.Sprintf("the extension logged over %d bytes in this call or %d in this run; further log calls are dropped", c.q.LogBytesPerCall, c.q.LogBytes))
	}
	return nil, Errorf(CodeLimitExceeded, "log: over the log quota (%d bytes per call, %d per run): dropped", c.q.LogBytesPerCall, c.q.LogBytes)
}

func (d *Dispatcher) configGet(_ context.Context, c *Caller, _ json.RawMessage) (any, error) {
	return c.config, nil
}

// --- kv ---

func checkKey(fn, key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return invalid(fn, "key must be 1 to %d bytes, got %d", MaxKeyLen, len(key))
	}
	return nil
}

func (d *Dispatcher) kvGet(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct{ Key string }
	if err := decode("kv.get", args, &a); err != nil {
		return nil, err
	}
	if err := checkKey("kv.get", a.Key); err != nil {
		return nil, err
	}
	if d.b.KV == nil {
		return nil, unavailable("kv.get", "the key-value store")
	}
	v, ok, err := d.b.KV.KVGet(ctx, c.id, a.Key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return map[string]any{"value": nil}, nil
	}
	return map[string]any{"value": v}, nil // []byte marshals as base64
}

func (d *Dispatcher) kvSet(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Key   string
		Value *[]byte
	}
	if err := decode("kv.set", args, &a); err != nil {
		return nil, err
	}
	if err := checkKey("kv.set", a.Key); err != nil {
		return nil, err
	}
	if a.Value == nil {
		return nil, invalid("kv.set", "value is required (base64); use kv.delete to remove a key")
	}
	if len(*a.Value) > MaxValueLen {
		return nil, &Error{Code: CodeLimitExceeded, Message: fmt.Sprintf("kv.set: value of %d bytes is over the %d-byte limit", len(*a.Value), MaxValueLen)}
	}
	if d.b.KV == nil {
		return nil, unavailable("kv.set", "the key-value store")
	}
	c.kvMu.Lock()
	defer c.kvMu.Unlock()
	used, old, err := d.kvUsage(ctx, c, a.Key)
	if err != nil {
		return nil, err
	}
	next := used - old + int64(len(a.Key)+len(*a.Value))
	if next > c.q.KVBytes && next > used {
		return nil, Errorf(CodeLimitExceeded, "kv.set: the store would hold %d bytes, over the extension's %d-byte quota", next, c.q.KVBytes)
	}
	if err := d.b.KV.KVSet(ctx, c.id, a.Key, *a.Value); err != nil {
		return nil, err
	}
	c.kvUsed = next
	return nil, nil
}

// KVUsage is implemented by KV backends that can tell how many bytes (keys and values) an
// extension's store holds; without it the quota counts from 0 at load.
type KVUsage interface {
	KVUsage(ctx context.Context, ext string) (int64, error)
}

// kvUsage returns the bytes in c's store and those of key's entry now (0 if none). Call it
// with c.kvMu held.
func (d *Dispatcher) kvUsage(ctx context.Context, c *Caller, key string) (used, old int64, err error) {
	if !c.kvKnown {
		if u, ok := d.b.KV.(KVUsage); ok {
			if c.kvUsed, err = u.KVUsage(ctx, c.id); err != nil {
				return 0, 0, err
			}
		}
		c.kvKnown = true
	}
	v, ok, err := d.b.KV.KVGet(ctx, c.id, key)
	if err != nil {
		return 0, 0, err
	}
	if ok {
		old = int64(len(key) + len(v))
	}
	return c.kvUsed, old, nil
}

func (d *Dispatcher) kvDelete(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct{ Key string }
	if err := decode("kv.delete", args, &a); err != nil {
		return nil, err
	}
	if err := checkKey("kv.delete", a.Key); err != nil {
		return nil, err
	}
	if d.b.KV == nil {
		return nil, unavailable("kv.delete", "the key-value store")
	}
	c.kvMu.Lock()
	defer c.kvMu.Unlock()
	used, old, err := d.kvUsage(ctx, c, a.Key)
	if err != nil {
		return nil, err
	}
	if err := d.b.KV.KVDelete(ctx, c.id, a.Key); err != nil {
		return nil, err
	}
	c.kvUsed = used - old
	return nil, nil
}

func (d *Dispatcher) kvList(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Prefix, After string
		Limit         int
	}
	if err := decode("kv.list", args, &a); err != nil {
		return nil, err
	}
	limit, err := listLimit("kv.list", a.Limit)
	if err != nil {
		return nil, err
	}
	if d.b.KV == nil {
		return nil, unavailable("kv.list", "the key-value store")
	}
	keys, err := d.b.KV.KVList(ctx, c.id, a.Prefix, a.After, limit+1)
	if err != nil {
		return nil, err
	}
	res := struct {
		Keys []string `json:"keys"`
		Next string   `json:"next,omitempty"`
	}{Keys: keys}
	if len(keys) > limit {
		res.Keys = keys[:limit]
		res.Next = keys[limit-1]
	}
	if res.Keys == nil {
		res.Keys = []string{}
	}
	return res, nil
}

func listLimit(fn string, n int) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > MaxListLimit:
		return 0, invalid(fn, "limit %d: want 1 to %d", n, MaxListLimit)
	}
	return n, nil
}

// --- entries ---

func (d *Dispatcher) entriesQuery(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Location, Glob, Kind string
		After                int64
		Limit                int
	}
	if err := decode("entries.query", args, &a); err != nil {
		return nil, err
	}
	limit, err := listLimit("entries.query", a.Limit)
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case "", "file", "dir", "symlink":
	default:
		return nil, invalid("entries.query", "kind %q: want file, dir or symlink", a.Kind)
	}
	var glob *capability.Glob
	if a.Glob != "" {
		g, err := capability.CompileGlob(a.Glob)
		if err != nil {
			return nil, invalid("entries.query", "%v", err)
		}
		glob = &g
	}
	scope := c.caps.Files(capability.EntriesRead)
	q := EntryQuery{Kind: a.Kind, After: a.After}
	if a.Location != "" {
		if !scope.AllowsLocation(a.Location) {
			return nil, scope.Deny("location " + a.Location)
		}
		q.Locations = []string{a.Location}
	} else {
		q.Locations, q.All = scope.Locations()
		if !q.All && len(q.Locations) == 0 {
			return map[string]any{"entries": []Entry{}}, nil
		}
	}
	if d.b.Entries == nil {
		return nil, unavailable("entries.query", "the entry store")
	}
	// Read until limit entries in scope, or a scan budget (so that a narrow glob over a huge
	// library answers promptly and the guest pages on with next).
	budget := max(10*limit, 2000)
	res := struct {
		Entries []Entry `json:"entries"`
		Next    *int64  `json:"next,omitempty"`
	}{Entries: []Entry{}}
	var last int64
	scanned, stopped := 0, false
	for e, err := range d.b.Entries.Entries(ctx, q) {
		if err != nil {
			return nil, err
		}
		last = e.ID
		scanned++
		if scope.Allows(e.Location, e.Rel) && (glob == nil || glob.Match(e.Rel)) &&
			(q.All || containsStr(q.Locations, e.Location)) && (a.Kind == "" || a.Kind == e.Kind) {
			e.Path = datafs.Path(e.Location, e.Rel)
			res.Entries = append(res.Entries, e)
		}
		if len(res.Entries) == limit || scanned >= budget {
			stopped = true
			break
		}
	}
	if stopped {
		res.Next = &last
	}
	return res, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// --- content ---

func (d *Dispatcher) contentRead(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		ContentUUID string `json:"content_uuid"`
		EntryID     int64  `json:"entry_id"`
		Offset      int64  `json:"offset"`
		Length      int64  `json:"length"`
	}
	if err := decode("content.read", args, &a); err != nil {
		return nil, err
	}
	if (a.ContentUUID == "") == (a.EntryID == 0) {
		return nil, invalid("content.read", "give exactly one of content_uuid and entry_id")
	}
	if a.Offset < 0 || a.Length < 0 {
		return nil, invalid("content.read", "offset and length must not be negative")
	}
	if a.Length > MaxContentRead {
		return nil, &Error{Code: CodeLimitExceeded, Message: fmt.Sprintf("content.read: length %d is over the %d-byte limit per call", a.Length, MaxContentRead)}
	}
	if d.b.Content == nil || c.files == nil {
		return nil, unavailable("content.read", "file access")
	}
	// Whatever has no local copy inside the caller's scope — outside it, on another device, not
	// in the library at all — gets one answer, naming only what the caller asked for: neither
	// where the file is nor whether it exists.
	outside := func() error {
		what := "content " + a.ContentUUID
		if a.EntryID != 0 {
			what = fmt.Sprintf("entry %d", a.EntryID)
		}
		return &capability.DeniedError{Extension: c.id, Capability: capability.ContentRead,
			Reason: "does not cover " + what + " (no local copy of it in the granted locations and globs)"}
	}
	copies, err := d.b.Content.Copies(ctx, ContentRef{ContentUUID: a.ContentUUID, EntryID: a.EntryID})
	if errors.Is(err, ErrNotFound) {
		return nil, outside()
	}
	if err != nil {
		return nil, err
	}
	scope := c.caps.Files(capability.ContentRead)
	var pick *FileRef
	for i := range copies {
		if scope.Allows(copies[i].Location, copies[i].Rel) {
			pick = &copies[i]
			break
		}
	}
	if pick == nil {
		return nil, outside()
	}
	f, err := c.files.OpenFile(pick.Location, pick.Rel)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, scope.Deny(datafs.Path(pick.Location, pick.Rel))
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errorf(CodeNotFound, "content.read: %s is gone from disk", datafs.Path(pick.Location, pick.Rel))
		}
		return nil, fmt.Errorf("opening %s: %w", datafs.Path(pick.Location, pick.Rel), err)
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil, fmt.Errorf("content.read: %s cannot be read at an offset", pick.Rel)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, max(0, min(a.Length, fi.Size()-a.Offset)))
	n, err := ra.ReadAt(buf, a.Offset)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", pick.Rel, err)
	}
	return struct {
		Data []byte `json:"data"`
		EOF  bool   `json:"eof"`
	}{buf[:n], a.Offset+int64(n) >= fi.Size()}, nil
}

var kinds = map[string]bool{"unknown": true, "image": true, "video": true, "audio": true, "document": true,
	"archive": true, "code": true, "text": true, "database": true, "book": true, "font": true, "mesh": true,
	"config": true, "encrypted": true, "key": true, "executable": true, "binary": true, "spreadsheet": true,
	"presentation": true, "email": true, "calendar": true, "contact": true, "web": true, "shortcut": true, "package": true}

var mimeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

func (d *Dispatcher) contentSetType(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		ContentUUID string `json:"content_uuid"`
		Mime, Kind  string
	}
	if err := decode("content.set_type", args, &a); err != nil {
		return nil, err
	}
	if a.ContentUUID == "" || !mimeRE.MatchString(a.Mime) || !kinds[a.Kind] {
		return nil, invalid("content.set_type", "want content_uuid, a lowercase mime type and a content kind")
	}
	if d.b.Content == nil {
		return nil, unavailable("content.set_type", "the content store")
	}
	return nil, d.b.Content.SetType(ctx, a.ContentUUID, a.Mime, a.Kind)
}

// --- metadata, tags, sidecars ---

func checkTarget(fn string, t Target) error {
	if (t.EntryID == 0) == (t.ContentUUID == "") {
		return invalid(fn, "target: give exactly one of entry_id and content_uuid")
	}
	return nil
}

func (d *Dispatcher) metadataSet(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Target Target
		Key    string
		Value  json.RawMessage
	}
	if err := decode("metadata.set", args, &a); err != nil {
		return nil, err
	}
	if err := checkTarget("metadata.set", a.Target); err != nil {
		return nil, err
	}
	if a.Key == "" || len(a.Key) > 256 {
		return nil, invalid("metadata.set", "key must be 1 to 256 bytes")
	}
	if len(a.Value) == 0 {
		a.Value = json.RawMessage("null")
	}
	if len(a.Value) > MaxValueLen {
		return nil, &Error{Code: CodeLimitExceeded, Message: "metadata.set: value over 1 MiB"}
	}
	if d.b.Metadata == nil {
		return nil, unavailable("metadata.set", "user metadata")
	}
	n := int64(len(a.Key) + len(a.Value))
	if c.metaBytes.Add(n) > c.q.MetadataBytes {
		c.metaBytes.Add(-n)
		return nil, Errorf(CodeLimitExceeded, "metadata.set: over the extension's quota of %d bytes of metadata written in a run", c.q.MetadataBytes)
	}
	return nil, d.b.Metadata.SetMetadata(ctx, c.caps.Namespace(capability.MetadataWrite), a.Target, a.Key, a.Value)
}

func (d *Dispatcher) tagsApply(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Target     Target
		Tag        string
		Confidence *float64
	}
	if err := decode("tags.apply", args, &a); err != nil {
		return nil, err
	}
	if err := checkTarget("tags.apply", a.Target); err != nil {
		return nil, err
	}
	if a.Tag == "" || len(a.Tag) > 256 || !utf8.ValidString(a.Tag) {
		return nil, invalid("tags.apply", "tag must be 1 to 256 bytes of UTF-8")
	}
	conf := 1.0
	if a.Confidence != nil {
		conf = *a.Confidence
	}
	if conf < 0 || conf > 1 || math.IsNaN(conf) {
		return nil, invalid("tags.apply", "confidence %v: want 0 to 1", conf)
	}
	if d.b.Tags == nil {
		return nil, unavailable("tags.apply", "tags")
	}
	return nil, d.b.Tags.ApplyTag(ctx, c.id, c.caps.Namespace(capability.TagsWrite), a.Target, a.Tag, conf)
}

var (
	sidecarKindRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	sidecarVariantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	sidecarFormatRE  = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
)

func (d *Dispatcher) sidecarWrite(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		ContentUUID           string `json:"content_uuid"`
		Kind, Variant, Format string
		Data                  []byte
		Storage               string
	}
	if err := decode("sidecar.write", args, &a); err != nil {
		return nil, err
	}
	switch a.Storage {
	case "":
		a.Storage = StorageFile
	case StorageFile:
	case StorageContent:
		if len(a.Data) > 0 {
			return nil, invalid("sidecar.write", "storage %q takes no data: the sidecar is the content's own bytes", a.Storage)
		}
	default:
		return nil, invalid("sidecar.write", "storage %q: want %q or %q", a.Storage, StorageFile, StorageContent)
	}
	if a.ContentUUID == "" || !sidecarKindRE.MatchString(a.Kind) || !sidecarVariantRE.MatchString(a.Variant) || !sidecarFormatRE.MatchString(a.Format) {
		return nil, invalid("sidecar.write", "want content_uuid, kind [a-z0-9_], variant [A-Za-z0-9_-] and format [a-z0-9]")
	}
	if err := c.caps.CheckKind(a.Kind); err != nil {
		return nil, err
	}
	if len(a.Data) > MaxSidecarBytes {
		return nil, &Error{Code: CodeLimitExceeded, Message: fmt.Sprintf("sidecar.write: %d bytes is over the %d-byte limit", len(a.Data), MaxSidecarBytes)}
	}
	if d.b.Sidecars == nil {
		return nil, unavailable("sidecar.write", "sidecar storage")
	}
	p, err := d.b.Sidecars.WriteSidecar(ctx, c.id, Sidecar{ContentUUID: a.ContentUUID, Kind: a.Kind, Variant: a.Variant, Format: a.Format,
		Data: a.Data, Storage: a.Storage})
	if err != nil {
		return nil, err
	}
	if a.Storage == StorageContent {
		return map[string]string{"path": p, "storage": a.Storage}, nil
	}
	return map[string]string{"path": p}, nil
}

// --- events, jobs, actions ---

var eventTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,127}$`)

func (d *Dispatcher) eventsEmit(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Type    string
		Payload json.RawMessage
	}
	if err := decode("events.emit", args, &a); err != nil {
		return nil, err
	}
	if !eventTypeRE.MatchString(a.Type) || strings.HasSuffix(a.Type, ".") {
		return nil, invalid("events.emit", "type %q: want dot-separated lowercase words", a.Type)
	}
	if len(a.Payload) == 0 || a.Payload[0] != '{' {
		return nil, invalid("events.emit", "payload must be a JSON object")
	}
	if len(a.Payload) > MaxValueLen {
		return nil, &Error{Code: CodeLimitExceeded, Message: "events.emit: payload over 1 MiB"}
	}
	if err := c.caps.CheckEmit(a.Type); err != nil {
		return nil, err
	}
	if d.b.Events == nil {
		return nil, unavailable("events.emit", "the event bus")
	}
	return nil, d.b.Events.Emit(ctx, c.id, a.Type, a.Payload)
}

func (d *Dispatcher) eventsPoll(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct{ Max int }
	if err := decode("events.poll", args, &a); err != nil {
		return nil, err
	}
	n, err := listLimit("events.poll", a.Max)
	if err != nil {
		return nil, err
	}
	if d.b.Events == nil {
		return nil, unavailable("events.poll", "the event bus")
	}
	types := c.caps.SubscribeTypes()
	evs, err := d.b.Events.Poll(ctx, c.id, types, n)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		if c.caps.CheckSubscribe(e.Type) == nil { // the scope again, whatever the backend did
			out = append(out, e)
		}
	}
	return map[string]any{"events": out}, nil
}

func (d *Dispatcher) jobProgress(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Done, Total int64
		Phase       string
	}
	if err := decode("job.progress", args, &a); err != nil {
		return nil, err
	}
	if a.Done < 0 || a.Total < 0 {
		return nil, invalid("job.progress", "done and total must not be negative")
	}
	j, ok := JobFrom(ctx)
	if !ok {
		return nil, Errorf(CodeUnavailable, "job.progress: this call is not running for a job")
	}
	j.Progress(a.Phase, a.Done, a.Total)
	return nil, nil
}

func (d *Dispatcher) jobCheckpoint(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct{ State json.RawMessage }
	if err := decode("job.checkpoint", args, &a); err != nil {
		return nil, err
	}
	if len(a.State) > MaxValueLen {
		return nil, &Error{Code: CodeLimitExceeded, Message: "job.checkpoint: state over 1 MiB"}
	}
	j, ok := JobFrom(ctx)
	if !ok {
		return nil, Errorf(CodeUnavailable, "job.checkpoint: this call is not running for a job")
	}
	return nil, j.Checkpoint(ctx, a.State)
}

var actionKindRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

func (d *Dispatcher) actionPropose(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Kind   string
		Params json.RawMessage
		Reason string
	}
	if err := decode("action.propose", args, &a); err != nil {
		return nil, err
	}
	if !actionKindRE.MatchString(a.Kind) || len(a.Params) == 0 || a.Params[0] != '{' || a.Reason == "" {
		return nil, invalid("action.propose", "want a kind, params (a JSON object) and a reason")
	}
	if len(a.Params) > MaxValueLen || len(a.Reason) > 4096 {
		return nil, &Error{Code: CodeLimitExceeded, Message: "action.propose: params or reason too large"}
	}
	if d.b.Actions == nil {
		return nil, unavailable("action.propose", "actions")
	}
	id, err := d.b.Actions.Propose(ctx, c.id, a.Kind, a.Params, a.Reason)
	if err != nil {
		return nil, err
	}
	return map[string]string{"id": id}, nil
}
