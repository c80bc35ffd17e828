package backend

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/internal/atomicfile"
)

// Options configure New.
type Options struct {
	// LibraryDir is the library folder; sidecar files go under its sidecars/ ("" disables
	// sidecar.write).
	LibraryDir string
	// DeviceID is this device's row id: only its locations hold local copies (0: every location).
	DeviceID int64
	// Bus carries extension events (nil disables events.emit and events.poll).
	Bus *events.Bus
	// PollBuffer is how many events wait for each polling extension (default 1024; the oldest are
	// dropped beyond it).
	PollBuffer int
}

// Store is every host ABI backend on one library. It is safe for concurrent use.
type Store struct {
	st   *store.Store
	db   *sql.DB
	opts Options

	mu   sync.Mutex
	subs map[string]*events.Subscription // per extension, made on its first poll
}

// New returns the backends of the library st.
func New(st *store.Store, o Options) *Store {
	if o.PollBuffer <= 0 {
		o.PollBuffer = 1024
	}
	return &Store{st: st, db: st.SQL(), opts: o, subs: map[string]*events.Subscription{}}
}

// Backends returns every area, for abi.NewDispatcher.
func (s *Store) Backends() abi.Backends {
	b := abi.Backends{KV: s, Entries: s, Content: s, Metadata: s, Tags: s, Actions: s, Audit: s}
	if s.opts.LibraryDir != "" {
		b.Sidecars = s
	}
	if s.opts.Bus != nil {
		b.Events = s
	}
	return b
}

// Locations returns this device's locations as host/datafs needs them.
func (s *Store) Locations(ctx context.Context) ([]datafs.Location, error) {
	locs, err := s.st.Locations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]datafs.Location, 0, len(locs))
	for _, l := range locs {
		if s.opts.DeviceID == 0 || l.DeviceID == s.opts.DeviceID {
			out = append(out, datafs.Location{UUID: l.UUID, Path: l.Path})
		}
	}
	return out, nil
}

// Close ends the extensions' event subscriptions.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sub := range s.subs {
		sub.Close()
		delete(s.subs, id)
	}
	return nil
}

// --- kv ---

// KVGet implements abi.KV.
func (s *Store) KVGet(ctx context.Context, ext, key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM ext_kv WHERE ext_id = ? AND key = ?`, ext, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading kv %s of %s: %w", key, ext, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// KVSet implements abi.KV.
func (s *Store) KVSet(ctx context.Context, ext, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO ext_kv (ext_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (ext_id, key) DO UPDATE SET value = excluded.value`, ext, key, value)
	if err != nil {
		return fmt.Errorf("writing kv %s of %s: %w", key, ext, err)
	}
	return nil
}

// KVDelete implements abi.KV.
func (s *Store) KVDelete(ctx context.Context, ext, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM ext_kv WHERE ext_id = ? AND key = ?`, ext, key); err != nil {
		return fmt.Errorf("deleting kv %s of %s: %w", key, ext, err)
	}
	return nil
}

// KVUsage implements abi.KVUsage: the bytes of the extension's keys and values.
func (s *Store) KVUsage(ctx context.Context, ext string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(value)), 0) FROM ext_kv WHERE ext_id = ?`, ext).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("measuring the kv store of %s: %w", ext, err)
	}
	return n, nil
}

