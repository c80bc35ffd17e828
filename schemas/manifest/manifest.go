package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
)

// FileName is the manifest's name inside an extension folder and a package.
const FileName = "cairn.toml"

// Kinds of extension.
const (
	KindWASM    = "wasm"
	KindProcess = "process"
)

// Manifest is an extension's manifest.
type Manifest struct {
	ID          string   `toml:"id" json:"id"`
	Name        string   `toml:"name" json:"name"`
	Version     string   `toml:"version" json:"version"`
	Description string   `toml:"description,omitempty" json:"description,omitempty"`
	Authors     []string `toml:"authors,omitempty" json:"authors,omitempty"`
	License     string   `toml:"license,omitempty" json:"license,omitempty"`
	// ABI is the range of host ABI versions the extension speaks, e.g. ">=1.0, <2.0".
	ABI string `toml:"abi" json:"abi"`
	// Kernel is the range of Cairn kernel versions it needs, e.g. ">=0.1".
	Kernel string `toml:"kernel" json:"kernel"`
	Kind   string `toml:"kind" json:"kind"`
	Entry  Entry  `toml:"entry" json:"entry"`
	// Capabilities requested, by name (see Capabilities for the vocabulary).
	Capabilities map[string]Scope `toml:"capabilities,omitempty" json:"capabilities,omitempty"`
	Contributes  Contributions    `toml:"contributes,omitempty" json:"contributes,omitempty"`
	// Config is a JSON Schema (as a TOML table) for the extension's configuration.
	Config       map[string]any `toml:"config,omitempty" json:"config,omitempty"`
	Models       []Model        `toml:"models,omitempty" json:"models,omitempty"`
	Exports      []string       `toml:"exports,omitempty" json:"exports,omitempty"`
	Dependencies []Dependency   `toml:"dependencies,omitempty" json:"dependencies,omitempty"`
}

// Entry is the module file and its BLAKE3 hash (hex).
type Entry struct {
	File   string `toml:"file" json:"file"`
	BLAKE3 string `toml:"blake3,omitempty" json:"blake3,omitempty"`
}

// Scope narrows a capability. Empty fields mean the capability's default (its own namespace, or
// nothing for the ones that need a scope).
type Scope struct {
	Locations []string `toml:"locations,omitempty" json:"locations,omitempty"` // entries.read, content.read
	Globs     []string `toml:"globs,omitempty" json:"globs,omitempty"`         // entries.read, content.read
	Kinds     []string `toml:"kinds,omitempty" json:"kinds,omitempty"`         // sidecars.write
	Types     []string `toml:"types,omitempty" json:"types,omitempty"`         // events.subscribe, events.emit
	Hosts     []string `toml:"hosts,omitempty" json:"hosts,omitempty"`         // net
	Namespace string   `toml:"namespace,omitempty" json:"namespace,omitempty"` // metadata.write, tags.write
}

// Contributions are what the extension adds to Cairn.
type Contributions struct {
	Stages   []Stage   `toml:"stages,omitempty" json:"stages,omitempty"`
	Loaders  []Loader  `toml:"loaders,omitempty" json:"loaders,omitempty"`
	Sidecars []Sidecar `toml:"sidecars,omitempty" json:"sidecars,omitempty"`
	Agents   []Agent   `toml:"agents,omitempty" json:"agents,omitempty"`
	Queries  []Query   `toml:"queries,omitempty" json:"queries,omitempty"`
}

// Stage is a pipeline stage the extension implements.
type Stage struct {
	ID       string   `toml:"id" json:"id"`         // namespaced: "stage.<name>"
	Export   string   `toml:"export" json:"export"` // the module function that processes a batch
	Version  int      `toml:"version" json:"version"`
	Consumes []string `toml:"consumes,omitempty" json:"consumes,omitempty"`
	Produces []string `toml:"produces,omitempty" json:"produces,omitempty"`
	Filter   Filter   `toml:"filter,omitempty" json:"filter,omitempty"`
	Batch    int      `toml:"batch,omitempty" json:"batch,omitempty"`
}

// Filter selects the contents a stage sees.
type Filter struct {
	Kinds   []string `toml:"kinds,omitempty" json:"kinds,omitempty"`
	Mimes   []string `toml:"mimes,omitempty" json:"mimes,omitempty"`
	Globs   []string `toml:"globs,omitempty" json:"globs,omitempty"`
	MinSize int64    `toml:"min_size,omitempty" json:"min_size,omitempty"`
	MaxSize int64    `toml:"max_size,omitempty" json:"max_size,omitempty"`
}

