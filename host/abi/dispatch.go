package abi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
)

// Default rate limit of host calls per extension.
const (
	DefaultRate  = 5000 // calls per second
	DefaultBurst = 10000
)

// Caller is one extension as the dispatcher sees it: identity, effective capabilities, config,
// files, logger, rate limiter and counters. Create one per loaded extension and pass it to every
// Handle; it is safe for concurrent use.
type Caller struct {
	id      string
	caps    *capability.Set
	config  json.RawMessage
	files   *datafs.FS
	log     *slog.Logger
	limiter *TokenBucket
	q       Quotas

	calls, denied, limited atomic.Uint64

	audit     auditLog
	runDenied atomic.Int64 // denials counted towards Quotas.Denials (Unblock resets it)
	blocked   atomic.Bool  // over Quotas.Denials: every call is refused
	logBytes  atomic.Int64
	logNoted  atomic.Bool
	metaBytes atomic.Int64

	kvMu    sync.Mutex
	kvUsed  int64 // bytes in the store, known once kvKnown
	kvKnown bool
}

// CallerOptions configure NewCaller.
type CallerOptions struct {
	// Config is what config.get returns (a JSON object; {} when nil).
	Config json.RawMessage
	// Files is the caller's view of file bytes for content.read (nil: content.read is unavailable).
	Files *datafs.FS
	// Logger receives the extension's log calls (nil: discarded).
	Logger *slog.Logger
	// Rate and Burst set the token bucket of host calls (0: DefaultRate, DefaultBurst; Rate < 0:
	// unlimited).
	Rate  float64
	Burst int
	// Quotas bound what the extension can make the host write (zero fields: defaults).
	Quotas Quotas
}

// NewCaller makes the dispatcher's view of an extension.
func NewCaller(caps *capability.Set, o CallerOptions) *Caller {
	if o.Rate == 0 {
		o.Rate, o.Burst = DefaultRate, DefaultBurst
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Config) == 0 {
		o.Config = json.RawMessage("{}")
	}
	return &Caller{id: caps.Extension(), caps: caps, config: o.Config, files: o.Files, log: o.Logger,
		limiter: NewTokenBucket(o.Rate, o.Burst), q: o.Quotas.withDefaults()}
}

// ID is the extension id.
func (c *Caller) ID() string { return c.id }

// Capabilities returns the caller's effective capabilities.
func (c *Caller) Capabilities() *capability.Set { return c.caps }

// CallerStats are a caller's counters.
type CallerStats struct{ Calls, Denied, Limited uint64 }

// Stats returns the caller's counters.
func (c *Caller) Stats() CallerStats {
	return CallerStats{Calls: c.calls.Load(), Denied: c.denied.Load(), Limited: c.limited.Load()}
}

// handler is one host function: the capability it needs ("" for none) and its body.
type handler struct {
	capability string
	fn         func(d *Dispatcher, ctx context.Context, c *Caller, args json.RawMessage) (any, error)
}

// Dispatcher checks and serves host calls. It is safe for concurrent use.
type Dispatcher struct {
	b      Backends
	log    *slog.Logger
	denied atomic.Uint64
}

// NewDispatcher serves host calls with b. log receives the dispatcher's own errors (nil:
// discarded).
func NewDispatcher(b Backends, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{b: b, log: log}
}

// Denied is the number of capability denials served, all callers together.
func (d *Dispatcher) Denied() uint64 { return d.denied.Load() }

