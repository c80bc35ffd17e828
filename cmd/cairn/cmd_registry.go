package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/registry/cairnpkg"
)

func init() {
	register(command{name: "registry", summary: "build, sign and serve a registry; forget a registry's pinned key", run: runRegistry,
		usage: []string{
			"registry index DIR [--key FILE | --unsigned] [--expires DURATION]\t(re)build DIR/index.json, signed with the registry key, at the next version",
			"registry sign DIR [--key FILE] [--expires DURATION]\tre-sign DIR/index.json as it is, at the next version (before it expires)",
			"registry serve DIR [--addr HOST:PORT]\tserve DIR read-only over HTTP until interrupted (builds index.json first only if there is none)",
			"registry trust SOURCE KEY.pub\tpin a registry's index key before first use (else it is trusted on first use, and shown)",
			"registry forget SOURCE\tforget the index key and version pinned for a registry (after it rotated its key)",
		},
		about: "A registry is a folder of .cairnpkg files plus index.json; `cairn ext install --registry` installs from it. " +
			"The index is signed by a registry key (default: $CAIRN_HOME/keys/registry.key, created on first use) and carries " +
			"a version counter and an expiry (default 720h): clients pin the key on first use and refuse an older, expired or " +
			"re-keyed index. --unsigned builds an unsigned index, for a local development folder.",
		examples: []string{"cairn registry index ./registry", "cairn registry serve ./registry --addr 127.0.0.1:8787",
			"cairn registry sign ./registry --expires 168h"}})
}

// registryPinsPath is where the CLI keeps registry.Pins.
func registryPinsPath(a *app) string { return filepath.Join(a.home.Dir, "keys", "registries.json") }

func runRegistry(ctx context.Context, a *app, args []string) error {
	fs := newFlags("registry", a)
	addr := fs.String("addr", "127.0.0.1:8787", "serve: address to listen on")
	asJSON := fs.Bool("json", false, "print JSON")
	keyFile := fs.String("key", "", "index, sign: the registry's private key (default $CAIRN_HOME/keys/registry.key, created on first use)")
	unsigned := fs.Bool("unsigned", false, "index: do not sign (clients accept it only from a local folder, or with --allow-unsigned-index)")
	ttl := fs.Duration("expires", registry.DefaultIndexTTL, "index, sign: how long the signed index is valid")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 3 && pos[0] == "trust" {
		return registryTrust(a, pos[1], pos[2])
	}
	if len(pos) != 2 {
		return usagef("usage: cairn registry index DIR | sign DIR | serve DIR | trust SOURCE KEY.pub | forget SOURCE")
	}
	if pos[0] == "forget" {
		return registryForget(a, pos[1])
	}
	dir := pos[1]
	opts := registry.BuildOptions{TTL: *ttl}
	if *ttl <= 0 {
		return usagef("--expires %s: want a positive duration", *ttl)
	}
	loadKey := func() error {
		k, err := registryKey(a, *keyFile)
		opts.Key = k
		return err
	}
	var idx *registry.Index
	switch pos[0] {
	case "index":
		if !*unsigned {
			if err := loadKey(); err != nil {
				return err
			}
		}
		if idx, err = registry.BuildIndexWith(dir, opts); err != nil {
			return fmt.Errorf("building the index of %s: %w", dir, err)
		}
	case "sign":
		if err := loadKey(); err != nil {
			return err
		}
		if idx, err = registry.SignIndexDir(dir, opts); err != nil {
			return err
		}
	case "serve":
		idx, err = registry.ReadIndexFile(filepath.Join(dir, registry.IndexFile))
		if errors.Is(err, os.ErrNotExist) {
			if !*unsigned {
				if err := loadKey(); err != nil {
					return err
				}
			}
			idx, err = registry.BuildIndexWith(dir, opts)
		}
		if err != nil {
			return fmt.Errorf("serving %s: %w", dir, err)
		}
	default:
		return usagef("usage: cairn registry index DIR | sign DIR | serve DIR | trust SOURCE KEY.pub | forget SOURCE")
	}
	n := 0
	for _, id := range idx.IDs() {
		n += len(idx.Extensions[id].Versions)
	}
	info := map[string]any{"dir": dir, "extensions": len(idx.Extensions), "releases": n, "version": idx.Version, "signed": idx.Signature != nil}
	desc := fmt.Sprintf("%d extensions, %d releases, index version %d, unsigned", len(idx.Extensions), n, idx.Version)
	if s := idx.Signature; s != nil {
		info["key_id"], info["expires"] = s.KeyID, idx.Expires
		desc = fmt.Sprintf("%d extensions, %d releases, index version %d, signed by %s, expires %s",
			len(idx.Extensions), n, idx.Version, s.KeyID, idx.Expires.Format(time.RFC3339))
	}
	if pos[0] != "serve" {
		if *asJSON {
			return a.jsonLine(info)
		}
		verb := map[string]string{"index": "indexed", "sign": "signed"}[pos[0]]
		fmt.Fprintf(a.stdout, "%s %s: %s\n", verb, dir, desc)
		return nil
	}
	if idx.Signature != nil && !time.Now().Before(idx.Expires) {
		fmt.Fprintf(a.stderr, "warning: the index of %s expired at %s: clients refuse it until you run `cairn registry sign %s`\n", dir, idx.Expires.Format(time.RFC3339), dir)
	}
	return serveRegistry(ctx, a, dir, *addr, *asJSON, info, desc)
}

