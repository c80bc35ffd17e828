package abi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
)

// Version is the host ABI version this host provides.
const Version = "1.2"

// The WASM import that carries host calls.
const (
	ImportModule = "cairn:host/v1"
	ImportName   = "call"
)

// Error codes (v1.md): callers branch on them.
const (
	CodeCapabilityDenied = "capability_denied"
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeLimitExceeded    = "limit_exceeded"
	CodeUnavailable      = "unavailable"
	CodeUnknownFunction  = "unknown_function"
	CodeInternal         = "internal"
)

// Limits of v1 messages.
const (
	MaxRequest      = 24 << 20 // a request, whole (sidecar data is base64 inside it)
	MaxKeyLen       = 512
	MaxValueLen     = 1 << 20
	MaxListLimit    = 1000
	MaxContentRead  = 4 << 20
	MaxSidecarBytes = 16 << 20
	MaxLogMessage   = 16 << 10
)

// Request is a host call.
type Request struct {
	Fn   string          `json:"fn"`
	Args json.RawMessage `json:"args"`
}

// Error is a host call's failure, as it travels in a Response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf makes an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is what backends wrap when the target of a call does not exist.
var ErrNotFound = errors.New("not found")

// Response is a host call's answer: exactly one of OK and Error is meaningful.
type Response struct {
	OK    json.RawMessage `json:"ok"`
	Error *Error          `json:"error,omitempty"`
}

// MarshalJSON writes {"ok": …} or {"error": …}, never both ("ok": null is a valid success).
func (r Response) MarshalJSON() ([]byte, error) {
	if r.Error != nil {
		return json.Marshal(struct {
			Error *Error `json:"error"`
		}{r.Error})
	}
	ok := r.OK
	if len(ok) == 0 {
		ok = json.RawMessage("null")
	}
	return json.Marshal(struct {
		OK json.RawMessage `json:"ok"`
	}{ok})
}

// Entry is an entry as entries.query returns it. Path is the guest path
// (/data/<location uuid>/<rel>, see host/datafs) whether or not its bytes are readable.
type Entry struct {
	ID          int64  `json:"id"`
	Path        string `json:"path"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Size        int64  `json:"size"`
	MtimeNs     int64  `json:"mtime_ns"`
	ContentUUID string `json:"content_uuid,omitempty"`
	CasID       string `json:"cas_id,omitempty"`
	Mime        string `json:"mime,omitempty"`
	ContentKind string `json:"content_kind,omitempty"`

	// Location and Rel locate the entry for scope checks; they do not travel.
	Location string `json:"-"`
	Rel      string `json:"-"`
}

// Target is what metadata.set and tags.apply attach to: an entry or a content.
type Target struct {
	EntryID     int64  `json:"entry_id,omitempty"`
	ContentUUID string `json:"content_uuid,omitempty"`
}

// ContentRef names a content by UUID or one of its entries by id (exactly one is set).
type ContentRef struct {
	ContentUUID string
	EntryID     int64
}

// FileRef is one local file of a content.
type FileRef struct {
	EntryID  int64
	Location string // location UUID
	Rel      string // location-relative path
	Size     int64
}

// Sidecar is a sidecar.write request.
type Sidecar struct {
	ContentUUID string
	Kind        string
	Variant     string
	Format      string
	Data        []byte
	// Storage is StorageFile (Data is written to a file under sidecars/) or, from ABI 1.1,
	// StorageContent: the sidecar is the content's own bytes (Data is empty; no copy is made).
	Storage string
}

// Sidecar storages (sidecar.write's "storage"; v1.md).
const (
	StorageFile    = "file"
	StorageContent = "content"
)

// Event is an event as events.poll returns it.
type Event struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Actor   string // the extension id
	Action  string // "hostcall <fn>"
	Outcome string // "denied"
	Detail  string // JSON
}

// EntryQuery selects entries for Entries.Entries.
type EntryQuery struct {
	// Locations restricts to these location UUIDs unless All is set.
	Locations []string
	All       bool
	// Kind is "file", "dir", "symlink" or "" for any.
	Kind string
	// After is the id cursor: only entries with a larger id, in id order.
	After int64
}

// KV is an extension's private key-value store.
type KV interface {
	KVGet(ctx context.Context, ext, key string) (value []byte, ok bool, err error)
	KVSet(ctx context.Context, ext, key string, value []byte) error
	KVDelete(ctx context.Context, ext, key string) error
	// KVList returns up to limit keys with the prefix, greater than after, in order.
	KVList(ctx context.Context, ext, prefix, after string, limit int) ([]string, error)
}

// Entries streams entries. The dispatcher stops reading when it has enough, and filters by scope.
type Entries interface {
	Entries(ctx context.Context, q EntryQuery) iter.Seq2[Entry, error]
}

// Content locates contents' local copies and records their type.
type Content interface {
	// Copies lists the local files of a content (or the one file of an entry); ErrNotFound when
	// the content or entry does not exist.
	Copies(ctx context.Context, ref ContentRef) ([]FileRef, error)
	SetType(ctx context.Context, contentUUID, mime, kind string) error
}

// Metadata writes user metadata in a namespace.
type Metadata interface {
	SetMetadata(ctx context.Context, namespace string, t Target, key string, value json.RawMessage) error
}

// Sidecars stores sidecar files and their records.
type Sidecars interface {
	// WriteSidecar stores s for the extension ext and returns its library-relative path ("" for
	// StorageContent, which has no file of its own).
	WriteSidecar(ctx context.Context, ext string, s Sidecar) (path string, err error)
}

// Tags applies tags.
type Tags interface {
	ApplyTag(ctx context.Context, ext, namespace string, t Target, tag string, confidence float64) error
}

// Events publishes and delivers extension events.
type Events interface {
	Emit(ctx context.Context, ext, typ string, payload json.RawMessage) error
	// Poll returns up to max pending events of the given type patterns for ext, without waiting.
	Poll(ctx context.Context, ext string, types []string, max int) ([]Event, error)
}

// Actions records proposed actions.
type Actions interface {
	Propose(ctx context.Context, ext, kind string, params json.RawMessage, reason string) (id string, err error)
}

// Audit writes audit records.
type Audit interface {
	Audit(ctx context.Context, r AuditRecord) error
}

// Backends is what the dispatcher calls, one interface per area; a nil area answers unavailable.
type Backends struct {
	KV       KV
	Entries  Entries
	Content  Content
	Metadata Metadata
	Sidecars Sidecars
	Tags     Tags
	Events   Events
	Actions  Actions
	Audit    Audit
	// HTTP serves http.request (from ABI 1.2; NewHTTPClient).
	HTTP HTTP
}

// Job is the job a call runs for; job.progress and job.checkpoint report to it.
type Job interface {
	Progress(phase string, done, total int64)
	Checkpoint(ctx context.Context, state json.RawMessage) error
}

type jobKey struct{}

// WithJob attaches the job a call runs for to its context.
func WithJob(ctx context.Context, j Job) context.Context { return context.WithValue(ctx, jobKey{}, j) }

// JobFrom returns the job attached with WithJob, if any.
func JobFrom(ctx context.Context) (Job, bool) {
	j, ok := ctx.Value(jobKey{}).(Job)
	return j, ok
}
