package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestJSONSchemaAgrees: the JSON Schema in schemas/ accepts every valid golden manifest and
// rejects the invalid ones that are invalid by shape (the Go validator also checks semver
// ranges and cross-field rules the schema cannot express).
func TestJSONSchemaAgrees(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "manifest.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	asJSON := func(p string) any {
		var v map[string]any
		if _, err := toml.DecodeFile(p, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	valid, _ := filepath.Glob("testdata/valid/*.toml")
	for _, p := range valid {
		if err := sch.Validate(asJSON(p)); err != nil {
			t.Errorf("%s: the schema rejects a valid manifest: %v", p, err)
		}
	}
	for _, name := range []string{"bad-id.toml", "unknown-capability.toml", "typo-key.toml", "escape-entry.toml"} {
		p := filepath.Join("testdata", "invalid", name)
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(asJSON(p)); err == nil {
			t.Errorf("%s: the schema accepts an invalid manifest", p)
		}
	}
}
