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
	sch, err := m.ConfigSchema() // refuses external $refs: loading reads no file and no URL
	if err != nil {
		return err
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
