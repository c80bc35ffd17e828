package modules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// Caller calls an extension's exports (an *ext.Extension, whatever runs it).
type Caller interface {
	ID() string
	Call(ctx context.Context, export string, input []byte) ([]byte, error)
}

// PathMapper maps the host path of a file to the path the extension opens it at, and says
// whether the extension may open it (host/datafs.FS for WASM extensions).
type PathMapper interface {
	GuestPath(abs string) (string, bool)
}

// DataApplier turns a stage's per-content output (the outcome's "data") into a write that
// commits with the stage's ledger row.
type DataApplier func(ext, stage string, contentID int64, data json.RawMessage) func(ctx context.Context, tx *sql.Tx) error

// Extension is a loaded extension whose contributions AddExtension registers.
type Extension struct {
	Caller   Caller
	Manifest *manifest.Manifest
	// Kind is WASM or Process.
	Kind Kind
	// Config is the extension's configuration (a JSON object), sent with every stage batch.
	Config json.RawMessage
	// Paths maps item paths; nil sends host paths unchanged (process extensions, which read the
	// disk themselves).
	Paths PathMapper
	// ApplyData stores stage outputs; nil drops them (the ledger still records the outcome).
	ApplyData DataApplier
	// Limits bound the outcomes' data (zero fields: defaults).
	Limits OutcomeLimits
}

// OutcomeLimits bound what a stage or sidecar call may hand back for the host to store.
type OutcomeLimits struct {
	// ItemData is the most bytes of one outcome's data (default 256 KiB): an outcome over it
	// fails its item, and the call counts as a fault (ext.ErrQuota).
	ItemData int
	// BatchData is the most bytes of data all the outcomes of one call may total (default
	// 4 MiB): a call over it fails its whole batch, as a fault.
	BatchData int
	// ErrorText is the longest error message kept for an item (default 4 KiB); a longer one is
	// cut, with a note.
	ErrorText int
}

// Defaults of OutcomeLimits.
const (
	DefaultItemData  = 256 << 10
	DefaultBatchData = 4 << 20
	DefaultErrorText = 4 << 10
)

func (l OutcomeLimits) withDefaults() OutcomeLimits {
	if l.ItemData <= 0 {
		l.ItemData = DefaultItemData
	}
	if l.BatchData <= 0 {
		l.BatchData = DefaultBatchData
	}
	if l.ErrorText <= 0 {
		l.ErrorText = DefaultErrorText
	}
	return l
}

// faulter is a Caller that counts faults found after a call returned (*ext.Extension).
type faulter interface {
	Fault(export string, err error)
}

// AddExtension registers every stage, loader and sidecar generator the manifest contributes,
// all or none, and returns their ids. It fails when a contributed export is missing (if the
// caller can tell, with a HasExport method) or an id is taken.
func (r *Registry) AddExtension(x Extension) ([]string, error) {
	m := x.Manifest
	if x.Caller.ID() != m.ID {
		return nil, fmt.Errorf("registering modules of %s: the caller is %s", m.ID, x.Caller.ID())
	}
	if len(x.Config) == 0 {
		x.Config = json.RawMessage("{}")
	}
	has, canCheck := x.Caller.(interface{ HasExport(string) bool })
	need := func(kind, id, export string) error {
		if canCheck && !has.HasExport(export) {
			return fmt.Errorf("extension %s: %s %s names export %q, which the module does not export", m.ID, kind, id, export)
		}
		return nil
	}
	var infos []Info
	for _, s := range m.Contributes.Stages {
		if err := need("stage", s.ID, s.Export); err != nil {
			return nil, err
		}
		infos = append(infos, Info{ID: s.ID, Kind: x.Kind, Extension: m.ID, Module: &ExtStage{x: x, s: s}})
	}
	for _, l := range m.Contributes.Loaders {
		if err := need("loader", l.ID, l.Export); err != nil {
			return nil, err
		}
		infos = append(infos, Info{ID: l.ID, Kind: x.Kind, Extension: m.ID, Module: &ExtLoader{x: x, l: l}})
	}
	for _, sc := range m.Contributes.Sidecars {
		if err := need("sidecar", sc.Kind, sc.Export); err != nil {
			return nil, err
		}
		infos = append(infos, Info{ID: NSSidecar + sc.Kind, Kind: x.Kind, Extension: m.ID, Module: &ExtSidecar{x: x, s: sc}})
	}
	if err := r.RegisterAll(infos...); err != nil {
		return nil, fmt.Errorf("registering modules of %s: %w", m.ID, err)
	}
	ids := make([]string, len(infos))
	for i, in := range infos {
		ids[i] = in.ID
	}
	return ids, nil
}

// Item is an item as it travels to an extension (v1.md "Item").
type Item struct {
	ContentUUID string `json:"content_uuid"`
	CasID       string `json:"cas_id"`
	Size        int64  `json:"size"`
	Path        string `json:"path"`
	Name        string `json:"name"`
	Mime        string `json:"mime,omitempty"`
	Kind        string `json:"kind,omitempty"`
}

