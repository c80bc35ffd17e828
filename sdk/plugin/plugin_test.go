package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// serveEnv makes the test binary serve as an extension (for the parent-watch test).
const serveEnv = "CAIRN_PLUGIN_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		Serve(map[string]Export{"echo": func(_ context.Context, _ Host, in []byte) ([]byte, error) { return in, nil }})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// golden reads a golden host call of schemas/hostabi/testdata.
func golden(t *testing.T, name string) (req, resp json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "hostabi", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Request, Response json.RawMessage }
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g.Request, g.Response
}

func canon(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestEncodeRequest(t *testing.T) {
	want, _ := golden(t, "kv-set.json")
	// Go values: []byte becomes base64, as v1.md wants byte strings.
	got, err := EncodeRequest("kv.set", map[string]any{"key": "last-run", "value": []byte("2026-11-25")})
	if err != nil {
		t.Fatal(err)
	}
	if canon(t, got) != canon(t, want) {
		t.Fatalf("got %s, want %s", got, want)
	}
	// Raw JSON passes through.
	got, err = EncodeRequest("kv.set", json.RawMessage(`{"key":"last-run","value":"MjAyNi0xMS0yNQ=="}`))
	if err != nil || canon(t, got) != canon(t, want) {
		t.Fatalf("got %s, %v", got, err)
	}
	// No args is an empty object.
	got, err = EncodeRequest("config.get", nil)
	if err != nil || string(got) != `{"fn":"config.get","args":{}}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestDecodeResponse(t *testing.T) {
	_, denied := golden(t, "content-read-denied.json")
	_, err := DecodeResponse("content.read", denied)
	var he *HostError
	if !errors.As(err, &he) || he.Code != CodeCapabilityDenied || he.Fn != "content.read" ||
		!strings.Contains(he.Message, "content.read is not granted") {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, ErrCapabilityDenied) || errors.Is(err, ErrNotFound) {
		t.Fatalf("errors.Is: %v", err)
	}

	_, okNull := golden(t, "kv-set.json")
	ok, err := DecodeResponse("kv.set", okNull)
	if err != nil || string(ok) != "null" {
		t.Fatalf("ok = %q, %v", ok, err)
	}
	ok, err = DecodeResponse("kv.get", []byte(`{"ok":{"value":"aGk="}}`))
	if err != nil || string(ok) != `{"value":"aGk="}` {
		t.Fatalf("ok = %q, %v", ok, err)
	}
	for _, bad := range []string{`{}`, `not json`, `{"nope":1}`} {
		if _, err := DecodeResponse("x", []byte(bad)); err == nil {
			t.Fatalf("%s: no error", bad)
		}
	}
	// A code this SDK does not know still comes through, matching no sentinel.
	_, err = DecodeResponse("x", []byte(`{"error":{"code":"brand_new","message":"m"}}`))
	if !errors.As(err, &he) || he.Code != "brand_new" || errors.Is(err, ErrInternal) {
		t.Fatalf("err = %v", err)
	}
}

// TestCallRequestWire pins CallRequest's protobuf encoding (field numbers and types).
func TestCallRequestWire(t *testing.T) {
	m := &CallRequest{Export: "stage", Input: []byte(`{}`), DeadlineUnixNano: 1234, Host: 7, CallID: 99}
	got, err := proto.Marshal(protoadapt.MessageV2Of(m))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = protowire.AppendTag(want, 1, protowire.BytesType)
	want = protowire.AppendString(want, "stage")
	want = protowire.AppendTag(want, 2, protowire.BytesType)
	want = protowire.AppendBytes(want, []byte(`{}`))
	want = protowire.AppendTag(want, 3, protowire.VarintType)
	want = protowire.AppendVarint(want, 1234)
	want = protowire.AppendTag(want, 4, protowire.VarintType)
	want = protowire.AppendVarint(want, 7)
	want = protowire.AppendTag(want, 5, protowire.VarintType)
	want = protowire.AppendVarint(want, 99)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	var back CallRequest
	if err := proto.Unmarshal(want, protoadapt.MessageV2Of(&back)); err != nil || back.Export != m.Export || !bytes.Equal(back.Input, m.Input) ||
		back.DeadlineUnixNano != m.DeadlineUnixNano || back.Host != m.Host || back.CallID != m.CallID {
		t.Fatalf("back = %+v, %v", back, err)
	}
}

func TestServerCall(t *testing.T) {
	s := &server{exports: map[string]Export{
		"echo":  func(_ context.Context, _ Host, in []byte) ([]byte, error) { return in, nil },
		"fail":  func(context.Context, Host, []byte) ([]byte, error) { return nil, errors.New("no thanks") },
		"panic": func(context.Context, Host, []byte) ([]byte, error) { panic("boom") },
		"wait": func(ctx context.Context, _ Host, _ []byte) ([]byte, error) {
			if _, ok := ctx.Deadline(); !ok {
				return nil, errors.New("no deadline")
			}
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"host": func(ctx context.Context, h Host, _ []byte) ([]byte, error) {
			_, err := h.Call(ctx, "log", nil)
			return nil, err
		},
	}, hosts: &hostConns{}}
	ctx := context.Background()

	out, err := s.call(ctx, &CallRequest{Export: "echo", Input: []byte("hi")})
	if err != nil || string(out.GetValue()) != "hi" {
		t.Fatalf("echo = %v, %v", out, err)
	}
	cases := []struct {
		req  *CallRequest
		code codes.Code
		kind string
		msg  string
	}{
		{&CallRequest{Export: "nope"}, codes.Unimplemented, KindNoExport, `no export "nope"`},
		{&CallRequest{Export: "fail"}, codes.Unknown, KindGuest, "no thanks"},
		{&CallRequest{Export: "panic"}, codes.Unknown, KindGuest, "panic: boom"},
		{&CallRequest{Export: "wait", DeadlineUnixNano: time.Now().Add(20 * time.Millisecond).UnixNano()}, codes.DeadlineExceeded, KindDeadline, "deadline exceeded"},
		// No host id: host calls fail as unavailable, typed.
		{&CallRequest{Export: "host"}, codes.Unknown, KindGuest, "unavailable"},
	}
	for _, c := range cases {
		_, err := s.call(ctx, c.req)
		st, _ := status.FromError(err)
		if st.Code() != c.code || FailureKind(err) != c.kind || !strings.Contains(st.Message(), c.msg) {
			t.Errorf("%s: code %v kind %q message %q", c.req.Export, st.Code(), FailureKind(err), st.Message())
		}
	}
	if FailureKind(errors.New("transport")) != "" || FailureKind(status.Error(codes.Unavailable, "x")) != "" {
		t.Error("a plain error has a failure kind")
	}
}

func TestLoggerFormat(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		want  string
	}{{LevelTrace, "trace"}, {slog.LevelDebug, "debug"}, {slog.LevelInfo, "info"}, {slog.LevelWarn, "warn"}, {slog.LevelError, "error"}} {
		var buf bytes.Buffer
		newLogger(&buf).Log(context.Background(), c.level, "hello", "k", 1)
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["@level"] != c.want || m["@message"] != "hello" || m["k"] != 1.0 || m["@timestamp"] == nil {
			t.Fatalf("%v: %s", c.level, buf.Bytes())
		}
	}
}

// TestParentWatch: an extension whose parent dies without stopping it exits by itself (the
// portable layer; host/process tests the kernel's parent-death signal). The parent is a shell
// here, so no Pdeathsig is involved.
func TestParentWatch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, c := range []struct {
		poll    string
		survive bool
	}{{"50ms", false}, {"0", true}} {
		t.Run("poll="+c.poll, func(t *testing.T) {
			sh := exec.Command("sh", "-c", `"$0" -test.run='^$' >/dev/null 2>&1 & echo $!; exec sleep 60`, os.Args[0])
			sh.Env = append(os.Environ(), serveEnv+"=1", MagicCookieKey+"="+MagicCookieValue, ParentPollEnv+"="+c.poll)
			out, err := sh.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := sh.Start(); err != nil {
				t.Fatal(err)
			}
			defer sh.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if p, err := os.FindProcess(pid); err == nil && alive(pid) {
					_ = p.Kill()
				}
			}()
			time.Sleep(200 * time.Millisecond) // let it start serving
			if !alive(pid) {
				t.Fatal("the extension is not running")
			}
			_ = sh.Process.Kill()
			_ = sh.Wait()
			gone := false
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && !gone; time.Sleep(20 * time.Millisecond) {
				gone = !alive(pid)
				if c.survive && time.Now().After(end.Add(-2500*time.Millisecond)) {
					break // 500 ms is plenty for a 50 ms poll
				}
			}
			if gone == c.survive {
				t.Fatalf("gone = %v", gone)
			}
		})
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}