// KVList implements abi.KV.
func (s *Store) KVList(ctx context.Context, ext, prefix, after string, limit int) ([]string, error) {
	q := `SELECT key FROM ext_kv WHERE ext_id = ? AND key > ?`
	args := []any{ext, after}
	if prefix != "" {
		q += ` AND key >= ?`
		args = append(args, prefix)
		if end, ok := prefixEnd(prefix); ok {
			q += ` AND key < ?`
			args = append(args, end)
		}
	}
	q += ` ORDER BY key LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing kv of %s: %w", ext, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// prefixEnd is the smallest string greater than every string with the prefix (false: none).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// --- entries ---

const entrySelect = `SELECT e.id, l.uuid, d.path, e.name, e.kind, e.size, e.mtime_ns,
	COALESCE(c.uuid, ''), COALESCE(c.cas_id, ''), COALESCE(m.name, ''), COALESCE(k.name, '')
	FROM entries e JOIN locations l ON l.id = e.location_id JOIN dir_paths d ON d.entry_id = e.parent_id
	LEFT JOIN content_identities c ON c.id = e.content_id LEFT JOIN content_kinds k ON k.id = c.kind_id
	LEFT JOIN mime_types m ON m.id = c.mime_id`

// Entries implements abi.Entries: entries (not location roots) in id order.
func (s *Store) Entries(ctx context.Context, q abi.EntryQuery) iter.Seq2[abi.Entry, error] {
	return func(yield func(abi.Entry, error) bool) {
		query := entrySelect + ` WHERE e.id > ?`
		args := []any{q.After}
		if q.Kind != "" {
			k, ok := store.KindNamed(q.Kind)
			if !ok {
				yield(abi.Entry{}, fmt.Errorf("entry kind %q: %w", q.Kind, abi.ErrNotFound))
				return
			}
			query += ` AND e.kind = ?`
			args = append(args, int(k))
		}
		if !q.All {
			if len(q.Locations) == 0 {
				return
			}
			query += ` AND l.uuid IN (?` + strings.Repeat(`, ?`, len(q.Locations)-1) + `)`
			for _, l := range q.Locations {
				args = append(args, l)
			}
		}
		if s.opts.DeviceID != 0 {
			query += ` AND l.device_id = ?`
			args = append(args, s.opts.DeviceID)
		}
		rows, err := s.db.QueryContext(ctx, query+` ORDER BY e.id`, args...)
		if err != nil {
			yield(abi.Entry{}, fmt.Errorf("querying entries: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var e abi.Entry
			var dir string
			var kind store.Kind
			if err := rows.Scan(&e.ID, &e.Location, &dir, &e.Name, &kind, &e.Size, &e.MtimeNs,
				&e.ContentUUID, &e.CasID, &e.Mime, &e.ContentKind); err != nil {
				yield(abi.Entry{}, fmt.Errorf("reading entry: %w", err))
				return
			}
			e.Kind = kind.String()
			e.Rel = store.JoinRel(dir, e.Name)
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(abi.Entry{}, fmt.Errorf("querying entries: %w", err))
		}
	}
}

// --- content ---

// Copies implements abi.Content.
func (s *Store) Copies(ctx context.Context, ref abi.ContentRef) ([]abi.FileRef, error) {
	q := `SELECT e.id, l.uuid, d.path, e.name, e.size FROM entries e JOIN locations l ON l.id = e.location_id
		JOIN dir_paths d ON d.entry_id = e.parent_id`
	var args []any
	if ref.EntryID != 0 {
		q += ` WHERE e.id = ? AND e.kind = 0`
		args = append(args, ref.EntryID)
	} else {
		var id int64
		err := s.db.QueryRowContext(ctx, `SELECT id FROM content_identities WHERE uuid = ?`, ref.ContentUUID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("content %s: %w", ref.ContentUUID, abi.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("looking up content %s: %w", ref.ContentUUID, err)
		}
		q += ` WHERE e.content_id = ?`
		args = append(args, id)
	}
	if s.opts.DeviceID != 0 {
		q += ` AND l.device_id = ?`
		args = append(args, s.opts.DeviceID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("locating copies: %w", err)
	}
	defer rows.Close()
	var out []abi.FileRef
	for rows.Next() {
		var f abi.FileRef
		var dir, name string
		if err := rows.Scan(&f.EntryID, &f.Location, &dir, &name, &f.Size); err != nil {
			return nil, err
		}
		f.Rel = store.JoinRel(dir, name)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 && ref.EntryID != 0 {
		return nil, fmt.Errorf("file entry %d: %w", ref.EntryID, abi.ErrNotFound)
	}
	return out, nil
}

// SetType implements abi.Content.
func (s *Store) SetType(ctx context.Context, contentUUID, mime, kind string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		kindID, err := kindID(ctx, tx, kind)
		if err != nil {
			return err
		}
		mimeID, err := mimeID(ctx, tx, mime)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE content_identities SET kind_id = ?, mime_id = ? WHERE uuid = ?`, kindID, mimeID, contentUUID)
		if err != nil {
			return fmt.Errorf("setting the type of content %s: %w", contentUUID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("content %s: %w", contentUUID, abi.ErrNotFound)
		}
		return nil
	})
}

