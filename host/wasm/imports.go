package wasm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ErrMissingImports is matched by a *MissingImportsError: the module imports host functions the
// host does not provide.
var ErrMissingImports = errors.New("the module imports host functions the host does not provide")

// MissingImportsError names every function a module imports that the host does not provide
// ("module.name", sorted), where wazero would only say that the first such module is "not
// instantiated".
type MissingImportsError struct {
	Module  string
	Missing []string
}

func (e *MissingImportsError) Error() string {
	return fmt.Sprintf("wasm module %s imports %d host function(s) that are not provided: %s", e.Module, len(e.Missing), strings.Join(e.Missing, ", "))
}

// Is makes errors.Is(err, ErrMissingImports) true.
func (e *MissingImportsError) Is(target error) bool { return target == ErrMissingImports }

// providedModules are import modules the host provides whole: WASI preview 1 (wazero defines every
// function of it) and Extism's kernel.
var providedModules = map[string]bool{"wasi_snapshot_preview1": true, "extism:host/env": true}

// missingImports compiles wasmBytes (rc carries the compilation cache, so the compile that follows
// in extism.NewCompiledPlugin is a cache hit) and returns the imported functions that neither a
// provided module nor funcs define.
func missingImports(ctx context.Context, rc wazero.RuntimeConfig, wasmBytes []byte, funcs []extism.HostFunction) ([]api.FunctionDefinition, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(context.WithoutCancel(ctx))
	cm, err := rt.CompileModule(ctx, wasmBytes)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, f := range funcs {
		have[f.Namespace+"\x00"+f.Name] = true
	}
	var out []api.FunctionDefinition
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		if !providedModules[mod] && !have[mod+"\x00"+name] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return importName(out[i]) < importName(out[j]) })
	return out, nil
}

func importName(d api.FunctionDefinition) string {
	mod, name, _ := d.Import()
	return mod + "." + name
}

// ErrStubCalled is returned (as the cause of an ErrTrap) by a call that reached a stubbed host
// function (ModuleSpec.StubMissing).
var ErrStubCalled = errors.New("called a host function that is not provided")

// stubs returns one host function per missing import, with its exact signature, that fails the
// call with an error naming it.
func stubs(missing []api.FunctionDefinition) []extism.HostFunction {
	out := make([]extism.HostFunction, 0, len(missing))
	for _, d := range missing {
		mod, name, _ := d.Import()
		full := mod + "." + name
		fn := extism.NewHostFunctionWithStack(name, func(context.Context, *extism.CurrentPlugin, []uint64) {
			// wazero recovers this panic and fails the guest's call with it.
			panic(fmt.Errorf("%w: %s (stubbed: it was missing when the module was loaded)", ErrStubCalled, full))
		}, d.ParamTypes(), d.ResultTypes())
		fn.SetNamespace(mod)
		out = append(out, fn)
	}
	return out
}
