package registry

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// Client reads a registry from a local folder or over HTTP(S). The zero value is not usable:
// make one with NewClient. A Client is safe for concurrent use.
type Client struct {
	// HTTP is the client for http(s) registries; NewClient sets one with connect, TLS and
	// header timeouts and an overall cap (DefaultHTTPClient).
	HTTP *http.Client
	// IndexTimeout bounds fetching the index (default 30s); package downloads are bounded by
	// HTTP.Timeout and the caller's context.
	IndexTimeout time.Duration
	// TempDir is where downloads are spooled (default os.TempDir()).
	TempDir string
	// MaxIndexSize bounds the index (default MaxIndexSize).
	MaxIndexSize int64

	dir   string   // local registry folder, or ""
	index *url.URL // http(s) URL of index.json, or nil
}

// NewClient returns a client for source: a folder path, a file:// URL, or an http(s) URL of a
// registry (the folder holding index.json) or of its index.json itself.
func NewClient(source string) (*Client, error) {
	c := &Client{HTTP: DefaultHTTPClient(), IndexTimeout: 30 * time.Second, MaxIndexSize: MaxIndexSize}
	u, err := url.Parse(source)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		if u.Host == "" {
			return nil, fmt.Errorf("registry %q: no host", source)
		}
		u.RawQuery, u.Fragment = "", ""
		if !strings.HasSuffix(u.Path, ".json") {
			u.Path = strings.TrimSuffix(u.Path, "/") + "/" + IndexFile
			u.RawPath = ""
		}
		c.index = u
	case err == nil && u.Scheme == "file":
		c.dir = filepath.FromSlash(u.Path)
	case err == nil && len(u.Scheme) > 1: // "c:" is a Windows drive, not a scheme
		return nil, fmt.Errorf("registry %q: unsupported scheme %q (want a folder, file://, http:// or https://)", source, u.Scheme)
	default:
		c.dir = source
	}
	if c.dir != "" && strings.HasSuffix(c.dir, ".json") {
		c.dir = filepath.Dir(c.dir)
	}
	return c, nil
}

// DefaultHTTPClient is the HTTP client NewClient uses: 10 s to connect and to finish TLS, 30 s
// for response headers, 10 min overall, proxies from the environment, and redirects only
// within the registry's host (never from https to http).
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          4,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refusing redirect from https to %s", req.URL.Scheme)
			}
			if req.URL.Host != via[0].URL.Host {
				return fmt.Errorf("refusing redirect from %s to another host, %s", via[0].URL.Host, req.URL.Host)
			}
			return nil
		},
	}
}

// String returns where the registry is.
func (c *Client) String() string {
	if c.index != nil {
		return c.index.String()
	}
	return c.dir
}

// Source names the registry for Pins: the URL of its index.json, or the absolute path of its
// folder.
func (c *Client) Source() string {
	if c.index != nil {
		return c.index.String()
	}
	if abs, err := filepath.Abs(c.dir); err == nil {
		return abs
	}
	return c.dir
}

// Local reports whether the registry is a folder on this machine.
func (c *Client) Local() bool { return c.index == nil }

// CheckedIndex fetches the index like Index, applies the trust policy (pins.Check, with
// pol.Local set from the client) and saves the pins. Use it, not Index, before installing.
func (c *Client) CheckedIndex(ctx context.Context, pins *Pins, pol Policy) (*Index, *Verdict, error) {
	idx, err := c.Index(ctx)
	if err != nil {
		return nil, nil, err
	}
	pol.Local = c.Local()
	v, err := pins.Check(c.Source(), idx, pol)
	if err != nil {
		return nil, nil, err
	}
	if v.Pin != nil {
		if err := pins.Save(); err != nil {
			return nil, nil, err
		}
	}
	return idx, v, nil
}

// Index fetches and validates the registry's index (at most c.MaxIndexSize bytes), checking
// its signature if it has one; it does not apply the trust policy (see CheckedIndex).
func (c *Client) Index(ctx context.Context) (*Index, error) {
	limit := c.MaxIndexSize
	if limit <= 0 {
		limit = MaxIndexSize
	}
	if c.index == nil {
		return readIndexFile(filepath.Join(c.dir, IndexFile), limit)
	}
	if c.IndexTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.IndexTimeout)
		defer cancel()
	}
	body, _, err := c.get(ctx, c.index, limit)
	if err != nil {
		return nil, fmt.Errorf("fetching index: %w", err)
	}
	defer body.Close()
	data, err := readCapped(body, limit)
	if err != nil {
		return nil, fmt.Errorf("fetching index %s: %w", c.index, err)
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("fetching index %s: %w", c.index, err)
	}
	return idx, nil
}

