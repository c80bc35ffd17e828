package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Sidecar is a sidecar record: a content-scoped derived file (REFERENCE.md §9) under the
// library's sidecars/ folder, or (Storage StorageContent) the content's own bytes.
type Sidecar struct {
	ID          int64    `json:"-"`
	ContentID   int64    `json:"-"`
	ContentUUID string   `json:"content_uuid"`
	Kind        string   `json:"kind"`
	Variant     string   `json:"variant"`
	Format      string   `json:"format"`
	Status      string   `json:"status"`  // pending, ready or failed
	Storage     string   `json:"storage"` // StorageFile or StorageContent
	Size        int64    `json:"size"`
	Checksum    string   `json:"checksum,omitempty"`
	Source      string   `json:"source"` // the extension that made it
	Error       string   `json:"error,omitempty"`
	UpdatedAt   int64    `json:"updated_at"`
	Devices     []string `json:"devices,omitempty"` // UUIDs of the devices holding the file
}

// Sidecar storages: where a sidecar's bytes are.
const (
	// StorageFile is a file under the library's sidecars/ folder, at Sidecar.Rel.
	StorageFile = "file"
	// StorageContent is the content itself: a plain UTF-8 text file is its own text sidecar and
	// an image no larger than a thumbnail variant its own thumbnail. No copy exists; a reader
	// opens any file of the content (Sidecar.File). Size is the content's size.
	StorageContent = "content"
)

// SidecarPath is the library-relative path of a sidecar file (REFERENCE.md §9):
// sidecars/<h0>/<h1>/<content-uuid>/<kind>/<variant>.<format>, where h0 and h1 are the first two
// pairs of hex digits of the UUID (which must be at least 4 characters long).
func SidecarPath(contentUUID, kind, variant, format string) string {
	u := contentUUID
	return "sidecars/" + u[0:2] + "/" + u[2:4] + "/" + u + "/" + kind + "/" + variant + "." + format
}

// Rel is the sidecar file's path relative to the library folder; "" for a sidecar stored as
// the content itself, which has no file of its own.
func (s *Sidecar) Rel() string {
	if len(s.ContentUUID) < 4 || s.Storage == StorageContent {
		return ""
	}
	return SidecarPath(s.ContentUUID, s.Kind, s.Variant, s.Format)
}

// File is the absolute path of the sidecar's bytes: for StorageContent, contentFile (a file of
// the content, e.g. the one the user named); otherwise the file under libDir. "" for a failed
// whole-kind record (variant "*"), which has no bytes.
func (s *Sidecar) File(libDir, contentFile string) string {
	switch {
	case s.Variant == "*":
		return ""
	case s.Storage == StorageContent:
		return contentFile
	}
	return filepath.Join(libDir, filepath.FromSlash(s.Rel()))
}

// SidecarsOf returns a content's sidecars (of kind, when not ""), by kind and variant.
func (s *Store) SidecarsOf(ctx context.Context, contentID int64, kind string) ([]Sidecar, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT s.id, s.content_id, c.uuid, s.kind, s.variant, s.format, s.status, s.storage, s.size,
		COALESCE(s.checksum, ''), s.source, COALESCE(s.error, ''), s.updated_at,
		COALESCE((SELECT group_concat(d.uuid) FROM sidecar_devices sd JOIN devices d ON d.id = sd.device_id WHERE sd.sidecar_id = s.id), '')
		FROM sidecars s JOIN content_identities c ON c.id = s.content_id
		WHERE s.content_id = ? AND (? = '' OR s.kind = ?) ORDER BY s.kind, length(s.variant), s.variant`, contentID, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("listing the sidecars of content %d: %w", contentID, err)
	}
	defer rows.Close()
	var out []Sidecar
	for rows.Next() {
		var sc Sidecar
		var devs string
		if err := rows.Scan(&sc.ID, &sc.ContentID, &sc.ContentUUID, &sc.Kind, &sc.Variant, &sc.Format, &sc.Status, &sc.Storage, &sc.Size,
			&sc.Checksum, &sc.Source, &sc.Error, &sc.UpdatedAt, &devs); err != nil {
			return nil, err
		}
		if devs != "" {
			sc.Devices = strings.Split(devs, ",")
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// SidecarFailed records inside tx that making kind for a content failed (variant "*": the
// whole kind), or clears that record when err is nil.
func SidecarFailed(ctx context.Context, tx *sql.Tx, contentID int64, kind, source string, err error) error {
	if err == nil {
		_, e := tx.ExecContext(ctx, `DELETE FROM sidecars WHERE content_id = ? AND kind = ? AND variant = '*'`, contentID, kind)
		return e
	}
	_, e := tx.ExecContext(ctx, `INSERT INTO sidecars (content_id, kind, variant, format, status, source, error, updated_at)
		VALUES (?, ?, '*', '', 'failed', ?, ?, ?)
		ON CONFLICT (content_id, kind, variant) DO UPDATE SET status = 'failed', error = excluded.error, source = excluded.source,
		updated_at = excluded.updated_at`, contentID, kind, source, err.Error(), time.Now().UnixNano())
	if e != nil {
		return fmt.Errorf("recording the failed %s sidecar of content %d: %w", kind, contentID, e)
	}
	return nil
}

// MarkSidecarsPending sets the sidecars of kind of the given contents to pending (they are
// being regenerated) and returns how many records changed.
func (s *Store) MarkSidecarsPending(ctx context.Context, kind string, contentIDs []int64) (int64, error) {
	n, err := s.execIn(ctx, `UPDATE sidecars SET status = 'pending', updated_at = ? WHERE kind = ? AND content_id IN `,
		[]any{time.Now().UnixNano(), kind}, contentIDs)
	if err != nil {
		return n, fmt.Errorf("marking sidecars pending: %w", err)
	}
	return n, nil
}

// MetadataOf returns a content's metadata values (JSON) by namespace and key.
func (s *Store) MetadataOf(ctx context.Context, contentID int64) (map[string]map[string]json.RawMessage, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT namespace, key, value FROM user_metadata WHERE content_id = ? ORDER BY namespace, key`, contentID)
	if err != nil {
		return nil, fmt.Errorf("reading the metadata of content %d: %w", contentID, err)
	}
	defer rows.Close()
	out := map[string]map[string]json.RawMessage{}
	for rows.Next() {
		var ns, key, value string
		if err := rows.Scan(&ns, &key, &value); err != nil {
			return nil, err
		}
		if out[ns] == nil {
			out[ns] = map[string]json.RawMessage{}
		}
		out[ns][key] = json.RawMessage(value)
	}
	return out, rows.Err()
}
