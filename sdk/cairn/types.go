package cairn

import (
	"encoding/json"
	"os"
)

// Item is one content of a batch the host hands to a stage, loader or
// sidecar export (v1 Item).
type Item struct {
	ContentUUID string `json:"content_uuid"`
	CasID       string `json:"cas_id"`
	Size        int64  `json:"size"`
	// Path is where the module can open the file: inside the read-only /data
	// mount of exactly the granted files. File bytes never travel in the
	// call's input; read them from Path.
	Path string `json:"path"`
	Name string `json:"name"`
	Mime string `json:"mime,omitempty"`
	Kind string `json:"kind,omitempty"` // content kind, e.g. "text", "image"
}

// Open opens the item's file for reading (os.Open(it.Path)).
func (it Item) Open() (*os.File, error) { return os.Open(it.Path) }

// OK is a successful outcome for the item carrying data (nil for none).
func (it Item) OK(data any) Outcome { return Outcome{ContentUUID: it.ContentUUID, Data: data} }

// Fail is a failed outcome for the item: the host records err for this
// content and goes on with the rest of the batch.
func (it Item) Fail(err error) Outcome {
	msg := "failed"
	if err != nil && err.Error() != "" {
		msg = err.Error()
	}
	return Outcome{ContentUUID: it.ContentUUID, Error: msg}
}

// Target returns the metadata and tag target of the item's content.
func (it Item) Target() Target { return ContentTarget(it.ContentUUID) }

// Outcome is a stage's or sidecar's result for one item. ContentUUID may be
// left empty: the SDK fills it from the item at the same position.
type Outcome struct {
	ContentUUID string `json:"content_uuid"`
	Error       string `json:"error,omitempty"`
	Data        any    `json:"data,omitempty"` // a JSON object
}

// FileType is a loader's answer for one item (v1 loader output).
type FileType struct {
	ContentUUID string  `json:"content_uuid"`
	Mime        string  `json:"mime"`
	Kind        string  `json:"kind"`
	Confidence  float64 `json:"confidence"`
}

// Target names what metadata and tags attach to, and what content.read
// reads: one entry or one content. Make one with EntryTarget or
// ContentTarget.
type Target struct {
	EntryID     int64  `json:"entry_id,omitempty"`
	ContentUUID string `json:"content_uuid,omitempty"`
}

// EntryTarget targets the entry (file) with the given id.
func EntryTarget(id int64) Target { return Target{EntryID: id} }

// ContentTarget targets a content, and through it every file holding it.
func ContentTarget(uuid string) Target { return Target{ContentUUID: uuid} }

// Entry is an entry as entries.query returns it.
type Entry struct {
	ID          int64  `json:"id"`
	Path        string `json:"path"` // the guest path, readable only if content.read covers it
	Name        string `json:"name"`
	Kind        string `json:"kind"` // "file", "dir" or "symlink"
	Size        int64  `json:"size"`
	MtimeNs     int64  `json:"mtime_ns"`
	ContentUUID string `json:"content_uuid,omitempty"`
	CasID       string `json:"cas_id,omitempty"`
	Mime        string `json:"mime,omitempty"`
	ContentKind string `json:"content_kind,omitempty"`
}

// EntryQuery selects entries for QueryEntries. The zero value selects every
// entry the extension's entries.read scope covers.
type EntryQuery struct {
	Location string `json:"location,omitempty"` // a location UUID
	Glob     string `json:"glob,omitempty"`
	Kind     string `json:"kind,omitempty"`  // "file", "dir", "symlink" or "" for all
	After    int64  `json:"after,omitempty"` // entry id cursor: entries with larger ids
	Limit    int    `json:"limit,omitempty"` // page size, ≤ 1000 (0: the host's default)
}

// SidecarFile is a sidecar for WriteSidecar.
type SidecarFile struct {
	ContentUUID string `json:"content_uuid"`
	Kind        string `json:"kind"`    // one of the manifest's sidecars.write kinds
	Variant     string `json:"variant"` // e.g. "256"
	Format      string `json:"format"`  // e.g. "webp"
	Data        []byte `json:"data"`    // base64 on the wire
	// Storage is "" (a file holding Data) or StorageContent (ABI 1.1): the sidecar is the
	// content's own bytes, as they are; Data must be empty and no copy is stored. Format says
	// what a reader finds there ("txt" for a text sidecar, "png" for a thumbnail).
	Storage string `json:"storage,omitempty"`
}

// StorageContent is SidecarFile.Storage for a sidecar that is the content itself: a file that
// is already plain UTF-8 text is its own text sidecar, an image no larger than a thumbnail
// its own thumbnail. Needs host ABI 1.1 (declare abi = ">=1.1, <2.0").
const StorageContent = "content"

// Event is an event as events.poll returns it.
type Event struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// Level is a log level for Log.
type Level string

// Log levels.
const (
	LevelTrace Level = "trace"
	LevelDebug Level = "debug"
	LevelInfo  Level = "info"
	LevelWarn  Level = "warn"
	LevelError Level = "error"
)
