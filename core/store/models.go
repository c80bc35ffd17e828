package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// ModelColumn is a column of an extension-owned table.
// Types: text, integer, real, blob, bool, uuid, time (stored as text, integer, real, blob,
// integer, text, integer ns).
type ModelColumn struct {
	Name     string
	Type     string
	Nullable bool
	Index    bool
}

var (
	modelNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	modelTypes  = map[string]string{"text": "TEXT", "integer": "INTEGER", "real": "REAL", "blob": "BLOB", "bool": "INTEGER", "uuid": "TEXT", "time": "INTEGER"}
)

// ModelTable is the table name of an extension's model: ext_<extension id with '.' and '-' as
// '_'>__<model>. The prefix keeps extensions' tables apart from the kernel's and each other's.
func ModelTable(extID, model string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return "ext_" + r.Replace(extID) + "__" + model
}

// EnsureModel creates an extension's table from its declared schema (an id primary key, the
// declared columns, created_at/updated_at), adds columns declared since, and indexes the
// columns marked for it. Columns are never dropped or retyped: the data stays.
func (s *Store) EnsureModel(ctx context.Context, extID, model string, cols []ModelColumn) (string, error) {
	if !modelNameRE.MatchString(model) {
		return "", fmt.Errorf("model %q of %s: want lowercase letters, digits and _", model, extID)
	}
	table := ModelTable(extID, model)
	var defs []string
	for _, c := range cols {
		t, ok := modelTypes[c.Type]
		if !ok || !modelNameRE.MatchString(c.Name) || c.Name == "id" || c.Name == "created_at" || c.Name == "updated_at" {
			return "", fmt.Errorf("model %s of %s: bad column %q %q", model, extID, c.Name, c.Type)
		}
		def := c.Name + " " + t
		if !c.Nullable {
			def += " NOT NULL DEFAULT " + map[string]string{"TEXT": "''", "INTEGER": "0", "REAL": "0", "BLOB": "X''"}[t]
		}
		defs = append(defs, def)
	}
	err := s.inTx(ctx, func(tx sqlTx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0)`); err != nil {
			return err
		}
		have := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			have[n] = true
		}
		rows.Close()
		for i, c := range cols {
			if !have[c.Name] {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+defs[i]); err != nil {
					return err
				}
			}
			if c.Index {
				if _, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+table+`__`+c.Name+` ON `+table+` (`+c.Name+`)`); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("creating model %s of %s: %w", model, extID, err)
	}
	return table, nil
}
