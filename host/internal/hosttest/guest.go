package hosttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnfs/cairn/host/process/sandbox"
)

var (
	tmpOnce sync.Once
	tmpDir  string
	tmpErr  error

	mu     sync.Mutex
	guests = map[string]*guestBuild{}
)

type guestBuild struct {
	once sync.Once
	wasm []byte
	err  error
}

// Main runs a test binary's tests and removes what the helpers built. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(hosttest.Main(m)) }
//
// With CAIRN_TEST_PEAK_RSS set, it prints the test process's peak resident set size (Linux
// VmHWM) when the tests end, for measuring the host's memory under the hostile tests:
//
//	CAIRN_TEST_PEAK_RSS=1 go test -count=1 -run Hostile ./host/
//
// The test binary is also the sandbox trampoline of the native extensions its tests load
// (Trampoline): run as one, Main executes the extension and does not return.
func Main(m *testing.M) int {
	sandbox.Main(os.Args[1:])
	code := m.Run()
	if os.Getenv("CAIRN_TEST_PEAK_RSS") != "" {
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmHWM:") {
					fmt.Fprintf(os.Stderr, "hosttest: peak RSS of the test process %s\n", strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")))
				}
			}
		}
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	return code
}

// Trampoline is this test binary, the sandbox trampoline for host.Config (see Main).
func Trampoline(tb testing.TB) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return exe
}

// TempDir is one directory per test binary (removed by Main), for what is worth sharing between
// tests: built guests and the wasm compilation cache.
func TempDir(tb testing.TB) string {
	tb.Helper()
	tmpOnce.Do(func() { tmpDir, tmpErr = os.MkdirTemp("", "cairn-host-test-") })
	if tmpErr != nil {
		tb.Fatal(tmpErr)
	}
	return tmpDir
}

// CacheDir is the wasm compilation cache shared by a test binary's tests, so each guest is
// compiled once per binary.
func CacheDir(tb testing.TB) string { return filepath.Join(TempDir(tb), "wasm-cache") }

// Guest builds the test guest host/testdata/guests/<name> with the standard toolchain
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared), once per test binary, and returns the module.
func Guest(tb testing.TB, name string) []byte {
	tb.Helper()
	return build(tb, name, "./host/testdata/guests/"+name)
}

// GuestPkg builds the guest in the package directory pkg (relative to the module root, e.g.
// "sdk/examples/countvowels") like Guest, once per test binary, and returns the module.
func GuestPkg(tb testing.TB, pkg string) []byte {
	tb.Helper()
	return build(tb, strings.ReplaceAll(pkg, "/", "_"), "./"+pkg)
}

func build(tb testing.TB, name, pkg string) []byte {
	tb.Helper()
	mu.Lock()
	g, ok := guests[name]
	if !ok {
		g = &guestBuild{}
		guests[name] = g
	}
	mu.Unlock()
	g.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			g.err = err
			return
		}
		out := filepath.Join(TempDir(tb), name+".wasm")
		start := time.Now()
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			g.err = fmt.Errorf("building guest %s: %v\n%s", name, err, b)
			return
		}
		g.wasm, g.err = os.ReadFile(out)
		fmt.Fprintf(os.Stderr, "hosttest: built guest %s (%d bytes) in %v\n", name, len(g.wasm), time.Since(start).Round(time.Millisecond))
	})
	if g.err != nil {
		tb.Fatal(g.err)
	}
	return g.wasm
}

// GuestPath is Guest, returning the module's file.
func GuestPath(tb testing.TB, name string) string {
	tb.Helper()
	Guest(tb, name)
	return filepath.Join(TempDir(tb), name+".wasm")
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("locating the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
