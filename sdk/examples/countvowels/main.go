// Command countvowels is an example guest built with the Cairn PDK and the
// standard Go toolchain. Its count_vowels export has the same contract as
// Extism's classic count_vowels plugin (github.com/extism/plugins,
// count_vowels/src/lib.rs); the other exports exercise the PDK's traps in
// the sdk/pdk tests.
//
// Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o countvowels.wasm ./sdk/examples/countvowels
package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cairnfs/cairn/sdk/pdk"
)

// main is never called: a -buildmode=c-shared module is a WASI reactor whose
// runtime starts in _initialize, and the host calls the exports directly.
func main() {}

const defaultVowels = "aeiouAEIOU"

// count_vowels counts the characters of the input (UTF-8 text) that occur in
// the config value "vowels" (default "aeiouAEIOU"), adds the count to the
// plugin variable "total" (a decimal string), and outputs
// {"count":N,"total":N,"vowels":"..."}.
//
//go:wasmexport count_vowels
func countVowels() int32 { return pdk.Export(countVowelsImpl) }

func countVowelsImpl() error {
	input := pdk.Input()
	if !utf8.Valid(input) {
		return errors.New("count_vowels: input is not valid UTF-8")
	}
	vowels, ok := pdk.GetConfig("vowels")
	if !ok {
		vowels = defaultVowels
	}
	var count uint32
	for _, r := range string(input) {
		if strings.ContainsRune(vowels, r) {
			count++
		}
	}
	var total uint32
	if v := pdk.GetVar("total"); v != nil {
		t, err := strconv.ParseUint(string(v), 10, 32)
		if err != nil {
			return fmt.Errorf("count_vowels: variable total: %w", err)
		}
		total = uint32(t)
	}
	total += count
	pdk.SetVar("total", strconv.AppendUint(nil, uint64(total), 10))
	pdk.Output(appendReport(nil, count, total, vowels))
	return nil
}

// appendReport writes the report the way serde_json does, so the output is
// byte-identical to the Rust plugin's. encoding/json would differ for vowels
// containing <, >, &, U+2028, U+2029 or invalid UTF-8.
func appendReport(b []byte, count, total uint32, vowels string) []byte {
	b = append(b, `{"count":`...)
	b = strconv.AppendUint(b, uint64(count), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendUint(b, uint64(total), 10)
	b = append(b, `,"vowels":`...)
	b = appendSerdeString(b, vowels)
	return append(b, '}')
}

// appendSerdeString quotes s like serde_json: ", \ and control characters
// are escaped (\b \t \n \f \r short forms, \u00xx otherwise); everything else,
// including non-ASCII text, is copied as is.
func appendSerdeString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// panic always panics; pdk.Export turns the panic into the call's error and
// the instance stays usable.
//
//go:wasmexport panic
func panicExport() int32 {
	return pdk.Export(func() error {
		var m map[string]int
		m["boom"] = 1 // a runtime error, not just a panic(string)
		return nil
	})
}

// crash panics on another goroutine, which no recover can catch: the Go
// runtime exits (proc_exit 2), the module is closed, and the host must
// replace the instance.
//
//go:wasmexport crash
func crashExport() int32 {
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

// fail returns an ordinary error.
//
//go:wasmexport fail
func failExport() int32 {
	return pdk.Export(func() error {
		return fmt.Errorf("fail: asked to fail with input %q", pdk.InputString())
	})
}

// spin never returns. Only a host deadline with WithCloseOnContextDone can
// stop it, and that closes the instance.
//
//go:wasmexport spin
func spinExport() int32 {
	return pdk.Export(func() error {
		n := 0
		for {
			n++
		}
	})
}

// sink keeps the last buffer reachable so that the allocation is real; each
// call drops the previous one.
var sink []byte

// garbage allocates 1 MiB and drops the previous call's MiB.
//
//go:wasmexport garbage
func garbageExport() int32 {
	return pdk.Export(func() error {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(i)
		}
		sink = b
		return nil
	})
}

// garbage_no_yield is garbage without pdk.Export, hence without the
// runtime.Gosched the wrapper adds: the control for the GC-starvation trap.
// Real exports must not do this.
//
//go:wasmexport garbage_no_yield
func garbageNoYieldExport() int32 {
	b := make([]byte, 1<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i)
	}
	sink = b
	return 0
}

// echo_host sends the input to the host function cairn_test_transform (in
// extism:host/user, which answers "host:" followed by the payload reversed)
// and outputs its answer.
//
//go:wasmexport echo_host
func echoHostExport() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) {
		return pdk.CallHost(hostTransform, in), nil
	})
}

// echo copies its input to its output: the PDK's byte path without a host
// function.
//
//go:wasmexport echo
func echoExport() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) { return in, nil })
}

// config_var exercises config, vars and logging: it logs the input at info
// level, then outputs "<config key>=<value>|var=<previous var>" and stores
// the input in the variable "last".
//
//go:wasmexport config_var
func configVarExport() int32 {
	return pdk.Export(func() error {
		in := pdk.InputString()
		pdk.Log(pdk.LevelInfo, "config_var: "+in)
		v, ok := pdk.GetConfig(in)
		if !ok {
			v = "<unset>"
		}
		prev := pdk.GetVar("last")
		pdk.SetVar("last", []byte(in))
		pdk.OutputString(in + "=" + v + "|var=" + string(prev))
		return nil
	})
}

// json_double decodes {"n": int} and outputs {"n": 2n}.
//
//go:wasmexport json_double
func jsonDoubleExport() int32 {
	return pdk.Export(func() error {
		var v struct {
			N int `json:"n"`
		}
		if err := pdk.InputJSON(&v); err != nil {
			return err
		}
		v.N *= 2
		return pdk.OutputJSON(v)
	})
}

// noop does nothing through pdk.Export: the per-call overhead baseline.
//
//go:wasmexport noop
func noopExport() int32 { return pdk.Export(func() error { return nil }) }

// noop_raw does nothing at all, without pdk.Export, to measure the wrapper.
//
//go:wasmexport noop_raw
func noopRawExport() int32 { return 0 }