// Download is a fetched, opened package. Close it when done: that closes the file and removes
// it if it was spooled from the network.
type Download struct {
	*cairnpkg.Package
	// Path is the package file on disk (in the registry folder, or a temporary file).
	Path string
	f    *os.File
	temp bool
}

// Close releases the package file.
func (d *Download) Close() error {
	err := d.f.Close()
	if d.temp {
		if rerr := os.Remove(d.Path); err == nil {
			err = rerr
		}
	}
	return err
}

// Fetch gets the package of release r of extension id, checks the file's size and BLAKE3
// against the index and that it holds id@r.Version (ErrIndexMismatch), and opens it. It does
// not verify the package: call cairnpkg.Verify next.
func (c *Client) Fetch(ctx context.Context, id string, r *Release) (*Download, error) {
	if err := checkURL(r.URL); err != nil {
		return nil, fmt.Errorf("fetching %s@%s: %w", id, r.Version, err)
	}
	if r.Size <= 0 || r.Size > cairnpkg.MaxPackageSize {
		return nil, fmt.Errorf("fetching %s@%s: size %d outside (0, %d]", id, r.Version, r.Size, int64(cairnpkg.MaxPackageSize))
	}
	var d *Download
	var err error
	if c.index == nil {
		d, err = c.openLocal(r)
	} else {
		d, err = c.download(ctx, r)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %s@%s: %w", id, r.Version, err)
	}
	if m := d.Manifest; m.ID != id || m.Version != r.Version {
		d.Close()
		return nil, fmt.Errorf("fetching %s@%s: %w: the file holds %s@%s", id, r.Version, ErrIndexMismatch, m.ID, m.Version)
	}
	return d, nil
}

func (c *Client) openLocal(r *Release) (*Download, error) {
	root, err := os.OpenRoot(c.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := openNoBlock(root, filepath.FromSlash(r.URL))
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", r.URL)
	}
	d, err := checkAndOpen(f, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.Path = filepath.Join(c.dir, filepath.FromSlash(r.URL))
	return d, nil
}

func (c *Client) download(ctx context.Context, r *Release) (*Download, error) {
	ref, err := url.Parse(r.URL)
	if err != nil {
		return nil, err
	}
	u := c.index.ResolveReference(ref)
	body, size, err := c.get(ctx, u, cairnpkg.MaxPackageSize)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if size >= 0 && size != r.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the index says %d", ErrIndexMismatch, u, size, r.Size)
	}
	f, err := os.CreateTemp(c.TempDir, "cairnpkg-*"+cairnpkg.Ext)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Download, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	n, err := io.Copy(f, io.LimitReader(body, r.Size+1))
	if err != nil {
		return fail(fmt.Errorf("downloading %s: %w", u, err))
	}
	if n != r.Size {
		return fail(fmt.Errorf("%w: %s is %s bytes, the index says %d", ErrIndexMismatch, u, sizeString(n, r.Size), r.Size))
	}
	d, err := checkAndOpen(f, r)
	if err != nil {
		return fail(err)
	}
	d.Path, d.temp = f.Name(), true
	return d, nil
}

func sizeString(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

// checkAndOpen hashes f and opens it as a package if its size and BLAKE3 match r.
func checkAndOpen(f *os.File, r *Release) (*Download, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != r.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the index says %d", ErrIndexMismatch, r.URL, fi.Size(), r.Size)
	}
	sum, err := hashReader(io.NewSectionReader(f, 0, r.Size))
	if err != nil {
		return nil, err
	}
	if sum != r.BLAKE3 {
		return nil, fmt.Errorf("%w: %s has BLAKE3 %s, the index says %s", ErrIndexMismatch, r.URL, sum, r.BLAKE3)
	}
	pkg, err := cairnpkg.Open(f, r.Size)
	if err != nil {
		return nil, err
	}
	return &Download{Package: pkg, f: f}, nil
}

// get issues a GET and returns the body of a 200 response and its declared length (-1 if
// unknown), refusing one that declares more than limit bytes.
func (c *Client) get(ctx context.Context, u *url.URL, limit int64) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", "cairn-registry-client/1")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, 0, fmt.Errorf("%w: GET %s: %s", ErrNotFound, u, resp.Status)
		}
		return nil, 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("GET %s: %d bytes, limit %d", u, resp.ContentLength, limit)
	}
	return resp.Body, resp.ContentLength, nil
}

func readCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func hashReader(r io.Reader) (string, error) {
	h := blake3.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
