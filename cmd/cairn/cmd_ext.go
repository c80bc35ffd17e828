package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/term"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/registry/extstore"
	"github.com/cairnfs/cairn/registry/resolve"
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
			"ext run FILE.wasm FUNCTION\tcall any Extism plugin's export (--input, --input-file, --config k=v; --stub-missing: stand-ins for host functions cairn does not provide)",
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

// extInstall installs (or updates) from a registry name, a package file or URL, or a project dir.
func extInstall(ctx context.Context, a *app, env *extEnv, src string, f extFlags, update bool) error {
	opts := cairnpkg.VerifyOptions{HostABI: abi.Version}
	var verified []*cairnpkg.Verified
	var cleanup []func() error
	defer func() {
		for _, c := range cleanup {
			c()
		}
	}()
	open := func(path string, allowUnknown bool) (*cairnpkg.Verified, error) {
		pkg, fh, err := cairnpkg.OpenFile(path)
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, fh.Close)
		o := opts
		o.AllowUnknownKey = allowUnknown
		return cairnpkg.Verify(pkg, env.keyring, o)
	}
	if !update && (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) {
		path, err := downloadPackage(ctx, src)
		if err != nil {
			return err
		}
		cleanup = append(cleanup, func() error { return os.Remove(path) })
		src = path
	}
	if st, err := os.Stat(src); err == nil && !update {
		path := src
		if st.IsDir() { // a project: build and pack it first
			_, p, err := extBuild(ctx, a, env, src) // env: a key created by the build is trusted for this install
			if err != nil {
				return err
			}
			path = p
		}
		v, err := open(path, f.trustNew || installedID(env, path))
		if err != nil {
			if errors.Is(err, cairnpkg.ErrUntrustedKey) {
				return fmt.Errorf("%w (pass --trust to trust this publisher)", err)
			}
			return err
		}
		verified = append(verified, v)
	} else {
		if f.registry == "" {
			return usagef("%s is not a file or folder; to install from a registry pass --registry URL (or set CAIRN_REGISTRY)", src)
		}
		client, err := registry.NewClient(f.registry)
		if err != nil {
			return err
		}
		idx, err := checkedIndex(ctx, a, env, client, f)
		if err != nil {
			return err
		}
		id, constraint, _ := strings.Cut(src, "@")
		installed, err := env.store.Versions()
		if err != nil {
			return err
		}
		before := maps.Clone(installed)
		if update {
			if _, ok := installed[id]; !ok {
				return fmt.Errorf("%s is not installed", id)
			}
			delete(installed, id)
		}
		plan, err := resolve.Resolve(idx, []resolve.Request{{ID: id, Constraint: constraint}}, installed, resolve.Options{HostABI: abi.Version})
		if err != nil {
			return err
		}
		if err := checkDowngrades(idx, plan.Changes(), before, f.allowDowngrade); err != nil {
			return err
		}
		for _, step := range plan.Changes() {
			dl, err := client.Fetch(ctx, step.ID, step.Release)
			if err != nil {
				return err
			}
			cleanup = append(cleanup, dl.Close)
			// An installed id is bound to its key by the install store (a new key needs
			// --accept-new-key there); a new id needs its key trusted, or --trust.
			_, isInstalled := before[step.ID]
			v, err := cairnpkg.Verify(dl.Package, env.keyring, cairnpkg.VerifyOptions{HostABI: abi.Version, AllowUnknownKey: f.trustNew || isInstalled})
			if err != nil {
				if errors.Is(err, cairnpkg.ErrUntrustedKey) {
					return fmt.Errorf("%w (pass --trust to trust this publisher)", err)
				}
				return err
			}
			verified = append(verified, v)
		}
		if len(verified) == 0 {
			fmt.Fprintf(a.stdout, "%s is up to date\n", id)
			return nil
		}
	}
	txn := env.store.Begin()
	same := map[string]bool{} // already installed as they are
	for _, v := range verified {
		m := v.Manifest
		prev, _ := env.store.Get(m.ID)
		uopts := extstore.UpdateOptions{AllowDowngrade: f.allowDowngrade, AcceptNewKey: f.acceptNewKey}
		if prev != nil {
			ch, err := env.store.DiffWith(v, uopts)
			if errors.Is(err, extstore.ErrAlreadyInstalled) && !f.force {
				fmt.Fprintf(a.stdout, "%s %s is already installed (the same package)\n", m.ID, m.Version)
				same[m.ID] = true
				continue
			}
			if (errors.Is(err, extstore.ErrSameVersionDiffers) || errors.Is(err, extstore.ErrAlreadyInstalled)) && f.force {
				uopts.Replace = true
				ch, err = env.store.DiffWith(v, uopts)
			} else if errors.Is(err, extstore.ErrSameVersionDiffers) {
				err = fmt.Errorf("%w\nbump the version in %s to install it as an update, or pass --force to replace the installed %s", err, manifest.FileName, m.Version)
			}
			switch {
			case errors.Is(err, extstore.ErrKeyChanged):
				err = fmt.Errorf("%w\nif you trust the new publisher with %s, pass --accept-new-key (its grants are reset: you grant them again)", err, m.ID)
			case errors.Is(err, extstore.ErrDowngrade):
				err = fmt.Errorf("%w (--allow-downgrade)", err)
			}
			if err != nil {
				txn.Abort()
				return err
			}
			switch {
			case uopts.Replace:
				fmt.Fprintf(a.stdout, "replace %s %s (--force: same version, different package)\n", m.ID, m.Version)
			case ch.Downgrade:
				fmt.Fprintf(a.stdout, "downgrade %s %s → %s (--allow-downgrade)\n", m.ID, prev.Version, m.Version)
			default:
				fmt.Fprintf(a.stdout, "update %s %s → %s\n", m.ID, prev.Version, m.Version)
			}
			if ch.KeyChanged {
				fmt.Fprintf(a.stdout, "  PUBLISHER KEY CHANGED (--accept-new-key):\n    old key %s  fingerprint %s\n    new key %s  fingerprint %s\n  grants are reset: nothing granted to %s %s carries over\n",
					ch.OldKey.ID, orDash(ch.OldKey.Fingerprint), ch.NewKey.ID, ch.NewKey.Fingerprint, m.ID, prev.Version)
			}
			printDiff(a.stdout, ch)
		} else {
			fmt.Fprintf(a.stdout, "install %s %s (%s, signed by %s%s)\n", m.ID, m.Version, m.Kind, v.KeyID, map[bool]string{true: "", false: ", newly trusted"}[v.KeyTrusted])
			for _, c := range v.Capabilities {
				fmt.Fprintf(a.stdout, "  requests %-16s %s%s\n", c.Name, c.Description, scopeText(c.Scope))
			}
		}
		if m.Kind == manifest.KindProcess {
			fmt.Fprintf(a.stdout, "  %s\n", nativeWarning)
			if !f.allowNative {
				txn.Abort()
				return fmt.Errorf("installing %s %s: %w: pass --allow-native to run its code with your rights", m.ID, m.Version, errNativeNeedsConsent)
			}
		}
		grants, err := chooseGrants(a, f, v)
		if err != nil {
			txn.Abort()
			return err
		}
		if prev != nil {
			_, err = txn.UpdateWith(v, grants, uopts)
		} else {
			_, err = txn.Install(v, grants)
		}
		if err != nil {
			txn.Abort()
			return err
		}
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	for _, v := range verified {
		if same[v.Manifest.ID] {
			continue
		}
		if !v.KeyTrusted && f.trustNew {
			if err := env.keyring.Add(v.Signature.PublicKey, "trusted at install of "+v.Manifest.ID); err != nil {
				return err
			}
			if err := env.keyring.Save(); err != nil {
				return fmt.Errorf("installed %s, but trusting its key: %w", v.Manifest.ID, err)
			}
		}
		g, _ := env.store.Grants(v.Manifest.ID)
		native := v.Manifest.Kind == manifest.KindProcess
		if f.json {
			a.jsonLine(map[string]any{"id": v.Manifest.ID, "version": v.Manifest.Version, "granted": g, "native": native})
		} else {
			note := ""
			if native {
				note = "; native code (--allow-native)"
			}
			fmt.Fprintf(a.stdout, "installed %s %s; granted: %s%s\n", v.Manifest.ID, v.Manifest.Version, orDash(strings.Join(g, ", ")), note)
		}
	}
	return nil
}

