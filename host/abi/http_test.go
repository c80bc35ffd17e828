package abi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// exchange is one answer of a golden file's server.
type exchange struct {
	URL       string            `json:"url"`
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	BodyBytes int               `json:"body_bytes"` // a body of that many zero bytes instead
}

// servedBy is a transport that answers from a golden file's exchanges, by URL, and fails on any
// other URL (the test then shows the request that should not have been made).
func servedBy(ex []exchange) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		for _, e := range ex {
			if e.URL == r.URL.String() {
				h := http.Header{}
				for k, v := range e.Headers {
					h.Set(k, v)
				}
				body := []byte(e.Body)
				if e.BodyBytes > 0 {
					body = make([]byte, e.BodyBytes)
				}
				return &http.Response{StatusCode: e.Status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
			}
		}
		return nil, fmt.Errorf("the golden server has no answer for %s %s", r.Method, r.URL)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestGoldenHTTP runs the http.request examples of schemas/hostabi/testdata/http: each gives
// the hosts granted, what the servers answer, the request and the response.
func TestGoldenHTTP(t *testing.T) {
	files, _ := filepath.Glob("../../schemas/hostabi/testdata/http/*.json")
	if len(files) < 4 {
		t.Fatalf("found %d golden http.request files, want ≥ 4", len(files))
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			raw, _ := os.ReadFile(p)
			var g struct {
				Grant    []string        `json:"grant"`
				Server   []exchange      `json:"server"`
				Request  json.RawMessage `json:"request"`
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			b := backends(newFake())
			b.HTTP = NewHTTPClient(HTTPOptions{Transport: servedBy(g.Server)})
			d := NewDispatcher(b, nil)
			c := caller(t, "dev.example.hello", map[string]manifest.Scope{"net": {Hosts: g.Grant}}, capability.Grant{"net": {Hosts: g.Grant}}, CallerOptions{})
			got := d.Handle(context.Background(), c, g.Request)
			if !jsonEqual(t, got, g.Response) {
				t.Errorf("response = %s\nwant       %s", got, g.Response)
			}
		})
	}
}

func TestHTTPRequestChecks(t *testing.T) {
	var seen []string
	b := backends(newFake())
	b.HTTP = NewHTTPClient(HTTPOptions{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("X-Key"))
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})})
	d := NewDispatcher(b, nil)
	c := caller(t, "dev.x", map[string]manifest.Scope{"net": {Hosts: []string{"API.example.com", "127.0.0.1:8080", "[::1]:9000"}}},
		capability.Grant{"net": {}}, CallerOptions{})
	for _, tc := range []struct {
		args map[string]any
		code string
	}{
		{map[string]any{"url": "https://api.example.com./x", "headers": map[string]string{"X-Key": "k"}}, ""},
		{map[string]any{"url": "http://127.0.0.1:8080/"}, ""},
		{map[string]any{"url": "http://[::1]:9000/"}, ""},
		{map[string]any{"url": "http://127.0.0.1/"}, CodeCapabilityDenied},  // port 80, not 8080
		{map[string]any{"url": "http://[::1]:9001/"}, CodeCapabilityDenied}, // another port
		{map[string]any{"url": "https://x.api.example.com/"}, CodeCapabilityDenied},
		{map[string]any{"url": "ftp://api.example.com/"}, CodeInvalidArgument},
		{map[string]any{"url": "https://api.example.com/", "method": "get"}, CodeInvalidArgument},
		{map[string]any{"url": "https://api.example.com/", "headers": map[string]string{"Host": "evil"}}, CodeInvalidArgument},
		{map[string]any{"url": "https://api.example.com/", "timeout_ms": -1}, CodeInvalidArgument},
		{map[string]any{"url": "https://api.example.com/", "body": make([]byte, MaxHTTPRequestBody+1)}, CodeLimitExceeded},
	} {
		_, e := call(t, d, c, "http.request", tc.args)
		switch {
		case tc.code == "" && e != nil:
			t.Errorf("%v: %+v", tc.args["url"], e)
		case tc.code != "" && (e == nil || e.Code != tc.code):
			t.Errorf("%v: %+v, want %s", tc.args["url"], e, tc.code)
		}
	}
	if want := "GET https://api.example.com./x k"; len(seen) != 3 || seen[0] != want {
		t.Errorf("requests made = %q", seen)
	}
	// Without the HTTP area, http.request is unavailable.
	d = NewDispatcher(backends(newFake()), nil)
	if _, e := call(t, d, c, "http.request", map[string]any{"url": "https://api.example.com/"}); e == nil || e.Code != CodeUnavailable {
		t.Errorf("no HTTP area: %+v", e)
	}
}

// The host's client never takes a proxy from the environment.
func TestHTTPClientNoEnvironmentProxy(t *testing.T) {
	c := NewHTTPClient(HTTPOptions{})
	if tr, ok := c.transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Fatalf("transport = %#v, want an *http.Transport without Proxy", c.transport)
	}
}
