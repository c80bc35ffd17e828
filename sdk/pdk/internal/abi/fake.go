//go:build !wasip1

package abi

import (
	"encoding/binary"
	"fmt"
)

// FakeKernel is the in-process stand-in for the Extism kernel and the go-sdk
// host functions, used on every platform but wasip1. It follows go-sdk
// v1.7.x semantics, including which calls free their arguments (var_get,
// var_set, log_*, http_request) and which do not (config_get). Freed blocks are
// never reused, so Live counts leaks exactly. It is not safe for concurrent
// use: tests that drive it must not run in parallel.
type FakeKernel struct {
	// Config answers ConfigGet.
	Config map[string]string
	// Vars backs VarGet and VarSet.
	Vars map[string][]byte
	// LogLevel is what GetLogLevel returns.
	LogLevel int32
	// Logs collects messages logged at or above LogLevel.
	Logs []FakeLog
	// HTTP answers HTTPRequest; nil makes HTTPRequest panic, like a host
	// that allows no hosts.
	HTTP func(request, body []byte) (status int32, response []byte)

	mem       []byte // blocks, then fakeSlack bytes
	top       uint64 // end of the last block
	blocks    map[Ptr]*fakeBlock
	input     Ptr
	inputLen  uint64
	output    Ptr
	outputLen uint64
	err       Ptr
	status    int32
}

// FakeLog is one message logged through the fake kernel.
type FakeLog struct {
	Level int32
	Msg   string
}

// fakeSlack is the room kept after the last block. The real kernel keeps
// pages of it, and the pdk relies on at least 7 bytes (it reads and writes
// blocks in 8-byte units); accesses beyond it panic.
const fakeSlack = 8

type fakeBlock struct {
	used   uint64
	active bool
}

// Fake is the kernel every function of this package uses outside wasip1.
var Fake = &FakeKernel{}

// Reset starts a new call the way go-sdk does: it clears kernel memory, the
// output and the error, and installs input. Config, Vars, LogLevel, HTTP and
// Logs are kept.
func (k *FakeKernel) Reset(input []byte) {
	k.top = 8 // offset 0 is never a block
	k.mem = make([]byte, k.top+fakeSlack)
	k.blocks = map[Ptr]*fakeBlock{}
	k.output, k.outputLen, k.err = 0, 0, 0
	k.input = k.alloc(uint64(len(input)))
	k.inputLen = uint64(len(input))
	copy(k.mem[k.input:], input)
}

// Output returns a copy of the bytes set by OutputSet.
func (k *FakeKernel) Output() []byte {
	return append([]byte(nil), k.mem[k.output:k.output+k.outputLen]...)
}

// Error returns the message set by ErrorSet, or "".
func (k *FakeKernel) Error() string {
	if k.err == 0 {
		return ""
	}
	return string(k.read(k.err))
}

// Live returns the number of allocated blocks not yet freed, counting the
// input block.
func (k *FakeKernel) Live() int {
	n := 0
	for _, b := range k.blocks {
		if b.active {
			n++
		}
	}
	return n
}

func (k *FakeKernel) alloc(n uint64) Ptr {
	if n == 0 {
		return 0
	}
	if k.blocks == nil {
		k.Reset(nil)
	}
	p := k.top
	k.top += n
	k.mem = append(k.mem, make([]byte, n)...) // keeps fakeSlack bytes past top
	k.blocks[p] = &fakeBlock{used: n, active: true}
	return p
}

func (k *FakeKernel) length(p Ptr) uint64 {
	if b, ok := k.blocks[p]; ok && b.active {
		return b.used
	}
	return 0
}

func (k *FakeKernel) free(p Ptr) {
	if b, ok := k.blocks[p]; ok {
		b.active = false
	}
}

func (k *FakeKernel) read(p Ptr) []byte {
	n := k.length(p)
	if n == 0 {
		return nil
	}
	return append([]byte(nil), k.mem[p:p+n]...)
}

func (k *FakeKernel) write(b []byte) Ptr {
	p := k.alloc(uint64(len(b)))
	copy(k.mem[p:], b)
	return p
}

func (k *FakeKernel) at(p Ptr, n uint64) []byte {
	if p == 0 || p+n > uint64(len(k.mem)) {
		panic(fmt.Sprintf("abi fake: out-of-bounds kernel memory access at %d (+%d)", p, n))
	}
	return k.mem[p : p+n]
}

func (k *FakeKernel) log(level int32, msg Ptr) {
	if level >= k.LogLevel {
		k.Logs = append(k.Logs, FakeLog{Level: level, Msg: string(k.read(msg))})
	}
	k.free(msg)
}

func Alloc(n uint64) Ptr          { return Fake.alloc(n) }
func Free(p Ptr)                  { Fake.free(p) }
func Length(p Ptr) uint64         { return Fake.length(p) }
func LengthUnsafe(p Ptr) uint64   { return Fake.length(p) }
func LoadU8(p Ptr) byte           { return Fake.at(p, 1)[0] }
func LoadU64(p Ptr) uint64        { return binary.LittleEndian.Uint64(Fake.at(p, 8)) }
func StoreU8(p Ptr, v byte)       { Fake.at(p, 1)[0] = v }
func StoreU64(p Ptr, v uint64)    { binary.LittleEndian.PutUint64(Fake.at(p, 8), v) }
func InputLength() uint64         { return Fake.inputLen }
func InputLoadU8(off uint64) byte { return LoadU8(Fake.input + off) }
func InputLoadU64(off uint64) uint64 {
	return LoadU64(Fake.input + off)
}
func OutputSet(p Ptr, n uint64) { Fake.output, Fake.outputLen = p, n }
func ErrorSet(p Ptr)            { Fake.err = p }

func ConfigGet(key Ptr) Ptr {
	v, ok := Fake.Config[string(Fake.read(key))]
	if !ok {
		return 0
	}
	return Fake.write([]byte(v))
}

func VarGet(key Ptr) Ptr {
	name := string(Fake.read(key))
	Fake.free(key)
	v, ok := Fake.Vars[name]
	if !ok {
		return 0
	}
	return Fake.write(v)
}

func VarSet(key, value Ptr) {
	name := string(Fake.read(key))
	Fake.free(key)
	if Fake.Vars == nil {
		Fake.Vars = map[string][]byte{}
	}
	if value == 0 {
		delete(Fake.Vars, name)
		return
	}
	Fake.Vars[name] = Fake.read(value)
	Fake.free(value)
}

func LogTrace(msg Ptr)      { Fake.log(LevelTrace, msg) }
func LogDebug(msg Ptr)      { Fake.log(LevelDebug, msg) }
func LogInfo(msg Ptr)       { Fake.log(LevelInfo, msg) }
func LogWarn(msg Ptr)       { Fake.log(LevelWarn, msg) }
func LogError(msg Ptr)      { Fake.log(LevelError, msg) }
func GetLogLevel() int32    { return Fake.LogLevel }
func HTTPStatusCode() int32 { return Fake.status }
func HTTPHeaders() Ptr      { return 0 }

func HTTPRequest(req, body Ptr) Ptr {
	if Fake.HTTP == nil {
		panic("abi fake: http_request: no HTTP handler installed (FakeKernel.HTTP)")
	}
	r, b := Fake.read(req), Fake.read(body)
	Fake.free(req)
	Fake.free(body)
	status, resp := Fake.HTTP(r, b)
	Fake.status = status
	return Fake.write(resp)
}