// Functions lists the host functions of this ABI version, sorted.
func Functions() []string {
	out := make([]string, 0, len(handlers))
	for k := range handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Handle serves one encoded Request and returns the encoded Response. It never fails: every
// problem becomes an error response.
func (d *Dispatcher) Handle(ctx context.Context, c *Caller, request []byte) []byte {
	if len(request) > MaxRequest {
		return encode(Response{Error: Errorf(CodeLimitExceeded, "request of %d bytes is over the %d-byte limit", len(request), MaxRequest)})
	}
	var req Request
	if err := json.Unmarshal(request, &req); err != nil {
		return encode(Response{Error: Errorf(CodeInvalidArgument, "request is not a {fn, args} JSON object: %v", err)})
	}
	ok, err := d.Call(ctx, c, req.Fn, req.Args)
	if err != nil {
		return encode(Response{Error: d.toError(c, req.Fn, err)})
	}
	return encode(Response{OK: ok})
}

// Call serves one host call and returns the JSON of its "ok" value, or an error that is (or
// wraps) an *Error. Denials are counted and audited here.
func (d *Dispatcher) Call(ctx context.Context, c *Caller, fn string, args json.RawMessage) (json.RawMessage, error) {
	c.calls.Add(1)
	if c.blocked.Load() {
		c.limited.Add(1)
		return nil, Errorf(CodeLimitExceeded, "%s: over its quota of %d denied host calls in a run: host calls are refused until it is re-enabled", c.id, c.q.Denials)
	}
	if !c.limiter.Allow() {
		c.limited.Add(1)
		return nil, Errorf(CodeLimitExceeded, "%s: more host calls than the %g per second allowed", c.id, c.limiter.rate)
	}
	h, ok := handlers[fn]
	if !ok {
		return nil, Errorf(CodeUnknownFunction, "%q is not a function of host ABI %s (known: %v)", fn, Version, Functions())
	}
	if h.capability != "" {
		if err := c.caps.Check(h.capability); err != nil {
			return nil, d.deny(ctx, c, fn, err, args)
		}
	}
	if len(bytes.TrimSpace(args)) == 0 || bytes.Equal(bytes.TrimSpace(args), []byte("null")) {
		args = json.RawMessage("{}")
	}
	res, err := h.fn(d, ctx, c, args)
	if err != nil {
		if errors.Is(err, capability.ErrDenied) {
			return nil, d.deny(ctx, c, fn, err, args)
		}
		return nil, err
	}
	if res == nil {
		return json.RawMessage("null"), nil
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encoding the result of %s: %w", fn, err)
	}
	return out, nil
}

// deny counts a denial, audits it (the first of its kind: see Quotas.AuditRows) and returns
// the capability_denied error. A denial past Quotas.Denials blocks the caller.
func (d *Dispatcher) deny(ctx context.Context, c *Caller, fn string, err error, args json.RawMessage) error {
	c.denied.Add(1)
	d.denied.Add(1)
	if u := usageFrom(ctx); u != nil {
		u.denied.Add(1)
	}
	if c.runDenied.Add(1) > int64(c.q.Denials) && !c.blocked.Swap(true) {
		c.log.Error("extension over its quota of denied host calls: host calls refused for the rest of the run", "denials", c.q.Denials)
	}
	reason := err.Error()
	if len(reason) > 4*maxAuditField {
		reason = reason[:4*maxAuditField] + "…(truncated)"
	}
	write, capNote := c.audit.admit(fn, reason, c.q.AuditRows)
	if write {
		c.log.Warn("host call denied", "fn", fn, "err", err)
	}
	if write && d.b.Audit != nil {
		fields := map[string]any{"fn": fn, "denial": reason, "scope": scopeOf(args)}
		if capNote {
			fields["note"] = fmt.Sprintf("the %dth distinct denial of this run: the next ones are counted, not written one by one", c.q.AuditRows)
		}
		detail, _ := json.Marshal(fields)
		rec := AuditRecord{Actor: c.id, Action: "hostcall " + fn, Outcome: "denied", Detail: string(detail)}
		// The audit row must not depend on the guest's remaining time.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		defer cancel()
		if aerr := d.b.Audit.Audit(actx, rec); aerr != nil {
			d.log.Error("writing the audit record of a denial", "extension", c.id, "fn", fn, "err", aerr)
		}
	}
	return &Error{Code: CodeCapabilityDenied, Message: err.Error()}
}

// scopeOf keeps the arguments that say what a call reached for (not its payload bytes).
func scopeOf(args json.RawMessage) map[string]any {
	var m map[string]any
	if json.Unmarshal(args, &m) != nil {
		return nil
	}
	out := map[string]any{}
	for _, k := range []string{"location", "glob", "kind", "content_uuid", "entry_id", "target", "key", "type", "variant", "tag", "url"} {
		if v, ok := m[k]; ok {
			if b, _ := json.Marshal(v); len(b) > maxAuditField { // the guest chose it: keep the row small
				v = string(b[:maxAuditField]) + "…(truncated)"
			}
			out[k] = v
		}
	}
	return out
}

// maxAuditField bounds each argument an audit row repeats.
const maxAuditField = 256

// toError turns any failure into the wire error. Unexpected errors are logged in full and
// reported without host details.
func (d *Dispatcher) toError(c *Caller, fn string, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrNotFound):
		return &Error{Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Code: CodeUnavailable, Message: fn + ": the call's deadline passed"}
	}
	d.log.Error("host call failed", "extension", c.id, "fn", fn, "err", err)
	return &Error{Code: CodeInternal, Message: fn + ": internal error (details are in the host's log)"}
}

func encode(r Response) []byte {
	b, err := json.Marshal(r)
	if err != nil { // an ok value that is not JSON: cannot happen with Call's output
		b, _ = json.Marshal(Response{Error: &Error{Code: CodeInternal, Message: "encoding the response"}})
	}
	return b
}
