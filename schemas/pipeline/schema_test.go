package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestJSONSchemaAgrees: schemas/pipeline.schema.json accepts every valid golden file and the
// built-in default, and rejects every invalid one that is invalid by shape. Invalid files whose
// first line says "# schema: accepts" break rules only Parse checks (glob syntax, min_size <=
// max_size, a stage listed twice); the test checks the schema does accept those, so the list
// stays honest. Files that are not TOML, or not JSON-representable, must be rejected by Parse.
func TestJSONSchemaAgrees(t *testing.T) {
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "pipeline.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	asJSON := func(src []byte) (any, bool) {
		var v map[string]any
		if _, err := toml.Decode(string(src), &v); err != nil {
			return nil, false
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, false // NaN or infinity: not JSON
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return doc, true
	}
	check := func(name string, src []byte) {
		_, perr := Parse(name, src)
		doc, ok := asJSON(src)
		if !ok {
			if perr == nil {
				t.Errorf("%s: Parse accepts what cannot be decoded as TOML or written as JSON", name)
			}
			return
		}
		serr := sch.Validate(doc)
		first, _, _ := strings.Cut(string(src), "\n")
		parserOnly := strings.HasPrefix(first, "# schema: accepts")
		switch {
		case perr == nil && serr != nil:
			t.Errorf("%s: Parse accepts it, the schema rejects it: %v", name, serr)
		case perr != nil && serr == nil && !parserOnly:
			t.Errorf("%s: Parse rejects it (%v), the schema accepts it", name, perr)
		case perr != nil && serr != nil && parserOnly:
			t.Errorf("%s: marked parser-only, but the schema rejects it too: %v", name, serr)
		}
	}
	files, _ := filepath.Glob("testdata/*/*.toml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(p, src)
	}
	check("default.toml", DefaultTOML())
}
