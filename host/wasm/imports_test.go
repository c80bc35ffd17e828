package wasm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/host/wasm"
)

// TestMissingImports loads the SDK's countvowels example, which imports the user host function
// extism:host/user cairn_test_transform: without stubs the load fails naming it; with
// StubMissing the exports that do not call it run, and the one that does fails naming it.
func TestMissingImports(t *testing.T) {
	code := hosttest.GuestPkg(t, "sdk/examples/countvowels")
	rt := runtime(t)
	_, err := rt.Load(context.Background(), wasm.ModuleSpec{Name: "countvowels", Wasm: code})
	var mi *wasm.MissingImportsError
	if !errors.As(err, &mi) || !errors.Is(err, wasm.ErrMissingImports) {
		t.Fatalf("load without the host function: %v", err)
	}
	if !slices.Equal(mi.Missing, []string{"extism:host/user.cairn_test_transform"}) || !strings.Contains(err.Error(), "extism:host/user.cairn_test_transform") {
		t.Fatalf("missing = %q (%v)", mi.Missing, err)
	}

	m := load(t, rt, wasm.ModuleSpec{Name: "countvowels", Wasm: code, StubMissing: true})
	out, err := run(t, m, "count_vowels", "Hello, World!")
	if err != nil || string(out) != `{"count":3,"total":3,"vowels":"aeiouAEIOU"}` {
		t.Fatalf("count_vowels with stubs: %s, %v", out, err)
	}
	_, err = run(t, m, "echo_host", "abc")
	if !errors.Is(err, ext.ErrTrap) || !strings.Contains(err.Error(), "extism:host/user.cairn_test_transform") ||
		!strings.Contains(err.Error(), "not provided") {
		t.Fatalf("echo_host through a stub: %v", err)
	}
	if out, err := run(t, m, "count_vowels", "aaa"); err != nil || !strings.Contains(string(out), `"count":3`) { // a fresh instance
		t.Fatalf("count_vowels after the stub failed: %s, %v", out, err)
	}
}
