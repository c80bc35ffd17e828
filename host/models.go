package host

import (
	"context"
	"fmt"

	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// ensureModels creates (or extends) the tables an extension declares in its manifest, named
// ext_<id>__<model> by the kernel so extensions cannot reach each other's data or the kernel's.
// Declaring models needs the models.own capability granted.
func (h *Host) ensureModels(ctx context.Context, m *manifest.Manifest, caps *capability.Set) ([]string, error) {
	if len(m.Models) == 0 {
		return nil, nil
	}
	if !caps.Has(capability.ModelsOwn) {
		return nil, fmt.Errorf("extension %s declares models but %s is not granted", m.ID, capability.ModelsOwn)
	}
	var tables []string
	for _, md := range m.Models {
		cols := make([]store.ModelColumn, len(md.Columns))
		for i, c := range md.Columns {
			cols[i] = store.ModelColumn{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Index: c.Index}
		}
		t, err := h.cfg.Store.EnsureModel(ctx, m.ID, md.Name, cols)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}
