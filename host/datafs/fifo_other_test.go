//go:build !unix

package datafs

import "errors"

func syscallMkfifo(string) error { return errors.New("no FIFOs here") }
