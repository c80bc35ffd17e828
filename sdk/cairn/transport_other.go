//go:build !wasip1

package cairn

import (
	"encoding/json"
	"sync"
)

// HostFunc answers host calls on native builds: it receives a v1 Request
// (JSON) and returns a v1 Response (JSON), exactly the bytes that cross the
// cairn:host/v1 call import in a WASM build.
type HostFunc func(request []byte) (response []byte)

var (
	hostMu sync.Mutex
	host   HostFunc
)

// SetHost makes fn answer every host call of this process (native builds
// only; a WASM build always calls the real host) and returns a function that
// restores the previous one. With no host set, every call fails with
// unavailable. exttest.Fake provides an in-memory host with capability
// checks:
//
//	fake := exttest.NewFake(m, exttest.Options{})
//	defer cairn.SetHost(fake.Handle)()
//
// The host is process-wide: tests that set different hosts must not run in
// parallel.
func SetHost(fn HostFunc) (restore func()) {
	hostMu.Lock()
	prev := host
	host = fn
	hostMu.Unlock()
	return func() {
		hostMu.Lock()
		host = prev
		hostMu.Unlock()
	}
}

func transport(req []byte) []byte {
	hostMu.Lock()
	fn := host
	hostMu.Unlock()
	if fn == nil {
		b, _ := json.Marshal(response{Error: &Error{Code: CodeUnavailable,
			Message: "no host: this is a native build; install a fake with cairn.SetHost (see exttest.Fake)"}})
		return b
	}
	return fn(req)
}
