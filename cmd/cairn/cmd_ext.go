package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/registry/extstore"
	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/scaffold"
)

func init() {
	register(command{name: "ext", summary: "create, build, test, install and manage extensions", run: runExt,
		usage: []string{
			"ext new NAME\tscaffold an extension project in ./NAME",
			"ext build [DIR]\tcompile the extension (wasm: GOOS=wasip1) and pack a signed .cairnpkg in DIR/dist",
			"ext test [DIR]\trun the extension's tests (its conformance suite)",
			"ext install SRC [--force]\tSRC: NAME[@VERSION] (from --registry), FILE.cairnpkg, URL, or a project DIR (--force: replace an installed package of the same version)",
			"ext update ID\tinstall the newest release from --registry, showing the capability diff (never older than what is installed unless --allow-downgrade)",
			"ext list\tinstalled extensions, their grants, and which run native code",
			"ext remove ID [--force]\tuninstall (refused while others depend on it, unless --force)",
			"ext grant ID CAP...\tgrant requested capabilities",
			"ext revoke ID CAP...\trevoke capabilities",
			"ext run FILE.wasm FUNCTION\tcall any Extism plugin's export (--input, --input-file, --config k=v; --max-output: print at most this much, default 1MiB; --stub-missing: stand-ins for host functions cairn does not provide)",
		},
		about: "Extensions add stages, loaders and sidecars to Cairn. They are installed per data directory " +
			"($CAIRN_HOME/extensions) from a registry, a .cairnpkg file, a URL or a project folder, and run with only the " +
			"capabilities you grant them. An extension id is bound to the publisher key that first installed it: an update " +
			"signed by another key needs --accept-new-key (which shows both keys and resets the grants). A native " +
			"(kind \"process\") extension runs outside the WASM sandbox and needs --allow-native. A registry's index key " +
			"is pinned on first use; an older, expired or re-keyed index is refused.",
		examples: []string{"cairn ext new hello && cairn ext build hello", "cairn ext install ./hello --yes", "cairn ext list --json"}})
}

// extEnv is the per-data-directory extension state: installed extensions, trusted publisher
// keys, and this user's own publisher key.
type extEnv struct {
	store    *extstore.Store
	keyring  *cairnpkg.Keyring
	keyPath  string
	pinsPath string // registries' pinned index keys and newest versions seen
}

func (a *app) extEnv() (*extEnv, error) {
	dir := filepath.Join(a.home.Dir, "extensions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	kr, err := cairnpkg.LoadKeyring(filepath.Join(a.home.Dir, "keys", "trusted.json"))
	if err != nil {
		return nil, err
	}
	return &extEnv{store: &extstore.Store{Dir: dir}, keyring: kr, keyPath: filepath.Join(a.home.Dir, "keys", "publisher.key"),
		pinsPath: registryPinsPath(a)}, nil
}

// publisherKey loads this user's signing key, creating it (and trusting it) on first use.
func (e *extEnv) publisherKey(stderr io.Writer) (ed25519.PrivateKey, error) {
	key, err := cairnpkg.LoadPrivateKey(e.keyPath)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(e.keyPath), 0o700); err != nil {
		return nil, err
	}
	pub, priv, err := cairnpkg.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := cairnpkg.SavePrivateKey(e.keyPath, priv); err != nil {
		return nil, err
	}
	if err := e.keyring.Add(pub, "this user's publisher key"); err != nil {
		return nil, err
	}
	if err := e.keyring.Save(); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "created publisher key %s at %s (trusted for installs on this machine)\n", cairnpkg.KeyID(pub), e.keyPath)
	return priv, nil
}

type extFlags struct {
	registry string
	yes      bool
	grant    string
	json     bool
	force    bool
	input    string
	inFile   string
	config   []string
	trustNew bool
	stubs    bool
	maxOut   string
	// explicit consents (see extstore.UpdateOptions and the registry trust model)
	allowDowngrade bool
	acceptNewKey   bool
	allowNative    bool
	allowUnsigned  bool
}

