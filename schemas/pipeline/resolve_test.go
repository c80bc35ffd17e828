package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
)

// fakeCatalog is a test double of the Catalog interface: a fixed set of stages.
type fakeCatalog map[string]StageInfo

func (c fakeCatalog) Stage(id string) (StageInfo, bool) {
	s, ok := c[id]
	return s, ok
}

// catalog mirrors the first-party extensions' stages.
var catalog = fakeCatalog{
	"stage.filetype":   {ID: "stage.filetype", Extension: "dev.cairn.filetype", Version: 1, Consumes: []string{"content"}, Produces: []string{"filetype"}},
	"stage.media":      {ID: "stage.media", Extension: "dev.cairn.media", Version: 1, Consumes: []string{"filetype=image"}, Produces: []string{"media"}},
	"stage.text":       {ID: "stage.text", Extension: "dev.cairn.text", Version: 1, Consumes: []string{"filetype"}, Produces: []string{"sidecar:text"}},
	"stage.thumbnail":  {ID: "stage.thumbnail", Extension: "dev.cairn.thumbnail", Version: 2, Consumes: []string{"filetype=image", "media"}, Produces: []string{"sidecar:thumb"}, ConfigSchema: json.RawMessage(thumbSchema)},
	"stage.mediathumb": {ID: "stage.mediathumb", Extension: "dev.cairn.mediathumb", Version: 1, Consumes: []string{"filetype", "discover"}, Produces: []string{"sidecar:thumb"}},
	"stage.index":      {ID: "stage.index", Extension: "dev.example.search", Version: 1, Consumes: []string{"sidecar:text"}},
	"stage.a":          {ID: "stage.a", Consumes: []string{"b-out"}, Produces: []string{"a-out"}},
	"stage.b":          {ID: "stage.b", Consumes: []string{"c-out"}, Produces: []string{"b-out"}},
	"stage.c":          {ID: "stage.c", Consumes: []string{"a-out"}, Produces: []string{"c-out"}},
	"stage.badschema":  {ID: "stage.badschema", ConfigSchema: json.RawMessage(`{"type": 12}`)},
}

const thumbSchema = `{
  "type": "object", "additionalProperties": false,
  "properties": {"variants": {"type": "array", "items": {"type": "integer", "minimum": 16, "maximum": 4096}}}
}`

func pipe(steps ...Step) *Pipeline {
	for i := range steps {
		steps[i].Line = 10 + i
	}
	return &Pipeline{Name: "p", Source: "p.toml", Stages: steps}
}

func ids(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Stage)
	}
	return strings.Join(out, ",")
}

func TestResolveOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"already ordered", []string{"stage.filetype", "stage.media", "stage.thumbnail"}, "stage.filetype,stage.media,stage.thumbnail"},
		{"reversed", []string{"stage.thumbnail", "stage.media", "stage.filetype"}, "stage.filetype,stage.media,stage.thumbnail"},
		{"unconstrained keep written order", []string{"stage.filetype", "stage.mediathumb", "stage.text", "stage.media"}, "stage.filetype,stage.mediathumb,stage.text,stage.media"},
		{"stable around a late producer", []string{"stage.text", "stage.index", "stage.media", "stage.filetype"}, "stage.filetype,stage.text,stage.index,stage.media"},
		{"one stage on kernel inputs", []string{"stage.filetype"}, "stage.filetype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []Step
			for _, id := range tt.in {
				steps = append(steps, Step{Stage: id})
			}
			p := pipe(steps...)
			got, err := p.Resolve(catalog)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tt.want {
				t.Errorf("order %s; want %s", ids(got), tt.want)
			}
			if ids(p.Stages) != strings.Join(tt.in, ",") {
				t.Error("Resolve reordered the pipeline's own steps")
			}
		})
	}
}

func TestResolveDefault(t *testing.T) {
	got, err := Default().Lookup(DefaultName).Resolve(catalog)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "stage.filetype,stage.media,stage.text,stage.thumbnail,stage.mediathumb" {
		t.Errorf("default order: %s", ids(got))
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name  string
		steps []Step
		want  []string // substrings, one per expected *Error, in order
	}{
		{"unknown stage", []Step{{Stage: "stage.filetype"}, {Stage: "stage.nope"}},
			[]string{`p.toml:11: pipeline "p", stage stage.nope: unknown stage: no installed extension provides it`}},
		{"missing producer", []Step{{Stage: "stage.thumbnail"}},
			[]string{`stage stage.thumbnail: consumes "filetype=image", which no other stage`, `consumes "media", which no other stage`}},
		{"qualified producer does not satisfy the base", []Step{{Stage: "stage.text"}},
			[]string{`consumes "filetype"`}},
		{"duplicate", []Step{{Stage: "stage.filetype"}, {Stage: "stage.filetype"}},
			[]string{`p.toml:11: pipeline "p", stage stage.filetype: stage listed twice in one pipeline (first at line 10)`}},
		{"cycle", []Step{{Stage: "stage.filetype"}, {Stage: "stage.a"}, {Stage: "stage.b"}, {Stage: "stage.c"}},
			[]string{`p.toml:11: pipeline "p": dependency cycle: stage.a → stage.c → stage.b → stage.a`}},
		{"config against schema", []Step{{Stage: "stage.filetype"}, {Stage: "stage.media"},
			{Stage: "stage.thumbnail", Config: json.RawMessage(`{"variants": [8, 256], "colour": "red"}`)}},
			[]string{`p.toml:12: pipeline "p", stage stage.thumbnail: config: does not match the schema of stage stage.thumbnail: at /: additional properties 'colour' not allowed; at /variants/0: minimum: got 8, want 16`}},
		{"config to a stage without schema", []Step{{Stage: "stage.filetype", Config: json.RawMessage(`{"x": 1}`)}},
			[]string{`config: stage stage.filetype (extension dev.cairn.filetype) takes no config`}},
		{"broken stage schema", []Step{{Stage: "stage.badschema"}},
			[]string{`config: compiling the config schema of stage stage.badschema`}},
		{"all at once", []Step{{Stage: "stage.nope"}, {Stage: "stage.index"}, {Stage: "stage.filetype", Config: json.RawMessage(`{"x":1}`)}},
			[]string{"unknown stage", `consumes "sidecar:text"`, "takes no config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pipe(tt.steps...).Resolve(catalog)
			if err == nil {
				t.Fatalf("Resolve = %s; want an error", ids(got))
			}
			errs := Errors(err)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s", i, errs[i], w)
				}
				if errs[i].Pipeline != "p" || errs[i].File != "p.toml" || errs[i].Line == 0 {
					t.Errorf("error %d lacks its position: %#v", i, errs[i])
				}
			}
		})
	}
}

func TestResolveConfigValid(t *testing.T) {
	for _, cfg := range []string{``, `{}`, `{"variants": [256, 1024]}`} {
		p := pipe(Step{Stage: "stage.filetype"}, Step{Stage: "stage.media"}, Step{Stage: "stage.thumbnail", Config: json.RawMessage(cfg)})
		if _, err := p.Resolve(catalog); err != nil {
			t.Errorf("config %q: %v", cfg, err)
		}
	}
	// A schema with required properties rejects an absent config.
	c := fakeCatalog{"stage.x": {ID: "stage.x", Consumes: []string{"content"}, ConfigSchema: json.RawMessage(`{"type":"object","required":["model"]}`)}}
	if _, err := pipe(Step{Stage: "stage.x"}).Resolve(c); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("absent config against required: %v", err)
	}
	if _, err := (&Pipeline{Name: "e", Line: 3}).Resolve(c); err == nil || !strings.Contains(err.Error(), "no stages") {
		t.Errorf("empty pipeline: %v", err)
	}
}

// TestAcceptanceFile parses the user-defined pipeline of issue 4 and resolves it.
func TestAcceptanceFile(t *testing.T) {
	src := `[pipeline.thumbs]
[[pipeline.thumbs.stage]]
id = "stage.thumbnail"
kinds = ["image"]
globs = ["Pictures/**"]
min_size = "100 KB"
config = { variants = [256] }
[[pipeline.thumbs.stage]]
id = "stage.media"
[[pipeline.thumbs.stage]]
id = "stage.filetype"
`
	f, err := Parse("pipelines.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := f.Lookup("thumbs").Resolve(catalog)
	if err != nil {
		t.Fatal(err)
	}
	if ids(steps) != "stage.filetype,stage.media,stage.thumbnail" || steps[2].Line != 2 || string(steps[2].Config) != `{"variants":[256]}` {
		t.Errorf("resolved: %+v", steps)
	}
	bad := strings.Replace(src, "[256]", "[2]", 1)
	f, _ = Parse("pipelines.toml", []byte(bad))
	_, err = f.Lookup("thumbs").Resolve(catalog)
	if err == nil || !strings.HasPrefix(err.Error(), `pipelines.toml:7: pipeline "thumbs", stage stage.thumbnail: config:`) {
		t.Errorf("invalid config: %v", err)
	}
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		produced, consumed string
		want               bool
	}{
		{"filetype", "filetype", true},
		{"filetype", "filetype=image", true},
		{"filetype=image", "filetype", false},
		{"filetype=image", "filetype=image", true},
		{"filetype=video", "filetype=image", false},
		{"sidecar:thumb", "sidecar:thumb", true},
		{"sidecar:thumb", "sidecar:text", false},
		{"sidecar", "sidecar:thumb", false},
	}
	for _, tt := range tests {
		if got := Satisfies(tt.produced, tt.consumed); got != tt.want {
			t.Errorf("Satisfies(%q, %q) = %v", tt.produced, tt.consumed, got)
		}
	}
}