// Loader is a file-type loader.
type Loader struct {
	ID     string   `toml:"id" json:"id"` // "loader.<name>"
	Export string   `toml:"export" json:"export"`
	Mimes  []string `toml:"mimes,omitempty" json:"mimes,omitempty"`
}

// Sidecar is a sidecar kind the extension generates.
type Sidecar struct {
	Kind     string   `toml:"kind" json:"kind"`
	Variants []string `toml:"variants,omitempty" json:"variants,omitempty"`
	Format   string   `toml:"format,omitempty" json:"format,omitempty"`
	Export   string   `toml:"export" json:"export"`
}

// Agent reacts to events.
type Agent struct {
	ID     string   `toml:"id" json:"id"`
	Export string   `toml:"export" json:"export"`
	Events []string `toml:"events" json:"events"`
}

// Query is a CLI-visible query (`cairn ext query EXT NAME`).
type Query struct {
	Name        string `toml:"name" json:"name"`
	Export      string `toml:"export" json:"export"`
	Description string `toml:"description,omitempty" json:"description,omitempty"`
}

// Model is a table the extension owns; the kernel creates it as <ext>_<name> from this schema.
type Model struct {
	Name    string   `toml:"name" json:"name"`
	Columns []Column `toml:"columns" json:"columns"`
	Sync    bool     `toml:"sync,omitempty" json:"sync,omitempty"`
}

// Column of a model. Types: text, integer, real, blob, bool, uuid, time.
type Column struct {
	Name     string `toml:"name" json:"name"`
	Type     string `toml:"type" json:"type"`
	Nullable bool   `toml:"nullable,omitempty" json:"nullable,omitempty"`
	Index    bool   `toml:"index,omitempty" json:"index,omitempty"`
}

// Dependency on another extension (optionally on a contract it exports).
type Dependency struct {
	ID       string `toml:"id" json:"id"`
	Version  string `toml:"version" json:"version"` // semver range
	Contract string `toml:"contract,omitempty" json:"contract,omitempty"`
}

// Capabilities is the vocabulary of capability names (DESIGN.md "Extensions").
var Capabilities = map[string]string{
	"entries.read":     "list and query entries (scoped by locations and globs)",
	"content.read":     "read file bytes (scoped by locations and globs)",
	"content.type":     "set the file type, MIME type and kind of contents",
	"sidecars.write":   "write sidecars of the given kinds",
	"tags.write":       "apply tags",
	"metadata.write":   "write user metadata in its own namespace",
	"jobs.dispatch":    "start jobs and report their progress",
	"actions.propose":  "propose actions to the user",
	"events.subscribe": "receive events of the given types",
	"events.emit":      "emit events of the given types",
	"models.own":       "own tables declared in the manifest",
	"net":              "make HTTP requests to the given hosts",
	"kv":               "a private key-value store",
	"media.decode":     "decode and resize images in the host",
}

