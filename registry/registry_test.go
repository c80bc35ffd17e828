package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

type ext struct {
	id, version, deps string
	file              string // package file name inside the registry (default id-version.cairnpkg)
}

// publish packs e into the registry folder reg and returns the package path.
func publish(t *testing.T, reg string, key ed25519.PrivateKey, e ext) string {
	t.Helper()
	src := t.TempDir()
	toml := fmt.Sprintf("id = %q\nname = \"N\"\nversion = %q\nabi = \"^1.0\"\nkernel = \">=0.1\"\nkind = \"wasm\"\n\n[entry]\nfile = \"m.wasm\"\n\n[capabilities]\nkv = {}\nnet = { hosts = [\"example.org\"] }\n%s",
		e.id, e.version, e.deps)
	os.WriteFile(filepath.Join(src, "cairn.toml"), []byte(toml), 0o644)
	os.WriteFile(filepath.Join(src, "m.wasm"), bytes.Repeat([]byte(e.id+e.version), 300), 0o644)
	name := e.file
	if name == "" {
		name = e.id + "-" + e.version + cairnpkg.Ext
	}
	out := filepath.Join(reg, filepath.FromSlash(name))
	os.MkdirAll(filepath.Dir(out), 0o755)
	if _, err := cairnpkg.PackFile(src, key, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := cairnpkg.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRegistry publishes a small registry and builds its index.
func newRegistry(t *testing.T) (dir string, key ed25519.PrivateKey, idx *Index) {
	t.Helper()
	dir, key = t.TempDir(), newKey(t)
	publish(t, dir, key, ext{id: "dev.a.b", version: "1.0.0"})
	publish(t, dir, key, ext{id: "dev.a.b", version: "1.10.0", file: "dev.a.b/1.10.0.cairnpkg"})
	publish(t, dir, key, ext{id: "dev.a.b", version: "1.2.0"})
	publish(t, dir, key, ext{id: "dev.x.y", version: "0.3.0", deps: "[[dependencies]]\nid = \"dev.a.b\"\nversion = \"^1.2\"\n"})
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a package"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "junk.cairnpkg"), []byte("ignored: hidden folder"), 0o644)
	idx, err := BuildIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, key, idx
}

func TestBuildIndex(t *testing.T) {
	dir, key, idx := newRegistry(t)
	if got := strings.Join(idx.IDs(), ","); got != "dev.a.b,dev.x.y" {
		t.Fatalf("ids = %s", got)
	}
	var vs []string
	for _, r := range idx.Releases("dev.a.b") {
		vs = append(vs, r.Version)
	}
	if got := strings.Join(vs, ","); got != "1.10.0,1.2.0,1.0.0" {
		t.Fatalf("versions = %s (want newest first, by semver)", got)
	}
	r, err := idx.Lookup("dev.a.b", "1.10.0")
	if err != nil {
		t.Fatal(err)
	}
	sum, size, _ := cairnpkg.HashFile(filepath.Join(dir, "dev.a.b", "1.10.0.cairnpkg"))
	if r.URL != "dev.a.b/1.10.0.cairnpkg" || r.BLAKE3 != sum || r.Size != size || r.KeyID != cairnpkg.KeyID(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("release = %+v", r)
	}
	if r.ABI != "^1.0" || r.Kernel != ">=0.1" || r.Kind != "wasm" || r.Capabilities["net"].Hosts[0] != "example.org" {
		t.Fatalf("release metadata = %+v", r)
	}
	x, _ := idx.Lookup("dev.x.y", "0.3.0")
	if len(x.Dependencies) != 1 || x.Dependencies[0].ID != "dev.a.b" || x.Dependencies[0].Version != "^1.2" {
		t.Fatalf("dependencies = %+v", x.Dependencies)
	}
	if _, err := idx.Lookup("dev.a.b", "9.9.9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup(absent) = %v", err)
	}

	// The written file is the same index, and rebuilding at the same version is byte-for-byte
	// stable; a plain rebuild counts one version up.
	first, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	back, err := ReadIndexFile(filepath.Join(dir, IndexFile))
	if err != nil || len(back.Releases("dev.a.b")) != 3 || back.Version != 1 {
		t.Fatalf("ReadIndexFile: %v (version %d)", err, back.Version)
	}
	if _, err := BuildIndexWith(dir, BuildOptions{Version: 1}); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if !bytes.Equal(first, second) {
		t.Fatal("rebuilding the index changed it")
	}
	if again, err := BuildIndex(dir); err != nil || again.Version != 2 {
		t.Fatalf("a rebuild: version %d, %v; want 2", again.Version, err)
	}
	if !bytes.Contains(first, []byte(`"format": 1`)) {
		t.Fatalf("index has no format version:\n%s", first)
	}
}

func TestBuildIndexRefuses(t *testing.T) {
	key := newKey(t)
	t.Run("duplicate version", func(t *testing.T) {
		dir := t.TempDir()
		publish(t, dir, key, ext{id: "dev.a.b", version: "1.0.0"})
		publish(t, dir, key, ext{id: "dev.a.b", version: "1.0.0", file: "copy/a.cairnpkg"})
		if _, err := BuildIndex(dir); err == nil || !strings.Contains(err.Error(), "dev.a.b@1.0.0 is also in") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, IndexFile)); !os.IsNotExist(err) {
			t.Fatal("index written despite the error")
		}
	})
	t.Run("tampered package", func(t *testing.T) {
		dir := t.TempDir()
		p := publish(t, dir, key, ext{id: "dev.a.b", version: "1.0.0"})
		data, _ := os.ReadFile(p)
		i := bytes.Index(data, []byte("dev.a.b1.0.0dev.a.b"))
		data[i] ^= 1
		os.WriteFile(p, data, 0o644)
		if _, err := BuildIndex(dir); !errors.Is(err, cairnpkg.ErrHashMismatch) {
			t.Fatalf("err = %v, want ErrHashMismatch", err)
		}
	})
	t.Run("corrupt package", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "bad.cairnpkg"), []byte("nope"), 0o644)
		if _, err := BuildIndex(dir); !errors.Is(err, cairnpkg.ErrCorruptPackage) || !strings.Contains(err.Error(), "bad.cairnpkg") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHostileParseIndexRefuses(t *testing.T) {
	good := `{"format":1,"extensions":{"dev.a.b":{"versions":[{"version":"1.0.0","name":"A","abi":"^1.0","kind":"wasm","url":"a.cairnpkg","blake3":"` + strings.Repeat("ab", 32) + `","size":10,"key_id":"0123456789abcdef"}]}}}`
	if _, err := ParseIndex([]byte(good)); err != nil {
		t.Fatalf("good index: %v", err)
	}
	cases := map[string]string{
		"newer format": strings.Replace(good, `"format":1`, `"format":2`, 1),
		"escaping url": strings.Replace(good, `"a.cairnpkg"`, `"../a.cairnpkg"`, 1),
		"absolute url": strings.Replace(good, `"a.cairnpkg"`, `"/etc/a.cairnpkg"`, 1),
		"remote url":   strings.Replace(good, `"a.cairnpkg"`, `"https://evil.example/a.cairnpkg"`, 1),
		"bad version":  strings.Replace(good, `"1.0.0"`, `"1.0"`, 1),
		"bad hash":     strings.Replace(good, `"blake3":"ab`, `"blake3":"zz`, 1),
		"bad id":       strings.Replace(good, `"dev.a.b"`, `"Dev"`, 1),
		"not json":     `{"format":1,`,
		"zero size":    strings.Replace(good, `"size":10`, `"size":0`, 1),
	}
	for name, doc := range cases {
		if _, err := ParseIndex([]byte(doc)); !errors.Is(err, ErrInvalidIndex) {
			t.Errorf("%s: err = %v, want ErrInvalidIndex", name, err)
		}
	}
}

