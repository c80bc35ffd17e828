package cairn

import (
	"encoding/json"
	"io"
	"iter"
	"strconv"
)

// Typed wrappers of every host ABI v1 function (schemas/hostabi/v1.md). Each
// is one host call: roughly 0.1 ms under go-sdk, mostly the kernel's
// allocator, so batch work and keep calls per file few. A call the
// extension's capabilities do not cover fails with an error for which
// IsDenied is true; the host also writes it to its audit log.

// Log sends msg to the host's log for this extension. attrs are key-value
// pairs as in log/slog: Log(LevelInfo, "counted", "file", it.Name, "words", n).
// A key that is not a string is logged under "!BADKEY". Needs no capability.
func Log(level Level, msg string, attrs ...any) error {
	args := struct {
		Level Level          `json:"level"`
		Msg   string         `json:"msg"`
		Attrs map[string]any `json:"attrs,omitempty"`
	}{Level: level, Msg: msg}
	if len(attrs) > 0 {
		args.Attrs = make(map[string]any, (len(attrs)+1)/2)
		for i := 0; i < len(attrs); i += 2 {
			k, ok := attrs[i].(string)
			if !ok {
				k = "!BADKEY"
			}
			if i+1 < len(attrs) {
				args.Attrs[k] = attrs[i+1]
			} else {
				args.Attrs["!BADKEY"] = attrs[i]
			}
		}
	}
	return call("log", args, nil)
}

// Config decodes the extension's configuration (an object the host validated
// against the manifest's config schema) into v. Needs no capability. Handlers
// also receive the config in their input: see Ctx.DecodeConfig.
func Config(v any) error {
	return call("config.get", nil, v)
}

// KVGet returns the value stored under key in the extension's private store,
// and whether there is one. Needs kv.
func KVGet(key string) (value []byte, found bool, err error) {
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	if err := call("kv.get", struct {
		Key string `json:"key"`
	}{key}, &out); err != nil {
		return nil, false, err
	}
	if len(out.Value) == 0 || string(out.Value) == "null" {
		return nil, false, nil
	}
	if err := json.Unmarshal(out.Value, &value); err != nil {
		return nil, false, &Error{Fn: "kv.get", Code: CodeInternal, Message: "value: " + err.Error()}
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

// KVSet stores value under key (key ≤ 512 bytes, value ≤ 1 MiB). Needs kv.
func KVSet(key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return call("kv.set", struct {
		Key   string `json:"key"`
		Value []byte `json:"value"`
	}{key, value}, nil)
}

// KVDelete removes key; removing a missing key is not an error. Needs kv.
func KVDelete(key string) error {
	return call("kv.delete", struct {
		Key string `json:"key"`
	}{key}, nil)
}

// KVList returns up to limit (≤ 1000; 0 for the host's default) keys with the
// prefix that sort after after, in order, and the cursor for the next page
// ("" when there is none). Needs kv.
func KVList(prefix, after string, limit int) (keys []string, next string, err error) {
	var out struct {
		Keys []string `json:"keys"`
		Next string   `json:"next"`
	}
	err = call("kv.list", struct {
		Prefix string `json:"prefix,omitempty"`
		After  string `json:"after,omitempty"`
		Limit  int    `json:"limit,omitempty"`
	}{prefix, after, limit}, &out)
	return out.Keys, out.Next, err
}

// KVKeys iterates over every key with the prefix, in order, one host call per
// page of 1000. It stops at the first error, which it yields.
func KVKeys(prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		after := ""
		for {
			keys, next, err := KVList(prefix, after, 1000)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
			if next == "" || len(keys) == 0 {
				return
			}
			after = next
		}
	}
}

// QueryEntriesPage returns one page of entries matching q, in id order, and
// the cursor for the next page (0 when there is none). Results are limited to
// the extension's entries.read scope. Needs entries.read.
func QueryEntriesPage(q EntryQuery) (entries []Entry, next int64, err error) {
	var out struct {
		Entries []Entry `json:"entries"`
		Next    int64   `json:"next"`
	}
	err = call("entries.query", q, &out)
	return out.Entries, out.Next, err
}

// QueryEntries iterates over every entry matching q, fetching pages of
// q.Limit entries (the host's default when 0) as it goes, starting after
// q.After. It stops at the first error, which it yields. Needs entries.read.
func QueryEntries(q EntryQuery) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for {
			entries, next, err := QueryEntriesPage(q)
			if err != nil {
				yield(Entry{}, err)
				return
			}
			for _, e := range entries {
				if !yield(e, nil) {
					return
				}
			}
			if next == 0 || len(entries) == 0 {
				return
			}
			q.After = next
		}
	}
}

// ReadContent reads up to length bytes (≤ 4 MiB) of a content or entry from
// offset, through the host, and reports whether the read reached the end.
// Bytes through the host cost ~10 ms per MiB: a stage should open Item.Path
// in its /data mount instead, which is much faster. Needs content.read.
func ReadContent(t Target, offset int64, length int) (data []byte, eof bool, err error) {
	var out struct {
		Data []byte `json:"data"`
		EOF  bool   `json:"eof"`
	}
	err = call("content.read", struct {
		ContentUUID string `json:"content_uuid,omitempty"`
		EntryID     int64  `json:"entry_id,omitempty"`
		Offset      int64  `json:"offset"`
		Length      int    `json:"length"`
	}{t.ContentUUID, t.EntryID, offset, length}, &out)
	return out.Data, out.EOF, err
}

