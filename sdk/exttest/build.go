package exttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles the Go package pkg (relative to dir, e.g. ".") into the
// WASM module out, as a WASI reactor for Extism hosts:
//
//	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -buildmode=c-shared -trimpath -o out pkg
//
// -trimpath makes the module reproducible, so its hash (which the manifest
// pins when packaged) does not depend on where it was built.
func Build(ctx context.Context, dir, pkg, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("exttest: build %s in %s: %w\n%s", pkg, dir, err, strings.TrimSpace(string(b)))
	}
	return nil
}
