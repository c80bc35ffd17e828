package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// ManifestCatalog is a Catalog read from extension manifests, with no extension loaded: what
// `cairn pipeline validate` checks files against without a library. Build it with
// CatalogOf.
type ManifestCatalog map[string]StageInfo

// Stage implements Catalog.
func (c ManifestCatalog) Stage(id string) (StageInfo, bool) {
	s, ok := c[id]
	return s, ok
}

// CatalogOf returns the stages the manifests contribute. A later manifest's stage replaces an
// earlier one's with the same id (pass the first-party manifests first and the installed ones
// after them: an installed extension wins over the built-in one, as in the host). The config
// schema of each stage is its manifest's [config] table.
func CatalogOf(ms []*manifest.Manifest) (ManifestCatalog, error) {
	c := ManifestCatalog{}
	for _, m := range ms {
		if m == nil {
			continue
		}
		var schema json.RawMessage
		if len(m.Config) > 0 {
			b, err := json.Marshal(m.Config)
			if err != nil {
				return nil, fmt.Errorf("reading the config schema of extension %s: %w", m.ID, err)
			}
			schema = b
		}
		for _, s := range m.Contributes.Stages {
			c[s.ID] = StageInfo{ID: s.ID, Extension: m.ID, Version: s.Version, Consumes: s.Consumes,
				Produces: s.Produces, ConfigSchema: schema}
		}
	}
	return c, nil
}

// Interface guards.
var _ Catalog = ManifestCatalog(nil)