// TestClientHTTP: a registry served by Handler on 127.0.0.1, read by a Client.
func TestClientHTTP(t *testing.T) {
	dir, key, _ := newRegistry(t)
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	ctx := context.Background()

	for _, src := range []string{srv.URL, srv.URL + "/", srv.URL + "/index.json"} {
		c, err := NewClient(src)
		if err != nil {
			t.Fatal(err)
		}
		c.TempDir = t.TempDir()
		idx, err := c.Index(ctx)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		r, err := idx.Lookup("dev.a.b", "1.10.0")
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Fetch(ctx, "dev.a.b", r)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		trust := cairnpkg.KeySet{}
		trust.Trust(key.Public().(ed25519.PublicKey))
		v, err := cairnpkg.Verify(d.Package, trust, cairnpkg.VerifyOptions{HostABI: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Manifest.Version != "1.10.0" || len(v.Capabilities) != 2 {
			t.Fatalf("verified %+v", v.Manifest)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
			t.Fatal("download not removed on Close")
		}
	}
}

func TestClientLocal(t *testing.T) {
	dir, _, _ := newRegistry(t)
	for _, src := range []string{dir, "file://" + filepath.ToSlash(dir), filepath.Join(dir, IndexFile)} {
		c, err := NewClient(src)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		r, _ := idx.Lookup("dev.x.y", "0.3.0")
		d, err := c.Fetch(context.Background(), "dev.x.y", r)
		if err != nil {
			t.Fatal(err)
		}
		if d.Path != filepath.Join(dir, "dev.x.y-0.3.0.cairnpkg") {
			t.Fatalf("path = %s", d.Path)
		}
		d.Close()
		if _, err := os.Stat(d.Path); err != nil {
			t.Fatal("Close removed a registry file")
		}
	}
	if _, err := NewClient("ftp://example.org/reg"); err == nil {
		t.Fatal("ftp accepted")
	}
}

// TestHostileClientRefuses: what the index says is checked against what arrives.
func TestHostileClientRefuses(t *testing.T) {
	dir, _, idx := newRegistry(t)
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	ctx := context.Background()
	c, _ := NewClient(srv.URL)
	c.TempDir = t.TempDir()
	r, _ := idx.Lookup("dev.a.b", "1.0.0")

	check := func(name string, rel Release, want error, mention string) {
		t.Helper()
		d, err := c.Fetch(ctx, "dev.a.b", &rel)
		if err == nil {
			d.Close()
		}
		if err == nil || (want != nil && !errors.Is(err, want)) || !strings.Contains(err.Error(), mention) {
			t.Errorf("%s: err = %v, want %v mentioning %q", name, err, want, mention)
		}
	}
	bad := *r
	bad.BLAKE3 = strings.Repeat("0", 64)
	check("hash", bad, ErrIndexMismatch, "BLAKE3")
	bad = *r
	bad.Size--
	check("shorter than served", bad, ErrIndexMismatch, "the index says")
	bad = *r
	bad.Size++
	check("longer than served", bad, ErrIndexMismatch, "bytes, the index says")
	other, _ := idx.Lookup("dev.x.y", "0.3.0")
	check("another extension's package", *other, ErrIndexMismatch, "holds dev.x.y@0.3.0")
	bad = *r
	bad.URL = "missing.cairnpkg"
	check("missing", bad, ErrNotFound, "404")
	bad = *r
	bad.URL = "../escape.cairnpkg"
	check("escaping url", bad, nil, "inside the registry")
	if ents, _ := os.ReadDir(c.TempDir); len(ents) != 0 {
		t.Fatalf("refused downloads left files: %v", ents)
	}

	// Local registries refuse the same way.
	lc, _ := NewClient(dir)
	bad = *r
	bad.BLAKE3 = strings.Repeat("0", 64)
	if _, err := lc.Fetch(ctx, "dev.a.b", &bad); !errors.Is(err, ErrIndexMismatch) {
		t.Errorf("local hash mismatch: %v", err)
	}
}

func TestClientIndexLimits(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/big/index.json", func(w http.ResponseWriter, r *http.Request) {
		// Chunked (no Content-Length): the cap applies while reading.
		for i := 0; i < 64; i++ {
			w.Write(bytes.Repeat([]byte(" "), 1024))
		}
	})
	mux.HandleFunc("/declared/index.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		w.Write([]byte("{"))
	})
	mux.HandleFunc("/slow/index.json", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/bad/index.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"format": 7, "extensions": {}}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	ctx := context.Background()

	c, _ := NewClient(srv.URL + "/big")
	c.MaxIndexSize = 16 << 10
	if _, err := c.Index(ctx); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized index: %v", err)
	}
	c, _ = NewClient(srv.URL + "/declared")
	if _, err := c.Index(ctx); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("declared oversized index: %v", err)
	}
	c, _ = NewClient(srv.URL + "/slow")
	c.IndexTimeout = 200 * time.Millisecond
	start := time.Now()
	if _, err := c.Index(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow index: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout took %v", time.Since(start))
	}
	c, _ = NewClient(srv.URL + "/bad")
	if _, err := c.Index(ctx); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("newer format: %v", err)
	}
}

