// Command hostile is a test guest that misbehaves on request: each export is one way an
// extension can try to hurt its host (spin, sleep, exhaust memory, flood output, panic, crash,
// reach for files or host functions it was not granted). The host's tests load it next to a
// well-behaved guest and check that only the hostile one suffers.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hostile.wasm .
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/sdk/pdk"
)

func main() {}

//go:wasmexport noop
func noop() int32 { return pdk.Export(func() error { return nil }) }

//go:wasmexport echo
func echo() int32 { return pdk.ExportBytes(func(in []byte) ([]byte, error) { return in, nil }) }

//go:wasmexport fail
func fail() int32 {
	return pdk.Export(func() error { return errors.New("fail: as asked") })
}

// spin never returns: only the host's deadline stops it.
//
//go:wasmexport spin
func spin() int32 {
	return pdk.Export(func() error {
		n := 0
		for {
			n++
		}
	})
}

// sleep sleeps for an hour inside poll_oneoff (a host function, not guest code).
//
//go:wasmexport sleep
func sleep() int32 {
	return pdk.Export(func() error {
		time.Sleep(time.Hour)
		return nil
	})
}

var hoard [][]byte

// membomb allocates 8 MiB at a time, touching and keeping every byte, until something stops it.
//
//go:wasmexport membomb
func membomb() int32 {
	return pdk.Export(func() error {
		for {
			b := make([]byte, 8<<20)
			for i := range b {
				b[i] = byte(i)
			}
			hoard = append(hoard, b)
		}
	})
}

// pagebomb is membomb touching one byte per 4 KiB page: as much resident memory, sooner.
//
//go:wasmexport pagebomb
func pagebomb() int32 {
	return pdk.Export(func() error {
		for {
			b := make([]byte, 8<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			hoard = append(hoard, b)
		}
	})
}

var kept []byte

// grow allocates (and keeps, until the next call) the number of MiB given as input.
//
//go:wasmexport grow
func grow() int32 {
	return pdk.Export(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		kept = make([]byte, n<<20)
		for i := 0; i < len(kept); i += 4096 {
			kept[i] = 1
		}
		return nil
	})
}

// bigoutput outputs as many bytes as the input says.
//
//go:wasmexport bigoutput
func bigoutput() int32 {
	return pdk.Export(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		pdk.Output(make([]byte, n))
		return nil
	})
}

// panic panics inside pdk.Export, which recovers it into the call's error.
//
//go:wasmexport panic
func panicExport() int32 {
	return pdk.Export(func() error {
		var m map[string]int
		m["boom"]++
		return nil
	})
}

// panic_raw panics without pdk.Export: the module traps ("wasm error: unreachable").
//
//go:wasmexport panic_raw
func panicRaw() int32 {
	panic("panic_raw: nobody recovers this")
}

// crash panics on another goroutine: the Go runtime exits and the module is closed.
//
//go:wasmexport crash
func crash() int32 {
	return pdk.Export(func() error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			panic("crash: panic on a background goroutine")
		}()
		<-done
		return nil
	})
}

// hostcall sends its input, an encoded host ABI request, to cairn:host/v1 call and outputs the
// response.
//
//go:wasmexport hostcall
func hostcall() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) { return pdk.CallHost(cairnCall, in), nil })
}

// readfile outputs the bytes of the file named by the input.
//
//go:wasmexport readfile
func readfile() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) { return os.ReadFile(string(in)) })
}

// writefile tries to write the file named by the input and to remove it; it outputs what
// happened.
//
//go:wasmexport writefile
func writefile() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) {
		werr := os.WriteFile(string(in), []byte("pwned"), 0o644)
		rerr := os.Remove(string(in))
		return []byte("write: " + errString(werr) + "; remove: " + errString(rerr)), nil
	})
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// listdir outputs the names in the directory named by the input, one per line.
//
//go:wasmexport listdir
func listdir() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) {
		ents, err := os.ReadDir(string(in))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return []byte(strings.Join(names, "\n")), nil
	})
}

