package firstparty

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// BuildFlags are the pinned flags of a reproducible WASM build: no paths, no VCS stamp, no
// build id, so the same sources and Go version give the same bytes on any machine.
var BuildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-ldflags=-buildid="}

// BuildEnv is the environment a WASM build adds to the caller's (which keeps PATH, HOME and the
// Go caches); settings that could change the output are pinned or cleared.
var BuildEnv = []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOEXPERIMENT=", "GOWASM=", "GOWORK=off"}

// BuildWASM compiles the WASM extension in root/rel to out with the pinned flags.
func BuildWASM(ctx context.Context, root, rel, out string) error {
	tmp := out + ".tmp"
	args := append(append([]string(nil), BuildFlags...), "-o", tmp, ".")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = filepath.Join(root, filepath.FromSlash(rel))
	cmd.Env = append(os.Environ(), BuildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building %s: %w\n%s", rel, err, strings.TrimSpace(string(b)))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("building %s: %w", rel, err)
	}
	return nil
}

// SourceHash is the BLAKE3 (hex) of what a build of root/rel depends on inside this module:
// the Go, assembly and embedded files of every package of the module it imports (as listed
// by `go list -deps` for its target platform), its manifest, and go.mod and go.sum, which
// pin every other module. It needs the go command.
func SourceHash(ctx context.Context, root, rel string, wasm bool) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-json=Dir,ImportPath,Standard,Module,GoFiles,SFiles,EmbedFiles", ".")
	cmd.Dir = filepath.Join(root, filepath.FromSlash(rel))
	cmd.Env = os.Environ()
	if wasm {
		cmd.Env = append(cmd.Env, BuildEnv...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("listing the sources of %s: %w\n%s", rel, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Dir, ImportPath             string
			Standard                    bool
			Module                      *struct{ Path string }
			GoFiles, SFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("listing the sources of %s: %w", rel, err)
		}
		if p.Standard || p.Module == nil || p.Module.Path != ModulePath {
			continue
		}
		for _, group := range [][]string{p.GoFiles, p.SFiles, p.EmbedFiles} {
			for _, f := range group {
				files = append(files, filepath.Join(p.Dir, f))
			}
		}
	}
	files = append(files, filepath.Join(root, filepath.FromSlash(rel), "cairn.toml"), filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	sort.Strings(files)
	h := blake3.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("hashing the sources of %s: %w", rel, err)
		}
		r, err := filepath.Rel(root, f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(r), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModulePath is Cairn's module path.
const ModulePath = "github.com/cairnfs/cairn"

// ReadSource reads the manifest of the extension in root/rel (its bytes and parsed) and its
// SourceHash: what both the generator and FromSource start from.
func ReadSource(ctx context.Context, root, rel string) (mb []byte, m *manifest.Manifest, sources string, err error) {
	mb, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(rel), manifest.FileName))
	if err != nil {
		return nil, nil, "", fmt.Errorf("reading the manifest of %s: %w", rel, err)
	}
	if m, err = manifest.Parse(mb); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", rel, err)
	}
	if sources, err = SourceHash(ctx, root, rel, m.Kind == manifest.KindWASM); err != nil {
		return nil, nil, "", err
	}
	return mb, m, sources, nil
}
