package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/term"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/registry/extstore"
	"github.com/cairnfs/cairn/registry/resolve"
	"github.com/cairnfs/cairn/schemas/manifest"
)

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
