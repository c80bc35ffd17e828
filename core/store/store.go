package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // the SQLite driver ("sqlite")
)

// Sentinel errors callers branch on.
var (
	ErrCorrupt      = errors.New("library database is corrupt")
	ErrSchemaTooNew = errors.New("library schema is newer than this cairn")
	ErrNotFound     = errors.New("not found")
)

// Store is an open library database.
type Store struct {
	// DB is the bun handle, for model queries. Its Query/Exec methods interpolate arguments into
	// the SQL text; the store's own queries use the raw handle (bound parameters, binary-safe
	// names, prepared once).
	DB   *bun.DB
	sql  *sql.DB
	path string
}

// SQL is the raw database handle (bound parameters).
func (s *Store) SQL() *sql.DB { return s.sql }

// Options tune Open.
type Options struct {
	// ReadOnly opens the database without running migrations or writing.
	ReadOnly bool
}

// Open opens (creating if needed) the SQLite database at path in WAL mode and brings its schema up
// to date. A file that is not a SQLite database yields ErrCorrupt.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)",
		"temp_store(MEMORY)", "cache_size(-65536)", "wal_autocheckpoint(8192)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if opts.ReadOnly {
		q.Set("mode", "ro")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	if err := probe(ctx, sqldb); err != nil {
		sqldb.Close()
		return nil, classify(path, err)
	}
	if !opts.ReadOnly {
		if err := migrate(ctx, sqldb); err != nil {
			sqldb.Close()
			return nil, classify(path, err)
		}
	}
	return &Store{DB: bun.NewDB(sqldb, sqlitedialect.New()), sql: sqldb, path: path}, nil
}

func probe(ctx context.Context, db *sql.DB) error {
	var n int
	return db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n)
}

// classify turns SQLite's corruption messages into ErrCorrupt with the file named.
func classify(path string, err error) error {
	msg := err.Error()
	if errors.Is(err, ErrSchemaTooNew) {
		return err
	}
	for _, s := range []string{"file is not a database", "database disk image is malformed", "SQLITE_CORRUPT", "SQLITE_NOTADB"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
	}
	return fmt.Errorf("opening library database %s: %w", path, err)
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL and closes the database.
func (s *Store) Close() error {
	_, _ = s.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return s.DB.Close()
}

// Check runs SQLite's integrity check and returns its findings (nil when the database is sound).
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.sql.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return classify(s.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		if m != "ok" {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, s.path, strings.Join(msgs, "; "))
	}
	return rows.Err()
}
