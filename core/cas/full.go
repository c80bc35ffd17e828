package cas

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/zeebo/blake3"
)

// ErrChanged is returned by FullHashFile when the file's size or modification time changed while
// it was being hashed: the digest would describe no version of the file.
var ErrChanged = errors.New("cas: file changed while being hashed")

// readAhead is how FullHash reads: count buffers of size bytes. With count >= 2, a second
// goroutine fills one buffer while the caller hashes another. BenchmarkFullHashReadAhead compares
// settings; 3 × 1 MiB is the fastest here (a buffer stays in L2, and a third one absorbs jitter),
// and a synchronous loop (count 1) is 10–20% slower.
type readAhead struct{ size, count int }

var defaultReadAhead = readAhead{size: 1 << 20, count: 3}

var (
	bufPool    = sync.Pool{New: func() any { b := make([]byte, defaultReadAhead.size); return &b }}
	hasherPool = sync.Pool{New: func() any { return blake3.New() }}
)

func (ra readAhead) get() *[]byte {
	if ra == defaultReadAhead {
		return bufPool.Get().(*[]byte)
	}
	b := make([]byte, ra.size)
	return &b
}

func (ra readAhead) put(b *[]byte) {
	if ra == defaultReadAhead {
		bufPool.Put(b)
	}
}

// FullHash returns the BLAKE3 digest (64 lowercase hex characters, algorithm AlgoFull) of
// everything r yields until io.EOF, and the number of bytes hashed (empty input has a digest too:
// af1349b9…). It reads in 1 MiB blocks; once
// the input exceeds one block, a second goroutine reads ahead (at most three pooled blocks) while
// the calling goroutine hashes, so I/O overlaps hashing. ctx is checked before every read; a Read
// already in progress is not interrupted, and r is never used after FullHash returns. A
// cancellation returns an error wrapping ctx.Err(); a read error is wrapped as is.
func FullHash(ctx context.Context, r io.Reader) (hexDigest string, n int64, err error) {
	return defaultReadAhead.hash(ctx, r)
}

func (ra readAhead) hash(ctx context.Context, r io.Reader) (hexDigest string, n int64, err error) {
	h := hasherPool.Get().(*blake3.Hasher)
	defer hasherPool.Put(h)
	h.Reset()
	if n, err = ra.write(ctx, r, h); err != nil {
		return "", n, err
	}
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0])), n, nil
}

// chunk is one buffer handed from the reader goroutine to the hasher.
type chunk struct {
	b         *[]byte // nil when the reader stopped before taking a buffer
	n         int
	err       error
	cancelled bool
}

// write feeds r to h and returns the number of bytes written.
func (ra readAhead) write(ctx context.Context, r io.Reader, h *blake3.Hasher) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("cas: full hash cancelled before reading: %w", err)
	}
	first := ra.get()
	n, err := io.ReadFull(r, *first)
	total := int64(n)
	if err != nil || ra.count < 2 {
		// The input fitted in one buffer, reading failed, or read-ahead is off: stay synchronous.
		defer ra.put(first)
		for {
			_, _ = h.Write((*first)[:n])
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return total, nil
			case err != nil:
				return total, fmt.Errorf("cas: full hash: read after %d bytes: %w", total, err)
			}
			if err = ctx.Err(); err != nil {
				return total, fmt.Errorf("cas: full hash cancelled after %d bytes: %w", total, err)
			}
			n, err = io.ReadFull(r, *first)
			total += int64(n)
		}
	}

	free := make(chan *[]byte, ra.count)
	full := make(chan chunk, ra.count+1) // every buffer plus a final buffer-less chunk: sends never block
	for range ra.count - 1 {
		free <- ra.get()
	}
	go func() {
		defer close(full)
		for {
			var b *[]byte
			select {
			case b = <-free:
			case <-ctx.Done():
				full <- chunk{err: ctx.Err(), cancelled: true}
				return
			}
			if err := ctx.Err(); err != nil {
				full <- chunk{b: b, err: err, cancelled: true}
				return
			}
			n, err := io.ReadFull(r, *b)
			full <- chunk{b: b, n: n, err: err}
			if err != nil {
				return
			}
		}
	}()

	_, _ = h.Write(*first)
	free <- first
	var last chunk
	for c := range full { // ends when the reader has returned: r is no longer in use
		if c.n > 0 {
			_, _ = h.Write((*c.b)[:c.n])
			total += int64(c.n)
		}
		if c.b != nil {
			free <- c.b
		}
		last = c
	}
	for len(free) > 0 {
		ra.put(<-free)
	}
	switch {
	case last.cancelled:
		return total, fmt.Errorf("cas: full hash cancelled after %d bytes: %w", total, last.err)
	case last.err == io.EOF || last.err == io.ErrUnexpectedEOF:
		return total, nil
	default:
		return total, fmt.Errorf("cas: full hash: read after %d bytes: %w", total, last.err)
	}
}

// FullHashFile is FullHash of the regular file at path. It refuses a file whose size or
// modification time changed while it was read (ErrChanged; a file that shrank below its size at
// open also wraps io.ErrUnexpectedEOF), so a digest always describes one version of the file.
func FullHashFile(ctx context.Context, path string) (hexDigest string, n int64, err error) {
	f, st, err := openRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return fullHashOpen(ctx, f, st)
}

// FullHashFileSize is FullHashFile of a file expected to hold size bytes (its size when it was
// walked): a file of another size at open, or one that changes while it is read, fails with
// ErrChanged, and no more than size+1 bytes are ever read.
func FullHashFileSize(ctx context.Context, path string, size int64) (hexDigest string, n int64, err error) {
	f, st, err := openRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if st.Size() != size {
		return "", 0, fmt.Errorf("%w: %s has %d bytes, %d when it was indexed", ErrChanged, path, st.Size(), size)
	}
	return fullHashOpen(ctx, f, st)
}

// fullHashOpen hashes f, whose FileInfo at open was st.
func fullHashOpen(ctx context.Context, f *os.File, st os.FileInfo) (string, int64, error) {
	// Read at most one byte past the size seen at open: a file that grows while it is hashed
	// (a log, a download) is reported as changed, never chased to an EOF it keeps moving.
	sum, n, err := FullHash(ctx, io.LimitReader(f, st.Size()+1))
	if err != nil {
		return "", n, fmt.Errorf("%w (%s)", err, f.Name())
	}
	if n < st.Size() {
		return "", n, fmt.Errorf("%w: %s shrank (read %d of %d bytes): %w",
			ErrChanged, f.Name(), n, st.Size(), io.ErrUnexpectedEOF)
	}
	if n > st.Size() {
		return "", n, fmt.Errorf("%w: %s grew while it was read (more than its %d bytes at open)", ErrChanged, f.Name(), st.Size())
	}
	now, err := f.Stat()
	if err != nil {
		return "", n, fmt.Errorf("cas: %w", err)
	}
	if n != st.Size() || now.Size() != st.Size() || !now.ModTime().Equal(st.ModTime()) {
		return "", n, fmt.Errorf("%w: %s: size %d → %d (read %d), mtime %s → %s", ErrChanged,
			f.Name(), st.Size(), now.Size(), n, st.ModTime().Format(timeFormat),
			now.ModTime().Format(timeFormat))
	}
	return sum, n, nil
}

const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"
