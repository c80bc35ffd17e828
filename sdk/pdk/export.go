package pdk

import (
	"runtime"
	"strconv"
	"strings"
)

// Export runs fn as the body of an exported function and returns the
// export's result code: 0 on success, 1 when fn returned an error or
// panicked. Every export should be exactly
//
//	//go:wasmexport my_export
//	func myExport() int32 { return pdk.Export(myExportImpl) }
//
// It handles two traps of Go guests in Extism hosts:
//
//   - A panic in fn is recovered and becomes the call's error ("panic: " and
//     the value, then a blank line and the goroutine's stack), so the
//     instance stays usable. Without it the panic aborts the module with
//     "wasm error: unreachable" and the instance is dead. Runtime fatal errors
//     (out of memory, stack exhaustion, a panic on another goroutine) cannot
//     be recovered and still kill it.
//   - It calls runtime.Gosched before returning. A reactor module's runtime
//     only runs while an export runs; without this yield the background GC
//     workers starve and the heap grows without bound (measured with Go 1.26:
//     a guest dropping 1 MiB per call stays at 8 MiB for ~350 calls, then
//     keeps every MiB, 154 MiB after 500 calls; with the yield it stays at
//     8 MiB). The yield costs nothing measurable per call.
//
// Export formats panics without fmt, which would add ~0.7 MB to a guest
// that does not otherwise use it.
func Export(fn func() error) (rc int32) {
	defer runtime.Gosched()
	defer func() {
		if r := recover(); r != nil {
			SetErrorString("panic: " + panicString(r) + "\n\n" + panicStack())
			rc = 1
		}
	}()
	if err := fn(); err != nil {
		SetError(err)
		return 1
	}
	return 0
}

// ExportBytes is Export for the common shape "bytes in, bytes out": it passes
// the call's input to fn and sets fn's result as the output.
func ExportBytes(fn func(input []byte) ([]byte, error)) int32 {
	return Export(func() error {
		out, err := fn(Input())
		if err != nil {
			return err
		}
		Output(out)
		return nil
	})
}

// panicString renders a panic value like fmt's %v for the common types.
func panicString(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case interface{ String() string }:
		return v.String()
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int8, int16, int32, int64:
		return strconv.FormatInt(toInt64(v), 10)
	case uint, uint8, uint16, uint32, uint64, uintptr:
		return strconv.FormatUint(toUint64(v), 10)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "(a value of a type pdk does not format)"
}

func toInt64(v any) int64 {
	switch v := v.(type) {
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

func toUint64(v any) uint64 {
	switch v := v.(type) {
	case uint:
		return uint64(v)
	case uint8:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint32:
		return uint64(v)
	case uint64:
		return v
	case uintptr:
		return uint64(v)
	}
	return 0
}

// panicStack returns the stack of the panicking goroutine from the panicking
// frame down, without the recovery frames above it. It uses runtime.Stack
// because runtime/debug.Stack would pull in fmt.
func panicStack() string {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	s := string(buf)
	// "goroutine 1 [running]:\npdk.panicStack()…\npanic({…})\n\t…/panic.go:…\nmain.f()…"
	header, rest, _ := strings.Cut(s, "\n")
	if _, after, ok := strings.Cut(rest, "\npanic("); ok {
		if _, frames, ok := strings.Cut(after, "\n\t"); ok { // skip panic's own file line
			if _, frames, ok := strings.Cut(frames, "\n"); ok {
				return header + "\n" + frames
			}
		}
	}
	return s
}
