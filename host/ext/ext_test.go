package ext

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeRunner answers each export with a canned result.
type fakeRunner struct {
	results map[string]func(ctx context.Context) ([]byte, error)
	dropped chan struct{}
}

func (f *fakeRunner) Run(ctx context.Context, export string, input []byte) ([]byte, error) {
	r, ok := f.results[export]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoExport, export)
	}
	return r(ctx)
}
func (f *fakeRunner) HasExport(name string) bool   { _, ok := f.results[name]; return ok }
func (f *fakeRunner) Close(context.Context) error  { return nil }
func (f *fakeRunner) DropIdle(ctx context.Context) { close(f.dropped) }

func newFake() *fakeRunner {
	return &fakeRunner{dropped: make(chan struct{}), results: map[string]func(context.Context) ([]byte, error){
		"ok":    func(context.Context) ([]byte, error) { return []byte("fine"), nil },
		"big":   func(context.Context) ([]byte, error) { return make([]byte, 100), nil },
		"trap":  func(context.Context) ([]byte, error) { return nil, fmt.Errorf("%w: wasm error: unreachable", ErrTrap) },
		"guest": func(context.Context) ([]byte, error) { return nil, fmt.Errorf("%w: no thanks", ErrGuest) },
		"wait": func(ctx context.Context) ([]byte, error) {
			<-ctx.Done()
			return nil, fmt.Errorf("%w: %v", ErrDeadline, ctx.Err())
		},
	}}
}

func TestFaultsDisable(t *testing.T) {
	r := newFake()
	x := New("dev.test.x", r, Limits{MaxOutput: 10, MaxConsecutiveFaults: 3, Timeout: 20 * time.Millisecond}, nil)
	ctx := context.Background()

	if out, err := x.Call(ctx, "ok", nil); err != nil || string(out) != "fine" {
		t.Fatalf("ok = %q, %v", out, err)
	}
	if _, err := x.Call(ctx, "big", nil); !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("big: %v", err)
	}
	if _, err := x.Call(ctx, "trap", nil); !errors.Is(err, ErrTrap) {
		t.Fatalf("trap: %v", err)
	}
	// A guest error is not a fault and ends the run.
	if _, err := x.Call(ctx, "guest", nil); !errors.Is(err, ErrGuest) || x.Disabled() {
		t.Fatalf("guest: %v (disabled %v)", err, x.Disabled())
	}
	for _, e := range []string{"trap", "wait", "big"} {
		if _, err := x.Call(ctx, e, nil); !IsFault(err) {
			t.Fatalf("%s: %v", e, err)
		}
	}
	if !x.Disabled() {
		t.Fatal("not disabled after 3 consecutive faults")
	}
	<-r.dropped
	_, err := x.Call(ctx, "ok", nil)
	if !errors.Is(err, ErrDisabled) || !strings.Contains(err.Error(), "trap: trapped") || !strings.Contains(err.Error(), "wait: deadline exceeded") {
		t.Fatalf("call while disabled: %v", err)
	}
	t.Log(err)
	if s := x.Stats(); s.Traps != 2 || s.Deadlines != 1 || s.Outputs != 2 || s.GuestErrors != 1 || s.Rejected != 1 || !s.Disabled {
		t.Errorf("stats = %+v", s)
	}
	x.Enable()
	if _, err := x.Call(ctx, "ok", nil); err != nil {
		t.Fatalf("after Enable: %v", err)
	}
}

func TestCallerCancelIsNotAFault(t *testing.T) {
	x := New("dev.test.x", newFake(), Limits{MaxConsecutiveFaults: 1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := x.Call(ctx, "wait", nil); !errors.Is(err, context.Canceled) || IsFault(err) {
		t.Fatalf("cancelled call: %v", err)
	}
	if x.Disabled() {
		t.Fatal("a caller's cancellation disabled the extension")
	}
}