// kindID is the id of a content kind; an unknown kind is abi.ErrNotFound.
func kindID(ctx context.Context, tx *sql.Tx, kind string) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM content_kinds WHERE name = ?`, kind).Scan(&id); err != nil {
		return 0, fmt.Errorf("content kind %q: %w", kind, abi.ErrNotFound)
	}
	return id, nil
}

// mimeID is the id of a MIME type, recorded on first use.
func mimeID(ctx context.Context, tx *sql.Tx, mime string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO mime_types (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, mime); err != nil {
		return 0, fmt.Errorf("recording mime type %s: %w", mime, err)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM mime_types WHERE name = ?`, mime).Scan(&id)
	return id, err
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// target resolves an abi.Target to (entry id, content id), one of them 0.
func (s *Store) target(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, t abi.Target) (entryID, contentID int64, err error) {
	if t.EntryID != 0 {
		err = q.QueryRowContext(ctx, `SELECT id FROM entries WHERE id = ?`, t.EntryID).Scan(&entryID)
		if errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("entry %d: %w", t.EntryID, abi.ErrNotFound)
		}
		return entryID, 0, err
	}
	err = q.QueryRowContext(ctx, `SELECT id FROM content_identities WHERE uuid = ?`, t.ContentUUID).Scan(&contentID)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("content %s: %w", t.ContentUUID, abi.ErrNotFound)
	}
	return 0, contentID, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// --- metadata, tags ---

// SetMetadata implements abi.Metadata.
func (s *Store) SetMetadata(ctx context.Context, ns string, t abi.Target, key string, value json.RawMessage) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		eid, cid, err := s.target(ctx, tx, t)
		if err != nil {
			return err
		}
		return upsertMetadata(ctx, tx, eid, cid, ns, key, string(value))
	})
}

func upsertMetadata(ctx context.Context, tx *sql.Tx, eid, cid int64, ns, key, value string) error {
	now := time.Now().UnixNano()
	res, err := tx.ExecContext(ctx, `UPDATE user_metadata SET value = ?, updated_at = ?
		WHERE COALESCE(entry_id, 0) = ? AND COALESCE(content_id, 0) = ? AND namespace = ? AND key = ?`, value, now, eid, cid, ns, key)
	if err != nil {
		return fmt.Errorf("writing metadata %s/%s: %w", ns, key, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO user_metadata (entry_id, content_id, namespace, key, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		nullID(eid), nullID(cid), ns, key, value, now)
	if err != nil {
		return fmt.Errorf("writing metadata %s/%s: %w", ns, key, err)
	}
	return nil
}

// StageData returns an Apply function (pipeline.Outcome.Apply) that stores a stage's per-content
// output as user metadata of the content, in the extension's namespace under the key
// "stage:<stage id>", inside the stage's ledger transaction.
func StageData(ext, stage string, contentID int64, data json.RawMessage) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		return upsertMetadata(ctx, tx, 0, contentID, ext, "stage:"+stage, string(data))
	}
}

// TypeStageData is StageData for a file-type stage (one that produces "filetype", run by an
// extension granted content.type): the output's "mime" and "kind" also become the content's
// type, in the same transaction. An unknown kind is an error for that content.
func TypeStageData(ext, stage string, contentID int64, data json.RawMessage) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		var t struct {
			Mime string `json:"mime"`
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(data, &t); err != nil {
			return fmt.Errorf("%s: reading the file type: %w", stage, err)
		}
		if t.Mime != "" || t.Kind != "" {
			if t.Kind == "" {
				t.Kind = "unknown"
			}
			kid, err := kindID(ctx, tx, t.Kind)
			if err != nil {
				return fmt.Errorf("%s: unknown content kind %q", stage, t.Kind)
			}
			var mid any
			if t.Mime != "" {
				if mid, err = mimeID(ctx, tx, t.Mime); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE content_identities SET kind_id = ?, mime_id = ? WHERE id = ?`, kid, mid, contentID); err != nil {
				return fmt.Errorf("setting the type of content %d: %w", contentID, err)
			}
		}
		return upsertMetadata(ctx, tx, 0, contentID, ext, "stage:"+stage, string(data))
	}
}

// ApplyTag implements abi.Tags. The application's source is the extension id.
func (s *Store) ApplyTag(ctx context.Context, ext, ns string, t abi.Target, tag string, confidence float64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		eid, cid, err := s.target(ctx, tx, t)
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (uuid, namespace, name, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (namespace, name) DO NOTHING`, uuid.NewString(), ns, tag, now); err != nil {
			return fmt.Errorf("creating tag %s/%s: %w", ns, tag, err)
		}
		var tagID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM tags WHERE namespace = ? AND name = ?`, ns, tag).Scan(&tagID); err != nil {
			return fmt.Errorf("looking up tag %s/%s: %w", ns, tag, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE tag_applications SET confidence = ? WHERE tag_id = ?
			AND COALESCE(entry_id, 0) = ? AND COALESCE(content_id, 0) = ? AND source = ?`, confidence, tagID, eid, cid, ext)
		if err != nil {
			return fmt.Errorf("applying tag %s/%s: %w", ns, tag, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tag_applications (tag_id, entry_id, content_id, source, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			tagID, nullID(eid), nullID(cid), ext, confidence, now)
		if err != nil {
			return fmt.Errorf("applying tag %s/%s: %w", ns, tag, err)
		}
		return nil
	})
}