// items converts pipeline items: paths are mapped, and a file the extension may not open is
// sent with an empty path (its name, size and ids are still known to it).
func (x *Extension) items(in []pipeline.Item) []Item {
	out := make([]Item, len(in))
	for i, it := range in {
		p := it.Path
		if x.Paths != nil {
			p, _ = x.Paths.GuestPath(it.Path)
		}
		name := it.Name
		if name == "" {
			name = filepath.Base(it.Path)
		}
		kind := it.Kind
		if kind == "unknown" {
			kind = ""
		}
		out[i] = Item{ContentUUID: it.ContentUUID, CasID: it.CasID, Size: it.Size, Path: p, Name: name, Mime: it.Mime, Kind: kind}
	}
	return out
}

// outcome is one per-item result of a stage or sidecar call.
type outcome struct {
	ContentUUID string          `json:"content_uuid"`
	Error       string          `json:"error,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// call marshals in, calls export and unmarshals the output into out.
func (x *Extension) call(ctx context.Context, what, export string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encoding the input of %s: %w", what, err)
	}
	res, err := x.Caller.Call(ctx, export, b)
	if err != nil {
		return fmt.Errorf("running %s: %w", what, err)
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("%s of %s answered with malformed JSON: %w", what, x.Manifest.ID, err)
	}
	return nil
}

// toOutcomes checks that there is exactly one outcome per item, in order, and within the data
// limits, and converts them. Data over a limit is a fault of the export's call.
func (x *Extension) toOutcomes(what, export string, items []pipeline.Item, got []outcome, apply func(it pipeline.Item, data json.RawMessage) func(context.Context, *sql.Tx) error) ([]pipeline.Outcome, error) {
	if len(got) != len(items) {
		return nil, fmt.Errorf("%s of %s answered %d outcomes for %d items", what, x.Manifest.ID, len(got), len(items))
	}
	lim := x.Limits.withDefaults()
	total := 0
	for _, o := range got {
		total += len(o.Data)
	}
	if total > lim.BatchData {
		err := fmt.Errorf("%w: %s of %s answered %d bytes of outcome data for %d items, over the %d-byte limit per call",
			ext.ErrQuota, what, x.Manifest.ID, total, len(items), lim.BatchData)
		x.fault(export, err)
		return nil, err
	}
	out := make([]pipeline.Outcome, len(items))
	var over error
	for i, o := range got {
		if o.ContentUUID != items[i].ContentUUID {
			return nil, fmt.Errorf("%s of %s: outcome %d is for content %q, want %q (one outcome per item, in order)",
				what, x.Manifest.ID, i, o.ContentUUID, items[i].ContentUUID)
		}
		switch {
		case o.Error != "":
			msg := o.Error
			if len(msg) > lim.ErrorText {
				msg = fmt.Sprintf("%s…(cut: %d bytes)", msg[:lim.ErrorText], len(o.Error))
			}
			out[i].Err = errors.New(msg)
		case len(o.Data) > lim.ItemData:
			over = fmt.Errorf("%w: %s of %s answered %d bytes of data for one item, over the %d-byte limit",
				ext.ErrQuota, what, x.Manifest.ID, len(o.Data), lim.ItemData)
			out[i].Err = over
		case len(o.Data) > 0 && string(o.Data) != "null" && apply != nil:
			out[i].Apply = apply(items[i], o.Data)
		}
	}
	if over != nil {
		x.fault(export, over)
	}
	return out, nil
}

func (x *Extension) fault(export string, err error) {
	if f, ok := x.Caller.(faulter); ok {
		f.Fault(export, err)
	}
}

// ExtStage is an extension's pipeline stage: a batch of items is one call of the stage's export
// with {stage, version, config, items}, answered by {outcomes}.
type ExtStage struct {
	x Extension
	s manifest.Stage
}

// ID implements pipeline.Stage.
func (s *ExtStage) ID() string { return s.s.ID }

// Version implements pipeline.Stage.
func (s *ExtStage) Version() int { return s.s.Version }

// WithConfig returns the stage with cfg (a JSON object, e.g. a pipeline step's config) laid
// over the extension's configuration, key by key, for every batch it sends.
func (s *ExtStage) WithConfig(cfg json.RawMessage) (*ExtStage, error) {
	if len(cfg) == 0 || string(cfg) == "null" {
		return s, nil
	}
	var base, over map[string]json.RawMessage
	if err := json.Unmarshal(s.x.Config, &base); err != nil {
		return nil, fmt.Errorf("stage %s: reading the extension's config: %w", s.s.ID, err)
	}
	if err := json.Unmarshal(cfg, &over); err != nil || over == nil {
		return nil, fmt.Errorf("stage %s: a step config must be a JSON object", s.s.ID)
	}
	if base == nil {
		base = map[string]json.RawMessage{}
	}
	for k, v := range over {
		base[k] = v
	}
	merged, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	c := *s
	c.x.Config = merged
	return &c, nil
}

// Manifest returns the manifest entry of the stage.
func (s *ExtStage) Manifest() manifest.Stage { return s.s }

// ConfigSchema returns the JSON Schema of the extension's configuration (nil when it has none).
func (s *ExtStage) ConfigSchema() json.RawMessage {
	if len(s.x.Manifest.Config) == 0 {
		return nil
	}
	b, err := json.Marshal(s.x.Manifest.Config)
	if err != nil {
		return nil
	}
	return b
}

// Extension returns the id of the extension that implements the stage.
func (s *ExtStage) Extension() string { return s.x.Manifest.ID }

// Process implements pipeline.Stage. A batch larger than the manifest's batch size is sent in
// several calls. A failed call (a fault, a malformed answer) fails the whole batch.
func (s *ExtStage) Process(ctx context.Context, items []pipeline.Item) ([]pipeline.Outcome, error) {
	size := s.s.Batch
	if size <= 0 {
		size = len(items)
	}
	out := make([]pipeline.Outcome, 0, len(items))
	for start := 0; start < len(items); start += size {
		chunk := items[start:min(start+size, len(items))]
		o, err := s.process(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	return out, nil
}

func (s *ExtStage) process(ctx context.Context, items []pipeline.Item) ([]pipeline.Outcome, error) {
	in := struct {
		Stage   string          `json:"stage"`
		Version int             `json:"version"`
		Config  json.RawMessage `json:"config"`
		Items   []Item          `json:"items"`
	}{s.s.ID, s.s.Version, s.x.Config, s.x.items(items)}
	var res struct {
		Outcomes []outcome `json:"outcomes"`
	}
	what := "stage " + s.s.ID
	if err := s.x.call(ctx, what, s.s.Export, in, &res); err != nil {
		if errors.Is(err, ext.ErrDeadline) {
			err = fmt.Errorf("%w: %w", pipeline.ErrStageDeadline, err) // the runner isolates per item
		}
		return nil, err
	}
	var apply func(pipeline.Item, json.RawMessage) func(context.Context, *sql.Tx) error
	if s.x.ApplyData != nil {
		apply = func(it pipeline.Item, data json.RawMessage) func(context.Context, *sql.Tx) error {
			return s.x.ApplyData(s.x.Manifest.ID, s.s.ID, it.ContentID, data)
		}
	}
	return s.x.toOutcomes(what, s.s.Export, items, res.Outcomes, apply)
}

// ExtLoader is an extension's file-type loader: {items} in, {types} out.
type ExtLoader struct {
	x Extension
	l manifest.Loader
}

// ID implements Loader.
func (l *ExtLoader) ID() string { return l.l.ID }

// Mimes lists the MIME types the loader declares.
func (l *ExtLoader) Mimes() []string { return l.l.Mimes }

// Detect implements Loader. Types are matched to items by content UUID; an item the loader did
// not answer for gets an empty Type.
func (l *ExtLoader) Detect(ctx context.Context, items []pipeline.Item) ([]Type, error) {
	in := struct {
		Items []Item `json:"items"`
	}{l.x.items(items)}
	var res struct {
		Types []Type `json:"types"`
	}
	if err := l.x.call(ctx, "loader "+l.l.ID, l.l.Export, in, &res); err != nil {
		return nil, err
	}
	by := make(map[string]Type, len(res.Types))
	for _, t := range res.Types {
		by[t.ContentUUID] = t
	}
	out := make([]Type, len(items))
	for i, it := range items {
		out[i] = by[it.ContentUUID]
		out[i].ContentUUID = it.ContentUUID
	}
	return out, nil
}

// ExtSidecar is an extension's sidecar generator: {kind, variant, items} in, {outcomes} out;
// the bytes go through the host call sidecar.write.
type ExtSidecar struct {
	x Extension
	s manifest.Sidecar
}

// Kind implements SidecarGenerator.
func (g *ExtSidecar) Kind() string { return g.s.Kind }

// Variants implements SidecarGenerator.
func (g *ExtSidecar) Variants() []string { return g.s.Variants }

// Generate implements SidecarGenerator.
func (g *ExtSidecar) Generate(ctx context.Context, variant string, items []pipeline.Item) ([]pipeline.Outcome, error) {
	in := struct {
		Kind    string `json:"kind"`
		Variant string `json:"variant"`
		Items   []Item `json:"items"`
	}{g.s.Kind, variant, g.x.items(items)}
	var res struct {
		Outcomes []outcome `json:"outcomes"`
	}
	what := "sidecar " + g.s.Kind
	if err := g.x.call(ctx, what, g.s.Export, in, &res); err != nil {
		return nil, err
	}
	return g.x.toOutcomes(what, g.s.Export, items, res.Outcomes, nil)
}

// Interface guards.
var (
	_ pipeline.Stage   = (*ExtStage)(nil)
	_ Loader           = (*ExtLoader)(nil)
	_ SidecarGenerator = (*ExtSidecar)(nil)
)
