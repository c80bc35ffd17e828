package sandbox

import "fmt"

// Status is what the kernel offers for sandboxing.
type Status struct {
	// Available reports whether Landlock is; ABI is its version (0 without it).
	Available bool
	ABI       int
	// Reason says why it is not available.
	Reason string
}

// Report is the line the host logs for the native extension id: what confines it.
func (s Status) Report(id string) string {
	if !s.Available {
		return fmt.Sprintf("landlock: %s (ABI 0): native extension %s runs without a filesystem sandbox", s.Reason, id)
	}
	return fmt.Sprintf("landlock ABI %d: native extension %s runs sandboxed to its granted files", s.ABI, id)
}
