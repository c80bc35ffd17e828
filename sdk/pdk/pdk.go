package pdk

import (
	"strconv"
	"unsafe"

	"github.com/cairnfs/cairn/sdk/pdk/internal/abi"
)

// Input returns a copy of the current call's input. It copies 8 bytes per
// host call; call it once per export.
func Input() []byte { return loadInput() }

// InputString returns the current call's input as a string.
func InputString() string {
	b := loadInput()
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is ours alone
}

// Output sets the current call's output to a copy of data. A later call to
// Output replaces it.
func Output(data []byte) {
	OutputMemory(AllocateBytes(data))
}

// OutputString sets the current call's output to s.
func OutputString(s string) {
	OutputMemory(AllocateString(s))
}

// OutputMemory makes m the current call's output without copying. m must not
// be freed afterwards: the host reads it after the export returns.
func OutputMemory(m Memory) {
	abi.OutputSet(m.offset, m.length)
}

// SetError sets the current call's error message to err.Error(). The host
// reports it as the call's error. Export calls SetError for you; call it
// directly only from exports that do not use Export. A nil err is ignored.
func SetError(err error) {
	if err != nil {
		SetErrorString(err.Error())
	}
}

// SetErrorString sets the current call's error message. An empty message
// would be indistinguishable from "no error" for the host, so it is replaced
// by a placeholder.
func SetErrorString(msg string) {
	if msg == "" {
		msg = "pdk: error with an empty message"
	}
	abi.ErrorSet(AllocateString(msg).offset) // not freed: the host reads it after the call
}

// GetConfig returns the value of the manifest config key, and whether it is
// set. The kernel cannot hold an empty block, so a key set to "" reads as
// unset.
func GetConfig(key string) (string, bool) {
	k := AllocateString(key)
	v := readHostResult(abi.ConfigGet(k.offset))
	k.Free()
	if v == nil {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(v), len(v)), true
}

// GetVar returns the plugin variable key, or nil when it is unset. Variables
// live in the host, per plugin instance, and survive across calls (but not
// instance replacement).
func GetVar(key string) []byte {
	k := AllocateString(key)
	return readHostResult(abi.VarGet(k.offset)) // var_get frees k
}

// SetVar sets the plugin variable key to a copy of value. An empty value
// removes the variable. The host traps (killing the instance) when its
// variable store is full (go-sdk: 1 MiB by default) or disabled.
func SetVar(key string, value []byte) {
	k := AllocateString(key)
	v := AllocateBytes(value)
	abi.VarSet(k.offset, v.offset) // var_set frees k and v
}

// RemoveVar removes the plugin variable key.
func RemoveVar(key string) {
	SetVar(key, nil)
}

// LogLevel is a log level in the Extism numbering used by get_log_level.
type LogLevel int32

// Log levels, lowest first.
const (
	LevelTrace = LogLevel(abi.LevelTrace)
	LevelDebug = LogLevel(abi.LevelDebug)
	LevelInfo  = LogLevel(abi.LevelInfo)
	LevelWarn  = LogLevel(abi.LevelWarn)
	LevelError = LogLevel(abi.LevelError)
)

// String returns "trace", "debug", "info", "warn", "error" or "off".
func (l LogLevel) String() string {
	switch l {
	case LevelTrace:
		return "trace"
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	case LevelError + 1:
		return "off"
	}
	return "LogLevel(" + strconv.Itoa(int(l)) + ")"
}

// GetLogLevel returns the host's minimum log level. A value above LevelError
// means the host logs nothing.
func GetLogLevel() LogLevel {
	l := LogLevel(abi.GetLogLevel())
	if l > LevelError {
		l = LevelError + 1
	}
	return l
}

// Log sends msg to the host's logger at level. Messages below the host's
// level are dropped before being copied out of the guest.
func Log(level LogLevel, msg string) {
	if level < LogLevel(abi.GetLogLevel()) {
		return
	}
	m := AllocateString(msg)
	switch {
	case level <= LevelTrace:
		abi.LogTrace(m.offset)
	case level == LevelDebug:
		abi.LogDebug(m.offset)
	case level == LevelInfo:
		abi.LogInfo(m.offset)
	case level == LevelWarn:
		abi.LogWarn(m.offset)
	default:
		abi.LogError(m.offset)
	}
	// log_* frees m.
}

// readHostResult copies and frees a block the host returned (0 means none).
// The host made the block with alloc, so the O(1) length_unsafe is valid.
func readHostResult(off uint64) []byte {
	if off == 0 {
		return nil
	}
	n := abi.LengthUnsafe(off)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	load(off, b)
	abi.Free(off)
	return b
}
