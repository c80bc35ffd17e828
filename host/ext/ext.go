package ext

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors a call fails with. The first five are faults: they count towards disabling.
var (
	// ErrDeadline: the call ran past its deadline and was stopped (its instance is discarded).
	ErrDeadline = errors.New("deadline exceeded")
	// ErrMemoryLimit: the extension hit its memory limit (its instance is discarded).
	ErrMemoryLimit = errors.New("memory limit exceeded")
	// ErrOutputTooLarge: the export's output is over the cap and was refused.
	ErrOutputTooLarge = errors.New("output too large")
	// ErrTrap: the module trapped or panicked (its instance is discarded).
	ErrTrap = errors.New("trapped")
	// ErrQuota: the call went over one of the extension's quotas (denied host calls, outcome
	// data; see host/abi.Quotas and host/modules).
	ErrQuota = errors.New("quota exceeded")

	// ErrDisabled: the extension faulted too often and is disabled until Enable.
	ErrDisabled = errors.New("extension is disabled")
	// ErrGuest: the export returned an error of its own (not a fault).
	ErrGuest = errors.New("extension reported an error")
	// ErrNoExport: the module has no such export (not a fault).
	ErrNoExport = errors.New("no such export")
	// ErrClosed: the extension was closed.
	ErrClosed = errors.New("extension is closed")
)

// IsFault reports whether err is one of the faults that count towards disabling.
func IsFault(err error) bool {
	return errors.Is(err, ErrDeadline) || errors.Is(err, ErrMemoryLimit) || errors.Is(err, ErrOutputTooLarge) || errors.Is(err, ErrTrap) ||
		errors.Is(err, ErrQuota)
}

// Meter measures calls from the inside (what they made the host do): host/abi.Caller.
type Meter interface {
	// BeginCall returns the call's context, carrying its measurement, and end, which says
	// whether the call broke a quota (err, a fault) and whether that disables the extension.
	BeginCall(ctx context.Context) (context.Context, func() (disable bool, err error))
}

// Runner runs the exports of one loaded module. It is safe for concurrent use, bounds its own
// concurrency, honours ctx (a call whose ctx is done returns promptly), and replaces an instance
// that trapped, timed out or ran out of memory. Its errors wrap ErrDeadline, ErrMemoryLimit,
// ErrTrap, ErrGuest or ErrNoExport so that Extension can classify them.
type Runner interface {
	Run(ctx context.Context, export string, input []byte) ([]byte, error)
	HasExport(name string) bool
	Close(ctx context.Context) error
}

// Idler is implemented by runners that can drop their idle instances (called when the extension
// is disabled, to give the memory back).
type Idler interface {
	DropIdle(ctx context.Context)
}

// Limits of every call of an extension. Zero fields take the defaults.
type Limits struct {
	// Timeout is the deadline of a call whose context has none, or a later one (default 30 s).
	Timeout time.Duration
	// MaxOutput is the largest output accepted, in bytes (default 16 MiB).
	MaxOutput int
	// MaxConsecutiveFaults disables the extension after that many faults in a row (default 5).
	MaxConsecutiveFaults int
}

// Defaults.
const (
	DefaultTimeout              = 30 * time.Second
	DefaultMaxOutput            = 16 << 20
	DefaultMaxConsecutiveFaults = 5
)

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultMaxOutput
	}
	if l.MaxConsecutiveFaults <= 0 {
		l.MaxConsecutiveFaults = DefaultMaxConsecutiveFaults
	}
	return l
}

// Fault is one recorded fault.
type Fault struct {
	At     time.Time
	Export string
	Err    error // wraps one of the fault sentinels
}

func (f Fault) String() string {
	return f.At.Format("15:04:05.000") + " " + f.Export + ": " + f.Err.Error()
}

// Stats are an extension's counters since it was loaded.
type Stats struct {
	Calls, OK, GuestErrors                  uint64
	Deadlines, MemoryLimits, Outputs, Traps uint64
	Quotas                                  uint64 // calls over a quota
	Rejected                                uint64 // calls refused while disabled
	Disabled                                bool
}

// historyLen is how many faults are kept for ErrDisabled's message and Faults.
const historyLen = 8

// Extension is a loaded extension. It is safe for concurrent use.
type Extension struct {
	id     string
	runner Runner
	limits Limits
	log    *slog.Logger
	meter  Meter

	mu          sync.Mutex
	consecutive int
	history     []Fault
	disabled    bool
	closed      bool

	calls, ok, guest, rejected                atomic.Uint64
	deadlines, memory, outputs, traps, quotas atomic.Uint64
}

// New wraps a runner. log may be nil.
func New(id string, r Runner, limits Limits, log *slog.Logger) *Extension {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Extension{id: id, runner: r, limits: limits.withDefaults(), log: log}
}

// SetMeter measures every later call with m (nil: none). Set it before the first call.
func (x *Extension) SetMeter(m Meter) { x.meter = m }

// ID is the extension's id.
func (x *Extension) ID() string { return x.id }

// Limits returns the call limits in force.
func (x *Extension) Limits() Limits { return x.limits }

// Runner returns the runner (for runtime-specific statistics).
func (x *Extension) Runner() Runner { return x.runner }

// HasExport reports whether the module exports name.
func (x *Extension) HasExport(name string) bool { return x.runner.HasExport(name) }

