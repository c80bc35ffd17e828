package firstparty

import (
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/schemas/manifest"
)

//go:generate go run ./gen

// embedded holds what `go generate` wrote: per extension a folder with its manifest (a copy of
// the source's cairn.toml) and, for WASM, its module; pins.json records how each was built.
//
//go:embed modules
var embedded embed.FS

// PinsFile is the generator's record, inside the modules folder.
const PinsFile = "pins.json"

// Pins is the content of pins.json.
type Pins struct {
	Go      string   `json:"go"`      // the Go version that built the modules
	Build   string   `json:"build"`   // the build command, for humans
	Modules []Pinned `json:"modules"` // in pipeline order
}

// Pinned is one first-party extension as the generator built it.
type Pinned struct {
	Dir     string `json:"dir"`     // source folder, relative to the module root
	ID      string `json:"id"`      // extension id
	Version string `json:"version"` // extension version
	Kind    string `json:"kind"`    // wasm | process
	Entry   string `json:"entry"`   // the module's file name (WASM only)
	BLAKE3  string `json:"blake3"`  // BLAKE3 of the module (WASM only)
	Sources string `json:"sources"` // SourceHash of what the build depends on
}

// Module is an embedded first-party extension.
type Module struct {
	Pinned
	// Manifest is the extension's manifest, its entry pinned to the embedded module.
	Manifest *manifest.Manifest
	// Wasm is the module (kind wasm); nil for a native extension.
	Wasm []byte
	// Path is a native extension's binary when built from source (FromSource); empty when the
	// cairn binary itself serves it (Serve, NativeExec).
	Path string
}

var (
	loadOnce sync.Once
	loaded   []Module
	loadErr  error
)

// Embedded returns the first-party extensions embedded in this binary, in pipeline order.
func Embedded() ([]Module, error) {
	loadOnce.Do(func() { loaded, loadErr = readEmbedded() })
	return loaded, loadErr
}

// Manifests returns the manifests of the embedded first-party extensions.
func Manifests() ([]*manifest.Manifest, error) {
	mods, err := Embedded()
	if err != nil {
		return nil, err
	}
	out := make([]*manifest.Manifest, len(mods))
	for i, m := range mods {
		out[i] = m.Manifest
	}
	return out, nil
}

// ReadPins reads the embedded pins.json.
func ReadPins() (*Pins, error) {
	b, err := embedded.ReadFile(path.Join("modules", PinsFile))
	if err != nil {
		return nil, fmt.Errorf("reading the embedded first-party pins: %w (run go generate ./internal/firstparty)", err)
	}
	var p Pins
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading the embedded first-party pins: %w", err)
	}
	return &p, nil
}

func readEmbedded() ([]Module, error) {
	pins, err := ReadPins()
	if err != nil {
		return nil, err
	}
	var out []Module
	for _, p := range pins.Modules {
		folder := path.Join("modules", path.Base(p.Dir))
		mb, err := embedded.ReadFile(path.Join(folder, manifest.FileName))
		if err != nil {
			return nil, fmt.Errorf("reading the embedded manifest of %s: %w", p.ID, err)
		}
		m, err := manifest.Parse(mb)
		if err != nil {
			return nil, fmt.Errorf("reading the embedded manifest of %s: %w", p.ID, err)
		}
		mod := Module{Pinned: p, Manifest: m}
		if m.Kind == manifest.KindWASM {
			if mod.Wasm, err = embedded.ReadFile(path.Join(folder, p.Entry)); err != nil {
				return nil, fmt.Errorf("reading the embedded module of %s: %w", p.ID, err)
			}
			sum := blake3.Sum256(mod.Wasm)
			if got := hex.EncodeToString(sum[:]); got != p.BLAKE3 {
				return nil, fmt.Errorf("embedded module of %s has BLAKE3 %s, pins.json says %s (run go generate ./internal/firstparty)", p.ID, got, p.BLAKE3)
			}
			m.Entry.BLAKE3 = p.BLAKE3
		}
		out = append(out, mod)
	}
	return out, nil
}