// ContentReader returns a reader over a content or entry through
// ReadContent, in chunks of 1 MiB. See ReadContent for why Item.Path is
// usually better.
func ContentReader(t Target) io.Reader { return &contentReader{t: t} }

type contentReader struct {
	t   Target
	off int64
	buf []byte
	eof bool
	err error
}

func (r *contentReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.eof {
			return 0, io.EOF
		}
		r.buf, r.eof, r.err = ReadContent(r.t, r.off, 1<<20)
		r.off += int64(len(r.buf))
		if len(r.buf) == 0 && !r.eof && r.err == nil {
			r.err = &Error{Fn: "content.read", Code: CodeInternal, Message: "host returned no bytes before the end"}
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// SetType records the MIME type and kind of a content. Needs content.type.
func SetType(contentUUID, mime, kind string) error {
	return call("content.set_type", struct {
		ContentUUID string `json:"content_uuid"`
		Mime        string `json:"mime"`
		Kind        string `json:"kind"`
	}{contentUUID, mime, kind}, nil)
}

// SetMetadata sets key to value (any JSON value, ≤ 1 MiB encoded) on the
// target, in the extension's metadata namespace (its id unless the manifest
// or the grant names another). Needs metadata.write.
func SetMetadata(t Target, key string, value any) error {
	return call("metadata.set", struct {
		Target Target `json:"target"`
		Key    string `json:"key"`
		Value  any    `json:"value"`
	}{t, key, value}, nil)
}

// WriteSidecar stores a sidecar file and returns its library-relative path
// ("" for a StorageContent sidecar, which has no file of its own). Needs
// sidecars.write covering s.Kind.
func WriteSidecar(s SidecarFile) (path string, err error) {
	var out struct {
		Path string `json:"path"`
	}
	if s.Storage == StorageContent {
		if len(s.Data) > 0 {
			return "", &Error{Fn: "sidecar.write", Code: CodeInvalidArgument, Message: "a sidecar stored as the content takes no data"}
		}
		err = call("sidecar.write", struct {
			ContentUUID string `json:"content_uuid"`
			Kind        string `json:"kind"`
			Variant     string `json:"variant"`
			Format      string `json:"format"`
			Storage     string `json:"storage"`
		}{s.ContentUUID, s.Kind, s.Variant, s.Format, s.Storage}, &out)
		return out.Path, err
	}
	if s.Data == nil {
		s.Data = []byte{}
	}
	err = call("sidecar.write", s, &out)
	return out.Path, err
}

// ContentIsSidecar records that the content itself is its sidecar of kind and
// variant, in format (no copy is stored): WriteSidecar with StorageContent.
func ContentIsSidecar(contentUUID, kind, variant, format string) error {
	_, err := WriteSidecar(SidecarFile{ContentUUID: contentUUID, Kind: kind, Variant: variant, Format: format, Storage: StorageContent})
	return err
}

// ApplyTag tags the target with tag, with a confidence from 0 to 1 (1 for a
// certain tag). Needs tags.write.
func ApplyTag(t Target, tag string, confidence float64) error {
	return call("tags.apply", struct {
		Target     Target  `json:"target"`
		Tag        string  `json:"tag"`
		Confidence float64 `json:"confidence"`
	}{t, tag, confidence}, nil)
}

// Emit publishes an event of type typ (by default the extension may emit
// "<its id>.*") with payload, a JSON object. Needs events.emit.
func Emit(typ string, payload any) error {
	if payload == nil {
		payload = struct{}{}
	}
	return call("events.emit", struct {
		Type    string `json:"type"`
		Payload any    `json:"payload"`
	}{typ, payload}, nil)
}

// PollEvents returns up to max (≤ 1000; 0 for the host's default) pending
// events of the subscribed types, without waiting. Needs events.subscribe.
func PollEvents(max int) ([]Event, error) {
	var out struct {
		Events []Event `json:"events"`
	}
	err := call("events.poll", struct {
		Max int `json:"max,omitempty"`
	}{max}, &out)
	return out.Events, err
}

// Progress reports the progress of the job the extension runs in: done of
// total units, in an optional phase. Needs jobs.dispatch.
func Progress(done, total int64, phase string) error {
	return call("job.progress", struct {
		Done  int64  `json:"done"`
		Total int64  `json:"total"`
		Phase string `json:"phase,omitempty"`
	}{done, total, phase}, nil)
}

// Checkpoint persists state (any JSON value) for the current job, so that it
// resumes from there after a crash or a pause. Needs jobs.dispatch.
func Checkpoint(state any) error {
	return call("job.checkpoint", struct {
		State any `json:"state"`
	}{state}, nil)
}

// ProposeAction proposes an action (validate → preview → execute, approved by
// the user) of the given kind with params (a JSON object) and a reason shown
// to the user, and returns its id. Needs actions.propose.
func ProposeAction(kind string, params any, reason string) (id string, err error) {
	if params == nil {
		params = struct{}{}
	}
	var out struct {
		ID json.RawMessage `json:"id"`
	}
	err = call("action.propose", struct {
		Kind   string `json:"kind"`
		Params any    `json:"params"`
		Reason string `json:"reason"`
	}{kind, params, reason}, &out)
	if err != nil {
		return "", err
	}
	return rawID(out.ID), nil
}

// rawID accepts an id sent as a JSON string or number.
func rawID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10)
	}
	return string(raw)
}
