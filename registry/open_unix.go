//go:build unix

package registry

import (
	"os"
	"syscall"
)

const nonBlock = syscall.O_NONBLOCK

// openNoBlock opens name in root for reading without blocking: a FIFO or a device named like a
// package opens at once (and is then refused as not a regular file) instead of waiting
// forever for a writer.
func openNoBlock(root *os.Root, name string) (*os.File, error) {
	return root.OpenFile(name, os.O_RDONLY|nonBlock, 0)
}
