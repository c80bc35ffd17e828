package plugin

import (
	"io"
	"log/slog"
	"os"
	"sync"
)

// stderr is the process's stderr as it was at start: go-plugin replaces os.Stderr with a pipe
// once Serve runs, while the host reads and logs the original one line by line.
var stderr = os.Stderr

// LevelTrace is the trace level of the host ABI's log function, for Logger.
const LevelTrace = slog.Level(-8)

var logger = sync.OnceValue(func() *slog.Logger { return newLogger(stderr) })

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: LevelTrace, ReplaceAttr: hclogKeys}))
}

// Logger returns the extension's logger: JSON lines on stderr, which the host reads and logs
// under the extension's id at their level. It costs no host call; the host ABI's log function
// (Host.Call(ctx, "log", ...)) is the alternative that goes through the host's dispatcher.
func Logger() *slog.Logger { return logger() }

// hclogKeys writes go-plugin's (hclog's) JSON keys: @timestamp, @level (lower case), @message.
func hclogKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
	case slog.MessageKey:
		return slog.String("@message", a.Value.String())
	case slog.LevelKey:
		l, _ := a.Value.Any().(slog.Level)
		name := "trace"
		switch {
		case l >= slog.LevelError:
			name = "error"
		case l >= slog.LevelWarn:
			name = "warn"
		case l >= slog.LevelInfo:
			name = "info"
		case l >= slog.LevelDebug:
			name = "debug"
		}
		return slog.String("@level", name)
	}
	return a
}