func runExt(ctx context.Context, a *app, args []string) error {
	fs := newFlags("ext", a)
	var f extFlags
	fs.StringVar(&f.registry, "registry", os.Getenv("CAIRN_REGISTRY"), "registry URL or folder")
	fs.BoolVar(&f.yes, "yes", false, "grant every requested capability without asking")
	fs.StringVar(&f.grant, "grant", "", "comma-separated capabilities to grant (default: ask, or none without a terminal)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.BoolVar(&f.force, "force", false, "remove: even when other extensions depend on it; install: replace an installed package of the same version")
	fs.StringVar(&f.input, "input", "", "run: input string")
	fs.StringVar(&f.inFile, "input-file", "", "run: read the input from a file")
	fs.BoolVar(&f.trustNew, "trust", false, "install: trust the package's publisher key if it is unknown")
	fs.StringVar(&f.maxOut, "max-output", "1MiB", "run: the most output printed (bytes, or with KiB, MiB, GiB); a larger output is an error")
	fs.BoolVar(&f.stubs, "stub-missing", false, "run: define the host functions the plugin imports and cairn does not provide as stubs that fail only when called")
	fs.BoolVar(&f.allowDowngrade, "allow-downgrade", false, "update: accept a release older than the installed one")
	fs.BoolVar(&f.acceptNewKey, "accept-new-key", false, "install/update: accept a package signed by another key than the one that installed the extension (its grants are reset)")
	fs.BoolVar(&f.allowNative, "allow-native", false, "install/update: accept a native (process) extension, which runs outside the WASM sandbox with your user's rights")
	fs.BoolVar(&f.allowUnsigned, "allow-unsigned-index", false, "install/update: accept a remote registry whose index is not signed")
	fs.Func("config", "run: a config key=value for the plugin (repeatable)", func(v string) error { f.config = append(f.config, v); return nil })
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing command: new, build, test, install, update, list, remove, grant, revoke or run")
	}
	arg := func(i int, what string) (string, error) {
		if len(pos) <= i {
			return "", usagef("cairn ext %s: missing %s", pos[0], what)
		}
		return pos[i], nil
	}
	dirArg := func() string {
		if len(pos) > 1 {
			return pos[1]
		}
		return "."
	}
	switch pos[0] {
	case "new":
		name, err := arg(1, "NAME")
		if err != nil {
			return err
		}
		if err := scaffold.Generate(name, filepath.Base(name)); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(name, "go.work")); errors.Is(err, os.ErrNotExist) {
			// No checkout: go.mod requires this binary's Cairn version from the module proxy.
			tidy := exec.CommandContext(ctx, "go", "mod", "tidy")
			tidy.Dir, tidy.Stdout, tidy.Stderr = name, a.stderr, a.stderr
			if err := tidy.Run(); err != nil {
				fmt.Fprintf(a.stderr, "cairn ext new: go mod tidy in %s: %v (run it there once you are online)\n", name, err)
			}
		}
		fmt.Fprintf(a.stdout, "created %s: cd %s && cairn ext build && cairn ext test && cairn ext install .\n", name, name)
		return nil
	case "build":
		_, pkg, err := extBuild(ctx, a, nil, dirArg())
		if err != nil {
			return err
		}
		if f.json {
			return a.jsonLine(map[string]string{"package": pkg})
		}
		fmt.Fprintf(a.stdout, "built %s\n", pkg)
		return nil
	case "test":
		cmd := exec.CommandContext(ctx, "go", "test", "./...")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dirArg(), a.stdout, a.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("extension tests failed: %w", err)
		}
		return nil
	case "run":
		file, err := arg(1, "FILE.wasm")
		if err != nil {
			return err
		}
		fn, err := arg(2, "FUNCTION")
		if err != nil {
			return err
		}
		return extRun(ctx, a, file, fn, f)
	}
	env, err := a.extEnv()
	if err != nil {
		return err
	}
	switch pos[0] {
	case "install":
		src, err := arg(1, "NAME[@VERSION], FILE, URL or DIR")
		if err != nil {
			return err
		}
		return extInstall(ctx, a, env, src, f, false)
	case "update":
		id, err := arg(1, "ID")
		if err != nil {
			return err
		}
		return extInstall(ctx, a, env, id, f, true)
	case "list":
		list, err := env.store.List()
		if err != nil {
			return err
		}
		for _, x := range list {
			native := x.Manifest.Kind == manifest.KindProcess
			if f.json {
				if err := a.jsonLine(map[string]any{"id": x.ID, "version": x.Version, "kind": x.Manifest.Kind, "native": native, "key_id": x.KeyID,
					"requested": requestedCaps(x.Manifest), "granted": x.Grants, "path": x.Path}); err != nil {
					return err
				}
				continue
			}
			note := ""
			if native {
				note = "  NATIVE: runs outside the WASM sandbox"
			}
			fmt.Fprintf(a.stdout, "%-32s %-10s %-8s granted: %s%s\n", x.ID, x.Version, x.Manifest.Kind, orDash(strings.Join(x.Grants, ", ")), note)
		}
		if len(list) == 0 && !f.json {
			fmt.Fprintln(a.stderr, "no extensions installed")
		}
		return nil
	case "remove":
		id, err := arg(1, "ID")
		if err != nil {
			return err
		}
		if err := env.store.Remove(id, f.force); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "removed %s\n", id)
		return nil
	case "grant", "revoke":
		id, err := arg(1, "ID")
		if err != nil {
			return err
		}
		if len(pos) < 3 {
			return usagef("cairn ext %s ID CAPABILITY...", pos[0])
		}
		for _, c := range pos[2:] {
			if pos[0] == "grant" {
				err = env.store.Grant(id, c)
			} else {
				err = env.store.Revoke(id, c)
			}
			if err != nil {
				return err
			}
		}
		g, err := env.store.Grants(id)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s granted: %s\n", id, orDash(strings.Join(g, ", ")))
		return nil
	}
	return usagef("unknown ext command %q", pos[0])
}

func requestedCaps(m *manifest.Manifest) []string {
	var out []string
	for c := range m.Capabilities {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// extBuild compiles the project in dir and packs it, signed with the user's publisher key
// (created and trusted in env on first use; nil env: the home's).
func extBuild(ctx context.Context, a *app, env *extEnv, dir string) (*manifest.Manifest, string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, "", fmt.Errorf("reading the manifest: %w (is %s an extension project?)", err, dir)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", m.Entry.File, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, a.stderr, a.stderr
	cmd.Env = os.Environ()
	if m.Kind == manifest.KindWASM {
		cmd.Args = []string{"go", "build", "-trimpath", "-buildmode=c-shared", "-o", m.Entry.File, "."}
		cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
	}
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("compiling %s: %w", m.ID, err)
	}
	if env == nil {
		if env, err = a.extEnv(); err != nil {
			return nil, "", err
		}
	}
	key, err := env.publisherKey(a.stderr)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		return nil, "", err
	}
	out := filepath.Join(dir, "dist", m.ID+"-"+m.Version+cairnpkg.Ext)
	m, err = cairnpkg.PackFile(dir, key, out)
	if err != nil {
		return nil, "", fmt.Errorf("packing %s: %w", dir, err)
	}
	return m, out, nil
}
