package registry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/registry"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/registry/extstore"
	"github.com/cairnfs/cairn/registry/resolve"
)

// TestInstallFlow is the whole path the CLI takes: publish and index packages, serve them over
// HTTP, resolve a request, fetch and verify each package, install the plan in one transaction,
// then update with a capability diff.
func TestInstallFlow(t *testing.T) {
	ctx := context.Background()
	pubKey, key, err := cairnpkg.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	reg := t.TempDir()
	publish := func(id, version, caps, deps string) {
		src := t.TempDir()
		toml := fmt.Sprintf("id = %q\nname = \"N\"\nversion = %q\nabi = \">=1.0, <2.0\"\nkind = \"wasm\"\n\n[entry]\nfile = \"m.wasm\"\n\n[capabilities]\n%s\n%s", id, version, caps, deps)
		os.WriteFile(filepath.Join(src, "cairn.toml"), []byte(toml), 0o644)
		os.WriteFile(filepath.Join(src, "m.wasm"), []byte(id+version), 0o644)
		if _, err := cairnpkg.PackFile(src, key, filepath.Join(reg, id+"-"+version+cairnpkg.Ext)); err != nil {
			t.Fatal(err)
		}
	}
	publish("dev.cairn.filetype", "1.0.0", "\"content.type\" = {}", "")
	publish("dev.cairn.filetype", "1.1.0", "\"content.type\" = {}", "")
	publish("dev.cairn.photos", "1.0.0", "kv = {}", "[[dependencies]]\nid = \"dev.cairn.filetype\"\nversion = \"^1.0\"\n")
	if _, err := registry.BuildIndex(reg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.Handler(reg))
	defer srv.Close()

	client, err := registry.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	client.TempDir = t.TempDir()
	idx, err := client.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := &extstore.Store{Dir: filepath.Join(t.TempDir(), "extensions")}
	installed, _ := store.Versions()
	plan, err := resolve.Resolve(idx, []resolve.Request{{ID: "dev.cairn.photos"}}, installed, resolve.Options{HostABI: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.String(); got != "install dev.cairn.filetype 1.1.0\ninstall dev.cairn.photos 1.0.0\n" {
		t.Fatalf("plan:\n%s", got)
	}

	keyring, err := cairnpkg.LoadKeyring(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(pubKey, "test publisher"); err != nil {
		t.Fatal(err)
	}
	tx := store.Begin()
	defer tx.Abort()
	for _, step := range plan.Changes() {
		d, err := client.Fetch(ctx, step.ID, step.Release)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		v, err := cairnpkg.Verify(d.Package, keyring, cairnpkg.VerifyOptions{HostABI: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		var grants []string
		for _, c := range v.Capabilities { // the user says yes to everything shown
			grants = append(grants, c.Name)
		}
		if _, err := tx.Install(v, grants); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	list, err := store.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("installed: %+v %v", list, err)
	}
	if g, _ := store.Grants("dev.cairn.photos"); strings.Join(g, ",") != "kv" {
		t.Fatalf("grants = %v", g)
	}

	// A new photos version asks for net: the update shows it and does not grant it silently.
	publish("dev.cairn.photos", "1.1.0", "kv = {}\nnet = { hosts = [\"maps.example\"] }", "[[dependencies]]\nid = \"dev.cairn.filetype\"\nversion = \"^1.0\"\n")
	if _, err := registry.BuildIndex(reg); err != nil {
		t.Fatal(err)
	}
	idx, _ = client.Index(ctx)
	installed, _ = store.Versions()
	plan, err = resolve.Resolve(idx, []resolve.Request{{ID: "dev.cairn.photos"}}, installed, resolve.Options{HostABI: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	ch := plan.Changes()
	if len(ch) != 1 || ch[0].Action != resolve.Upgrade {
		t.Fatalf("plan:\n%s", plan)
	}
	d, err := client.Fetch(ctx, ch[0].ID, ch[0].Release)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v, err := cairnpkg.Verify(d.Package, keyring, cairnpkg.VerifyOptions{HostABI: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	diff, err := store.Diff(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(diff.Added, ",") != "net" || strings.Join(diff.Grants, ",") != "kv" {
		t.Fatalf("diff = %+v", diff)
	}
	if _, err := store.Update(v, nil); err != nil {
		t.Fatal(err)
	}
	if in, _ := store.Get("dev.cairn.photos"); in.Version != "1.1.0" || strings.Join(in.Grants, ",") != "kv" {
		t.Fatalf("after update: %+v", in)
	}
}
