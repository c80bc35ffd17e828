package host

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// validateConfig checks an extension's config against the JSON Schema its manifest declares
// (the [config] table); an extension without one accepts any JSON object.
func validateConfig(m *manifest.Manifest, config json.RawMessage) error {
	if len(m.Config) == 0 {
		return nil
	}
	raw, err := json.Marshal(m.Config)
	if err != nil {
		return fmt.Errorf("extension %s: config schema: %w", m.ID, err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("extension %s: config schema: %w", m.ID, err)
	}
	c := jsonschema.NewCompiler()
	url := "cairn:" + m.ID + "/config.schema.json"
	if err := c.AddResource(url, schemaDoc); err != nil {
		return fmt.Errorf("extension %s: config schema: %w", m.ID, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("extension %s: config schema: %w", m.ID, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return fmt.Errorf("extension %s: config: %w", m.ID, err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("extension %s: config does not match its schema: %v", m.ID, err)
	}
	return nil
}