// --- sidecars ---

// WriteSidecar implements abi.Sidecars: the file is written atomically, then its record is set to
// ready with its size and BLAKE3. A StorageContent sidecar has no file: its record points at the
// content (size: the content's), and a file an earlier write left for it is removed.
func (s *Store) WriteSidecar(ctx context.Context, ext string, sc abi.Sidecar) (string, error) {
	u, err := uuid.Parse(sc.ContentUUID)
	if err != nil || u.String() != sc.ContentUUID { // it becomes a path: only the canonical form
		return "", &abi.Error{Code: abi.CodeInvalidArgument, Message: fmt.Sprintf("sidecar.write: content_uuid %q is not a UUID", sc.ContentUUID)}
	}
	var cid, csize int64
	err = s.db.QueryRowContext(ctx, `SELECT id, size FROM content_identities WHERE uuid = ?`, sc.ContentUUID).Scan(&cid, &csize)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("content %s: %w", sc.ContentUUID, abi.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up content %s: %w", sc.ContentUUID, err)
	}
	rel := store.SidecarPath(sc.ContentUUID, sc.Kind, sc.Variant, sc.Format)
	abs := filepath.Join(s.opts.LibraryDir, filepath.FromSlash(rel))
	storage, size, checksum := abi.StorageFile, int64(len(sc.Data)), sql.NullString{}
	if sc.Storage == abi.StorageContent {
		storage, size = abi.StorageContent, csize
	}
	if err := s.removeStaleSidecarFiles(ctx, cid, sc); err != nil {
		return "", err
	}
	if storage == abi.StorageFile {
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return "", fmt.Errorf("writing sidecar %s: %w", rel, err)
		}
		if err := atomicfile.Write(abs, sc.Data, 0o644); err != nil {
			return "", fmt.Errorf("writing sidecar: %w", err)
		}
		sum := blake3.Sum256(sc.Data)
		checksum = sql.NullString{String: "blake3:" + hex.EncodeToString(sum[:]), Valid: true}
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sidecars (content_id, kind, variant, format, status, storage, size, checksum, source, updated_at)
		VALUES (?, ?, ?, ?, 'ready', ?, ?, ?, ?, ?)
		ON CONFLICT (content_id, kind, variant) DO UPDATE SET format = excluded.format, status = excluded.status, storage = excluded.storage,
		size = excluded.size, checksum = excluded.checksum, source = excluded.source, error = NULL, updated_at = excluded.updated_at`,
		cid, sc.Kind, sc.Variant, sc.Format, storage, size, checksum, ext, time.Now().UnixNano())
	if err != nil {
		return "", fmt.Errorf("recording sidecar %s: %w", rel, err)
	}
	if s.opts.DeviceID != 0 {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sidecar_devices (sidecar_id, device_id, at)
			SELECT id, ?, ? FROM sidecars WHERE content_id = ? AND kind = ? AND variant = ?
			ON CONFLICT (sidecar_id, device_id) DO UPDATE SET at = excluded.at`,
			s.opts.DeviceID, time.Now().UnixNano(), cid, sc.Kind, sc.Variant)
		if err != nil {
			return "", fmt.Errorf("recording where sidecar %s is: %w", rel, err)
		}
	}
	if storage == abi.StorageContent {
		return "", nil
	}
	return rel, nil
}

// removeStaleSidecarFiles removes the file an earlier write left that sc no longer uses: the one
// of a former format, and for a sidecar that is now the content itself, its file.
func (s *Store) removeStaleSidecarFiles(ctx context.Context, contentID int64, sc abi.Sidecar) error {
	var rels []string
	if sc.Storage == abi.StorageContent {
		rels = append(rels, store.SidecarPath(sc.ContentUUID, sc.Kind, sc.Variant, sc.Format))
	}
	var oldFormat, oldStorage string
	err := s.db.QueryRowContext(ctx, `SELECT format, storage FROM sidecars WHERE content_id = ? AND kind = ? AND variant = ?`,
		contentID, sc.Kind, sc.Variant).Scan(&oldFormat, &oldStorage)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("looking up the %s/%s sidecar of content %s: %w", sc.Kind, sc.Variant, sc.ContentUUID, err)
	}
	if err == nil && oldStorage == abi.StorageFile && oldFormat != sc.Format && sidecarFormatOK(oldFormat) {
		rels = append(rels, store.SidecarPath(sc.ContentUUID, sc.Kind, sc.Variant, oldFormat))
	}
	for _, rel := range rels {
		if err := os.Remove(filepath.Join(s.opts.LibraryDir, filepath.FromSlash(rel))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the former sidecar file %s: %w", rel, err)
		}
	}
	return nil
}