func TestClientRefusesHTTPSDowngrade(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"format":1,"extensions":{}}`))
	}))
	defer plain.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/index.json", http.StatusFound)
	}))
	defer tls.Close()
	c, _ := NewClient(tls.URL)
	c.HTTP = tls.Client()
	c.HTTP.CheckRedirect = DefaultHTTPClient().CheckRedirect
	if _, err := c.Index(context.Background()); err == nil || !strings.Contains(err.Error(), "refusing redirect from https") {
		t.Fatalf("err = %v", err)
	}
}

func TestHandler(t *testing.T) {
	dir, _, _ := newRegistry(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.cairnpkg"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(outside, "secret.cairnpkg"), filepath.Join(dir, "link.cairnpkg"))
	os.WriteFile(filepath.Join(dir, ".index.json.tmp-1.cairnpkg"), []byte("partial"), 0o644)
	h := Handler(dir)

	do := func(method, path string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://reg.test/", nil)
		req.URL.Path = path // raw, uncleaned: the handler must cope
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	w := do("GET", "/index.json")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("ETag") == "" || w.Header().Get("Last-Modified") == "" {
		t.Fatalf("index: %d %v", w.Code, w.Header())
	}
	if _, err := ParseIndex(w.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	if w2 := do("GET", "/index.json", "If-None-Match", w.Header().Get("ETag")); w2.Code != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", w2.Code)
	}
	w = do("GET", "/dev.a.b/1.10.0.cairnpkg", "Range", "bytes=0-511")
	if w.Code != http.StatusPartialContent || w.Header().Get("Content-Type") != cairnpkg.ContentType || w.Body.Len() != 512 {
		t.Fatalf("package range: %d %v len %d", w.Code, w.Header(), w.Body.Len())
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no nosniff")
	}
	w = do("HEAD", "/dev.x.y-0.3.0.cairnpkg")
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d len %d %v", w.Code, w.Body.Len(), w.Header())
	}
	for _, p := range []string{
		"/", "/README.txt", "/../secret.cairnpkg", "/dev.a.b/../../secret.cairnpkg", "/link.cairnpkg",
		"/.index.json.tmp-1.cairnpkg", "/.git/junk.cairnpkg", "//etc/passwd.cairnpkg", "/dev.a.b", "/nope.cairnpkg",
		"/dev.a.b\\..\\x.cairnpkg",
	} {
		if w := do("GET", p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	if w := do("POST", "/index.json"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", w.Code)
	}
}
