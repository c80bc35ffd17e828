package store

import (
	"context"
	"fmt"
)

// PendingFile is a file waiting for its content identity.
type PendingFile struct {
	ID       int64
	ParentID int64
	Name     string
	Size     int64
	MtimeNs  int64
	Inode    uint64
}

// PendingContent returns up to limit files of a location with bytes and no content identity,
// with ids above after, in id order (the order the content phase checkpoints in).
func (s *Store) PendingContent(ctx context.Context, locID, after int64, limit int) ([]PendingFile, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, parent_id, name, size, mtime_ns, inode FROM entries
		WHERE location_id = ? AND kind = 0 AND content_id IS NULL AND size > 0 AND id > ? ORDER BY id LIMIT ?`, locID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing files to identify: %w", err)
	}
	defer rows.Close()
	var out []PendingFile
	for rows.Next() {
		var f PendingFile
		var ino int64
		if err := rows.Scan(&f.ID, &f.ParentID, &f.Name, &f.Size, &f.MtimeNs, &ino); err != nil {
			return nil, err
		}
		f.Inode = uint64(ino)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CountPendingContent counts the files of a location waiting for a content identity after an id.
func (s *Store) CountPendingContent(ctx context.Context, locID, after int64) (int64, error) {
	var n int64
	err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE location_id = ? AND kind = 0 AND content_id IS NULL AND size > 0 AND id > ?`,
		locID, after).Scan(&n)
	return n, err
}

// StageItem is a content waiting for a stage, with one entry of the location holding it.
type StageItem struct {
	ContentID int64
	UUID      string
	CasID     string
	Size      int64
	ParentID  int64
	Name      string
}

// PendingStage returns contents present in a location whose ledger lacks stage at version,
// with ids above after, in id order.
func (s *Store) PendingStage(ctx context.Context, locID int64, stage string, version int, after int64, limit int) ([]StageItem, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT c.id, c.uuid, c.cas_id, c.size, MIN(e.parent_id), MIN(e.name)
		FROM content_identities c JOIN entries e ON e.content_id = c.id AND e.location_id = ?
		LEFT JOIN stage_ledger l ON l.content_id = c.id AND l.stage = ?
		WHERE c.id > ? AND (l.content_id IS NULL OR l.version <> ?)
		GROUP BY c.id ORDER BY c.id LIMIT ?`, locID, stage, after, version, limit)
	if err != nil {
		return nil, fmt.Errorf("listing contents for %s: %w", stage, err)
	}
	defer rows.Close()
	var out []StageItem
	for rows.Next() {
		var it StageItem
		if err := rows.Scan(&it.ContentID, &it.UUID, &it.CasID, &it.Size, &it.ParentID, &it.Name); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// RecordStage writes a ledger row (inside the batch).
func (b *Batch) RecordStage(contentID int64, stage string, version int, status, errText string) error {
	_, err := b.exec(`INSERT INTO stage_ledger (content_id, stage, version, status, error, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (content_id, stage) DO UPDATE SET version = excluded.version, status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`,
		contentID, stage, version, status, nullStr(errText), b.now)
	if err != nil {
		return fmt.Errorf("recording %s for content %d: %w", stage, contentID, err)
	}
	return nil
}
