package resolve

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// hostileIndex is a registry index shaped to make a backtracking resolver explode: three ids
// with hundreds of versions each, every version of a depending on b and every version of b on
// c, and one conflict (every c is too old for what the b releases need) that can only be found
// by trying every pair. The original of this index (420 KB) made `ext install` burn more than
// 24 minutes of CPU.
func hostileIndex(t testing.TB, na, nb, nc int) *registry.Index {
	t.Helper()
	idx := &registry.Index{Format: 1, Extensions: map[string]*registry.Extension{}}
	add := func(id string, n int, deps func(i int) []manifest.Dependency) {
		e := &registry.Extension{}
		for i := n; i >= 1; i-- {
			e.Versions = append(e.Versions, registry.Release{
				Version: fmt.Sprintf("1.%d.0", i), Name: id, ABI: ">=1.0, <2.0", Kind: "wasm",
				URL: fmt.Sprintf("%s-%d.cairnpkg", id, i), BLAKE3: strings.Repeat("0", 64), Size: 1,
				KeyID: "0123456789abcdef", Dependencies: deps(i)})
		}
		idx.Extensions[id] = e
	}
	add("dev.hostile.a", na, func(i int) []manifest.Dependency {
		return []manifest.Dependency{{ID: "dev.hostile.b", Version: ">=1.0.0"}}
	})
	add("dev.hostile.b", nb, func(i int) []manifest.Dependency {
		return []manifest.Dependency{{ID: "dev.hostile.c", Version: fmt.Sprintf(">=2.%d.0", i)}} // no c is 2.x
	})
	add("dev.hostile.c", nc, func(int) []manifest.Dependency { return nil })
	if err := idx.Validate(); err != nil {
		t.Fatal(err)
	}
	return idx
}

// TestHostileResolver: the resolver gives up on an adversarial index with a clear error,
// bounded by attempts and by time, and never spins.
func TestHostileResolver(t *testing.T) {
	idx := hostileIndex(t, 800, 600, 400)
	t.Run("bounded", func(t *testing.T) {
		start := time.Now()
		_, err := Resolve(idx, []Request{{ID: "dev.hostile.a"}}, nil, Options{HostABI: "1.1"})
		if !errors.Is(err, ErrUnsatisfiable) {
			t.Fatalf("resolving an unsatisfiable index: %v", err)
		}
		t.Logf("gave up in %s: %v", time.Since(start).Round(time.Millisecond), err)
	})
	t.Run("deadline", func(t *testing.T) {
		_, err := Resolve(idx, []Request{{ID: "dev.hostile.a"}}, nil, Options{HostABI: "1.1", Timeout: time.Nanosecond})
		if !errors.Is(err, ErrUnsatisfiable) || !strings.Contains(err.Error(), "gave up after") {
			t.Fatalf("resolving with a 1 ns budget: %v; want a gave-up error", err)
		}
	})
}

// BenchmarkHostileResolver measures the adversarial index: go test -bench Hostile ./registry/resolve
func BenchmarkHostileResolver(b *testing.B) {
	idx := hostileIndex(b, 800, 600, 400)
	for b.Loop() {
		if _, err := Resolve(idx, []Request{{ID: "dev.hostile.a"}}, nil, Options{HostABI: "1.1"}); !errors.Is(err, ErrUnsatisfiable) {
			b.Fatal(err)
		}
	}
}
