package cairn

import (
	"encoding/json"
	"errors"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"

	"github.com/cairnfs/cairn/sdk/pdk"
)

// ABIVersion is the host ABI version this SDK speaks.
const ABIVersion = "1.2"

// InitExport is the name of the optional initialisation export.
const InitExport = "cairn_init"

// Ctx is what a handler knows about the call it serves. Fields that do not
// apply to the export's kind are empty.
type Ctx struct {
	Stage     string          // stage id (stages)
	Version   int             // stage version the host asked for (stages)
	Kind      string          // sidecar kind (sidecars)
	Variant   string          // sidecar variant (sidecars)
	ABI       string          // host ABI version (cairn_init)
	Extension string          // the extension's id (cairn_init)
	Config    json.RawMessage // the extension's configuration as the call carried it
}

// DecodeConfig decodes the call's configuration into v. A call without one
// leaves v unchanged.
func (c Ctx) DecodeConfig(v any) error {
	if len(c.Config) == 0 || string(c.Config) == "null" {
		return nil
	}
	if err := json.Unmarshal(c.Config, v); err != nil {
		return errors.New("cairn: decode config: " + err.Error())
	}
	return nil
}

// Handler is an export's body at the wire level: it takes the call's input
// (JSON) and returns its output (JSON) or an error. Stage, Loader, Sidecar,
// Query and Init make Handlers; Run serves one from an export. On native
// builds call Handle directly to test the whole input → output path.
type Handler interface {
	Handle(input []byte) (output []byte, err error)
}

// Run serves h as the body of a //go:wasmexport function and returns the
// export's result code. Export names must be literal, so every export is a
// one-line wrapper:
//
//	var wordcount = cairn.Stage("stage.wordcount", countWords)
//
//	//go:wasmexport stage_wordcount
//	func stageWordcount() int32 { return cairn.Run(wordcount) }
//
// Run recovers panics into the call's error and keeps the guest's garbage
// collector running (pdk.Export), so the instance stays usable.
func Run(h Handler) int32 { return pdk.ExportBytes(h.Handle) }

// HandlerFunc adapts a function to Handler, for exports outside v1's kinds.
type HandlerFunc func(input []byte) ([]byte, error)

// Handle calls f.
func (f HandlerFunc) Handle(input []byte) ([]byte, error) { return f(input) }

// Registration: every handler is registered under a namespaced id so that
// duplicates fail loudly at start-up and native tests can find handlers.
var (
	regMu    sync.Mutex
	registry = map[string]Handler{}
)

func register(id string, h Handler) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[id]; dup {
		panic("cairn: " + id + " registered twice")
	}
	registry[id] = h
}

// Lookup returns the handler registered under id: a stage id ("stage.x"), a
// loader id ("loader.x"), "sidecar.<kind>", "query.<name>" or InitExport.
func Lookup(id string) (Handler, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	h, ok := registry[id]
	return h, ok
}

// Registered returns the ids of every registered handler, sorted.
func Registered() []string {
	regMu.Lock()
	defer regMu.Unlock()
	ids := make([]string, 0, len(registry))
	for id := range registry {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ---- stages ----

// StageFunc processes a batch and returns exactly one outcome per item, in
// the items' order. It reads files from Item.Path and writes its results
// through host calls (SetMetadata, ApplyTag, WriteSidecar…) or Outcome.Data.
type StageFunc func(ctx Ctx, items []Item) []Outcome

// StageHandler serves a stage export. Make one with Stage or StageEach.
type StageHandler struct {
	id string
	fn StageFunc
}

// Stage registers fn as the stage id ("stage.<name>", as in the manifest's
// contributes.stages) and returns its handler for Run. The handler checks the
// host's input, refuses a batch meant for another stage, fills an outcome's
// empty ContentUUID from its item, and fails the call when fn returns the
// wrong number of outcomes or outcomes out of order.
func Stage(id string, fn StageFunc) *StageHandler {
	h := &StageHandler{id: id, fn: fn}
	register(id, h)
	return h
}

// StageEach registers a stage that processes items one by one: fn's data
// becomes the item's Outcome.Data, its error the item's Outcome.Error, and a
// panic in fn fails only that item.
func StageEach(id string, fn func(ctx Ctx, it Item) (data any, err error)) *StageHandler {
	return Stage(id, func(ctx Ctx, items []Item) []Outcome {
		out := make([]Outcome, len(items))
		for i, it := range items {
			out[i] = eachItem(ctx, it, fn)
		}
		return out
	})
}

func eachItem(ctx Ctx, it Item, fn func(Ctx, Item) (any, error)) (o Outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = it.Fail(errors.New("panic: " + panicText(r) + "\n\n" + string(debug.Stack())))
		}
	}()
	data, err := fn(ctx, it)
	if err != nil {
		return it.Fail(err)
	}
	return it.OK(data)
}

