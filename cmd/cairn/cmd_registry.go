package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cairnfs/cairn/registry"
)

func init() {
	register(command{name: "registry", summary: "build a registry index, or serve a registry folder over HTTP", run: runRegistry,
		usage: []string{
			"registry index DIR\t(re)build DIR/index.json",
			"registry serve DIR [--addr HOST:PORT]\trebuild it and serve DIR read-only over HTTP until interrupted",
		},
		about:    "A registry is a folder of .cairnpkg files plus index.json; `cairn ext install --registry` installs from it.",
		examples: []string{"cairn registry index ./registry", "cairn registry serve ./registry --addr 127.0.0.1:8787"}})
}

func runRegistry(ctx context.Context, a *app, args []string) error {
	fs := newFlags("registry", a)
	addr := fs.String("addr", "127.0.0.1:8787", "serve: address to listen on")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[0] != "index" && pos[0] != "serve") {
		return usagef("usage: cairn registry index DIR | serve DIR")
	}
	dir := pos[1]
	idx, err := registry.BuildIndex(dir)
	if err != nil {
		return fmt.Errorf("building the index of %s: %w", dir, err)
	}
	n := 0
	for _, id := range idx.IDs() {
		n += len(idx.Extensions[id].Versions)
	}
	if pos[0] == "index" {
		if *asJSON {
			return a.jsonLine(map[string]any{"dir": dir, "extensions": len(idx.Extensions), "releases": n})
		}
		fmt.Fprintf(a.stdout, "indexed %d extensions, %d releases in %s\n", len(idx.Extensions), n, dir)
		return nil
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: registry.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	if *asJSON {
		a.jsonLine(map[string]any{"url": url, "dir": dir, "extensions": len(idx.Extensions), "releases": n})
	} else {
		fmt.Fprintf(a.stdout, "serving %s (%d extensions, %d releases) at %s\n", dir, len(idx.Extensions), n, url)
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
