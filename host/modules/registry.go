package modules

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/cairnfs/cairn/core/pipeline"
)

// Kind is how a module is implemented.
type Kind string

// Module kinds.
const (
	Builtin Kind = "builtin"
	WASM    Kind = "wasm"
	Process Kind = "process"
)

// Namespaces of module ids, and the interface a module of each must implement.
const (
	NSStage   = "stage."   // pipeline.Stage
	NSLoader  = "loader."  // Loader
	NSSidecar = "sidecar." // SidecarGenerator
)

// Loader detects the type of contents.
type Loader interface {
	ID() string
	// Detect returns one Type per item, in order (an empty Mime means "not recognised").
	Detect(ctx context.Context, items []pipeline.Item) ([]Type, error)
}

// Type is a loader's answer for one content.
type Type struct {
	ContentUUID string  `json:"content_uuid"`
	Mime        string  `json:"mime"`
	Kind        string  `json:"kind"`
	Confidence  float64 `json:"confidence"`
}

// SidecarGenerator generates sidecars of one kind.
type SidecarGenerator interface {
	Kind() string
	Variants() []string
	// Generate makes the variant for each item and returns one outcome per item, in order.
	Generate(ctx context.Context, variant string, items []pipeline.Item) ([]pipeline.Outcome, error)
}

// Info is a registered module.
type Info struct {
	// ID is namespaced ("stage.thumbnail").
	ID   string
	Kind Kind
	// Extension is the owning extension ("" for built-in modules).
	Extension string
	// Module is the implementation: a pipeline.Stage, Loader or SidecarGenerator per namespace.
	Module any
}

func (i Info) owner() string {
	if i.Extension == "" {
		return "built-in (" + string(i.Kind) + ")"
	}
	return string(i.Kind) + " extension " + i.Extension
}

// Errors.
var (
	ErrDuplicate = errors.New("duplicate module id")
	ErrNotFound  = errors.New("no such module")
)

// Registry holds modules by id. It is safe for concurrent use.
type Registry struct {
	mu   sync.RWMutex
	mods map[string]Info
}

// New returns an empty registry.
func New() *Registry { return &Registry{mods: map[string]Info{}} }

// check validates an Info's id against its namespace and implementation.
func check(i Info) error {
	var ok bool
	switch {
	case strings.HasPrefix(i.ID, NSStage) && len(i.ID) > len(NSStage):
		_, ok = i.Module.(pipeline.Stage)
		if ok && i.Module.(pipeline.Stage).ID() != i.ID {
			return fmt.Errorf("module %s: its stage calls itself %q", i.ID, i.Module.(pipeline.Stage).ID())
		}
	case strings.HasPrefix(i.ID, NSLoader) && len(i.ID) > len(NSLoader):
		_, ok = i.Module.(Loader)
	case strings.HasPrefix(i.ID, NSSidecar) && len(i.ID) > len(NSSidecar):
		_, ok = i.Module.(SidecarGenerator)
	default:
		return fmt.Errorf("module id %q: want a namespaced id (%s…, %s…, %s…)", i.ID, NSStage, NSLoader, NSSidecar)
	}
	if !ok {
		return fmt.Errorf("module %s: %T does not implement its namespace's interface", i.ID, i.Module)
	}
	switch i.Kind {
	case Builtin, WASM, Process:
	default:
		return fmt.Errorf("module %s: unknown kind %q", i.ID, i.Kind)
	}
	return nil
}

// Register adds a module. A second module with the same id is refused with ErrDuplicate, naming
// both owners.
func (r *Registry) Register(i Info) error { return r.RegisterAll(i) }

// MustRegister is Register for built-in modules at init time: it panics on error.
func (r *Registry) MustRegister(i Info) {
	if err := r.Register(i); err != nil {
		panic(err)
	}
}

// RegisterAll adds modules atomically: all of them, or none when any is invalid or taken.
func (r *Registry) RegisterAll(infos ...Info) error {
	seen := map[string]Info{}
	for _, i := range infos {
		if err := check(i); err != nil {
			return err
		}
		if prev, dup := seen[i.ID]; dup {
			return fmt.Errorf("%w: %s is declared twice by %s and %s", ErrDuplicate, i.ID, prev.owner(), i.owner())
		}
		seen[i.ID] = i
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, i := range infos {
		if prev, dup := r.mods[i.ID]; dup {
			return fmt.Errorf("%w: %s is already registered by %s; %s cannot register it too", ErrDuplicate, i.ID, prev.owner(), i.owner())
		}
	}
	for _, i := range infos {
		r.mods[i.ID] = i
	}
	return nil
}

// Unregister removes a module and reports whether it was there.
func (r *Registry) Unregister(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.mods[id]
	delete(r.mods, id)
	return ok
}

// RemoveExtension removes every module of an extension and returns their ids.
func (r *Registry) RemoveExtension(ext string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, i := range r.mods {
		if i.Extension == ext {
			delete(r.mods, id)
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Get returns a module by id.
func (r *Registry) Get(id string) (Info, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	i, ok := r.mods[id]
	return i, ok
}

// List returns the modules whose id starts with prefix ("" for all), sorted by id.
func (r *Registry) List(prefix string) []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Info
	for id, i := range r.mods {
		if strings.HasPrefix(id, prefix) {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// Stage returns the stage with this id.
func (r *Registry) Stage(id string) (pipeline.Stage, error) {
	i, ok := r.Get(id)
	if !ok {
		return nil, fmt.Errorf("stage %s: %w", id, ErrNotFound)
	}
	s, ok := i.Module.(pipeline.Stage)
	if !ok {
		return nil, fmt.Errorf("module %s is not a stage: %w", id, ErrNotFound)
	}
	return s, nil
}

// Loader returns the loader with this id.
func (r *Registry) Loader(id string) (Loader, error) {
	i, ok := r.Get(id)
	if !ok {
		return nil, fmt.Errorf("loader %s: %w", id, ErrNotFound)
	}
	l, ok := i.Module.(Loader)
	if !ok {
		return nil, fmt.Errorf("module %s is not a loader: %w", id, ErrNotFound)
	}
	return l, nil
}

// Sidecar returns the generator of a sidecar kind ("thumb" or "sidecar.thumb").
func (r *Registry) Sidecar(kind string) (SidecarGenerator, error) {
	id := kind
	if !strings.HasPrefix(id, NSSidecar) {
		id = NSSidecar + kind
	}
	i, ok := r.Get(id)
	if !ok {
		return nil, fmt.Errorf("sidecar generator %s: %w", id, ErrNotFound)
	}
	g, ok := i.Module.(SidecarGenerator)
	if !ok {
		return nil, fmt.Errorf("module %s is not a sidecar generator: %w", id, ErrNotFound)
	}
	return g, nil
}
