package host_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// resetPeakRSS resets the process's peak RSS (VmHWM) to its current RSS, so that peakRSS
// measures what follows; it skips the test where Linux's /proc/self/clear_refs is not there.
func resetPeakRSS(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is measured through Linux's /proc/self/clear_refs")
	}
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("resetting the peak RSS: %v", err)
	}
}

// rss returns the process's current and peak resident set size, in bytes.
func rss(t *testing.T) (cur, peak int64) {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			cur = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return cur, peak
}