func serveRegistry(ctx context.Context, a *app, dir, addr string, asJSON bool, info map[string]any, desc string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: registry.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	if asJSON {
		info["url"] = url
		a.jsonLine(info)
	} else {
		fmt.Fprintf(a.stdout, "serving %s (%s) at %s\n", dir, desc, url)
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// registryKey loads the registry signing key from file, or the home's, creating that one on
// first use (and saying so, with its public key next to it for publishing).
func registryKey(a *app, file string) (ed25519.PrivateKey, error) {
	if file != "" {
		return cairnpkg.LoadPrivateKey(file)
	}
	p := filepath.Join(a.home.Dir, "keys", "registry.key")
	key, err := cairnpkg.LoadPrivateKey(p)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	pub, priv, err := cairnpkg.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := cairnpkg.SavePrivateKey(p, priv); err != nil {
		return nil, err
	}
	if err := cairnpkg.SavePublicKey(p+".pub", pub); err != nil {
		return nil, err
	}
	fmt.Fprintf(a.stderr, "created registry key %s at %s (fingerprint %s)\n", cairnpkg.KeyID(pub), p, cairnpkg.Fingerprint(pub))
	return priv, nil
}

// registryForget drops a registry's pin. SOURCE is what `ext install --registry` was given.
func registryForget(a *app, source string) error {
	pins, err := registry.LoadPins(registryPinsPath(a))
	if err != nil {
		return err
	}
	c, err := registry.NewClient(source)
	if err != nil {
		return err
	}
	forgotten := pins.Forget(c.Source()) || pins.Forget(source)
	if !forgotten {
		return fmt.Errorf("forgetting %s: no pinned key for it", c.Source())
	}
	if err := pins.Save(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "forgot the pinned index key of %s: the next index it serves is trusted on first use\n", c.Source())
	return nil
}

// registryTrust pins the registry key in keyFile (PEM, as `registry index` writes beside the
// key: registry.key.pub) for source.
func registryTrust(a *app, source, keyFile string) error {
	pub, err := cairnpkg.LoadPublicKey(keyFile)
	if err != nil {
		return err
	}
	pins, err := registry.LoadPins(registryPinsPath(a))
	if err != nil {
		return err
	}
	c, err := registry.NewClient(source)
	if err != nil {
		return err
	}
	if err := pins.Pin(c.Source(), pub); err != nil {
		return err
	}
	if err := pins.Save(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "pinned index key %s (fingerprint %s) for %s\n", cairnpkg.KeyID(pub), cairnpkg.Fingerprint(pub), c.Source())
	return nil
}
