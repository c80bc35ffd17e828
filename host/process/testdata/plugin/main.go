// Command plugin is the native extension the tests of host/process run: one export per
// behaviour under test.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/sdk/plugin"
)

func main() {
	exports := map[string]plugin.Export{
		"echo": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) { return in, nil },
		"pid": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			return []byte(strconv.Itoa(os.Getpid())), nil
		},
		"kv":       kv,
		"relay":    relay,
		"stage":    stage,
		"hostcall": hostcall,
		// late makes its first host call after the duration in its input.
		"late": func(ctx context.Context, host plugin.Host, in []byte) ([]byte, error) {
			d, err := time.ParseDuration(string(in))
			if err != nil {
				return nil, err
			}
			time.Sleep(d)
			return host.Call(ctx, "kv.get", map[string]any{"key": "k"})
		},
		"crash": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			// The Logger writes the process's real stderr; os.Stderr is go-plugin's stdio
			// stream by now, whose last bytes may not leave before os.Exit.
			plugin.Logger().Error("crashing on purpose")
			os.Exit(3)
			return nil, nil
		},
		"crash_goroutine": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			go func() { panic("boom on another goroutine") }()
			time.Sleep(time.Minute)
			return nil, nil
		},
		"panic": func(context.Context, plugin.Host, []byte) ([]byte, error) { panic("boom in the export") },
		"fail": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			return nil, errors.New("no thanks")
		},
		"hang": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			time.Sleep(time.Hour) // ignores its context
			return nil, nil
		},
		"slow": func(ctx context.Context, _ plugin.Host, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"big": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			n, err := strconv.Atoi(string(in))
			if err != nil {
				return nil, err
			}
			return make([]byte, n), nil
		},
		"spawn": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			cmd := exec.Command("sleep", "600")
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			go cmd.Wait()
			return []byte(strconv.Itoa(cmd.Process.Pid)), nil
		},
		"log": func(ctx context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			plugin.Logger().Warn("a warning from the plugin", "input", string(in))
			return nil, nil
		},
	}
	maps.Copy(exports, sandboxExports())
	plugin.Serve(exports)
}

// kv stores its input under a key through the host, reads it back, and logs through the host.
func kv(ctx context.Context, host plugin.Host, in []byte) ([]byte, error) {
	if _, err := host.Call(ctx, "log", map[string]any{"level": "info", "msg": "kv export", "attrs": map[string]any{"n": len(in)}}); err != nil {
		return nil, err
	}
	if _, err := host.Call(ctx, "kv.set", map[string]any{"key": "k", "value": in}); err != nil {
		return nil, err
	}
	raw, err := host.Call(ctx, "kv.get", map[string]any{"key": "k"})
	if err != nil {
		return nil, err
	}
	var got struct {
		Value []byte `json:"value"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return nil, err
	}
	return got.Value, nil
}

// hostcall makes one kv.get (benchmarks).
func hostcall(ctx context.Context, host plugin.Host, _ []byte) ([]byte, error) {
	return host.Call(ctx, "kv.get", map[string]any{"key": "k"})
}

// relay makes the host call its input describes ({"fn", "args"}) and answers {"ok": ...} or
// {"error": {"code", "message"}} with what the host answered.
func relay(ctx context.Context, host plugin.Host, in []byte) ([]byte, error) {
	var req struct {
		Fn   string          `json:"fn"`
		Args json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	ok, err := host.Call(ctx, req.Fn, req.Args)
	var he *plugin.HostError
	switch {
	case errors.As(err, &he):
		return json.Marshal(map[string]any{"error": map[string]string{"code": he.Code, "message": he.Message}})
	case err != nil:
		return nil, err
	}
	return json.Marshal(map[string]json.RawMessage{"ok": ok})
}

// Item and the stage messages as schemas/hostabi/v1.md defines them.
type Item struct {
	ContentUUID string `json:"content_uuid"`
	CasID       string `json:"cas_id"`
	Size        int64  `json:"size"`
	Path        string `json:"path"`
	Name        string `json:"name"`
	Mime        string `json:"mime,omitempty"`
	Kind        string `json:"kind,omitempty"`
}

type stageInput struct {
	Stage   string          `json:"stage"`
	Version int             `json:"version"`
	Config  json.RawMessage `json:"config"`
	Items   []Item          `json:"items"`
}

type outcome struct {
	ContentUUID string         `json:"content_uuid"`
	Error       string         `json:"error,omitempty"`
	Data        map[string]int `json:"data,omitempty"`
}

// stage counts the words of each item's name without its extension.
func stage(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(string(in)))
	dec.DisallowUnknownFields()
	var si stageInput
	if err := dec.Decode(&si); err != nil {
		return nil, fmt.Errorf("stage input: %w", err)
	}
	out := struct {
		Outcomes []outcome `json:"outcomes"`
	}{Outcomes: make([]outcome, 0, len(si.Items))}
	for _, it := range si.Items {
		base := strings.TrimSuffix(it.Name, path.Ext(it.Name))
		out.Outcomes = append(out.Outcomes, outcome{ContentUUID: it.ContentUUID, Data: map[string]int{"words": len(strings.Fields(base))}})
	}
	return json.Marshal(out)
}