func scopeText(s manifest.Scope) string {
	var parts []string
	for _, p := range []struct {
		k string
		v []string
	}{{"locations", s.Locations}, {"globs", s.Globs}, {"kinds", s.Kinds}, {"types", s.Types}, {"hosts", s.Hosts}} {
		if len(p.v) > 0 {
			parts = append(parts, p.k+"="+strings.Join(p.v, ","))
		}
	}
	if s.Namespace != "" {
		parts = append(parts, "namespace="+s.Namespace)
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, " ") + "]"
}

func printDiff(w io.Writer, ch *extstore.Change) {
	if len(ch.Added)+len(ch.Removed)+len(ch.Changed) == 0 {
		fmt.Fprintln(w, "  capabilities unchanged")
	}
	for _, c := range ch.Added {
		fmt.Fprintf(w, "  + %s (new: not granted unless you grant it)\n", c)
	}
	for _, c := range ch.Changed {
		fmt.Fprintf(w, "  ~ %s (scope changed: grant it again to keep it)\n", c)
	}
	for _, c := range ch.Removed {
		fmt.Fprintf(w, "  - %s\n", c)
	}
}

// chooseGrants decides what to grant: --yes (all requested), --grant LIST, a prompt on a
// terminal, or nothing.
func chooseGrants(a *app, f extFlags, v *cairnpkg.Verified) ([]string, error) {
	var all []string
	for _, c := range v.Capabilities {
		all = append(all, c.Name)
	}
	switch {
	case f.yes:
		return all, nil
	case f.grant != "":
		return strings.Split(f.grant, ","), nil
	case len(all) == 0:
		return nil, nil
	}
	if fh, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(fh.Fd())) {
		fmt.Fprintf(a.stdout, "grant %s to %s? [y/N] ", strings.Join(all, ", "), v.Manifest.ID)
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y") {
			return all, nil
		}
	}
	fmt.Fprintf(a.stderr, "granting nothing to %s (use --yes, --grant, or `cairn ext grant`)\n", v.Manifest.ID)
	return nil, nil
}

