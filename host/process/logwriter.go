package process

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
)

// maxLine is the longest stderr line kept whole; longer ones are logged in pieces.
const maxLine = 64 << 10

// lineLog is an io.Writer that logs an extension's output line by line: JSON lines with
// go-plugin's (hclog's) keys (@level, @message; what sdk/plugin's Logger writes) at their level
// with their attributes, other lines as they are (at error level from a "panic:" or "fatal
// error:" line on). Its tail remembers the first panic line and the last lines for crash reports.
type lineLog struct {
	log    *slog.Logger
	stream string
	tail   *outputTail

	mu        sync.Mutex
	buf       []byte
	panicking bool
}

// outputTail is what the lineLogs of one process remember for its crash report.
type outputTail struct {
	keep      int
	mu        sync.Mutex
	lines     []string
	panicLine string
}

func newLineLog(log *slog.Logger, stream string, tail *outputTail) *lineLog {
	return &lineLog{log: log, stream: stream, tail: tail}
}

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > maxLine {
		l.line(l.buf)
		l.buf = l.buf[:0]
	}
	if len(l.buf) == 0 {
		l.buf = nil // drop the consumed backing array
	}
	return len(b), nil
}

func (l *lineLog) line(b []byte) {
	s := strings.TrimRight(string(b), "\r")
	if strings.TrimSpace(s) == "" {
		return
	}
	if s[0] == '{' {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			if msg, ok := m["@message"].(string); ok {
				lvl, _ := m["@level"].(string)
				delete(m, "@message")
				delete(m, "@level")
				delete(m, "@timestamp")
				attrs := make([]any, 0, 2+2*len(m))
				attrs = append(attrs, "stream", l.stream)
				for _, k := range slices.Sorted(maps.Keys(m)) {
					attrs = append(attrs, strings.TrimPrefix(k, "@"), m[k])
				}
				l.log.Log(context.Background(), parseLevel(lvl), msg, attrs...)
				l.tail.add(strings.ToLower(lvl)+": "+msg, false)
				return
			}
		}
	}
	isPanic := strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ")
	l.tail.add(s, isPanic)
	if isPanic {
		l.panicking = true
	}
	lvl := slog.LevelInfo
	if l.panicking {
		lvl = slog.LevelError
	}
	l.log.Log(context.Background(), lvl, s, "stream", l.stream)
}

func (t *outputTail) add(line string, isPanic bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if isPanic && t.panicLine == "" {
		t.panicLine = line
	}
	if t.keep > 0 {
		if len(t.lines) == t.keep {
			t.lines = slices.Delete(t.lines, 0, 1)
		}
		t.lines = append(t.lines, line)
	}
}

// summary describes the output for a crash report: the first panic line if any, else the last
// line.
func (l *lineLog) summary() string {
	t := l.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.panicLine != "":
		return t.panicLine
	case len(t.lines) > 0:
		return t.lines[len(t.lines)-1]
	}
	return ""
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "trace":
		return slog.Level(-8)
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
