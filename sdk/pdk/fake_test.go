//go:build !wasip1

package pdk

// Unit tests against the in-process fake kernel (internal/abi/fake.go). The
// same behaviour is checked end to end in a real go-sdk host by
// guest_test.go.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/sdk/pdk/internal/abi"
)

// baseLive is the number of live blocks at the start of the fake call: the
// input block, if the input is not empty.
var baseLive int

// reset starts a fake call with a fresh fake kernel.
func reset(t *testing.T, input string) {
	t.Helper()
	*abi.Fake = abi.FakeKernel{LogLevel: int32(LevelError) + 1}
	abi.Fake.Reset([]byte(input))
	baseLive = abi.Fake.Live()
}

// wantLive checks that the call has allocated exactly want blocks it did not
// free: the PDK frees everything but what it hands to the host.
func wantLive(t *testing.T, want int) {
	t.Helper()
	if got := abi.Fake.Live() - baseLive; got != want {
		t.Errorf("kernel blocks left allocated = %d, want %d", got, want)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

func TestMemoryChunking(t *testing.T) {
	reset(t, "")
	for n := 0; n <= 40; n++ {
		want := pattern(n)
		m := AllocateBytes(want)
		if m.Length() != uint64(n) || (n == 0) != (m.Offset() == 0) {
			t.Fatalf("AllocateBytes(%d bytes) = %+v", n, m)
		}
		if got := m.ReadBytes(); !bytes.Equal(got, want) {
			t.Fatalf("ReadBytes(%d) = %x, want %x", n, got, want)
		}
		if got := AllocateString(string(want)).ReadBytes(); !bytes.Equal(got, want) {
			t.Fatalf("AllocateString(%d) read back %x", n, got)
		}
		short := make([]byte, n/2)
		m.Load(short)
		if !bytes.Equal(short, want[:n/2]) {
			t.Fatalf("Load into %d bytes = %x", n/2, short)
		}
		long := make([]byte, n+5)
		m.Load(long)
		if !bytes.Equal(long[:n], want) || !bytes.Equal(long[n:], make([]byte, 5)) {
			t.Fatalf("Load into %d bytes = %x", n+5, long)
		}
		m.Store(pattern(n + 3)[3:]) // src longer than the block is cut
		if got := FindMemory(m.Offset()).ReadBytes(); !bytes.Equal(got, pattern(n + 3)[3:][:n]) {
			t.Fatalf("Store then FindMemory(%d) = %x", n, got)
		}
		m.Free()
		m.Free() // a no-op
		if FindMemory(m.Offset()) != (Memory{}) {
			t.Fatalf("FindMemory of a freed block is not empty")
		}
	}
	wantLive(t, 40) // the AllocateString blocks for n = 1…40, nothing else
}

func TestInputOutput(t *testing.T) {
	for n := 0; n <= 20; n++ {
		in := string(pattern(n))
		reset(t, in)
		if got := Input(); string(got) != in || (n > 0 && got == nil) {
			t.Fatalf("Input() = %x, want %x", got, in)
		}
		if got := InputString(); got != in {
			t.Fatalf("InputString() = %x", got)
		}
		OutputString("out:" + in)
		if got := string(abi.Fake.Output()); got != "out:"+in {
			t.Fatalf("output = %q", got)
		}
		Output([]byte(in)) // replaces the previous output
		if got := string(abi.Fake.Output()); got != in {
			t.Fatalf("output = %q", got)
		}
	}
}

func TestExport(t *testing.T) {
	reset(t, "")
	if rc := Export(func() error { return nil }); rc != 0 || abi.Fake.Error() != "" {
		t.Errorf("ok: rc=%d err=%q", rc, abi.Fake.Error())
	}

	reset(t, "")
	if rc := Export(func() error { return errors.New("no thanks") }); rc != 1 || abi.Fake.Error() != "no thanks" {
		t.Errorf("error: rc=%d err=%q", rc, abi.Fake.Error())
	}

	reset(t, "")
	if rc := Export(func() error { return errors.New("") }); rc != 1 || abi.Fake.Error() == "" {
		t.Errorf("empty error: rc=%d err=%q; want a placeholder message", rc, abi.Fake.Error())
	}

	reset(t, "")
	rc := Export(func() error {
		var p *struct{ x int }
		p.x = 1
		return nil
	})
	msg := abi.Fake.Error()
	if rc != 1 || !strings.HasPrefix(msg, "panic: runtime error: invalid memory address") || !strings.Contains(msg, "TestExport") {
		t.Errorf("panic: rc=%d err=%.300q", rc, msg)
	}

	reset(t, "in")
	rc = ExportBytes(func(in []byte) ([]byte, error) { return append(in, "-out"...), nil })
	if rc != 0 || string(abi.Fake.Output()) != "in-out" {
		t.Errorf("ExportBytes: rc=%d output=%q", rc, abi.Fake.Output())
	}
}

func TestConfigAndVars(t *testing.T) {
	reset(t, "")
	abi.Fake.Config = map[string]string{"k": "value", "empty": ""}
	if v, ok := GetConfig("k"); !ok || v != "value" {
		t.Errorf(`GetConfig("k") = %q, %v`, v, ok)
	}
	if v, ok := GetConfig("missing"); ok || v != "" {
		t.Errorf(`GetConfig("missing") = %q, %v`, v, ok)
	}
	if v, ok := GetConfig("empty"); ok || v != "" { // the kernel has no empty blocks
		t.Errorf(`GetConfig("empty") = %q, %v`, v, ok)
	}

	if v := GetVar("n"); v != nil {
		t.Errorf("GetVar unset = %q", v)
	}
	SetVar("n", []byte("12345678901"))
	if v := GetVar("n"); string(v) != "12345678901" {
		t.Errorf("GetVar = %q", v)
	}
	if v := string(abi.Fake.Vars["n"]); v != "12345678901" {
		t.Errorf("host var = %q", v)
	}
	RemoveVar("n")
	if _, ok := abi.Fake.Vars["n"]; ok || GetVar("n") != nil {
		t.Error("RemoveVar left the variable")
	}
	wantLive(t, 0)
}

func TestLog(t *testing.T) {
	reset(t, "")
	abi.Fake.LogLevel = int32(LevelWarn)
	Log(LevelInfo, "dropped")
	Log(LevelWarn, "kept warn")
	Log(LevelError, "kept error")
	if got := len(abi.Fake.Logs); got != 2 || abi.Fake.Logs[0].Msg != "kept warn" || abi.Fake.Logs[1].Level != int32(LevelError) {
		t.Errorf("logs = %+v", abi.Fake.Logs)
	}
	if GetLogLevel() != LevelWarn {
		t.Errorf("GetLogLevel() = %v", GetLogLevel())
	}
	abi.Fake.LogLevel = 1 << 30
	if l := GetLogLevel(); l.String() != "off" {
		t.Errorf("GetLogLevel() = %v, want off", l)
	}
	wantLive(t, 0)
}

func TestCallHost(t *testing.T) {
	reset(t, "")
	var got []byte
	upper := func(off uint64) uint64 {
		got = FindMemory(off).ReadBytes()
		return AllocateBytes(bytes.ToUpper(got)).Offset()
	}
	for _, in := range []string{"", "a", "eight888", "a longer payload of 33 bytes....."} {
		out := CallHost(upper, []byte(in))
		if string(got) != in || string(out) != strings.ToUpper(in) || (in == "") != (out == nil) {
			t.Errorf("CallHost(%q): host saw %q, returned %q", in, got, out)
		}
	}
	if out := CallHost(func(uint64) uint64 { return 0 }, []byte("x")); out != nil {
		t.Errorf("CallHost with no result = %q, want nil", out)
	}
	wantLive(t, 0)
}

func TestJSONAndHTTP(t *testing.T) {
	reset(t, `{"a":1}`)
	var v map[string]int
	if err := InputJSON(&v); err != nil || v["a"] != 1 {
		t.Fatalf("InputJSON = %v, %v", v, err)
	}
	if err := OutputJSON(map[string]int{"b": 2}); err != nil || string(abi.Fake.Output()) != `{"b":2}` {
		t.Fatalf("OutputJSON: %v, output %q", err, abi.Fake.Output())
	}
	if err := OutputJSON(func() {}); err == nil {
		t.Fatal("OutputJSON(func) did not fail")
	}

	reset(t, "")
	abi.Fake.HTTP = func(req, body []byte) (int32, []byte) {
		var r map[string]any
		if err := json.Unmarshal(req, &r); err != nil {
			t.Fatal(err)
		}
		return 201, []byte(r["method"].(string) + " " + r["url"].(string) + " " + string(body))
	}
	resp, err := SendHTTP(HTTPRequest{URL: "https://example.org/x", Method: "POST"}, []byte("hi"))
	if err != nil || resp.Status != 201 || string(resp.Body) != "POST https://example.org/x hi" {
		t.Fatalf("SendHTTP = %+v, %v", resp, err)
	}
	wantLive(t, 0)
}

type stringer struct{}

func (stringer) String() string { return "a stringer" }

func TestPanicString(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{errors.New("an error"), "an error"},
		{stringer{}, "a stringer"},
		{"a string", "a string"},
		{true, "true"},
		{-42, "-42"},
		{int8(-8), "-8"},
		{int64(-1 << 40), "-1099511627776"},
		{uint8(200), "200"},
		{uintptr(7), "7"},
		{1.5, "1.5"},
		{float32(0.25), "0.25"},
		{[]int{1}, "(a value of a type pdk does not format)"},
	} {
		if got := panicString(c.v); got != c.want {
			t.Errorf("panicString(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
