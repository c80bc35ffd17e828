package host_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// netGuest loads the hostile guest as dev.test.hostile.<name>, requesting and granted net for
// the hosts given.
func (w *world) netGuest(t *testing.T, name string, hosts ...string) *host.Extension {
	t.Helper()
	x, err := w.h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.hostile."+name, map[string]manifest.Scope{"net": {Hosts: hosts}}),
		Wasm:     hosttest.Guest(t, "hostile"),
		Grant:    capability.Grant{"net": {Hosts: hosts}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.unloadAtEnd(t, x)
	return x
}

// TestHostileNet: net granted for one host reaches that host only, whatever the server
// answers: the attack was a redirect from 127.0.0.1 to localhost:<port>, which Extism's
// http_request followed and whose body it returned to the guest.
func TestHostileNet(t *testing.T) {
	w := newWorld(t)
	// other is the host the guest must never reach: it listens on every loopback address, so
	// "localhost" finds it whether it resolves to 127.0.0.1 or ::1.
	secret := "the other host's secret"
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte(secret))
	}))
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	other.Listener = l
	other.Start()
	defer other.Close()
	_, otherPort, _ := net.SplitHostPort(l.Addr().String())

	var allowed *httptest.Server
	allowed = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hello":
			rw.Header().Set("X-Test", "yes")
			rw.Write([]byte("hello from the granted host"))
		case "/hop": // a redirect on the same host
			http.Redirect(rw, r, "/hello", http.StatusFound)
		case "/to-localhost":
			http.Redirect(rw, r, "http://localhost:"+otherPort+"/", http.StatusFound)
		case "/to-other-port":
			http.Redirect(rw, r, "http://127.0.0.1:"+otherPort+"/", http.StatusFound)
		case "/loop":
			http.Redirect(rw, r, "/loop", http.StatusFound)
		case "/huge":
			big := make([]byte, 1<<20)
			for i := 0; i <= abi.MaxHTTPResponseBody>>20; i++ {
				if _, err := rw.Write(big); err != nil {
					return
				}
			}
		}
	}))
	defer allowed.Close()
	base := allowed.URL // http://127.0.0.1:<port>
	_, allowedPort, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))

	x := w.netGuest(t, "net", "127.0.0.1")
	get := func(t *testing.T, x *host.Extension, url string) (json.RawMessage, *abi.Error) {
		t.Helper()
		return hostCall(t, x, "http.request", map[string]any{"url": url})
	}
	auditRows := func(x *host.Extension) int {
		var n int
		w.lib.Store.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE actor = ? AND action = 'hostcall http.request'`, x.ID()).Scan(&n)
		return n
	}

	t.Run("http.request reaches the granted host", func(t *testing.T) {
		ok, e := get(t, x, base+"/hop")
		if e != nil {
			t.Fatalf("GET /hop: %+v", e)
		}
		var r struct {
			Status  int
			URL     string
			Headers map[string]string
			Body    []byte
		}
		json.Unmarshal(ok, &r)
		if r.Status != 200 || string(r.Body) != "hello from the granted host" || r.Headers["x-test"] != "yes" || r.URL != base+"/hello" {
			t.Errorf("GET /hop = %s", ok)
		}
	})

	t.Run("redirect to another host is refused", func(t *testing.T) {
		before := auditRows(x)
		ok, e := get(t, x, base+"/to-localhost")
		if e == nil || e.Code != abi.CodeCapabilityDenied || !strings.Contains(e.Message, `does not cover host "localhost:`+otherPort+`"`) ||
			!strings.Contains(e.Message, "redirect from") || strings.Contains(string(ok), base64.StdEncoding.EncodeToString([]byte(secret))) {
			t.Fatalf("redirect to localhost: %s %+v", ok, e)
		}
		t.Log(e.Message)
		if n := auditRows(x); n != before+1 {
			t.Errorf("audit rows = %d, want %d", n, before+1)
		}
	})

	t.Run("a direct request to another host is refused", func(t *testing.T) {
		if _, e := get(t, x, "http://localhost:"+otherPort+"/"); e == nil || e.Code != abi.CodeCapabilityDenied {
			t.Fatalf("GET localhost: %+v", e)
		}
		for _, u := range []string{"file:///etc/passwd", "http://user:pw@127.0.0.1:" + otherPort + "/", "/relative"} {
			if _, e := get(t, x, u); e == nil || e.Code != abi.CodeInvalidArgument {
				t.Errorf("GET %s: %+v", u, e)
			}
		}
	})

	t.Run("a host granted with a port covers that port only", func(t *testing.T) {
		xp := w.netGuest(t, "netport", "127.0.0.1:"+allowedPort)
		if _, e := get(t, xp, base+"/hello"); e != nil {
			t.Fatalf("GET the granted port: %+v", e)
		}
		if _, e := get(t, xp, base+"/to-other-port"); e == nil || e.Code != abi.CodeCapabilityDenied ||
			!strings.Contains(e.Message, `"127.0.0.1:`+otherPort+`"`) {
			t.Fatalf("redirect to another port: %+v", e)
		}
	})

	t.Run("redirect loops and huge responses hit limits", func(t *testing.T) {
		if _, e := get(t, x, base+"/loop"); e == nil || e.Code != abi.CodeLimitExceeded {
			t.Errorf("redirect loop: %+v", e)
		}
		if _, e := get(t, x, base+"/huge"); e == nil || e.Code != abi.CodeLimitExceeded {
			t.Errorf("huge response: %+v", e)
		}
	})

	t.Run("extism http_request is denied even with net granted", func(t *testing.T) {
		xe := w.netGuest(t, "extismhttp", "127.0.0.1")
		for _, u := range []string{base + "/to-localhost", base + "/hello"} {
			out, err := call(xe, "extismhttp", u)
			if !errors.Is(err, ext.ErrTrap) || strings.Contains(string(out), secret) {
				t.Fatalf("extism http_request %s = %q, %v; want a trap", u, out, err)
			}
			t.Log(err)
		}
	})

	t.Run("without net, http.request is denied", func(t *testing.T) {
		xn := w.hostile(t, "nonet", host.Limits{})
		if _, e := get(t, xn, base+"/hello"); e == nil || e.Code != abi.CodeCapabilityDenied {
			t.Fatalf("GET without net: %+v", e)
		}
	})
	w.assertGood(t)
}