// ID returns the stage id.
func (h *StageHandler) ID() string { return h.id }

type stageInput struct {
	Stage   string          `json:"stage"`
	Version int             `json:"version"`
	Config  json.RawMessage `json:"config"`
	Items   []Item          `json:"items"`
}

type outcomesOutput struct {
	Outcomes []Outcome `json:"outcomes"`
}

// Handle decodes {stage, version, config, items}, runs the stage and encodes
// {outcomes}.
func (h *StageHandler) Handle(input []byte) ([]byte, error) {
	var in stageInput
	if err := decodeInput(h.id, input, &in); err != nil {
		return nil, err
	}
	if in.Stage != "" && in.Stage != h.id {
		return nil, errors.New(h.id + ": the host sent a batch for " + in.Stage + " to this export: check contributes.stages in cairn.toml")
	}
	ctx := Ctx{Stage: h.id, Version: in.Version, Config: in.Config}
	return encodeOutcomes(h.id, in.Items, h.fn(ctx, in.Items))
}

// ---- sidecars ----

// SidecarFunc generates sidecars of ctx.Kind and ctx.Variant for a batch,
// writing each through WriteSidecar, and returns one outcome per item in
// order.
type SidecarFunc func(ctx Ctx, items []Item) []Outcome

// SidecarHandler serves a sidecar export. Make one with Sidecar.
type SidecarHandler struct {
	kind string
	fn   SidecarFunc
}

// Sidecar registers fn as the generator of the sidecar kind (as in the
// manifest's contributes.sidecars) and returns its handler for Run. Its
// checks are Stage's.
func Sidecar(kind string, fn SidecarFunc) *SidecarHandler {
	h := &SidecarHandler{kind: kind, fn: fn}
	register("sidecar."+kind, h)
	return h
}

type sidecarInput struct {
	Kind    string          `json:"kind"`
	Variant string          `json:"variant"`
	Config  json.RawMessage `json:"config"`
	Items   []Item          `json:"items"`
}

// Handle decodes {kind, variant, items}, runs the generator and encodes
// {outcomes}.
func (h *SidecarHandler) Handle(input []byte) ([]byte, error) {
	name := "sidecar " + h.kind
	var in sidecarInput
	if err := decodeInput(name, input, &in); err != nil {
		return nil, err
	}
	if in.Kind != "" && in.Kind != h.kind {
		return nil, errors.New(name + ": the host asked for sidecar kind " + in.Kind + " from this export: check contributes.sidecars in cairn.toml")
	}
	ctx := Ctx{Kind: h.kind, Variant: in.Variant, Config: in.Config}
	return encodeOutcomes(name, in.Items, h.fn(ctx, in.Items))
}

// ---- loaders ----

// LoaderFunc identifies the type of the items it recognises; it may return
// fewer types than items (one per recognised item), in any order.
type LoaderFunc func(ctx Ctx, items []Item) []FileType

// LoaderHandler serves a loader export. Make one with Loader.
type LoaderHandler struct {
	id string
	fn LoaderFunc
}

// Loader registers fn as the loader id ("loader.<name>") and returns its
// handler for Run. It fails the call when a type names a content that is not
// in the batch, or has a confidence outside 0..1.
func Loader(id string, fn LoaderFunc) *LoaderHandler {
	h := &LoaderHandler{id: id, fn: fn}
	register(id, h)
	return h
}

// Handle decodes {items}, runs the loader and encodes {types}.
func (h *LoaderHandler) Handle(input []byte) ([]byte, error) {
	var in struct {
		Config json.RawMessage `json:"config"`
		Items  []Item          `json:"items"`
	}
	if err := decodeInput(h.id, input, &in); err != nil {
		return nil, err
	}
	types := h.fn(Ctx{Config: in.Config}, in.Items)
	if types == nil {
		types = []FileType{}
	}
	inBatch := make(map[string]bool, len(in.Items))
	for _, it := range in.Items {
		inBatch[it.ContentUUID] = true
	}
	for _, t := range types {
		if !inBatch[t.ContentUUID] {
			return nil, errors.New(h.id + ": returned a type for content " + strconv.Quote(t.ContentUUID) + ", which is not in the batch")
		}
		if !(t.Confidence >= 0 && t.Confidence <= 1) {
			return nil, errors.New(h.id + ": confidence " + strconv.FormatFloat(t.Confidence, 'g', -1, 64) + " for " + t.ContentUUID + ": want 0 to 1")
		}
	}
	return json.Marshal(struct {
		Types []FileType `json:"types"`
	}{types})
}