// sidecarFormatOK reports whether a recorded format is safe in a path (no separators or dots).
func sidecarFormatOK(f string) bool {
	return f != "" && !strings.ContainsAny(f, `/\.`)
}

// --- events ---

// Event is an event an extension emitted.
type Event struct {
	Source  string          `json:"source"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// Topic implements events.Event.
func (e Event) Topic() string { return e.Type }

// Emit implements abi.Events.
func (s *Store) Emit(_ context.Context, ext, typ string, payload json.RawMessage) error {
	s.opts.Bus.Publish(Event{Source: ext, Type: typ, Payload: payload})
	return nil
}

// Poll implements abi.Events. An extension's subscription starts with its first poll; it keeps
// PollBuffer events and drops the oldest beyond that.
func (s *Store) Poll(_ context.Context, ext string, types []string, max int) ([]abi.Event, error) {
	if len(types) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	sub, ok := s.subs[ext]
	if !ok {
		topics := make([]string, len(types))
		for i, t := range types {
			topics[i] = strings.TrimSuffix(t, "*")
		}
		sub = s.opts.Bus.Subscribe(events.SubscribeOptions{Topics: topics, Buffer: s.opts.PollBuffer, Overflow: events.DropOldest})
		s.subs[ext] = sub
	}
	s.mu.Unlock()
	var out []abi.Event
	for len(out) < max {
		select {
		case e, ok := <-sub.C():
			if !ok {
				return out, nil
			}
			var p json.RawMessage
			if ev, isExt := e.(Event); isExt {
				p = ev.Payload
			} else if b, err := json.Marshal(e); err == nil {
				p = b
			} else {
				continue
			}
			out = append(out, abi.Event{Type: e.Topic(), Payload: p})
		default:
			return out, nil
		}
	}
	return out, nil
}

// --- actions, audit ---

// Propose implements abi.Actions: a proposed action waits for the user, and the proposal is
// audited.
func (s *Store) Propose(ctx context.Context, ext, kind string, params json.RawMessage, reason string) (string, error) {
	id := uuid.NewString()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		if _, err := tx.ExecContext(ctx, `INSERT INTO proposed_actions (uuid, source, kind, params, reason, status, created_at) VALUES (?, ?, ?, ?, ?, 'proposed', ?)`,
			id, ext, kind, string(params), reason, now); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"id": id, "kind": kind})
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, outcome, detail) VALUES (?, ?, ?, ?, ?)`,
			now, ext, "action.propose", "proposed", string(detail))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("proposing action %s: %w", kind, err)
	}
	return id, nil
}

// Audit implements abi.Audit.
func (s *Store) Audit(ctx context.Context, r abi.AuditRecord) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, outcome, detail) VALUES (?, ?, ?, ?, ?)`,
		time.Now().UnixNano(), r.Actor, r.Action, r.Outcome, r.Detail)
	if err != nil {
		return fmt.Errorf("writing audit record: %w", err)
	}
	return nil
}

// --- jobs ---

// Job adapts a running kernel job to abi.Job: progress goes to the run, and a checkpoint is saved
// in its own transaction.
func Job(run *jobs.Run, db *sql.DB) abi.Job { return jobRun{run, db} }

type jobRun struct {
	run *jobs.Run
	db  *sql.DB
}

func (j jobRun) Progress(phase string, done, total int64) { j.run.Progress(phase, done, total) }

func (j jobRun) Checkpoint(ctx context.Context, state json.RawMessage) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := j.run.Save(ctx, tx, state); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Interface guards.
var (
	_ abi.KV       = (*Store)(nil)
	_ abi.KVUsage  = (*Store)(nil)
	_ abi.Entries  = (*Store)(nil)
	_ abi.Content  = (*Store)(nil)
	_ abi.Metadata = (*Store)(nil)
	_ abi.Sidecars = (*Store)(nil)
	_ abi.Tags     = (*Store)(nil)
	_ abi.Events   = (*Store)(nil)
	_ abi.Actions  = (*Store)(nil)
	_ abi.Audit    = (*Store)(nil)
)
