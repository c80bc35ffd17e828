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
// memories, keeps their total size, and refuses to grow one past limit bytes.
//
// Where the platform allows (Linux), a memory is one anonymous mapping of limit bytes reserved
// up front (MAP_NORESERVE: pages cost nothing until the guest touches them), outside the Go
// heap: growing never copies, and a guest's memory does not count towards the Go heap, whose
// collector would otherwise let the process grow to twice the live guest memory before
// collecting (with a copy of the old buffer alive during each growth, a 256 MiB guest took the
// host's RSS past 1 GiB). Elsewhere a memory is a Go slice.
type memTracker struct {
	limit   uint64
	total   atomic.Int64
	refused atomic.Bool
	// pool counts the memories of every instance of the module, up to poolLimit.
	pool        *atomic.Int64
	poolLimit   int64
	refusedPool atomic.Bool

	mu   sync.Mutex
	mems []*linearMemory
}

// Allocate implements experimental.MemoryAllocator.
func (t *memTracker) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	m := &linearMemory{t: t, max: maxBytes}
	t.mu.Lock()
	t.mems = append(t.mems, m)
	t.mu.Unlock()
	return m
}

// release unmaps every memory of the instance. Call it only once the instance is closed and
// runs no call: wazero may free a memory (Free) while a call it is closing still runs, so Free
// only gives the pages back, and the address range stays mapped until here.
func (t *memTracker) release() {
	t.mu.Lock()
	mems := t.mems
	t.mems = nil
	t.mu.Unlock()
	for _, m := range mems {
		m.unmap()
	}
}

type linearMemory struct {
	t       *memTracker
	max     uint64
	buf     []byte
	mapped  []byte // the reservation, nil for a Go slice
	tried   bool   // a reservation was attempted
	started bool
	freed   bool
}

// Reallocate implements experimental.LinearMemory. The first call sizes the memory at
// instantiation and is never refused (wazero cannot handle a refusal there; the runtime's own
// limit already bounds it).
func (m *linearMemory) Reallocate(size uint64) []byte {
	if m.started && size > m.t.limit {
		m.t.refused.Store(true)
		return nil
	}
	old := len(m.buf)
	if grow := int64(size) - int64(old); m.t.pool != nil && grow > 0 {
		if n := m.t.pool.Add(grow); m.started && n > m.t.poolLimit {
			m.t.pool.Add(-grow)
			m.t.refused.Store(true)
			m.t.refusedPool.Store(true)
			return nil
		}
	}
	m.started = true
	if !m.tried {
		m.tried = true
		m.mapped = reserve(min(max(m.t.limit, size), max(m.max, size)))
	}
	switch {
	case m.mapped != nil && size <= uint64(len(m.mapped)):
		m.buf = m.mapped[:size:size]
	case m.mapped != nil: // past the reservation (only the first call can be): copy to the heap
		b := make([]byte, size)
		copy(b, m.buf)
		m.buf = b
	case size > uint64(cap(m.buf)):
		m.buf = slices.Grow(m.buf, int(size)-old) // new capacity is zeroed
		m.buf = m.buf[:size]
	default:
		m.buf = m.buf[:size]
	}
	m.t.total.Add(int64(size) - int64(old))
	return m.buf
}

// Free implements experimental.LinearMemory: the pages go back to the system now; the mapping
// itself goes at memTracker.release.
func (m *linearMemory) Free() {
	m.t.total.Add(-int64(len(m.buf)))
	if m.t.pool != nil {
		m.t.pool.Add(-int64(len(m.buf)))
	}
	if m.mapped != nil && !m.freed {
		discard(m.mapped)
	}
	m.freed = true
	m.buf = nil
}

func (m *linearMemory) unmap() {
	if !m.freed { // closed without wazero freeing it: the counts still go down
		m.Free()
	}
	if m.mapped != nil {
		unreserve(m.mapped)
		m.mapped = nil
	}
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

// MaxLogBytesPerCall bounds the bytes of those lines per call.
const MaxLogBytesPerCall = 64 << 10

const maxLogLine = 4 << 10

// output captures an instance's stdout and stderr into its logger, one record per line, and
// remembers the first line of a call's stderr that explains a crash ("fatal error: out of
// memory", "panic: …"), for classifying the failure.
type output struct {
	log     *slog.Logger
	mu      sync.Mutex
	lines   int
	bytes   int
	dropped int
	reason  string
	// run counts the bytes every instance of the module logged, up to runLimit; past it lines
	// are dropped (noted once).
	run      *atomic.Int64
	runLimit int64
	runNoted *atomic.Bool
}

func (o *output) stream(name string, stderr bool) *stream {
	return &stream{o: o, name: name, stderr: stderr}
}

// reset starts a call: the line budget is renewed and the reason cleared.
func (o *output) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped > 0 {
		o.log.Warn("guest output dropped", "lines", o.dropped, "limit_lines", MaxLogLinesPerCall, "limit_bytes", MaxLogBytesPerCall)
	}
	o.lines, o.bytes, o.dropped, o.reason = 0, 0, 0, ""
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
	o.logLocked(slog.LevelInfo, string(line), s.name)
}

// extism logs a message of Extism's log_* functions, under the same limits as stdout and
// stderr.
func (o *output) extism(level slog.Level, msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(msg) > maxLogLine {
		msg = msg[:maxLogLine]
	}
	o.logLocked(level, msg, "extism")
}

// logLocked logs one line within the call's and the run's limits (o.mu held).
func (o *output) logLocked(level slog.Level, line, stream string) {
	if o.lines >= MaxLogLinesPerCall || o.bytes+len(line) > MaxLogBytesPerCall {
		o.dropped++
		return
	}
	if o.run != nil && o.run.Add(int64(len(line))) > o.runLimit {
		if o.runNoted.CompareAndSwap(false, true) {
			o.log.Warn("guest output dropped from now on: the module logged over its quota for the run", "limit_bytes", o.runLimit)
		}
		o.dropped++
		return
	}
	o.lines++
	o.bytes += len(line)
	o.log.Log(context.Background(), level, line, "stream", stream)
}
