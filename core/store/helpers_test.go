package store

import (
	"errors"
	"os"
)

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }

func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }
