package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// noExternalRefs is the URL loader of every config schema: a schema may refer only to itself
// (`"$ref": "#/$defs/…"`). Loading anything else (file:///etc/passwd, a FIFO that blocks
// forever, an http URL) is refused, so compiling a manifest's schema never reads a file or the
// network.
type noExternalRefs struct{}

func (noExternalRefs) Load(url string) (any, error) {
	return nil, fmt.Errorf("the config schema refers to %s: only references inside the manifest are allowed", url)
}

// CompileConfigSchema compiles a JSON Schema given as JSON (an extension's [config] table) under
// the name url, refusing every external reference. Errors are the JSON Schema library's, for
// callers to prefix.
func CompileConfigSchema(schemaJSON []byte, url string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noExternalRefs{})
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	return sch, nil
}

// ConfigSchema compiles the manifest's config schema (nil when it declares none).
func (m *Manifest) ConfigSchema() (*jsonschema.Schema, error) {
	if len(m.Config) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(m.Config)
	if err != nil {
		return nil, fmt.Errorf("extension %s: config schema: %w", m.ID, err)
	}
	sch, err := CompileConfigSchema(raw, "cairn:"+m.ID+"/config.schema.json")
	if err != nil {
		return nil, fmt.Errorf("extension %s: compiling the config schema: %w", m.ID, err)
	}
	return sch, nil
}
