// Package firstparty builds Cairn's first-party extensions (extensions/filetype, media, text,
// thumbnail, mediathumb) from the source tree, once per source change, into a cache folder, so
// that the built-in default pipeline runs them as real sandboxed extensions without committing
// any binary. WASM extensions are built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared,
// process extensions natively; a build is keyed by a BLAKE3 of the extension's sources, the SDK
// and go.mod/go.sum, so an edit rebuilds exactly what changed.
package firstparty

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// Dirs are the first-party extensions, relative to the source root.
var Dirs = []string{"extensions/filetype", "extensions/media", "extensions/text", "extensions/thumbnail", "extensions/mediathumb"}

// Built is a built first-party extension: Dir holds its manifest and its entry file.
type Built struct {
	Manifest *manifest.Manifest
	Dir      string
}

// Failure is an extension that could not be built.
type Failure struct {
	Dir string
	Err error
}

// SourceRoot returns the Cairn source tree: $CAIRN_SOURCE when set, else the tree this binary
// was compiled from (when it is still there).
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
		if _, err := os.Stat(filepath.Join(root, "internal", "firstparty", "firstparty.go")); err == nil {
			return root, nil
		}
	}
	return "", errors.New("the first-party extensions' sources are not available: set CAIRN_SOURCE to the Cairn source tree (they are built from it once), or install them with `cairn ext install`")
}

// Ensure returns every first-party extension built, building those whose sources changed into
// cacheDir (progress lines go to log). An extension that fails to build is reported in the
// failures and left out; the others are still returned.
func Ensure(ctx context.Context, root, cacheDir string, log io.Writer) ([]Built, []Failure) {
	common, err := commonHash(root)
	if err != nil {
		return nil, []Failure{{Dir: root, Err: err}}
	}
	var out []Built
	var fails []Failure
	for _, d := range Dirs {
		b, err := ensure(ctx, root, d, cacheDir, common, log)
		if err != nil {
			fails = append(fails, Failure{Dir: d, Err: err})
			continue
		}
		out = append(out, *b)
	}
	return out, fails
}

func ensure(ctx context.Context, root, rel, cacheDir string, common []byte, log io.Writer) (*Built, error) {
	src := filepath.Join(root, filepath.FromSlash(rel))
	mb, err := os.ReadFile(filepath.Join(src, manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", rel, err)
	}
	m, err := manifest.Parse(mb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	h := blake3.New()
	h.Write(common)
	if err := hashTree(h, src); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(h.Sum(nil))[:24]
	dir := filepath.Join(cacheDir, m.ID, m.Version+"-"+key)
	entry := filepath.Join(dir, filepath.FromSlash(m.Entry.File))
	if _, err := os.Stat(entry); err == nil {
		if m2, err := readManifest(dir); err == nil {
			return &Built{Manifest: m2, Dir: dir}, nil
		}
	}
	fmt.Fprintf(log, "building first-party extension %s %s (once per source change)…\n", m.ID, m.Version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp := entry + ".tmp"
	args := []string{"build", "-trimpath", "-o", tmp, "."}
	env := os.Environ()
	if m.Kind == manifest.KindWASM {
		args = []string{"build", "-trimpath", "-buildmode=c-shared", "-o", tmp, "."}
		env = append(env, "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = src, env
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("building %s: %w\n%s", m.ID, err, strings.TrimSpace(string(out)))
	}
	code, err := os.ReadFile(tmp)
	if err != nil {
		return nil, err
	}
	sum := blake3.Sum256(code)
	m.Entry.BLAKE3 = hex.EncodeToString(sum[:])
	if err := os.Rename(tmp, entry); err != nil {
		return nil, err
	}
	// The manifest is written last: its presence with the entry marks a complete build.
	if err := atomicfile.Write(filepath.Join(dir, manifest.FileName), mb, 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, "blake3"), []byte(m.Entry.BLAKE3+"\n"), 0o644); err != nil {
		return nil, err
	}
	return &Built{Manifest: m, Dir: dir}, nil
}

// readManifest reads a cached build's manifest and pins the entry's recorded BLAKE3.
func readManifest(dir string) (*manifest.Manifest, error) {
	mb, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, err
	}
	m, err := manifest.Parse(mb)
	if err != nil {
		return nil, err
	}
	sum, err := os.ReadFile(filepath.Join(dir, "blake3"))
	if err != nil {
		return nil, err
	}
	m.Entry.BLAKE3 = strings.TrimSpace(string(sum))
	return m, nil
}

// commonHash hashes what every extension build depends on: go.mod, go.sum, the SDK and the Go
// version.
func commonHash(root string) ([]byte, error) {
	h := blake3.New()
	h.Write([]byte(runtime.Version()))
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, fmt.Errorf("hashing the sources: %w", err)
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	for _, d := range []string{"sdk/cairn", "sdk/pdk", "sdk/plugin", "schemas/hostabi"} {
		if err := hashTree(h, filepath.Join(root, filepath.FromSlash(d))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}

// hashTree hashes the names and contents of the non-test Go and TOML files below dir.
func hashTree(h io.Writer, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != dir && (n == "testdata" || n == "dist" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		n := d.Name()
		if strings.HasSuffix(n, "_test.go") {
			return nil
		}
		if strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".toml") || strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".s") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hashing %s: %w", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("hashing %s: %w", f, err)
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return nil
}
