package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestPipelineValidateGolden: `cairn pipeline validate FILE` with a fresh home (no library, no
// extension installed) checks the file against the first-party stages from their manifests and
// reports every problem at once — the file's own (unknown keys, kinds, sizes), the configs that
// do not match a stage's schema (wrong type, out of range, unknown key), unknown stages and
// missing inputs — and creates no library.
func TestPipelineValidateGolden(t *testing.T) {
	home := t.TempDir()
	r := cairn(t, home, "pipeline", "validate", filepath.Join("testdata", "validate", "several-problems.toml"))
	golden(t, filepath.Join("validate", "several-problems.golden"),
		fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", r.code, r.stdout, r.stderr))
	if _, err := os.Stat(filepath.Join(home, "libraries")); !os.IsNotExist(err) {
		t.Errorf("validate touched the libraries folder: %v", err)
	}
	// A file whose only problem is a config value: checked against the stage's schema, still
	// with no library to open.
	cfg := filepath.Join(t.TempDir(), "cfg.toml")
	writeFile(t, cfg, []byte("[pipeline.p]\n[[pipeline.p.stage]]\nid = \"stage.filetype\"\n[[pipeline.p.stage]]\nid = \"stage.thumbnail\"\nconfig = { quality = \"high\" }\n"))
	if r := cairn(t, home, "pipeline", "validate", cfg); r.code == 0 || r.stderr != cfg+`:6: pipeline "p", stage stage.thumbnail: config: does not match the schema of stage stage.thumbnail: at /quality: got string, want integer`+"\ncairn pipeline: 1 problem found\n" {
		t.Errorf("a bad config value, no library: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ok := cairn(t, home, "pipeline", "validate", filepath.Join("..", "..", "schemas", "pipeline", "default.toml"))
	if ok.code != 0 || ok.stdout != "default: ok (../../schemas/pipeline/default.toml)\n" {
		t.Errorf("the built-in default: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}
}
