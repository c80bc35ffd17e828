package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnfs/cairn/host/wasm"
)

// extRun calls one export of any Extism plugin (not only Cairn extensions) and prints its output.
// Plugins get no files, no network and the default limits; cairn:host/v1 calls answer
// "unavailable". A plugin importing other host functions (extism:host/user …, which its own host
// application would define) does not load, with the list of them, unless f.stubs stands in a stub
// for each that fails the call reaching it. Compiled modules are cached under $CAIRN_HOME/cache/wasm.
func extRun(ctx context.Context, a *app, file, fn string, f extFlags) error {
	wasmBytes, err := wasm.ReadModule(file)
	if err != nil {
		return err
	}
	input := []byte(f.input)
	if f.inFile != "" {
		if input, err = os.ReadFile(f.inFile); err != nil {
			return err
		}
	}
	cfg := map[string]string{}
	for _, kv := range f.config {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--config %q: want key=value", kv)
		}
		cfg[k] = v
	}
	rt, err := wasm.NewRuntime(wasm.Config{CacheDir: filepath.Join(a.home.Dir, "cache", "wasm")})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	mod, err := rt.Load(ctx, wasm.ModuleSpec{Name: filepath.Base(file), Wasm: wasmBytes, Config: cfg, StubMissing: f.stubs})
	if errors.Is(err, wasm.ErrMissingImports) {
		return fmt.Errorf("loading %s: %w\n(cairn provides WASI, Extism's kernel and cairn:host/v1 call; run with --stub-missing to call the exports that do not use the others: they fail if called)", file, err)
	}
	if err != nil {
		return fmt.Errorf("loading %s: %w", file, err)
	}
	defer mod.Close(context.Background())
	if !mod.HasExport(fn) {
		return fmt.Errorf("%s has no export %q (exports: %s)", file, fn, strings.Join(mod.Exports(), ", "))
	}
	out, err := mod.Run(ctx, fn, input)
	if err != nil {
		return fmt.Errorf("calling %s: %w", fn, err)
	}
	a.stdout.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(a.stdout)
	}
	return nil
}