// Call runs export with input under the extension's limits. Errors name the extension and export
// and wrap the sentinels of this package; a caller's own cancellation is returned as is (wrapped)
// and is not a fault.
func (x *Extension) Call(ctx context.Context, export string, input []byte) ([]byte, error) {
	x.calls.Add(1)
	if err := x.gate(export); err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > x.limits.Timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, x.limits.Timeout)
		defer cancel()
	}
	var end func() (bool, error)
	if x.meter != nil {
		ctx, end = x.meter.BeginCall(ctx)
	}
	out, err := x.runner.Run(ctx, export, input)
	if end != nil {
		if disable, qerr := end(); qerr != nil {
			if !IsFault(err) {
				out, err = nil, fmt.Errorf("%w: %v", ErrQuota, qerr)
			}
			if disable {
				x.Disable(export, fmt.Errorf("%w: %v", ErrQuota, qerr))
			}
		}
	}
	if err == nil && len(out) > x.limits.MaxOutput {
		out, err = nil, fmt.Errorf("%w: %d bytes, limit %d", ErrOutputTooLarge, len(out), x.limits.MaxOutput)
	}
	switch {
	case err == nil:
		x.ok.Add(1)
		x.settle(nil, export)
		return out, nil
	case errors.Is(err, ErrDeadline) && errors.Is(context.Cause(ctx), context.Canceled):
		// The caller gave up; the instance is gone but the extension did nothing wrong.
		return nil, fmt.Errorf("calling %s %s: %w", x.id, export, context.Canceled)
	case IsFault(err):
		x.count(err)
		x.settle(err, export)
	case errors.Is(err, ErrGuest):
		x.guest.Add(1)
		x.settle(nil, export)
	}
	return nil, fmt.Errorf("calling %s %s: %w", x.id, export, err)
}

func (x *Extension) count(err error) {
	switch {
	case errors.Is(err, ErrDeadline):
		x.deadlines.Add(1)
	case errors.Is(err, ErrMemoryLimit):
		x.memory.Add(1)
	case errors.Is(err, ErrOutputTooLarge):
		x.outputs.Add(1)
	case errors.Is(err, ErrQuota):
		x.quotas.Add(1)
	default:
		x.traps.Add(1)
	}
}

// gate refuses calls while disabled or closed.
func (x *Extension) gate(export string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.closed:
		return fmt.Errorf("calling %s %s: %w", x.id, export, ErrClosed)
	case x.disabled:
		x.rejected.Add(1)
		return fmt.Errorf("calling %s %s: %w after %d consecutive faults (%s); re-enable it to retry",
			x.id, export, ErrDisabled, x.consecutive, x.historyLocked())
	}
	return nil
}

// settle records the outcome of a call: a fault extends the run of faults (and may disable), any
// other outcome ends it.
func (x *Extension) settle(fault error, export string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if fault == nil {
		x.consecutive = 0
		return
	}
	x.consecutive++
	x.history = append(x.history, Fault{At: time.Now(), Export: export, Err: fault})
	if len(x.history) > historyLen {
		x.history = x.history[len(x.history)-historyLen:]
	}
	x.log.Warn("extension fault", "extension", x.id, "export", export, "err", fault, "consecutive", x.consecutive)
	if x.consecutive >= x.limits.MaxConsecutiveFaults && !x.disabled {
		x.disabled = true
		x.log.Error("extension disabled", "extension", x.id, "faults", x.consecutive, "history", x.historyLocked())
		if d, ok := x.runner.(Idler); ok {
			go d.DropIdle(context.Background())
		}
	}
}

func (x *Extension) historyLocked() string {
	n := min(len(x.history), x.consecutive)
	parts := make([]string, 0, n)
	for _, f := range x.history[len(x.history)-n:] {
		parts = append(parts, f.String())
	}
	return strings.Join(parts, "; ")
}

// Fault records a fault found after a call returned (e.g. its outcomes over a quota): it counts
// like the faults Call finds, towards disabling.
func (x *Extension) Fault(export string, err error) {
	x.count(err)
	x.settle(err, export)
}

// Disable disables the extension now (until Enable), for the reason given.
func (x *Extension) Disable(export string, reason error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.disabled {
		return
	}
	x.disabled = true
	x.consecutive = max(x.consecutive, 1)
	x.history = append(x.history, Fault{At: time.Now(), Export: export, Err: reason})
	if len(x.history) > historyLen {
		x.history = x.history[len(x.history)-historyLen:]
	}
	x.log.Error("extension disabled", "extension", x.id, "reason", reason)
	if d, ok := x.runner.(Idler); ok {
		go d.DropIdle(context.Background())
	}
}

// Disabled reports whether the extension is disabled.
func (x *Extension) Disabled() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.disabled
}

// Enable re-enables a disabled extension and clears its run of faults.
func (x *Extension) Enable() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.disabled = false
	x.consecutive = 0
}

// Faults returns the most recent faults, oldest first.
func (x *Extension) Faults() []Fault {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Fault(nil), x.history...)
}

// Stats returns the extension's counters.
func (x *Extension) Stats() Stats {
	return Stats{
		Calls: x.calls.Load(), OK: x.ok.Load(), GuestErrors: x.guest.Load(), Rejected: x.rejected.Load(),
		Deadlines: x.deadlines.Load(), MemoryLimits: x.memory.Load(), Outputs: x.outputs.Load(), Traps: x.traps.Load(),
		Quotas:   x.quotas.Load(),
		Disabled: x.Disabled(),
	}
}

// Close refuses further calls and closes the runner.
func (x *Extension) Close(ctx context.Context) error {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	if err := x.runner.Close(ctx); err != nil {
		return fmt.Errorf("closing extension %s: %w", x.id, err)
	}
	return nil
}