// downloadPackage fetches a .cairnpkg from a URL into a temporary file (size-capped; the package
// is verified like any other before anything is installed).
func downloadPackage(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := registry.DefaultHTTPClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading %s: %s", url, resp.Status)
	}
	f, err := os.CreateTemp("", "cairn-download-*"+cairnpkg.Ext)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, cairnpkg.MaxPackageSize+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > cairnpkg.MaxPackageSize {
		err = fmt.Errorf("%s is larger than a package may be (%d bytes)", url, cairnpkg.MaxPackageSize)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	return f.Name(), nil
}

// nativeWarning is what the installer says about a native (kind "process") extension.
const nativeWarning = "native code: runs outside the WASM sandbox, with your user's rights except where the OS sandbox restricts it"

var errNativeNeedsConsent = errors.New("a native (process) extension needs explicit consent")

// installedID reports whether the package file at path holds an extension that is installed
// (its key is then checked against the one bound to the id by the install store).
func installedID(env *extEnv, path string) bool {
	pkg, fh, err := cairnpkg.OpenFile(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	_, err = env.store.Get(pkg.Manifest.ID)
	return err == nil
}

// checkedIndex fetches the registry's index and applies the trust policy (registry.Pins):
// the registry's key pinned on first use, no older, expired or re-keyed index; an unsigned one
// only from a local folder (with a warning) or with --allow-unsigned-index.
func checkedIndex(ctx context.Context, a *app, env *extEnv, client *registry.Client, f extFlags) (*registry.Index, error) {
	pins, err := registry.LoadPins(env.pinsPath)
	if err != nil {
		return nil, err
	}
	idx, v, err := client.CheckedIndex(ctx, pins, registry.Policy{AllowUnsigned: f.allowUnsigned})
	if err != nil {
		return nil, err
	}
	switch {
	case v.Unsigned:
		fmt.Fprintf(a.stderr, "warning: the index of %s is not signed: nothing protects it from being changed, rolled back or frozen (fine for a development folder)\n", client)
	case v.FirstUse:
		fmt.Fprintf(a.stderr, "registry %s: trusting its index key %s on first use (fingerprint %s); a different key will be refused\n",
			client, v.Pin.KeyID, cairnpkg.Fingerprint(v.Pin.PublicKey))
	}
	return idx, nil
}

// checkDowngrades refuses a plan that would install an older version of an installed extension
// (a registry that dropped its newest release must not roll it back) unless allowed.
func checkDowngrades(idx *registry.Index, steps []resolve.Step, installed map[string]string, allow bool) error {
	if allow {
		return nil
	}
	for _, st := range steps {
		have, ok := installed[st.ID]
		if !ok {
			continue
		}
		hv, err1 := semver.NewVersion(have)
		nv, err2 := semver.NewVersion(st.Version)
		if err1 != nil || err2 != nil || !nv.LessThan(hv) {
			continue
		}
		if _, err := idx.Lookup(st.ID, have); err != nil {
			newest := "nothing"
			if rs := idx.Releases(st.ID); len(rs) > 0 {
				newest = rs[0].Version
			}
			return fmt.Errorf("updating %s: the registry no longer lists %s; the newest it offers is %s, older than what is installed: refusing to downgrade (--allow-downgrade)", st.ID, have, newest)
		}
		return fmt.Errorf("updating %s: the newest release that fits is %s, older than the installed %s: refusing to downgrade (--allow-downgrade)", st.ID, st.Version, have)
	}
	return nil
}
