package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"
)

// entryCols is the column list scanEntry reads, prefixed with the entries alias e.
const entryCols = `e.id, e.location_id, COALESCE(e.parent_id, 0), e.name, e.extension, e.kind, e.size, e.mtime_ns,
	e.inode, COALESCE(e.content_id, 0), COALESCE(e.link_target, ''), e.agg_size, e.file_count, e.dir_count,
	e.child_count, e.indexed_at`

type scanner interface{ Scan(dest ...any) error }

func scanEntry(r scanner, e *Entry, extra ...any) error {
	var inode int64
	dest := append([]any{&e.ID, &e.LocationID, &e.ParentID, &e.Name, &e.Extension, &e.Kind, &e.Size,
		&e.MtimeNs, &inode, &e.ContentID, &e.LinkTarget, &e.AggSize, &e.FileCount, &e.DirCount,
		&e.ChildCount, &e.IndexedAt}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	e.Inode = uint64(inode)
	return nil
}

// EnsureDevice inserts the device if its uuid is new, updates its name otherwise, and returns its row id.
func (s *Store) EnsureDevice(ctx context.Context, d Device) (int64, error) {
	var id int64
	err := s.sql.QueryRowContext(ctx, `SELECT id FROM devices WHERE uuid = ?`, d.UUID).Scan(&id)
	switch {
	case err == nil:
		_, err = s.sql.ExecContext(ctx, `UPDATE devices SET name = ?, slug = ?, os = ? WHERE id = ?`, d.Name, d.Slug, d.OS, id)
		return id, err
	case errors.Is(err, sql.ErrNoRows):
		if d.CreatedAt == 0 {
			d.CreatedAt = time.Now().UnixNano()
		}
		res, err := s.sql.ExecContext(ctx, `INSERT INTO devices (uuid, name, slug, os, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			d.UUID, d.Name, d.Slug, d.OS, d.PublicKey, d.CreatedAt)
		if err != nil {
			return 0, fmt.Errorf("registering device %s: %w", d.Slug, err)
		}
		return res.LastInsertId()
	default:
		return 0, fmt.Errorf("looking up device %s: %w", d.Slug, err)
	}
}

// AddLocation records a new location (path must be absolute and clean) and creates its root entry.
func (s *Store) AddLocation(ctx context.Context, deviceID int64, path, mode string, cfg LocationConfig) (*Location, error) {
	now := time.Now().UnixNano()
	loc := &Location{UUID: uuid.NewString(), DeviceID: deviceID, Path: path, IndexMode: mode, ScanState: "pending", Config: cfg, CreatedAt: now}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO locations (uuid, device_id, path, index_mode, scan_state, config, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			loc.UUID, deviceID, path, mode, loc.ScanState, string(cfgJSON), now)
		if err != nil {
			return err
		}
		loc.ID, _ = res.LastInsertId()
		res, err = tx.ExecContext(ctx, `INSERT INTO entries (location_id, parent_id, name, extension, kind, indexed_at) VALUES (?, NULL, ?, '', ?, ?)`,
			loc.ID, path, KindDir, now)
		if err != nil {
			return err
		}
		loc.RootEntryID, _ = res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `INSERT INTO dir_paths (entry_id, location_id, path) VALUES (?, ?, '')`, loc.RootEntryID, loc.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE locations SET root_entry_id = ? WHERE id = ?`, loc.RootEntryID, loc.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("adding location %s: %w", path, err)
	}
	return loc, nil
}

// Locations lists the locations of the library (a short list: a slice is fine).
func (s *Store) Locations(ctx context.Context) ([]Location, error) {
	var out []Location
	if err := s.DB.NewSelect().Model(&out).ModelTableExpr("locations AS location").OrderExpr("path").Scan(ctx); err != nil {
		return nil, fmt.Errorf("listing locations: %w", err)
	}
	return out, nil
}

// LocationByPath returns the location whose root is exactly path. (It filters in Go: bun
// interpolates arguments into SQL text, which would mangle a path that is not valid UTF-8.)
func (s *Store) LocationByPath(ctx context.Context, path string) (*Location, error) {
	locs, err := s.Locations(ctx)
	if err != nil {
		return nil, err
	}
	for i := range locs {
		if locs[i].Path == path {
			return &locs[i], nil
		}
	}
	return nil, fmt.Errorf("location %s: %w", path, ErrNotFound)
}

// LocationByID returns a location by row id.
func (s *Store) LocationByID(ctx context.Context, id int64) (*Location, error) {
	var l Location
	err := s.DB.NewSelect().Model(&l).ModelTableExpr("locations AS location").Where("id = ?", id).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("location %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up location %d: %w", id, err)
	}
	return &l, nil
}

// LocationFor returns the location that contains abs (the deepest one when locations nest).
func (s *Store) LocationFor(ctx context.Context, abs string) (*Location, string, error) {
	locs, err := s.Locations(ctx)
	if err != nil {
		return nil, "", err
	}
	var best *Location
	var bestRel string
	for i := range locs {
		if rel, ok := locs[i].Rel(abs); ok && (best == nil || len(locs[i].Path) > len(best.Path)) {
			best, bestRel = &locs[i], rel
		}
	}
	if best == nil {
		return nil, "", fmt.Errorf("%s is not inside any location of this library: %w", abs, ErrNotFound)
	}
	return best, bestRel, nil
}

// SetLocationState records a location's scan state (and, for "indexed", the time).
func (s *Store) SetLocationState(ctx context.Context, id int64, state string) error {
	var err error
	if state == "indexed" {
		_, err = s.sql.ExecContext(ctx, `UPDATE locations SET scan_state = ?, last_indexed_at = ? WHERE id = ?`, state, time.Now().UnixNano(), id)
	} else {
		_, err = s.sql.ExecContext(ctx, `UPDATE locations SET scan_state = ? WHERE id = ?`, state, id)
	}
	return err
}

// SetLocationConfig replaces a location's settings.
func (s *Store) SetLocationConfig(ctx context.Context, id int64, cfg LocationConfig) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if _, err := s.sql.ExecContext(ctx, `UPDATE locations SET config = ? WHERE id = ?`, string(b), id); err != nil {
		return fmt.Errorf("saving the settings of location %d: %w", id, err)
	}
	return nil
}

