package cas

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"
)

// Algorithm names, stored beside every id so that an algorithm can change later.
const (
	AlgoSampled = "sampled-v1"  // cas_id: Sampler.Sum
	AlgoFull    = "blake3-full" // integrity hash: FullHash
)

// Layout of a sampled-v1 message (REFERENCE.md §1): changing any of these is a new algorithm.
const (
	// SmallLimit is the largest size hashed whole.
	SmallLimit = 100 * 1024
	headSize   = 8 * 1024
	tailSize   = 8 * 1024
	sampleSize = 10 * 1024
	samples    = 4
	// sizeLen is the length of the u64_le(size) prefix.
	sizeLen = 8
	// sampledLen is the message length of a file larger than SmallLimit.
	sampledLen = sizeLen + headSize + samples*sampleSize + tailSize
	// IDLen is the length of a cas_id in hex characters.
	IDLen = 16
)

// namespace is the UUIDv5 namespace of content UUIDs (it is the RFC 4122 DNS namespace).
var namespace = uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")

// ErrEmpty is returned for an empty file: it has no content identity.
var ErrEmpty = errors.New("cas: empty file has no content identity")

// Sampler computes sampled-v1 cas_ids. It owns a 100 KiB buffer and a BLAKE3 hasher, so it
// allocates nothing per file but the returned string. A Sampler is not safe for concurrent use:
// keep one per goroutine (or in a sync.Pool).
type Sampler struct {
	h   *blake3.Hasher
	buf []byte
	sum [32]byte
	hex [IDLen]byte
}

// NewSampler returns a Sampler (one 100 KiB allocation).
func NewSampler() *Sampler {
	return &Sampler{h: blake3.New(), buf: make([]byte, sizeLen+SmallLimit)}
}

// Sum returns the cas_id of the size bytes of r starting at offset 0. It reads the whole content
// when size <= SmallLimit, else six regions totalling 56 KiB, each with one ReadAt (a pread for an
// *os.File). If r holds fewer than size bytes (a file truncated since it was stat'ed), Sum returns
// an error wrapping io.ErrUnexpectedEOF and never a cas_id of partial data. Bytes beyond size are
// ignored. size 0 returns ErrEmpty.
func (s *Sampler) Sum(r io.ReaderAt, size int64) (casID string, err error) {
	switch {
	case size == 0:
		return "", ErrEmpty
	case size < 0:
		return "", fmt.Errorf("cas: sampled id of negative size %d", size)
	}
	var msg []byte
	if size <= SmallLimit {
		msg = s.buf[:sizeLen+size]
		if err := readFull(r, msg[sizeLen:], 0, size); err != nil {
			return "", err
		}
	} else {
		msg = s.buf[:sampledLen]
		p := msg[sizeLen:]
		if err := readFull(r, p[:headSize], 0, size); err != nil {
			return "", err
		}
		p = p[headSize:]
		jump := (size - headSize - tailSize) / samples
		for i := range int64(samples) {
			if err := readFull(r, p[:sampleSize], headSize+i*jump, size); err != nil {
				return "", err
			}
			p = p[sampleSize:]
		}
		if err := readFull(r, p[:tailSize], size-tailSize, size); err != nil {
			return "", err
		}
	}
	binary.LittleEndian.PutUint64(msg, uint64(size))
	s.h.Reset()
	_, _ = s.h.Write(msg)
	s.h.Sum(s.sum[:0])
	hex.Encode(s.hex[:], s.sum[:IDLen/2])
	return string(s.hex[:]), nil
}

// SumFile opens the file at path (following symlinks), stats it and returns its cas_id and the
// size that was hashed. It refuses anything but a regular file, without blocking on a FIFO.
func (s *Sampler) SumFile(path string) (casID string, size int64, err error) {
	f, st, err := openRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	size = st.Size()
	casID, err = s.Sum(f, size)
	if err != nil && !errors.Is(err, ErrEmpty) {
		err = fmt.Errorf("%w (%s)", err, path)
	}
	return casID, size, err
}

// readFull reads len(p) bytes at off, which the caller expects to exist in content of the given
// size.
func readFull(r io.ReaderAt, p []byte, off, size int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil // a ReaderAt may report io.EOF with a full read that ends at EOF
	}
	if err != nil && err != io.EOF {
		return fmt.Errorf("cas: read %d bytes at offset %d: %w", len(p), off, err)
	}
	return fmt.Errorf("cas: content shorter than its size %d (read %d of %d bytes at offset %d): %w",
		size, n, len(p), off, io.ErrUnexpectedEOF)
}

// ContentUUID returns the content UUID of a cas_id: UUIDv5 of the cas_id string in the namespace
// 6ba7b810-9dad-11d1-80b4-00c04fd430c8. It does not validate casID. Cost: one SHA-1 of 16 bytes
// and a few small allocations.
func ContentUUID(casID string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(casID))
}

// openRegular opens path for reading and returns it with its FileInfo, or an error if it is not a
// regular file. O_NONBLOCK keeps the open from waiting for a FIFO's writer; it does nothing to
// reads of regular files.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cas: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cas: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("cas: %s is not a regular file (%s)", path, st.Mode().Type())
	}
	return f, st, nil
}
