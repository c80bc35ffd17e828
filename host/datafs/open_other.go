//go:build !linux

package datafs

import "os"

// openBeneath is Linux-only (openat2); elsewhere the portable path is used.
func openBeneath(*os.File, string) (*os.File, bool, error) { return nil, false, nil }
