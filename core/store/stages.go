package store

import (
	"context"
	"fmt"
	"strings"
)

// TypeFilter is the part of a pipeline step's selection the database evaluates: content types
// and a size range (MaxSize 0: no limit). A content passes when it passes every TypeSet of Types
// (e.g. the step's own filter and the stage manifest's filter) and the size range.
type TypeFilter struct {
	Types   []TypeSet
	MinSize int64
	MaxSize int64
}

// TypeSet is a set of content types given as alternatives: a content is in it when its kind is
// one of Kinds or its MIME type matches one of Mimes, exactly or as "image/*". A TypeSet with
// neither holds every content.
type TypeSet struct {
	Kinds []string
	Mimes []string
}

// StepItem is a content waiting for a stage, with every path (relative to the location root)
// at which the location holds it.
type StepItem struct {
	ContentID int64
	UUID      string
	CasID     string
	Size      int64
	Kind      string // content kind name ("unknown" until a file-type stage ran)
	Mime      string // "" until a file-type stage ran
	Paths     []string
	Names     []string // the base name of each path
}

// PendingStep returns up to limit contents of a location, with ids above after in id order,
// whose ledger lacks stage at version (or records that it waits for a missing tool, or, with
// retryFailed, that it failed), and that pass f.
func (s *Store) PendingStep(ctx context.Context, locID int64, stage string, version int, retryFailed bool, f TypeFilter, after int64, limit int) ([]StepItem, error) {
	where, args := pendingWhere(locID, stage, version, retryFailed, f, after)
	args = append(args, limit, locID)
	q := `WITH pend AS (
		SELECT c.id, c.uuid, c.cas_id, c.size, COALESCE(k.name, 'unknown') AS kind, COALESCE(m.name, '') AS mime
		FROM content_identities c
		LEFT JOIN stage_ledger l ON l.content_id = c.id AND l.stage = ?
		LEFT JOIN content_kinds k ON k.id = c.kind_id
		LEFT JOIN mime_types m ON m.id = c.mime_id
		WHERE ` + where + `
		ORDER BY c.id LIMIT ?)
	SELECT p.id, p.uuid, p.cas_id, p.size, p.kind, p.mime, COALESCE(d.path, ''), e.name
	FROM pend p JOIN entries e ON e.content_id = p.id AND e.location_id = ?
	LEFT JOIN dir_paths d ON d.entry_id = e.parent_id
	ORDER BY p.id, e.id`
	rows, err := s.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing contents waiting for %s: %w", stage, err)
	}
	defer rows.Close()
	var out []StepItem
	for rows.Next() {
		var it StepItem
		var dir, name string
		if err := rows.Scan(&it.ContentID, &it.UUID, &it.CasID, &it.Size, &it.Kind, &it.Mime, &dir, &name); err != nil {
			return nil, fmt.Errorf("listing contents waiting for %s: %w", stage, err)
		}
		rel := name
		if dir != "" {
			rel = dir + "/" + name
		}
		if n := len(out); n > 0 && out[n-1].ContentID == it.ContentID {
			out[n-1].Paths = append(out[n-1].Paths, rel)
			out[n-1].Names = append(out[n-1].Names, name)
			continue
		}
		it.Paths, it.Names = []string{rel}, []string{name}
		out = append(out, it)
	}
	return out, rows.Err()
}

// pendingWhere is the condition (and its arguments, the stage first) on c, l, k and m of the
// contents PendingStep and CountPendingStep select.
func pendingWhere(locID int64, stage string, version int, retryFailed bool, f TypeFilter, after int64) (string, []any) {
	where := []string{"c.id > ?", "EXISTS (SELECT 1 FROM entries e WHERE e.content_id = c.id AND e.location_id = ?)"}
	args := []any{stage, after, locID}
	ledger := "(l.content_id IS NULL OR l.version <> ? OR l.status = '" + StatusMissingTool + "'"
	args = append(args, version)
	if retryFailed {
		ledger += " OR l.status = 'failed'"
	}
	where = append(where, ledger+")")
	cond, cargs := f.sql()
	return strings.Join(append(where, cond...), " AND "), append(args, cargs...)
}

// CountPendingStep counts the contents PendingStep would return after the content id after,
// over every page.
func (s *Store) CountPendingStep(ctx context.Context, locID int64, stage string, version int, retryFailed bool, f TypeFilter, after int64) (int64, error) {
	where, args := pendingWhere(locID, stage, version, retryFailed, f, after)
	var n int64
	err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM content_identities c
		LEFT JOIN stage_ledger l ON l.content_id = c.id AND l.stage = ?
		LEFT JOIN content_kinds k ON k.id = c.kind_id
		LEFT JOIN mime_types m ON m.id = c.mime_id
		WHERE `+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting contents waiting for %s: %w", stage, err)
	}
	return n, nil
}

// StatusMissingTool is the ledger status of a content a stage could not process because an
// external program it needs is not installed. Unlike a failure it is not final: every run
// offers the content to the stage again, so it is done once the tool is installed.
const StatusMissingTool = "missing_tool"

// sql returns the filter's conditions on c (content_identities), k (content_kinds) and m
// (mime_types), and their arguments.
func (f TypeFilter) sql() (conds []string, args []any) {
	if f.MinSize > 0 {
		conds, args = append(conds, "c.size >= ?"), append(args, f.MinSize)
	}
	if f.MaxSize > 0 {
		conds, args = append(conds, "c.size <= ?"), append(args, f.MaxSize)
	}
	for _, t := range f.Types {
		if len(t.Kinds) == 0 && len(t.Mimes) == 0 {
			continue
		}
		var alts []string
		if len(t.Kinds) > 0 {
			alts = append(alts, "k.name IN ("+placeholders(len(t.Kinds))+")")
			for _, k := range t.Kinds {
				args = append(args, k)
			}
		}
		for _, m := range t.Mimes {
			if prefix, ok := strings.CutSuffix(m, "/*"); ok {
				alts, args = append(alts, "substr(m.name, 1, ?) = ?"), append(args, len(prefix)+1, prefix+"/")
			} else {
				alts, args = append(alts, "m.name = ?"), append(args, m)
			}
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	return conds, args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// StageCounts is the ledger of one stage over a location's contents.
type StageCounts struct {
	Stage  string `json:"stage"`
	Done   int64  `json:"done"`   // done at the current version
	Failed int64  `json:"failed"` // failed at the current version
	// MissingTool: waiting for an external program that is not installed (at the current
	// version; retried by every run).
	MissingTool int64 `json:"missing_tool"`
	Stale       int64 `json:"stale"`   // recorded at another version (will re-run)
	Missing     int64 `json:"missing"` // never run
}

// CountStage counts a location's contents by their ledger state for stage at version, among
// the contents that pass f (the path filters of a step are not applied: see PendingStep).
func (s *Store) CountStage(ctx context.Context, locID int64, stage string, version int, f TypeFilter) (StageCounts, error) {
	out := StageCounts{Stage: stage}
	var where []string
	args := []any{version, version, version, version, stage, locID}
	cond, cargs := f.sql()
	where, args = append(where, cond...), append(args, cargs...)
	extra := ""
	if len(where) > 0 {
		extra = " AND " + strings.Join(where, " AND ")
	}
	err := s.sql.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(l.status = 'done' AND l.version = ?), 0),
		COALESCE(SUM(l.status = 'failed' AND l.version = ?), 0),
		COALESCE(SUM(l.status = '`+StatusMissingTool+`' AND l.version = ?), 0),
		COALESCE(SUM(l.content_id IS NOT NULL AND l.version <> ?), 0),
		COALESCE(SUM(l.content_id IS NULL), 0)
		FROM content_identities c
		LEFT JOIN stage_ledger l ON l.content_id = c.id AND l.stage = ?
		LEFT JOIN content_kinds k ON k.id = c.kind_id
		LEFT JOIN mime_types m ON m.id = c.mime_id
		WHERE EXISTS (SELECT 1 FROM entries e WHERE e.content_id = c.id AND e.location_id = ?)`+extra, args...).
		Scan(&out.Done, &out.Failed, &out.MissingTool, &out.Stale, &out.Missing)
	if err != nil {
		return out, fmt.Errorf("counting the ledger of %s: %w", stage, err)
	}
	return out, nil
}

// StageFailure is one content a stage failed on, with the files that hold it.
type StageFailure struct {
	ContentID int64  `json:"content_id"`
	UUID      string `json:"content_uuid"`
	Stage     string `json:"stage"`
	Version   int    `json:"version"`
	Error     string `json:"error"`
	// Paths are the location's files holding the content, relative to the location root.
	Paths []string `json:"paths"`
}

