package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Batch is one write transaction of the indexer, with the statements it runs many times prepared
// once. Everything a batch does commits together or not at all, including the job checkpoint the
// caller writes through Tx, so a crash never leaves half a batch or a checkpoint ahead of the data.
type Batch struct {
	ctx   context.Context
	tx    *sql.Tx
	now   int64
	stmts map[string]*sql.Stmt
}

// Begin starts a write batch (BEGIN IMMEDIATE: the write lock is taken up front).
func (s *Store) Begin(ctx context.Context) (*Batch, error) {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("starting write batch: %w", err)
	}
	return &Batch{ctx: ctx, tx: tx, now: time.Now().UnixNano(), stmts: map[string]*sql.Stmt{}}, nil
}

// Tx is the underlying transaction, for callers that write their own rows atomically with the batch.
func (b *Batch) Tx() *sql.Tx { return b.tx }

// Commit commits the batch.
func (b *Batch) Commit() error {
	b.closeStmts()
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("committing write batch: %w", err)
	}
	return nil
}

// Rollback abandons the batch (safe after Commit).
func (b *Batch) Rollback() {
	b.closeStmts()
	_ = b.tx.Rollback()
}

func (b *Batch) closeStmts() {
	for _, s := range b.stmts {
		s.Close()
	}
	clear(b.stmts)
}

func (b *Batch) stmt(q string) (*sql.Stmt, error) {
	if s, ok := b.stmts[q]; ok {
		return s, nil
	}
	s, err := b.tx.PrepareContext(b.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("preparing %q: %w", q, err)
	}
	b.stmts[q] = s
	return s, nil
}

