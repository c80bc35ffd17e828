//go:build !unix

package registry

import "os"

const nonBlock = 0

func openNoBlock(root *os.Root, name string) (*os.File, error) { return root.Open(name) }
