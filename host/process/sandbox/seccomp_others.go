//go:build linux && !amd64 && !arm64

package sandbox

// No seccomp filter on this architecture: setsid stays allowed.
const (
	nativeArch   = 0
	altSetsid    = 0
	compatArch   = 0
	compatSetsid = 0
)
