package pipeline

import (
	"strings"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
)

func mustManifest(t *testing.T, src string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const catalogManifest = `id = "dev.test.x"
name = "x"
version = "%s"
abi = ">=1.0, <2.0"
kind = "wasm"
[entry]
file = "x.wasm"
[[contributes.stages]]
id = "stage.x"
export = "x"
version = %s
consumes = ["content"]
[config]
type = "object"
additionalProperties = false
[config.properties.n]
type = "integer"
maximum = %s
`

// TestCatalogOfAndValidate: a later manifest's stage wins (installed over first-party), its
// [config] is the schema Validate checks, and Validate reports the file's own problems and the
// config's together, in line order.
func TestCatalogOfAndValidate(t *testing.T) {
	fill := func(version, stageVersion, max string) string {
		s := strings.Replace(catalogManifest, "%s", version, 1)
		s = strings.Replace(s, "%s", stageVersion, 1)
		return strings.Replace(s, "%s", max, 1)
	}
	first := mustManifest(t, fill("1.0.0", "1", "100"))
	installed := mustManifest(t, fill("2.0.0", "2", "10"))
	c, err := CatalogOf([]*manifest.Manifest{first, installed})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := c.Stage("stage.x"); !ok || s.Version != 2 || s.Extension != "dev.test.x" {
		t.Fatalf("stage.x: %+v %v; want the installed version 2", s, ok)
	}
	src := "[pipeline.p]\n[[pipeline.p.stage]]\nid = \"stage.x\"\nmin_size = \"1 XB\"\nconfig = { n = 11 }\n[[pipeline.p.stage]]\nid = \"stage.y\"\n"
	_, err = Validate("p.toml", []byte(src), c)
	var got []string
	for _, e := range Errors(err) {
		got = append(got, e.Error())
	}
	want := []string{
		`p.toml:4: pipeline "p", stage stage.x: min_size: "1 XB" is not a size`,
		`p.toml:5: pipeline "p", stage stage.x: config: does not match the schema of stage stage.x: at /n: maximum: got 11, want 10`,
		`p.toml:6: pipeline "p", stage stage.y: unknown stage: no installed extension provides it`,
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: %s\nwant %s…", i, got[i], want[i])
		}
	}
	if f, err := Validate("ok.toml", []byte("[pipeline.p]\n[[pipeline.p.stage]]\nid = \"stage.x\"\nconfig = { n = 3 }\n"), c); err != nil || f.Lookup("p") == nil {
		t.Errorf("a valid file: %v", err)
	}
}
