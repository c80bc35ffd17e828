package firstparty

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// Dirs are the first-party extensions, relative to the source root, in pipeline order.
var Dirs = []string{"extensions/filetype", "extensions/media", "extensions/text", "extensions/thumbnail", "extensions/mediathumb"}

// Failure is an extension that could not be built.
type Failure struct {
	Dir string
	Err error
}

// SourceRoot returns the Cairn source tree for developer builds: $CAIRN_SOURCE when set, else
// the tree this binary was compiled from (when it is still there and the binary was not built
// with -trimpath).
func SourceRoot() (string, error) {
	if d := os.Getenv("CAIRN_SOURCE"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err != nil {
			return "", fmt.Errorf("CAIRN_SOURCE=%s is not the Cairn source tree: %w", d, err)
		}
		return d, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
		if _, err := os.Stat(filepath.Join(root, "internal", "firstparty", "source.go")); err == nil {
			return root, nil
		}
	}
	return "", errors.New("building the first-party extensions from source needs the Cairn source tree: set CAIRN_SOURCE to it")
}

// FromSource builds every first-party extension from the source tree root into cacheDir,
// once per source change (keyed by SourceHash), and returns them as modules; native ones get
// Path, their binary. Progress lines go to log. An extension that fails to build is reported
// in the failures and left out. It needs the go command.
func FromSource(ctx context.Context, root, cacheDir string, log io.Writer) ([]Module, []Failure) {
	var out []Module
	var fails []Failure
	for _, d := range Dirs {
		m, err := fromSource(ctx, root, d, cacheDir, log)
		if err != nil {
			fails = append(fails, Failure{Dir: d, Err: err})
			continue
		}
		out = append(out, *m)
	}
	return out, fails
}

func fromSource(ctx context.Context, root, rel, cacheDir string, log io.Writer) (*Module, error) {
	src := filepath.Join(root, filepath.FromSlash(rel))
	_, m, sources, err := ReadSource(ctx, root, rel)
	if err != nil {
		return nil, err
	}
	wasm := m.Kind == manifest.KindWASM
	dir := filepath.Join(cacheDir, m.ID, m.Version+"-"+sources[:24])
	entry := filepath.Join(dir, filepath.FromSlash(m.Entry.File))
	mod := &Module{Pinned: Pinned{Dir: rel, ID: m.ID, Version: m.Version, Kind: string(m.Kind), Entry: m.Entry.File, Sources: sources}, Manifest: m}
	if sum, err := os.ReadFile(filepath.Join(dir, "blake3")); err == nil {
		if _, err := os.Stat(entry); err == nil {
			mod.BLAKE3 = strings.TrimSpace(string(sum))
			return mod.finish(entry)
		}
	}
	fmt.Fprintf(log, "building first-party extension %s %s from source (once per source change)…\n", m.ID, m.Version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if wasm {
		err = BuildWASM(ctx, root, rel, entry)
	} else {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", entry+".tmp", ".")
		cmd.Dir = src
		if b, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("building %s: %w\n%s", rel, berr, strings.TrimSpace(string(b)))
		} else {
			err = os.Rename(entry+".tmp", entry)
		}
	}
	if err != nil {
		return nil, err
	}
	code, err := os.ReadFile(entry)
	if err != nil {
		return nil, err
	}
	sum := blake3.Sum256(code)
	mod.BLAKE3 = hex.EncodeToString(sum[:])
	// The pin is written last: its presence with the entry marks a complete build.
	if err := atomicfile.Write(filepath.Join(dir, "blake3"), []byte(mod.BLAKE3+"\n"), 0o644); err != nil {
		return nil, err
	}
	return mod.finish(entry)
}

// finish loads a cached build: WASM bytes into Wasm, a native binary's path into Path.
func (m *Module) finish(entry string) (*Module, error) {
	m.Manifest.Entry.BLAKE3 = m.BLAKE3
	if m.Manifest.Kind != manifest.KindWASM {
		m.Path = entry
		return m, nil
	}
	code, err := os.ReadFile(entry)
	if err != nil {
		return nil, err
	}
	m.Wasm = code
	return m, nil
}
