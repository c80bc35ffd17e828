package abi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cairnfs/cairn/host/capability"
)

// Limits of http.request (v1.md, 1.2).
const (
	MaxHTTPRequestBody  = 4 << 20
	MaxHTTPResponseBody = 8 << 20
	MaxHTTPRedirects    = 5
	DefaultHTTPTimeout  = 30 * time.Second
	MaxHTTPTimeout      = 2 * time.Minute
	maxHTTPHeaderBytes  = 64 << 10
)

// HTTP performs the extensions' HTTP requests (http.request). The dispatcher checks the first
// URL's host; Do must call allow on every redirect's URL before following it and stop, with
// allow's error, at the first it refuses.
type HTTP interface {
	Do(req *http.Request, allow func(*url.URL) error) (*http.Response, error)
}

// HTTPOptions configure NewHTTPClient.
type HTTPOptions struct {
	// Proxy is the proxy of every request (nil: none; the environment's HTTP_PROXY is never
	// used unless passed here, e.g. as http.ProxyFromEnvironment).
	Proxy func(*http.Request) (*url.URL, error)
	// Transport replaces the client's own transport (tests); Proxy is then ignored.
	Transport http.RoundTripper
}

// HTTPClient is the host's HTTP client for extensions: its own transport (no proxy unless
// configured, bounded connect, TLS and header times, response headers ≤ 64 KiB), and redirects
// followed only to hosts the caller may reach, at most MaxHTTPRedirects of them.
type HTTPClient struct {
	transport http.RoundTripper
}

// NewHTTPClient makes the HTTP area of Backends.
func NewHTTPClient(o HTTPOptions) *HTTPClient {
	rt := o.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                  o.Proxy,
			DialContext:            (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  30 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: maxHTTPHeaderBytes,
			MaxIdleConns:           16,
			IdleConnTimeout:        30 * time.Second,
			ForceAttemptHTTP2:      true,
		}
	}
	return &HTTPClient{transport: rt}
}

// Do implements HTTP.
func (c *HTTPClient) Do(req *http.Request, allow func(*url.URL) error) (*http.Response, error) {
	cl := &http.Client{Transport: c.transport, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > MaxHTTPRedirects {
			return Errorf(CodeLimitExceeded, "http.request: more than %d redirects", MaxHTTPRedirects)
		}
		if err := allow(r.URL); err != nil {
			return fmt.Errorf("http.request: redirect from %s to %s refused: %w", redact(via[len(via)-1].URL), redact(r.URL), err)
		}
		return nil
	}}
	return cl.Do(req)
}

// redact is a URL without its user info, query and fragment, for messages.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.RawFragment = nil, "", "", ""
	return c.String()
}

// allowURL checks a URL of http.request (the first or a redirect) against the caller's net
// scope: http or https, a host, no user info, and a host:port net covers.
func allowURL(c *Caller, u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("http.request", "url scheme %q: want http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return invalid("http.request", "url %q has no host", redact(u))
	}
	if u.User != nil {
		return invalid("http.request", "url with user info: send credentials in a header")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return c.caps.CheckHost(u.Hostname(), port)
}

var httpMethodRE = regexp.MustCompile(`^[A-Z]{1,16}$`)

// Headers the host sets itself, which a guest may not.
var hopHeaders = map[string]bool{"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"proxy-authorization": true, "proxy-connection": true, "te": true, "trailer": true, "upgrade": true, "keep-alive": true}

func (d *Dispatcher) httpRequest(ctx context.Context, c *Caller, args json.RawMessage) (any, error) {
	var a struct {
		Method    string            `json:"method"`
		URL       string            `json:"url"`
		Headers   map[string]string `json:"headers"`
		Body      []byte            `json:"body"`
		TimeoutMS int64             `json:"timeout_ms"`
	}
	if err := decode("http.request", args, &a); err != nil {
		return nil, err
	}
	if a.Method == "" {
		a.Method = http.MethodGet
	}
	if !httpMethodRE.MatchString(a.Method) {
		return nil, invalid("http.request", "method %q: want an uppercase HTTP method", a.Method)
	}
	u, err := url.Parse(a.URL)
	if err != nil || !u.IsAbs() {
		return nil, invalid("http.request", "url %q is not an absolute URL", a.URL)
	}
	if len(a.Body) > MaxHTTPRequestBody {
		return nil, Errorf(CodeLimitExceeded, "http.request: body of %d bytes is over the %d-byte limit", len(a.Body), MaxHTTPRequestBody)
	}
	if a.TimeoutMS < 0 {
		return nil, invalid("http.request", "timeout_ms must not be negative")
	}
	if err := allowURL(c, u); err != nil {
		return nil, err
	}
	if d.b.HTTP == nil {
		return nil, unavailable("http.request", "the network")
	}
	timeout := DefaultHTTPTimeout
	if a.TimeoutMS > 0 {
		timeout = min(time.Duration(a.TimeoutMS)*time.Millisecond, MaxHTTPTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if len(a.Body) > 0 {
		body = strings.NewReader(string(a.Body))
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, u.String(), body)
	if err != nil {
		return nil, invalid("http.request", "%v", err)
	}
	for k, v := range a.Headers {
		if hopHeaders[strings.ToLower(k)] {
			return nil, invalid("http.request", "header %q is set by the host", k)
		}
		req.Header.Set(k, v)
	}
	resp, err := d.b.HTTP.Do(req, func(u *url.URL) error { return allowURL(c, u) })
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e), errors.Is(err, capability.ErrDenied):
			return nil, unwrapURLError(err)
		case ctx.Err() != nil:
			return nil, Errorf(CodeUnavailable, "http.request: %s %s: no answer within %v", a.Method, redact(u), timeout)
		}
		return nil, Errorf(CodeUnavailable, "http.request: %s %s: %v", a.Method, redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxHTTPResponseBody+1))
	if err != nil {
		return nil, Errorf(CodeUnavailable, "http.request: reading the response of %s: %v", redact(resp.Request.URL), err)
	}
	if len(data) > MaxHTTPResponseBody {
		return nil, Errorf(CodeLimitExceeded, "http.request: the response of %s is over the %d-byte limit", redact(resp.Request.URL), MaxHTTPResponseBody)
	}
	headers := make(map[string]string, len(resp.Header))
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return struct {
		Status  int               `json:"status"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    []byte            `json:"body"`
	}{resp.StatusCode, resp.Request.URL.String(), headers, data}, nil
}

// unwrapURLError drops net/http's *url.Error wrapper ("Get \"…\": …"), whose message repeats
// the URL with its query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