// clock outputs the wall clock (Unix seconds) and 16 random bytes (hex).
//
//go:wasmexport clock
func clock() int32 {
	return pdk.Export(func() error {
		b := make([]byte, 16)
		rand.Read(b)
		pdk.OutputString(strconv.FormatInt(time.Now().Unix(), 10) + " " + hex.EncodeToString(b))
		return nil
	})
}

// chatter writes lines to stdout and stderr and logs through Extism.
//
//go:wasmexport chatter
func chatter() int32 {
	return pdk.Export(func() error {
		os.Stdout.WriteString("hello from stdout\n")
		os.Stderr.WriteString("hello from stderr\n")
		pdk.Log(pdk.LevelWarn, "hello from pdk.Log")
		return nil
	})
}

// extismhttp fetches the URL given as input with Extism's own http_request (which follows
// redirects to any host) and outputs the status and body.
//
//go:wasmexport extismhttp
func extismhttp() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) {
		resp, err := pdk.SendHTTP(pdk.HTTPRequest{URL: string(in)}, nil)
		if err != nil {
			return nil, err
		}
		return append([]byte(strconv.Itoa(resp.Status)+" "), resp.Body...), nil
	})
}

// callHost sends one host call and returns the raw response.
func callHost(fn string, args any) []byte {
	a, _ := json.Marshal(args)
	req, _ := json.Marshal(map[string]any{"fn": fn, "args": json.RawMessage(a)})
	return pdk.CallHost(cairnCall, req)
}

// denyloop makes as many kv.set calls as the input says (the guest is not granted kv) and
// outputs how many came back denied.
//
//go:wasmexport denyloop
func denyloop() int32 {
	return pdk.Export(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		denied := 0
		for i := 0; i < n; i++ {
			if strings.Contains(string(callHost("kv.set", map[string]any{"key": "k", "value": "AA=="})), "capability_denied") {
				denied++
			}
		}
		pdk.OutputString(strconv.Itoa(denied))
		return nil
	})
}

// denyvary makes as many entries.query calls as the input says, each for another location it
// was not granted, so that every denial has its own reason.
//
//go:wasmexport denyvary
func denyvary() int32 {
	return pdk.Export(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			callHost("entries.query", map[string]any{"location": "not-granted-" + strconv.Itoa(i)})
		}
		return nil
	})
}

// logflood logs as much as it can in one call: the input's number of 16 KiB messages through
// the host's log call (with 32 KiB of attributes each), of 4 KiB lines on stderr, and of 16 KiB
// messages through Extism's log.
//
//go:wasmexport logflood
func logflood() int32 {
	return pdk.Export(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		msg := strings.Repeat("x", 16<<10)
		attrs := map[string]string{"big": strings.Repeat("y", 32<<10)}
		line := strings.Repeat("z", 4<<10-1) + "\n"
		for i := 0; i < n; i++ {
			callHost("log", map[string]any{"level": "error", "msg": msg, "attrs": attrs})
			os.Stderr.WriteString(line)
			pdk.Log(pdk.LevelError, msg)
		}
		return nil
	})
}

// bigdata is a stage that answers each item with data of config.bytes bytes.
//
//go:wasmexport bigdata
func bigdata() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) {
		var batch struct {
			Config struct{ Bytes int } `json:"config"`
			Items  []struct {
				ContentUUID string `json:"content_uuid"`
			} `json:"items"`
		}
		if err := json.Unmarshal(in, &batch); err != nil {
			return nil, err
		}
		pad := strings.Repeat("d", batch.Config.Bytes)
		var out struct {
			Outcomes []map[string]any `json:"outcomes"`
		}
		for _, it := range batch.Items {
			out.Outcomes = append(out.Outcomes, map[string]any{"content_uuid": it.ContentUUID, "data": map[string]string{"pad": pad}})
		}
		return json.Marshal(out)
	})
}
