package wasm

import "syscall"

// reserve maps n bytes of zeroed, private, anonymous memory without reserving swap for them
// (nil when the system refuses: the caller falls back to the Go heap).
func reserve(n uint64) []byte {
	if n == 0 || n > 1<<32 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

// discard gives b's pages back to the system; b stays mapped and reads as zeros.
func discard(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }

// unreserve unmaps what reserve mapped.
func unreserve(b []byte) { syscall.Munmap(b) }