func (b *Batch) exec(q string, args ...any) (sql.Result, error) {
	s, err := b.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(b.ctx, args...)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Child is the part of an entry change detection needs.
type Child struct {
	ID        int64
	Name      string
	Kind      Kind
	Size      int64
	MtimeNs   int64
	Inode     uint64
	ContentID int64
	AggSize   int64
	FileCount int64
	DirCount  int64
}

// Children returns the direct children of a directory (read inside the batch), with the fields
// change detection compares (id, name, kind, size, mtime, inode); the rest stay zero: fewer
// columns make the re-index of an unchanged tree measurably faster.
func (b *Batch) Children(parentID int64, out []Child) ([]Child, error) {
	s, err := b.stmt(`SELECT id, name, kind, size, mtime_ns, inode FROM entries WHERE parent_id = ?`)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(b.ctx, parentID)
	if err != nil {
		return nil, fmt.Errorf("reading children of %d: %w", parentID, err)
	}
	defer rows.Close()
	out = out[:0]
	for rows.Next() {
		var c Child
		var inode int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Kind, &c.Size, &c.MtimeNs, &inode); err != nil {
			return nil, err
		}
		c.Inode = uint64(inode)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ByID returns the change-detection view of one entry (inside the batch).
func (b *Batch) ByID(id int64) (Child, error) {
	s, err := b.stmt(`SELECT id, name, kind, size, mtime_ns, inode, COALESCE(content_id, 0), agg_size, file_count, dir_count FROM entries WHERE id = ?`)
	if err != nil {
		return Child{}, err
	}
	var c Child
	var inode int64
	if err := s.QueryRowContext(b.ctx, id).Scan(&c.ID, &c.Name, &c.Kind, &c.Size, &c.MtimeNs, &inode, &c.ContentID, &c.AggSize, &c.FileCount, &c.DirCount); err != nil {
		return Child{}, fmt.Errorf("entry %d: %w", id, notFound(err))
	}
	c.Inode = uint64(inode)
	return c, nil
}

// Located is an entry found by inode, with its parent.
type Located struct {
	Child
	ParentID int64
}

// ByInode returns the entries of a location with this inode and kind (move detection).
func (b *Batch) ByInode(locID int64, inode uint64, kind Kind) ([]Located, error) {
	s, err := b.stmt(`SELECT id, name, kind, size, mtime_ns, inode, COALESCE(content_id, 0), agg_size, file_count, dir_count, COALESCE(parent_id, 0)
		FROM entries WHERE location_id = ? AND inode = ? AND kind = ?`)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(b.ctx, locID, int64(inode), kind)
	if err != nil {
		return nil, fmt.Errorf("looking up inode %d: %w", inode, err)
	}
	defer rows.Close()
	var out []Located
	for rows.Next() {
		var l Located
		var ino int64
		if err := rows.Scan(&l.ID, &l.Name, &l.Kind, &l.Size, &l.MtimeNs, &ino, &l.ContentID, &l.AggSize, &l.FileCount, &l.DirCount, &l.ParentID); err != nil {
			return nil, err
		}
		l.Inode = uint64(ino)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ParentOf returns the parent id and name of an entry (0, "" for a root), or ErrNotFound.
func (b *Batch) ParentOf(id int64) (int64, string, error) {
	s, err := b.stmt(`SELECT COALESCE(parent_id, 0), name FROM entries WHERE id = ?`)
	if err != nil {
		return 0, "", err
	}
	var p int64
	var n string
	if err := s.QueryRowContext(b.ctx, id).Scan(&p, &n); err != nil {
		return 0, "", notFound(err)
	}
	return p, n, nil
}

// DirPath returns the relative path of a directory (inside the batch).
func (b *Batch) DirPath(dirID int64) (string, error) {
	s, err := b.stmt(`SELECT path FROM dir_paths WHERE entry_id = ?`)
	if err != nil {
		return "", err
	}
	var p string
	if err := s.QueryRowContext(b.ctx, dirID).Scan(&p); err != nil {
		return "", fmt.Errorf("path of directory %d: %w", dirID, notFound(err))
	}
	return p, nil
}

// DirID returns the entry id of the directory at a relative path.
func (b *Batch) DirID(locID int64, rel string) (int64, error) {
	s, err := b.stmt(`SELECT entry_id FROM dir_paths WHERE location_id = ? AND path = ?`)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := s.QueryRowContext(b.ctx, locID, rel).Scan(&id); err != nil {
		return 0, fmt.Errorf("directory %q: %w", rel, notFound(err))
	}
	return id, nil
}

// InsertEntry inserts a new entry (and its dir_paths row when it is a directory, at dirRel).
func (b *Batch) InsertEntry(e *Entry, dirRel string) (int64, error) {
	res, err := b.exec(`INSERT INTO entries (location_id, parent_id, name, extension, kind, size, mtime_ns, inode, link_target, indexed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.LocationID, nullID(e.ParentID), e.Name, e.Extension, e.Kind, e.Size, e.MtimeNs, int64(e.Inode), nullStr(e.LinkTarget), b.now)
	if err != nil {
		return 0, fmt.Errorf("inserting %q: %w", e.Name, err)
	}
	id, _ := res.LastInsertId()
	if e.Kind == KindDir {
		if _, err := b.exec(`INSERT INTO dir_paths (entry_id, location_id, path) VALUES (?, ?, ?)`, id, e.LocationID, dirRel); err != nil {
			return 0, fmt.Errorf("recording directory path %q: %w", dirRel, err)
		}
	}
	return id, nil
}

// insertChunk is the number of rows per multi-row INSERT (SQLite's default limit on bound
// parameters is 32766; 10 columns × 100 rows stays far below it).
const insertChunk = 100

// InsertChildren inserts new entries that share one parent, many rows per statement, and
// records the dir_paths of the directories among them (dirRel is the parent's relative path).
// It returns the ids of the new directories, at their positions in es (0 for other kinds: files
// and symlinks are inserted without RETURNING, which costs a row scan each).
func (b *Batch) InsertChildren(es []Entry, dirRel string) ([]int64, error) {
	ids := make([]int64, len(es))
	var dirs, others []int
	for i := range es {
		if es[i].Kind == KindDir {
			dirs = append(dirs, i)
		} else {
			others = append(others, i)
		}
	}
	if err := b.insertRows(es, others, dirRel, nil); err != nil {
		return nil, err
	}
	if err := b.insertRows(es, dirs, dirRel, ids); err != nil {
		return nil, err
	}
	for _, i := range dirs {
		if _, err := b.exec(`INSERT INTO dir_paths (entry_id, location_id, path) VALUES (?, ?, ?)`, ids[i], es[i].LocationID, JoinRel(dirRel, es[i].Name)); err != nil {
			return nil, fmt.Errorf("recording directory path %q: %w", JoinRel(dirRel, es[i].Name), err)
		}
	}
	return ids, nil
}

// insertRows inserts es[idx...] in multi-row statements; with ids set, it reads the new ids back.
func (b *Batch) insertRows(es []Entry, idx []int, dirRel string, ids []int64) error {
	for start := 0; start < len(idx); {
		// Chunks of 100, then powers of two: a handful of distinct statements to prepare.
		n := insertChunk
		if left := len(idx) - start; left < n {
			n = 1
			for n*2 <= left {
				n *= 2
			}
		}
		chunk := idx[start : start+n]
		st, err := b.stmt(insertSQL(n, ids != nil))
		if err != nil {
			return err
		}
		args := make([]any, 0, 10*n)
		for _, i := range chunk {
			e := &es[i]
			args = append(args, e.LocationID, nullID(e.ParentID), e.Name, e.Extension, e.Kind, e.Size, e.MtimeNs, int64(e.Inode), nullStr(e.LinkTarget), b.now)
		}
		start += n
		if ids == nil {
			if _, err := st.ExecContext(b.ctx, args...); err != nil {
				return fmt.Errorf("inserting %d entries below %q: %w", n, dirRel, err)
			}
			continue
		}
		rows, err := st.QueryContext(b.ctx, args...)
		if err != nil {
			return fmt.Errorf("inserting %d entries below %q: %w", n, dirRel, err)
		}
		// RETURNING order is unspecified: match rows by name (unique below one parent).
		pos := make(map[string]int, n)
		for _, i := range chunk {
			pos[es[i].Name] = i
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			ids[pos[name]] = id
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("inserting %d entries below %q: %w", n, dirRel, err)
		}
	}
	return nil
}

func insertSQL(n int, returning bool) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO entries (location_id, parent_id, name, extension, kind, size, mtime_ns, inode, link_target, indexed_at) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	if returning {
		sb.WriteString(` RETURNING id, name`)
	}
	return sb.String()
}

// UpdateStat records new metadata of an entry; clearContent drops its content link (the bytes changed).
func (b *Batch) UpdateStat(id, size, mtimeNs int64, inode uint64, linkTarget string, clearContent bool) error {
	q := `UPDATE entries SET size = ?, mtime_ns = ?, inode = ?, link_target = ?, indexed_at = ? WHERE id = ?`
	if clearContent {
		q = `UPDATE entries SET size = ?, mtime_ns = ?, inode = ?, link_target = ?, indexed_at = ?, content_id = NULL WHERE id = ?`
	}
	if _, err := b.exec(q, size, mtimeNs, int64(inode), nullStr(linkTarget), b.now, id); err != nil {
		return fmt.Errorf("updating entry %d: %w", id, err)
	}
	return nil
}

// Move re-parents and renames an entry, keeping its id; a directory's dir_paths subtree follows.
func (b *Batch) Move(locID, id int64, kind Kind, newParent int64, newName, oldRel, newRel string) error {
	if _, err := b.exec(`UPDATE entries SET parent_id = ?, name = ?, extension = ?, indexed_at = ? WHERE id = ?`,
		newParent, newName, extensionFor(kind, newName), b.now, id); err != nil {
		return fmt.Errorf("moving entry %d to %q: %w", id, newRel, err)
	}
	if kind != KindDir {
		return nil
	}
	// Rewrite the directory paths below: the moved directory's own row, then its descendants.
	// substr works on bytes (CAST AS BLOB): paths may hold multi-byte or invalid UTF-8.
	if _, err := b.exec(`UPDATE dir_paths SET path = ? WHERE entry_id = ?`, newRel, id); err != nil {
		return fmt.Errorf("moving directory path %q: %w", oldRel, err)
	}
	lo, hi := oldRel+"/", oldRel+"0"
	if _, err := b.exec(`UPDATE dir_paths SET path = ? || CAST(substr(CAST(path AS BLOB), ?) AS TEXT) WHERE location_id = ? AND path >= ? AND path < ?`,
		newRel+"/", len(lo)+1, locID, lo, hi); err != nil {
		return fmt.Errorf("moving directory paths below %q: %w", oldRel, err)
	}
	return nil
}

func extensionFor(k Kind, name string) string {
	if k != KindFile {
		return ""
	}
	return Extension(name)
}

// Delete removes an entry; for a directory, everything below it as well. It returns how many
// entries were removed.
func (b *Batch) Delete(locID, id int64, kind Kind, rel string) (int64, error) {
	var n int64
	if kind == KindDir {
		cond, args := subtreeCond("path", rel)
		args = append([]any{locID}, args...)
		res, err := b.exec(`DELETE FROM entries WHERE parent_id IN (SELECT entry_id FROM dir_paths WHERE location_id = ? AND `+cond+`)`, args...)
		if err != nil {
			return 0, fmt.Errorf("deleting below %q: %w", rel, err)
		}
		n, _ = res.RowsAffected()
		if _, err := b.exec(`DELETE FROM dir_paths WHERE location_id = ? AND `+cond, args...); err != nil {
			return 0, fmt.Errorf("deleting directory paths below %q: %w", rel, err)
		}
	}
	res, err := b.exec(`DELETE FROM entries WHERE id = ?`, id)
	if err != nil {
		return 0, fmt.Errorf("deleting %q: %w", rel, err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// AddAggregates adds deltas to a directory's aggregate size and counts.
func (b *Batch) AddAggregates(id, size, files, dirs, children int64) error {
	if _, err := b.exec(`UPDATE entries SET agg_size = agg_size + ?, file_count = file_count + ?, dir_count = dir_count + ?, child_count = child_count + ? WHERE id = ?`,
		size, files, dirs, children, id); err != nil {
		return fmt.Errorf("updating aggregates of %d: %w", id, err)
	}
	return nil
}

// UpsertContent returns the id of the content identity with this cas_id, creating it if new.
func (b *Batch) UpsertContent(casID, contentUUID, algo string, size int64) (int64, error) {
	s, err := b.stmt(`INSERT INTO content_identities (uuid, cas_id, cas_algo, size, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (cas_id) DO UPDATE SET cas_id = excluded.cas_id RETURNING id`)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := s.QueryRowContext(b.ctx, contentUUID, casID, algo, size, b.now).Scan(&id); err != nil {
		return 0, fmt.Errorf("recording content %s: %w", casID, err)
	}
	return id, nil
}

// SetContent links an entry to a content identity.
func (b *Batch) SetContent(entryID, contentID int64) error {
	if _, err := b.exec(`UPDATE entries SET content_id = ? WHERE id = ?`, contentID, entryID); err != nil {
		return fmt.Errorf("linking entry %d to content: %w", entryID, err)
	}
	return nil
}

// RecordSkip lists a path a job could not index, and why.
func (b *Batch) RecordSkip(jobID int64, path, reason string) error {
	_, err := b.exec(`INSERT INTO job_skips (job_id, path, reason, at) VALUES (?, ?, ?, ?)`, jobID, path, reason, b.now)
	return err
}

// NewUUID is the id generator for new rows.
func NewUUID() string { return uuid.NewString() }
