package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/internal/testtool"
	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/scaffold"
)

// TestGenerateBuildsAndTests generates a project into a temporary folder
// outside this module, then builds it for wasip1 and runs its tests (the
// conformance suite included) with the real Go toolchain, in read-only
// module mode: go.mod and go.sum must be complete as generated.
func TestGenerateBuildsAndTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a generated project")
	}
	t.Setenv(scaffold.EnvSource, "") // found as the source tree of this test
	dir := filepath.Join(t.TempDir(), "word-count")
	if err := scaffold.Generate(dir, "word-count"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cairn.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "dev.example.word-count" || m.Kind != "wasm" || m.ABI != ">=1.0, <2.0" ||
		len(m.Contributes.Stages) != 1 || m.Contributes.Stages[0].ID != "stage.word-count" ||
		m.Contributes.Stages[0].Export != "stage_word_count" {
		t.Errorf("manifest = %+v", m)
	}
	root, _ := filepath.Abs("../..")
	checkNoLocalPath(t, dir, root)
	gowork, _ := os.ReadFile(filepath.Join(dir, "go.work"))
	if !strings.Contains(string(gowork), "replace github.com/cairnfs/cairn => "+root+"\n") || !strings.Contains(string(gowork), "use .\n") {
		t.Errorf("go.work does not build against %s:\n%s", root, gowork)
	}
	// The project under version control: go.work, which names this machine's checkout, stays out.
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if _, ok := testtool.Optional(t, "git", "git"); ok {
		git("init", "-q")
		git("add", "-A")
		if files := git("ls-files"); strings.Contains(files, "go.work") || !strings.Contains(files, "go.mod") {
			t.Errorf("committed files:\n%s", files)
		}
	}

	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=") // GOWORK unset: the project's go.work
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run([]string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}, "build", "-buildmode=c-shared", "-o", "word-count.wasm", ".")
	if fi, err := os.Stat(filepath.Join(dir, "word-count.wasm")); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("module: %v", err)
	}
	run([]string{"GOOS=wasip1", "GOARCH=wasm"}, "vet", ".")
	out := run(nil, "test", "-count=1", "-v", "./...")
	for _, want := range []string{"--- PASS: TestConformance", "--- PASS: TestConformance/stage.word-count/golden",
		"--- PASS: TestConformance/stage.word-count/deadline", "--- PASS: TestStage"} {
		if !strings.Contains(out, want) {
			t.Errorf("go test output lacks %q:\n%s", want, out)
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, name := range []string{"", "Hello", "1st", "a_b", "a--b", "a-", "dev.x"} {
		if err := scaffold.Generate(filepath.Join(t.TempDir(), "x"), name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	if err := scaffold.Generate(dir, "hello"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty dir: %v", err)
	}
	if err := scaffold.GenerateWith(filepath.Join(t.TempDir(), "x"), "hello", scaffold.Options{CairnDir: t.TempDir()}); err == nil {
		t.Errorf("a folder that is not a Cairn checkout was accepted")
	}
}

func TestFindCairn(t *testing.T) {
	root, _ := filepath.Abs("../..")
	if d, err := scaffold.FindCairn(); err != nil || d != root {
		t.Errorf("FindCairn() = %q, %v; want %q", d, err, root)
	}
	t.Setenv(scaffold.EnvSource, root)
	if d, err := scaffold.FindCairn(); err != nil || d != root {
		t.Errorf("with $%s: %q, %v", scaffold.EnvSource, d, err)
	}
	t.Setenv(scaffold.EnvSource, t.TempDir()) // not a checkout: the next candidate wins
	if d, err := scaffold.FindCairn(); err != nil || d != root {
		t.Errorf("with a bad $%s: %q, %v", scaffold.EnvSource, d, err)
	}
}

// checkNoLocalPath fails when a file of the project that goes under version control names a
// path on this machine (the checkout, or any absolute path in a replace directive).
func checkNoLocalPath(t *testing.T, dir, root string) {
	t.Helper()
	for _, f := range []string{"go.mod", "README.md", "cairn.toml", "main.go", "ext_test.go", ".gitignore"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), root) || f == "go.mod" && strings.Contains(string(b), "replace") {
			t.Errorf("%s names a path on this machine:\n%s", f, b)
		}
	}
}

// TestGenerateForReleasedBinary: a released cairn binary with no checkout around requires its
// own version and writes no go.work (go mod tidy fetches it from the module proxy).
func TestGenerateForReleasedBinary(t *testing.T) {
	t.Setenv(scaffold.EnvSource, "")
	dir := filepath.Join(t.TempDir(), "hello")
	if err := scaffold.GenerateWith(dir, "hello", scaffold.Options{Version: "v1.4.0"}); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	checkNoLocalPath(t, dir, root)
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.Contains(string(gomod), "require github.com/cairnfs/cairn v1.4.0\n") {
		t.Errorf("go.mod:\n%s", gomod)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.work")); !os.IsNotExist(err) {
		t.Errorf("go.work written for a released binary: %v", err)
	}
	// A pseudo-version (a commit that may never have been pushed) is no release: the checkout
	// this test runs in is used through go.work.
	dir = filepath.Join(t.TempDir(), "hello")
	if err := scaffold.GenerateWith(dir, "hello", scaffold.Options{Version: "v0.0.0-20261207001122-0123456789ab"}); err != nil {
		t.Fatal(err)
	}
	if w, err := os.ReadFile(filepath.Join(dir, "go.work")); err != nil || !strings.Contains(string(w), root) {
		t.Errorf("go.work for a pseudo-version: %s %v", w, err)
	}
	checkNoLocalPath(t, dir, root)
}
