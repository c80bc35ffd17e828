// Command gen builds the first-party WASM extensions reproducibly into
// internal/firstparty/modules, copies every first-party manifest beside them and records the
// pins (modules/pins.json) that the cairn binary embeds. Run it with
//
//	go generate ./internal/firstparty
//
// from anywhere inside the Cairn module; it rewrites only what changed.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/internal/firstparty"
	"github.com/cairnfs/cairn/schemas/manifest"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go generate ./internal/firstparty   (or: go run ./internal/firstparty/gen)")
	}
	flag.Parse()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	modDir := filepath.Join(root, "internal", "firstparty", "modules")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		return err
	}
	pins := firstparty.Pins{Go: runtime.Version(),
		Build: strings.Join(firstparty.BuildEnv, " ") + " go " + strings.Join(firstparty.BuildFlags, " ")}
	keep := map[string]bool{firstparty.PinsFile: true}
	for _, rel := range firstparty.Dirs {
		p, err := one(ctx, root, rel, modDir)
		if err != nil {
			return err
		}
		pins.Modules = append(pins.Modules, *p)
		keep[filepath.Base(rel)] = true
	}
	// Folders of extensions that are no longer first-party go.
	ents, err := os.ReadDir(modDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(modDir, e.Name())); err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(pins, "", "  ")
	if err != nil {
		return err
	}
	return writeIfChanged(filepath.Join(modDir, firstparty.PinsFile), append(b, '\n'))
}

// one builds (WASM) and copies the manifest of the extension in root/rel.
func one(ctx context.Context, root, rel, modDir string) (*firstparty.Pinned, error) {
	mb, m, sources, err := firstparty.ReadSource(ctx, root, rel)
	if err != nil {
		return nil, err
	}
	wasm := m.Kind == manifest.KindWASM
	dst := filepath.Join(modDir, filepath.Base(rel))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	p := &firstparty.Pinned{Dir: rel, ID: m.ID, Version: m.Version, Kind: string(m.Kind), Sources: sources}
	if err := writeIfChanged(filepath.Join(dst, manifest.FileName), mb); err != nil {
		return nil, err
	}
	if !wasm {
		return p, nil // compiled into the cairn binary
	}
	p.Entry = m.Entry.File
	tmp, err := os.MkdirTemp("", "cairn-gen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, p.Entry)
	fmt.Fprintf(os.Stderr, "gen: building %s (%s)\n", m.ID, rel)
	if err := firstparty.BuildWASM(ctx, root, rel, built); err != nil {
		return nil, err
	}
	code, err := os.ReadFile(built)
	if err != nil {
		return nil, err
	}
	sum := blake3.Sum256(code)
	p.BLAKE3 = hex.EncodeToString(sum[:])
	return p, writeIfChanged(filepath.Join(dst, p.Entry), code)
}

func writeIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return atomicfile.Write(path, b, 0o644)
}
