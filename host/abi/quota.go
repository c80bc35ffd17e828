package abi

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// Quotas bound what one extension can make the host write — audit rows, log lines, stored
// bytes — during a run (from load to unload), whatever its capabilities: a guest granted nothing
// could otherwise fill the disk with denied calls and log calls. Zero fields take the defaults;
// a negative field is no limit.
type Quotas struct {
	// AuditRows is how many denial rows the audit log gets from the extension in a run. The
	// first denial of each function and reason is written; its repeats are only counted, and
	// one row per reason with the count is written at unload (FlushAudit). Past AuditRows
	// distinct reasons, one more row says so and the rest are counted together.
	AuditRows int
	// DenialsPerCall is how many denied host calls one export call may make: past it the call
	// fails as a fault (ext.ErrQuota), so a guest that keeps calling what it was denied is
	// disabled like any faulting one.
	DenialsPerCall int
	// Denials is how many denied host calls the extension may make in a run: past it every
	// host call is refused (limit_exceeded, not audited) and the extension is disabled for the
	// rest of the run.
	Denials int
	// LogBytesPerCall and LogBytes bound what log writes (message and attributes) per export
	// call and per run. The call that crosses one is logged truncated with a note; later ones
	// are dropped and answered limit_exceeded.
	LogBytesPerCall int64
	LogBytes        int64
	// KVBytes bounds the extension's key-value store (keys and values together, as stored);
	// a kv.set that would pass it is limit_exceeded.
	KVBytes int64
	// MetadataBytes bounds the bytes metadata.set writes in a run (keys and values).
	MetadataBytes int64
}

// Defaults of Quotas.
const (
	DefaultAuditRows       = 64
	DefaultDenialsPerCall  = 32
	DefaultDenials         = 1000
	DefaultLogBytesPerCall = 64 << 10
	DefaultLogBytes        = 8 << 20
	DefaultKVBytes         = 64 << 20
	DefaultMetadataBytes   = 64 << 20
)

func (q Quotas) withDefaults() Quotas {
	def := func(v *int64, d int64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 1<<63 - 1
		}
	}
	defInt := func(v *int, d int) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = int(^uint(0) >> 1)
		}
	}
	defInt(&q.AuditRows, DefaultAuditRows)
	defInt(&q.DenialsPerCall, DefaultDenialsPerCall)
	defInt(&q.Denials, DefaultDenials)
	def(&q.LogBytesPerCall, DefaultLogBytesPerCall)
	def(&q.LogBytes, DefaultLogBytes)
	def(&q.KVBytes, DefaultKVBytes)
	def(&q.MetadataBytes, DefaultMetadataBytes)
	return q
}

// usage is what one export call did through host calls; BeginCall attaches it to the call's
// context.
type usage struct {
	denied   atomic.Int64
	logBytes atomic.Int64
	logNoted atomic.Bool
}

type usageKey struct{}

func usageFrom(ctx context.Context) *usage {
	u, _ := ctx.Value(usageKey{}).(*usage)
	return u
}

// BeginCall starts measuring one export call of the extension (ext.Meter): ctx carries the
// call's usage to the host calls it makes, and end says whether the call broke a quota (err)
// and whether the extension must be disabled for the rest of the run.
func (c *Caller) BeginCall(ctx context.Context) (context.Context, func() (disable bool, err error)) {
	u := &usage{}
	return context.WithValue(ctx, usageKey{}, u), func() (bool, error) {
		if c.blocked.Load() {
			return true, fmt.Errorf("%s made %d denied host calls, over the %d allowed in a run: host calls are refused until it is re-enabled",
				c.id, c.denied.Load(), c.q.Denials)
		}
		if n := u.denied.Load(); n > int64(c.q.DenialsPerCall) {
			return false, fmt.Errorf("%d denied host calls in one call, over the %d allowed", n, c.q.DenialsPerCall)
		}
		return false, nil
	}
}

// Unblock lets an extension that went over its run's denial quota make host calls again (with
// its Enable); the count starts over.
func (c *Caller) Unblock() {
	c.blocked.Store(false)
	c.runDenied.Store(0)
}

// auditLog collapses an extension's denial rows (Quotas.AuditRows).
type auditLog struct {
	mu      sync.Mutex
	seen    map[string]*auditKey // fn + "\x00" + denial → repeats not yet written
	order   []string
	full    bool  // the AuditRows-th distinct denial was written: further ones are "other"
	overCap int64 // denials counted under "other"
}

type auditKey struct {
	fn, denial string
	repeats    int64
}

// admit says whether a denial gets its own audit row now: the first of its kind does (while
// distinct kinds stay within max); repeats and kinds past max are counted. capNote is true
// once, for the denial that fills the quota, whose row says so.
func (a *auditLog) admit(fn, denial string, max int) (write, capNote bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]*auditKey{}
	}
	k := fn + "\x00" + denial
	if e, ok := a.seen[k]; ok {
		e.repeats++
		return false, false
	}
	if a.full {
		a.overCap++
		return false, false
	}
	a.seen[k] = &auditKey{fn: fn, denial: denial}
	a.order = append(a.order, k)
	if len(a.seen) >= max {
		a.full = true
		return true, true
	}
	return true, false
}

// drain returns the counts not yet written and resets them.
func (a *auditLog) drain() (keys []auditKey, overCap int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.order {
		if e := a.seen[k]; e.repeats > 0 {
			keys = append(keys, *e)
			e.repeats = 0
		}
	}
	overCap, a.overCap = a.overCap, 0
	return keys, overCap
}

// FlushAudit writes one audit row per denial reason that repeated since its row (outcome
// "denied", detail {fn, denial, repeats}), and one for the denials past the quota of distinct
// rows. The host calls it when it unloads the extension.
func (d *Dispatcher) FlushAudit(ctx context.Context, c *Caller) error {
	if d.b.Audit == nil {
		return nil
	}
	keys, over := c.audit.drain()
	for _, k := range keys {
		detail, _ := json.Marshal(map[string]any{"fn": k.fn, "denial": k.denial, "repeats": k.repeats})
		if err := d.b.Audit.Audit(ctx, AuditRecord{Actor: c.id, Action: "hostcall " + k.fn, Outcome: "denied", Detail: string(detail)}); err != nil {
			return fmt.Errorf("writing the audit record of %s's repeated denials: %w", c.id, err)
		}
	}
	if over > 0 {
		detail, _ := json.Marshal(map[string]any{"denials": over, "note": fmt.Sprintf("denials of reasons past the first %d, not written one by one", c.q.AuditRows)})
		if err := d.b.Audit.Audit(ctx, AuditRecord{Actor: c.id, Action: "hostcall *", Outcome: "denied", Detail: string(detail)}); err != nil {
			return fmt.Errorf("writing the audit record of %s's denials: %w", c.id, err)
		}
	}
	return nil
}

// logBudget takes n bytes of the call's and the run's log quotas and returns how many may be
// written (n, fewer: truncate, or 0: drop) and whether this is the first refusal of the call
// or run (which writes a note).
func (c *Caller) logBudget(ctx context.Context, n int64) (allowed int64, note bool) {
	allowed = n
	if u := usageFrom(ctx); u != nil {
		used := u.logBytes.Add(n) - n
		allowed = min(allowed, max(0, c.q.LogBytesPerCall-used))
		if allowed < n && u.logNoted.CompareAndSwap(false, true) {
			note = true
		}
	}
	used := c.logBytes.Add(n) - n
	if run := max(0, c.q.LogBytes-used); run < allowed {
		allowed = run
		if c.logNoted.CompareAndSwap(false, true) {
			note = true
		}
	}
	return allowed, note
}