var (
	idRE     = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$`)
	nameRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	exportRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hexRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ErrInvalid wraps every validation failure.
var ErrInvalid = errors.New("invalid manifest")

// Parse decodes and validates a manifest. Decoding errors name the line; unknown keys are errors
// (a typo in a capability must not silently drop it).
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: line %d: %s", ErrInvalid, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, 0, len(und))
		for _, k := range und {
			if !strings.HasPrefix(k.String(), "config.") { // the config schema is free-form
				keys = append(keys, k.String())
			}
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("%w: unknown keys: %s", ErrInvalid, strings.Join(keys, ", "))
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks every field and reports all problems at once.
func (m *Manifest) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !idRE.MatchString(m.ID) {
		bad("id %q: want reverse-DNS, lowercase (e.g. dev.example.hello)", m.ID)
	}
	if m.Name == "" {
		bad("name: required")
	}
	if _, err := semver.StrictNewVersion(m.Version); err != nil {
		bad("version %q: want semver MAJOR.MINOR.PATCH", m.Version)
	}
	if _, err := semver.NewConstraint(m.ABI); err != nil || m.ABI == "" {
		bad("abi %q: want a version range such as \">=1.0, <2.0\"", m.ABI)
	}
	if m.Kernel != "" {
		if _, err := semver.NewConstraint(m.Kernel); err != nil {
			bad("kernel %q: want a version range", m.Kernel)
		}
	}
	if m.Kind != KindWASM && m.Kind != KindProcess {
		bad("kind %q: want %q or %q", m.Kind, KindWASM, KindProcess)
	}
	if m.Entry.File == "" || strings.Contains(m.Entry.File, "..") || strings.HasPrefix(m.Entry.File, "/") {
		bad("entry.file %q: want a relative file name inside the extension", m.Entry.File)
	}
	if m.Entry.BLAKE3 != "" && !hexRE.MatchString(m.Entry.BLAKE3) {
		bad("entry.blake3: want 64 lowercase hex characters")
	}
	for _, c := range sortedKeys(m.Capabilities) {
		if _, ok := Capabilities[c]; !ok {
			bad("capabilities.%s: unknown capability (known: %s)", c, strings.Join(sortedKeys(Capabilities), ", "))
		}
	}
	seen := map[string]bool{}
	dup := func(kind, id string) {
		if seen[kind+id] {
			bad("%s %q declared twice", kind, id)
		}
		seen[kind+id] = true
	}
	for i, s := range m.Contributes.Stages {
		if !strings.HasPrefix(s.ID, "stage.") || len(s.ID) < 7 {
			bad("contributes.stages[%d].id %q: want \"stage.<name>\"", i, s.ID)
		}
		if !exportRE.MatchString(s.Export) {
			bad("contributes.stages[%d].export %q: want a function name", i, s.Export)
		}
		if s.Version < 1 {
			bad("contributes.stages[%d].version: want ≥ 1", i)
		}
		dup("stage", s.ID)
	}
	for i, l := range m.Contributes.Loaders {
		if !strings.HasPrefix(l.ID, "loader.") || !exportRE.MatchString(l.Export) {
			bad("contributes.loaders[%d]: want id \"loader.<name>\" and an export", i)
		}
		dup("loader", l.ID)
	}
	for i, s := range m.Contributes.Sidecars {
		if !nameRE.MatchString(s.Kind) || !exportRE.MatchString(s.Export) {
			bad("contributes.sidecars[%d]: want a lowercase kind and an export", i)
		}
		dup("sidecar", s.Kind)
	}
	for i, a := range m.Contributes.Agents {
		if a.ID == "" || !exportRE.MatchString(a.Export) || len(a.Events) == 0 {
			bad("contributes.agents[%d]: want id, export and events", i)
		}
	}
	for i, q := range m.Contributes.Queries {
		if !nameRE.MatchString(q.Name) || !exportRE.MatchString(q.Export) {
			bad("contributes.queries[%d]: want a lowercase name and an export", i)
		}
	}
	colTypes := map[string]bool{"text": true, "integer": true, "real": true, "blob": true, "bool": true, "uuid": true, "time": true}
	for i, md := range m.Models {
		if !nameRE.MatchString(md.Name) {
			bad("models[%d].name %q: want lowercase letters, digits, _", i, md.Name)
		}
		if len(md.Columns) == 0 {
			bad("models[%d]: no columns", i)
		}
		for j, c := range md.Columns {
			if !nameRE.MatchString(c.Name) || !colTypes[c.Type] {
				bad("models[%d].columns[%d]: want a lowercase name and a type (text, integer, real, blob, bool, uuid, time)", i, j)
			}
		}
		dup("model", md.Name)
	}
	if len(m.Models) > 0 {
		if _, ok := m.Capabilities["models.own"]; !ok {
			bad("models: declaring models needs the models.own capability")
		}
	}
	for i, d := range m.Dependencies {
		if !idRE.MatchString(d.ID) {
			bad("dependencies[%d].id %q: want reverse-DNS", i, d.ID)
		}
		if _, err := semver.NewConstraint(d.Version); err != nil || d.Version == "" {
			bad("dependencies[%d].version %q: want a version range", i, d.Version)
		}
		if d.ID == m.ID {
			bad("dependencies[%d]: an extension cannot depend on itself", i)
		}
	}
	if len(m.Config) > 0 {
		if _, err := m.ConfigSchema(); err != nil {
			bad("config: %v", err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// SupportsABI reports whether the manifest's ABI range admits the host ABI version v (e.g. "1.0").
func (m *Manifest) SupportsABI(v string) (bool, error) {
	c, err := semver.NewConstraint(m.ABI)
	if err != nil {
		return false, err
	}
	hv, err := semver.NewVersion(v)
	if err != nil {
		return false, err
	}
	return c.Check(hv), nil
}

// Encode writes the manifest as TOML.
func (m *Manifest) Encode() ([]byte, error) {
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(m); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// CapabilityDiff lists capabilities added and removed between two manifests (for updates).
func CapabilityDiff(old, new *Manifest) (added, removed, changed []string) {
	for _, c := range sortedKeys(new.Capabilities) {
		o, ok := old.Capabilities[c]
		switch {
		case !ok:
			added = append(added, c)
		case fmt.Sprint(o) != fmt.Sprint(new.Capabilities[c]):
			changed = append(changed, c)
		}
	}
	for _, c := range sortedKeys(old.Capabilities) {
		if _, ok := new.Capabilities[c]; !ok {
			removed = append(removed, c)
		}
	}
	return
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
