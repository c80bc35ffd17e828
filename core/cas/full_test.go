package cas

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/zeebo/blake3"
)

func sum256Hex(data []byte) string {
	sum := blake3.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestFullHashFile(t *testing.T) {
	const mib = 1 << 20
	for _, size := range []int{0, 1, 1023, 1024, 1025, mib - 1, mib, mib + 1, 3 * mib, 3*mib + 17, 10*mib + 5} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			data := randomBytes(size, uint64(size)+100)
			got, n, err := FullHashFile(context.Background(), writeFile(t, data))
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(size) {
				t.Errorf("n = %d, want %d", n, size)
			}
			if want := sum256Hex(data); got != want {
				t.Errorf("FullHashFile = %s, blake3.Sum256 = %s", got, want)
			}
			if b3 := b3sum(t, data); b3 != "" && b3 != got {
				t.Errorf("FullHashFile = %s, b3sum = %s", got, b3)
			}
		})
	}
}

// TestFullHashReaders runs FullHash over readers that misbehave within the io.Reader contract, with
// and without read-ahead.
func TestFullHashReaders(t *testing.T) {
	data := randomBytes(2<<20+3, 9)
	want := sum256Hex(data)
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"bytes", func() io.Reader { return bytes.NewReader(data) }},
		{"one-byte-reads", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }},
		{"half-reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
		{"eof-with-data", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }},
	} {
		for _, ra := range []readAhead{defaultReadAhead, {size: 64 << 10, count: 1}, {size: 4096, count: 2}} {
			t.Run(tc.name+"/"+strconv.Itoa(ra.size)+"x"+strconv.Itoa(ra.count), func(t *testing.T) {
				got, n, err := ra.hash(context.Background(), tc.r())
				if err != nil || got != want || n != int64(len(data)) {
					t.Fatalf("hash = %s, %d, %v; want %s, %d", got, n, err, want, len(data))
				}
			})
		}
	}
}

func TestFullHashReadError(t *testing.T) {
	errBoom := errors.New("boom")
	for _, prefix := range []int{0, 1000, 1 << 20, 5<<20 + 1} {
		for _, ra := range []readAhead{defaultReadAhead, {size: 1 << 20, count: 1}} {
			t.Run(strconv.Itoa(prefix)+"/"+strconv.Itoa(ra.count), func(t *testing.T) {
				r := io.MultiReader(bytes.NewReader(make([]byte, prefix)), iotest.ErrReader(errBoom))
				got, n, err := ra.hash(context.Background(), r)
				if !errors.Is(err, errBoom) || got != "" {
					t.Fatalf("hash = %q, %v; want an error wrapping %v", got, err, errBoom)
				}
				if n != int64(prefix) {
					t.Errorf("n = %d, want %d", n, prefix)
				}
			})
		}
	}
}

// endlessReader yields zeros forever, cancels its context after cancelAfter reads, and records
// any read made after the test marked FullHash as returned.
type endlessReader struct {
	reads       atomic.Int64
	cancelAfter int64
	cancel      context.CancelFunc
	returned    atomic.Bool
	lateRead    atomic.Bool
}

func (e *endlessReader) Read(p []byte) (int, error) {
	if e.returned.Load() {
		e.lateRead.Store(true)
	}
	if e.reads.Add(1) == e.cancelAfter {
		e.cancel()
	}
	clear(p)
	return len(p), nil
}

func TestFullHashCancel(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, n, err := FullHash(ctx, bytes.NewReader([]byte("data")))
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Fatalf("FullHash = %d, %v; want 0, context.Canceled", n, err)
		}
	})
	for _, ra := range []readAhead{defaultReadAhead, {size: 1 << 20, count: 1}} {
		t.Run("during/"+strconv.Itoa(ra.count), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			r := &endlessReader{cancelAfter: 5, cancel: cancel}
			got, n, err := ra.hash(ctx, r)
			r.returned.Store(true)
			if !errors.Is(err, context.Canceled) || got != "" {
				t.Fatalf("hash = %q, %v; want context.Canceled", got, err)
			}
			if n < 4<<20 || n > 5<<20 {
				t.Errorf("hashed %d bytes before stopping, want 4–5 MiB (5 reads of 1 MiB)", n)
			}
			time.Sleep(10 * time.Millisecond)
			if r.lateRead.Load() {
				t.Error("the reader was used after FullHash returned")
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		r := &endlessReader{cancel: func() {}}
		_, _, err := FullHash(ctx, r)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("endless reader: err = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestFullHashFileChanged changes a file between its open (and stat) and the end of its hash.
func TestFullHashFileChanged(t *testing.T) {
	const size = 3 << 20
	for _, tc := range []struct {
		name      string
		change    func(path string) error
		shrunk    bool
		unchanged bool
	}{
		{"unchanged", func(string) error { return nil }, false, true},
		{"truncated", func(p string) error { return os.Truncate(p, size/2) }, true, false},
		{"grown", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = f.Write([]byte("more"))
			return errors.Join(err, f.Close())
		}, false, false},
		{"rewritten-same-size", func(p string) error {
			if err := os.WriteFile(p, randomBytes(size, 99), 0o644); err != nil {
				return err
			}
			old := time.Now().Add(-time.Hour)
			return os.Chtimes(p, old, old) // an mtime surely unlike the one at open
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, randomBytes(size, 5))
			f, st, err := openRegular(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := tc.change(path); err != nil {
				t.Fatal(err)
			}
			sum, n, err := fullHashOpen(context.Background(), f, st)
			switch {
			case tc.unchanged:
				if err != nil || len(sum) != 64 || n != size {
					t.Fatalf("fullHashOpen = %q, %d, %v", sum, n, err)
				}
			case !errors.Is(err, ErrChanged) || sum != "":
				t.Fatalf("fullHashOpen = %q, %v; want ErrChanged", sum, err)
			case errors.Is(err, io.ErrUnexpectedEOF) != tc.shrunk:
				t.Fatalf("error %q: wraps io.ErrUnexpectedEOF = %v, want %v", err,
					errors.Is(err, io.ErrUnexpectedEOF), tc.shrunk)
			default:
				t.Logf("error: %v", err)
			}
		})
	}
}

func TestFullHashFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := FullHashFile(context.Background(), dir); err == nil {
		t.Error("directory: no error")
	}
	if _, _, err := FullHashFile(context.Background(), dir+"/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: err = %v, want os.ErrNotExist", err)
	}
}
