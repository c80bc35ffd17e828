package wasm

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
)

// memTracker is the MemoryAllocator of one instance: it backs each of the instance's linear
// memories with a Go slice, keeps their total size, and refuses to grow one past limit bytes.
type memTracker struct {
	limit   uint64
	total   atomic.Int64
	refused atomic.Bool
}

// Allocate implements experimental.MemoryAllocator.
func (t *memTracker) Allocate(capacity, _ uint64) experimental.LinearMemory {
	return &linearMemory{t: t, buf: make([]byte, 0, capacity)}
}

type linearMemory struct {
	t       *memTracker
	buf     []byte
	started bool
}

// Reallocate implements experimental.LinearMemory. The first call sizes the memory at
// instantiation and is never refused (wazero cannot handle a refusal there; the runtime's own
// limit already bounds it).
func (m *linearMemory) Reallocate(size uint64) []byte {
	if m.started && size > m.t.limit {
		m.t.refused.Store(true)
		return nil
	}
	m.started = true
	old := len(m.buf)
	if size > uint64(cap(m.buf)) {
		m.buf = slices.Grow(m.buf, int(size)-old) // new capacity is zeroed
	}
	m.buf = m.buf[:size]
	m.t.total.Add(int64(size) - int64(old))
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	m.t.total.Add(-int64(len(m.buf)))
	m.buf = nil
}

// sleeper is an instance's nanosleep: a real sleep that ends early when the current call's
// context is done.
type sleeper struct {
	done atomic.Pointer[<-chan struct{}]
}

func (s *sleeper) setCall(ctx context.Context) {
	d := ctx.Done()
	s.done.Store(&d)
}

func (s *sleeper) sleep(ns int64) {
	if ns <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	var done <-chan struct{}
	if p := s.done.Load(); p != nil {
		done = *p
	}
	select {
	case <-t.C:
	case <-done:
	}
}

// MaxLogLinesPerCall bounds what one call may log through stdout and stderr together; further
// lines are dropped and counted.
const MaxLogLinesPerCall = 1000

const maxLogLine = 4 << 10

// output captures an instance's stdout and stderr into its logger, one record per line, and
// remembers the first line of a call's stderr that explains a crash ("fatal error: out of
// memory", "panic: …"), for classifying the failure.
type output struct {
	log     *slog.Logger
	mu      sync.Mutex
	lines   int
	dropped int
	reason  string
}

func (o *output) stream(name string, stderr bool) *stream {
	return &stream{o: o, name: name, stderr: stderr}
}

// reset starts a call: the line budget is renewed and the reason cleared.
func (o *output) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped > 0 {
		o.log.Warn("guest output dropped", "lines", o.dropped, "limit", MaxLogLinesPerCall)
	}
	o.lines, o.dropped, o.reason = 0, 0, ""
}

// crashReason returns the first crash explanation the guest printed during the call, or "".
func (o *output) crashReason() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reason
}

type stream struct {
	o      *output
	name   string
	stderr bool
	buf    []byte
}

// Write implements io.Writer (wazero calls it from the goroutine running the instance).
func (s *stream) Write(p []byte) (int, error) {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	data := append(s.buf, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		s.emit(data[:i])
		data = data[i+1:]
	}
	if len(data) > maxLogLine { // a line that never ends is cut
		s.emit(data[:maxLogLine])
		data = nil
	}
	s.buf = append(s.buf[:0], data...)
	return len(p), nil
}

func (s *stream) emit(line []byte) {
	o := s.o
	if len(line) > maxLogLine {
		line = line[:maxLogLine]
	}
	if s.stderr && o.reason == "" && (bytes.HasPrefix(line, []byte("fatal error: ")) || bytes.HasPrefix(line, []byte("panic: "))) {
		o.reason = string(line)
	}
	if o.lines >= MaxLogLinesPerCall {
		o.dropped++
		return
	}
	o.lines++
	o.log.Info(string(line), "stream", s.name)
}
