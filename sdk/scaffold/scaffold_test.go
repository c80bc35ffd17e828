package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	root, _ := filepath.Abs("../..")
	if !strings.Contains(string(gomod), "replace github.com/cairnfs/cairn => "+root+"\n") {
		t.Errorf("go.mod does not replace Cairn with %s:\n%s", root, gomod)
	}

	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
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
