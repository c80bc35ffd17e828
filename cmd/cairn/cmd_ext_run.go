package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/wasm"
)

// parseBytes reads a size: a number of bytes, or one with a KiB, MiB or GiB suffix (K, M, G
// alike).
func parseBytes(s string) (int, error) {
	num, mult := strings.TrimSpace(s), 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("want a positive number of bytes, e.g. 1048576 or 16MiB")
	}
	return n * mult, nil
}

// extRun calls one export of any Extism plugin (not only Cairn extensions) and prints its output.
// Plugins get no files, no network and the default limits; cairn:host/v1 calls answer
// "unavailable". A plugin importing other host functions (extism:host/user …, which its own host
// application would define) does not load, with the list of them, unless f.stubs stands in a stub
// for each that fails the call reaching it. Compiled modules are cached under $CAIRN_HOME/cache/wasm.
// The output is printed only up to f.maxOut (default 1 MiB); a larger one is an error.
func extRun(ctx context.Context, a *app, file, fn string, f extFlags) error {
	maxOut, err := parseBytes(f.maxOut)
	if err != nil {
		return usagef("--max-output %q: %v", f.maxOut, err)
	}
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
	x := ext.New(filepath.Base(file), mod, ext.Limits{MaxOutput: maxOut}, nil)
	out, err := x.Call(ctx, fn, input)
	if errors.Is(err, ext.ErrOutputTooLarge) {
		return fmt.Errorf("calling %s: %w (raise it with --max-output)", fn, err)
	}
	if err != nil {
		return fmt.Errorf("calling %s: %w", fn, err)
	}
	a.stdout.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(a.stdout)
	}
	return nil
}
