package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// cairnBin is the cairn binary built once for the integration tests: they run it as a user would,
// as a child process, against real files and a real SQLite library.
var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-bin-")
	if err != nil {
		panic(err)
	}
	cairnBin = filepath.Join(dir, "cairn")
	// Kernel tests index without pipelines; pipeline tests ask for one. First-party extensions
	// are built once for every test home.
	os.Setenv("CAIRN_DEFAULT_PIPELINE", "none")
	os.Setenv("CAIRN_FIRSTPARTY_CACHE", filepath.Join(dir, "firstparty"))
	out, err := exec.Command("go", "build", "-o", cairnBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building cairn: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// cairn runs the binary with a fresh environment pointing at home.
func cairn(t testing.TB, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), "CAIRN_LIBRARY=")
	return runCmd(t, cmd)
}

// runCmd runs cmd (a cairn child) and returns its output and exit code; a cairn that cannot be
// started fails the test.
func runCmd(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", cmd.Args, err)
	}
	return result{so.String(), se.String(), code}
}

// must runs cairn and fails the test unless it exits 0.
func must(t testing.TB, home string, args ...string) string {
	t.Helper()
	r := cairn(t, home, args...)
	if r.code != 0 {
		t.Fatalf("cairn %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// jsonLines decodes one JSON object per line into T.
func jsonLines[T any](t testing.TB, s string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("decoding %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

func writeFile(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// repoRoot is the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// jobRow reads the newest job of the default library straight from its database (read-only,
// every few milliseconds if need be: much faster than running `cairn jobs list`), so tests can
// act at a given phase instead of after a fixed delay.
type jobRow struct {
	State, Phase string
	Done, Total  int64
}

func newestJob(t testing.TB, home string) (jobRow, bool) {
	t.Helper()
	p := filepath.Join(home, "libraries", "default.cairn", "library.db")
	if _, err := os.Stat(p); err != nil {
		return jobRow{}, false
	}
	db, err := sql.Open("sqlite", "file:"+p+"?mode=ro&_pragma=busy_timeout(2000)")
	if err != nil {
		return jobRow{}, false
	}
	defer db.Close()
	var j jobRow
	if err := db.QueryRow(`SELECT state, phase, done, total FROM jobs ORDER BY id DESC LIMIT 1`).Scan(&j.State, &j.Phase, &j.Done, &j.Total); err != nil {
		return jobRow{}, false
	}
	return j, true
}

// waitForJob polls until cond holds for the newest job (or fails the test after 60 s).
func waitForJob(t testing.TB, home string, what string, cond func(jobRow) bool) jobRow {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(3 * time.Millisecond) {
		if j, ok := newestJob(t, home); ok && cond(j) {
			return j
		}
	}
	t.Fatalf("the job never reached: %s", what)
	return jobRow{}
}
