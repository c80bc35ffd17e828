package pipeline

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairnfs/cairn/core/cas"
)

// Integrity is the built-in stage that computes the full-file BLAKE3 (the lazy second tier of
// content identity, REFERENCE.md §1) and stores it with its algorithm name.
type Integrity struct{}

// ID implements Stage.
func (Integrity) ID() string { return "stage.integrity" }

// Version implements Stage.
func (Integrity) Version() int { return 1 }

// Process implements Stage.
func (Integrity) Process(ctx context.Context, items []Item) ([]Outcome, error) {
	out := make([]Outcome, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Never past the walked size: a file that changed is the next index's (a new content).
		sum, _, err := cas.FullHashFileSize(ctx, it.Path, it.Size)
		switch {
		case err != nil:
			out[i].Err = err
		default:
			id := it.ContentID
			out[i].Apply = func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE content_identities SET integrity_hash = ?, integrity_algo = ?, integrity_at = ? WHERE id = ?`,
					sum, cas.AlgoFull, time.Now().UnixNano(), id)
				return err
			}
		}
	}
	return out, nil
}

// Interface guards.
var _ Stage = Integrity{}
