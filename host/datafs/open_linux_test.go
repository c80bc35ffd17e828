package datafs

import "testing"

// TestPortablePath runs the visibility checks without openat2, as on kernels older than 5.6.
func TestPortablePath(t *testing.T) {
	noOpenat2.Store(true)
	defer noOpenat2.Store(false)
	TestHostileVisibility(t)
	TestNoWriteMethods(t)
}