// ---- queries ----

// QueryFunc answers a query with any JSON value.
type QueryFunc func(ctx Ctx, args json.RawMessage) (any, error)

// QueryHandler serves a query export. Make one with Query.
type QueryHandler struct {
	name string
	fn   QueryFunc
}

// Query registers fn as the query name (as in contributes.queries) and
// returns its handler for Run. Its input is {args}.
func Query(name string, fn QueryFunc) *QueryHandler {
	h := &QueryHandler{name: name, fn: fn}
	register("query."+name, h)
	return h
}

// Handle decodes {args}, runs the query and encodes its result.
func (h *QueryHandler) Handle(input []byte) ([]byte, error) {
	var in struct {
		Args   json.RawMessage `json:"args"`
		Config json.RawMessage `json:"config"`
	}
	if err := decodeInput("query "+h.name, input, &in); err != nil {
		return nil, err
	}
	if len(in.Args) == 0 {
		in.Args = json.RawMessage("{}")
	}
	v, err := h.fn(Ctx{Config: in.Config}, in.Args)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ---- cairn_init ----

// InitHandler serves the optional cairn_init export. Make one with Init.
type InitHandler struct {
	fn func(ctx Ctx) error
}

// Init registers fn as the extension's initialisation, which the host calls
// once per instance before any other export, with ctx.ABI, ctx.Extension and
// ctx.Config set. An error fails the instance. The export's name is fixed:
//
//	var setup = cairn.Init(func(ctx cairn.Ctx) error { return ctx.DecodeConfig(&cfg) })
//
//	//go:wasmexport cairn_init
//	func cairnInit() int32 { return cairn.Run(setup) }
func Init(fn func(ctx Ctx) error) *InitHandler {
	h := &InitHandler{fn: fn}
	register(InitExport, h)
	return h
}

// Handle decodes {abi, extension, config}, runs the initialisation and
// outputs {}.
func (h *InitHandler) Handle(input []byte) ([]byte, error) {
	var in struct {
		ABI       string          `json:"abi"`
		Extension string          `json:"extension"`
		Config    json.RawMessage `json:"config"`
	}
	if err := decodeInput(InitExport, input, &in); err != nil {
		return nil, err
	}
	if err := h.fn(Ctx{ABI: in.ABI, Extension: in.Extension, Config: in.Config}); err != nil {
		return nil, err
	}
	return []byte("{}"), nil
}

// ---- helpers ----

func decodeInput(name string, input []byte, v any) error {
	if len(input) == 0 {
		return errors.New(name + ": empty input: want a JSON object")
	}
	if err := json.Unmarshal(input, v); err != nil {
		return errors.New(name + ": decode input: " + err.Error())
	}
	return nil
}

// encodeOutcomes checks that there is one outcome per item, in order, and
// encodes {outcomes}.
func encodeOutcomes(name string, items []Item, outcomes []Outcome) ([]byte, error) {
	if len(outcomes) != len(items) {
		return nil, errors.New(name + ": returned " + strconv.Itoa(len(outcomes)) + " outcomes for " +
			strconv.Itoa(len(items)) + " items: want exactly one per item, in order")
	}
	for i := range outcomes {
		switch outcomes[i].ContentUUID {
		case "":
			outcomes[i].ContentUUID = items[i].ContentUUID
		case items[i].ContentUUID:
		default:
			return nil, errors.New(name + ": outcome " + strconv.Itoa(i) + " is for content " + outcomes[i].ContentUUID +
				" but item " + strconv.Itoa(i) + " is " + items[i].ContentUUID + ": want one outcome per item, in order")
		}
	}
	if outcomes == nil {
		outcomes = []Outcome{}
	}
	return json.Marshal(outcomesOutput{Outcomes: outcomes})
}

func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	case interface{ String() string }:
		return v.String()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return "(unprintable panic value)"
	}
	return string(b)
}