// StageFailures lists up to limit failures of stage (every stage when "") in a location recorded
// at or after since (Unix ns; 0 for all), by stage and content, each with the paths of the
// location's files holding the content.
func (s *Store) StageFailures(ctx context.Context, locID int64, stage string, since int64, limit int) ([]StageFailure, error) {
	rows, err := s.sql.QueryContext(ctx, `WITH f AS (
		SELECT c.id, c.uuid, l.stage, l.version, COALESCE(l.error, '') AS error
		FROM stage_ledger l JOIN content_identities c ON c.id = l.content_id
		WHERE l.status = 'failed' AND (? = '' OR l.stage = ?) AND l.updated_at >= ?
		AND EXISTS (SELECT 1 FROM entries e WHERE e.content_id = c.id AND e.location_id = ?)
		ORDER BY l.stage, c.id LIMIT ?)
	SELECT f.id, f.uuid, f.stage, f.version, f.error, COALESCE(d.path, ''), e.name
	FROM f JOIN entries e ON e.content_id = f.id AND e.location_id = ?
	LEFT JOIN dir_paths d ON d.entry_id = e.parent_id
	ORDER BY f.stage, f.id, e.id`, stage, stage, since, locID, limit, locID)
	if err != nil {
		return nil, fmt.Errorf("listing stage failures: %w", err)
	}
	defer rows.Close()
	var out []StageFailure
	for rows.Next() {
		var f StageFailure
		var dir, name string
		if err := rows.Scan(&f.ContentID, &f.UUID, &f.Stage, &f.Version, &f.Error, &dir, &name); err != nil {
			return nil, fmt.Errorf("listing stage failures: %w", err)
		}
		rel := JoinRel(dir, name)
		if n := len(out); n > 0 && out[n-1].ContentID == f.ContentID && out[n-1].Stage == f.Stage {
			out[n-1].Paths = append(out[n-1].Paths, rel)
			continue
		}
		f.Paths = []string{rel}
		out = append(out, f)
	}
	return out, rows.Err()
}

// StageRecord is a content's ledger row.
type StageRecord struct {
	Stage     string `json:"stage"`
	Version   int    `json:"version"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	UpdatedAt int64  `json:"updated_at"`
}

// StagesOf returns the ledger rows of a content, by stage.
func (s *Store) StagesOf(ctx context.Context, contentID int64) ([]StageRecord, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT stage, version, status, COALESCE(error, ''), updated_at
		FROM stage_ledger WHERE content_id = ? ORDER BY stage`, contentID)
	if err != nil {
		return nil, fmt.Errorf("reading the ledger of content %d: %w", contentID, err)
	}
	defer rows.Close()
	var out []StageRecord
	for rows.Next() {
		var r StageRecord
		if err := rows.Scan(&r.Stage, &r.Version, &r.Status, &r.Error, &r.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ForgetStage deletes the ledger rows of stage for the given contents (every content of the
// location when contentIDs is empty), so the next run does that work again. It returns how
// many rows it deleted.
func (s *Store) ForgetStage(ctx context.Context, locID int64, stage string, contentIDs []int64) (int64, error) {
	if len(contentIDs) == 0 {
		res, err := s.sql.ExecContext(ctx, `DELETE FROM stage_ledger WHERE stage = ? AND content_id IN
			(SELECT content_id FROM entries WHERE location_id = ? AND content_id IS NOT NULL)`, stage, locID)
		if err != nil {
			return 0, fmt.Errorf("forgetting %s: %w", stage, err)
		}
		return res.RowsAffected()
	}
	n, err := s.execIn(ctx, `DELETE FROM stage_ledger WHERE stage = ? AND content_id IN `, []any{stage}, contentIDs)
	if err != nil {
		return n, fmt.Errorf("forgetting %s: %w", stage, err)
	}
	return n, nil
}

// execIn runs q (ending in "IN ") with args and then ids as a parenthesised list, in chunks
// that stay within SQLite's limit on bound parameters, and returns the rows affected.
func (s *Store) execIn(ctx context.Context, q string, args []any, ids []int64) (int64, error) {
	const chunk = 500
	var n int64
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		a := append([]any{}, args...)
		for _, id := range part {
			a = append(a, id)
		}
		res, err := s.sql.ExecContext(ctx, q+"("+placeholders(len(part))+")", a...)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// ErrorCount is a ledger error text and how many contents have it.
type ErrorCount struct {
	Error string
	Count int64
}

// StageErrors counts a location's contents whose ledger row for stage has status (e.g.
// StatusMissingTool) at version, by error text, most frequent first (at most 100 texts).
func (s *Store) StageErrors(ctx context.Context, locID int64, stage string, version int, status string) ([]ErrorCount, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT COALESCE(l.error, ''), count(*) FROM stage_ledger l
		WHERE l.stage = ? AND l.version = ? AND l.status = ?
		AND EXISTS (SELECT 1 FROM entries e WHERE e.content_id = l.content_id AND e.location_id = ?)
		GROUP BY l.error ORDER BY count(*) DESC, l.error LIMIT 100`, stage, version, status, locID)
	if err != nil {
		return nil, fmt.Errorf("counting the %s outcomes of %s: %w", status, stage, err)
	}
	defer rows.Close()
	var out []ErrorCount
	for rows.Next() {
		var e ErrorCount
		if err := rows.Scan(&e.Error, &e.Count); err != nil {
			return nil, fmt.Errorf("counting the %s outcomes of %s: %w", status, stage, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
