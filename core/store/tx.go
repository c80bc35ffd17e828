package store

import (
	"context"
	"database/sql"
)

// inTx runs fn in a write transaction on the raw handle, committing if fn returns nil.
type sqlTx = *sql.Tx

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