// RemoveLocation deletes a location and everything indexed under it, in batches so that a huge
// location does not hold one giant transaction; it is safe to run again after a crash.
func (s *Store) RemoveLocation(ctx context.Context, id int64) error {
	for {
		res, err := s.sql.ExecContext(ctx, `DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE location_id = ? LIMIT 50000)`, id)
		if err != nil {
			return fmt.Errorf("removing entries of location %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dir_paths WHERE location_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM locations WHERE id = ?`, id)
		return err
	})
}

// DirPath returns the location-relative path of a directory entry.
func (s *Store) DirPath(ctx context.Context, dirID int64) (string, error) {
	var p string
	if err := s.sql.QueryRowContext(ctx, `SELECT path FROM dir_paths WHERE entry_id = ?`, dirID).Scan(&p); err != nil {
		return "", fmt.Errorf("path of directory %d: %w", dirID, notFound(err))
	}
	return p, nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// EntryAt returns the entry at a location-relative path.
func (s *Store) EntryAt(ctx context.Context, loc *Location, rel string) (*Entry, error) {
	var e Entry
	if rel == "" {
		row := s.sql.QueryRowContext(ctx, `SELECT `+entryCols+` FROM entries e WHERE e.id = ?`, loc.RootEntryID)
		if err := scanEntry(row, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", loc.Path, notFound(err))
		}
		return &e, nil
	}
	dir, name := "", rel
	if i := lastSlash(rel); i >= 0 {
		dir, name = rel[:i], rel[i+1:]
	}
	row := s.sql.QueryRowContext(ctx, `SELECT `+entryCols+` FROM dir_paths d JOIN entries e ON e.parent_id = d.entry_id
		WHERE d.location_id = ? AND d.path = ? AND e.name = ?`, loc.ID, dir, name)
	if err := scanEntry(row, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", loc.Abs(rel), notFound(err))
	}
	return &e, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// Listed is an entry with its location-relative path and its content identity's names.
type Listed struct {
	Entry
	Rel         string
	CasID       string // "" when the entry has no content identity
	ContentUUID string
	ContentKind string
	Mime        string
}

// listCols extend entryCols with the content identity of a listed entry.
const listCols = entryCols + `, COALESCE(c.cas_id, ''), COALESCE(c.uuid, ''), COALESCE(k.name, ''), COALESCE(m.name, '')`

const listJoins = ` LEFT JOIN content_identities c ON c.id = e.content_id LEFT JOIN content_kinds k ON k.id = c.kind_id LEFT JOIN mime_types m ON m.id = c.mime_id`

// Children streams the direct children of a directory entry, by name.
func (s *Store) Children(ctx context.Context, loc *Location, dirRel string, dirID int64) iter.Seq2[Listed, error] {
	return s.stream(ctx, func(e *Entry, dp string) string { return JoinRel(dirRel, e.Name) },
		`SELECT `+listCols+`, '' FROM entries e`+listJoins+` WHERE e.parent_id = ? ORDER BY e.name`, dirID)
}

// Subtree streams every entry below the directory at dirRel (not the directory itself), ordered by
// directory path then name. It is a range scan over dir_paths joined to entries.
func (s *Store) Subtree(ctx context.Context, loc *Location, dirRel string) iter.Seq2[Listed, error] {
	join := func(e *Entry, dp string) string { return JoinRel(dp, e.Name) }
	if dirRel == "" {
		return s.stream(ctx, join, `SELECT `+listCols+`, d.path FROM dir_paths d JOIN entries e ON e.parent_id = d.entry_id`+listJoins+`
			WHERE d.location_id = ? ORDER BY d.path, e.name`, loc.ID)
	}
	cond, args := subtreeCond("d.path", dirRel)
	return s.stream(ctx, join, `SELECT `+listCols+`, d.path FROM dir_paths d JOIN entries e ON e.parent_id = d.entry_id`+listJoins+`
		WHERE d.location_id = ? AND `+cond+` ORDER BY d.path, e.name`, append([]any{loc.ID}, args...)...)
}

// subtreeCond matches rel and every path below it as one index range ([rel, rel+"0"): '0' is the
// byte after '/') with a byte test that drops siblings sharing the prefix ("a-b", "a.b"). An OR of
// "= rel" and a range would make SQLite scan the whole location.
func subtreeCond(col, rel string) (string, []any) {
	return col + ` >= ? AND ` + col + ` < ? AND (` + col + ` = ? OR substr(CAST(` + col + ` AS BLOB), ?, 1) = X'2F')`,
		[]any{rel, rel + "0", rel, len(rel) + 1}
}

func (s *Store) stream(ctx context.Context, rel func(*Entry, string) string, query string, args ...any) iter.Seq2[Listed, error] {
	return func(yield func(Listed, error) bool) {
		rows, err := s.sql.QueryContext(ctx, query, args...)
		if err != nil {
			yield(Listed{}, fmt.Errorf("listing entries: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var l Listed
			var dp string
			if err := scanEntry(rows, &l.Entry, &l.CasID, &l.ContentUUID, &l.ContentKind, &l.Mime, &dp); err != nil {
				yield(Listed{}, fmt.Errorf("reading entry: %w", err))
				return
			}
			l.Rel = rel(&l.Entry, dp)
			if !yield(l, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Listed{}, fmt.Errorf("listing entries: %w", err))
		}
	}
}

// ContentByID returns a content identity with its kind and mime names.
func (s *Store) ContentByID(ctx context.Context, id int64) (*Content, error) {
	var c Content
	var mime, ih, ia sql.NullString
	var iat sql.NullInt64
	err := s.sql.QueryRowContext(ctx, `SELECT c.id, c.uuid, c.cas_id, c.cas_algo, c.size, k.name, m.name, c.integrity_hash, c.integrity_algo, c.integrity_at
		FROM content_identities c JOIN content_kinds k ON k.id = c.kind_id LEFT JOIN mime_types m ON m.id = c.mime_id WHERE c.id = ?`, id).
		Scan(&c.ID, &c.UUID, &c.CasID, &c.CasAlgo, &c.Size, &c.Kind, &mime, &ih, &ia, &iat)
	if err != nil {
		return nil, fmt.Errorf("content %d: %w", id, notFound(err))
	}
	c.Mime, c.IntegrityHash, c.IntegrityAlgo, c.IntegrityAt = mime.String, ih.String, ia.String, iat.Int64
	return &c, nil
}

// EntryRel returns the location-relative path of any entry.
func (s *Store) EntryRel(ctx context.Context, e *Entry) (string, error) {
	if e.ParentID == 0 {
		return "", nil
	}
	dp, err := s.DirPath(ctx, e.ParentID)
	if err != nil {
		return "", err
	}
	return JoinRel(dp, e.Name), nil
}

// DupeGroup is a content identity held by more than one entry.
type DupeGroup struct {
	Content Content
	Count   int64
	Wasted  int64 // size × (count − 1)
}

// Dupes streams content identities with more than one entry, most wasted bytes first.
func (s *Store) Dupes(ctx context.Context) iter.Seq2[DupeGroup, error] {
	return func(yield func(DupeGroup, error) bool) {
		rows, err := s.sql.QueryContext(ctx, `SELECT c.id, c.uuid, c.cas_id, c.size, n FROM
			(SELECT content_id, count(*) AS n FROM entries WHERE content_id IS NOT NULL GROUP BY content_id HAVING count(*) > 1) g
			JOIN content_identities c ON c.id = g.content_id ORDER BY c.size * (n - 1) DESC, c.cas_id`)
		if err != nil {
			yield(DupeGroup{}, fmt.Errorf("finding duplicates: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var g DupeGroup
			if err := rows.Scan(&g.Content.ID, &g.Content.UUID, &g.Content.CasID, &g.Content.Size, &g.Count); err != nil {
				yield(DupeGroup{}, err)
				return
			}
			g.Wasted = g.Content.Size * (g.Count - 1)
			if !yield(g, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(DupeGroup{}, err)
		}
	}
}

// EntriesOfContent lists the entries holding a content identity (a small set per content).
func (s *Store) EntriesOfContent(ctx context.Context, contentID int64) ([]Entry, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT `+entryCols+` FROM entries e WHERE e.content_id = ? ORDER BY e.id`, contentID)
	if err != nil {
		return nil, fmt.Errorf("entries of content %d: %w", contentID, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := scanEntry(rows, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetIntegrity records the full-file hash of a content.
func (s *Store) SetIntegrity(ctx context.Context, contentID int64, algo, hash string) error {
	_, err := s.sql.ExecContext(ctx, `UPDATE content_identities SET integrity_hash = ?, integrity_algo = ?, integrity_at = ? WHERE id = ?`,
		hash, algo, time.Now().UnixNano(), contentID)
	if err != nil {
		return fmt.Errorf("recording integrity hash of content %d: %w", contentID, err)
	}
	return nil
}

// Counts summarizes a location.
type Counts struct{ Files, Dirs, Symlinks, Bytes, WithContent int64 }

// LocationCounts counts the entries of a location.
func (s *Store) LocationCounts(ctx context.Context, locID int64) (Counts, error) {
	var c Counts
	err := s.sql.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(kind = 0), 0), COALESCE(SUM(kind = 1), 0), COALESCE(SUM(kind = 2), 0),
		COALESCE(SUM(CASE WHEN kind = 0 THEN size ELSE 0 END), 0), COALESCE(SUM(content_id IS NOT NULL), 0)
		FROM entries WHERE location_id = ? AND parent_id IS NOT NULL`, locID).Scan(&c.Files, &c.Dirs, &c.Symlinks, &c.Bytes, &c.WithContent)
	return c, err
}
