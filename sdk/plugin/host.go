package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Host calls the Cairn host ABI (cairn:host/v1, schemas/hostabi/v1.md) on behalf of one export
// call. It is safe for concurrent use while that call runs.
type Host interface {
	// Call calls the host function fn with args, which are marshalled with encoding/json (pass
	// a json.RawMessage for JSON you already have; nil sends {}). It returns the "ok" value of
	// the answer, or a *HostError when the host answered with an error. The call honours ctx.
	Call(ctx context.Context, fn string, args any) (json.RawMessage, error)
}

// Host ABI error codes (schemas/hostabi/v1.md).
const (
	CodeCapabilityDenied = "capability_denied"
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeLimitExceeded    = "limit_exceeded"
	CodeUnavailable      = "unavailable"
	CodeUnknownFunction  = "unknown_function"
	CodeInternal         = "internal"
)

// Sentinels a *HostError matches with errors.Is, one per code.
var (
	ErrCapabilityDenied = errors.New(CodeCapabilityDenied)
	ErrInvalidArgument  = errors.New(CodeInvalidArgument)
	ErrNotFound         = errors.New(CodeNotFound)
	ErrLimitExceeded    = errors.New(CodeLimitExceeded)
	ErrUnavailable      = errors.New(CodeUnavailable)
	ErrUnknownFunction  = errors.New(CodeUnknownFunction)
	ErrInternal         = errors.New(CodeInternal)
)

var sentinels = map[string]error{
	CodeCapabilityDenied: ErrCapabilityDenied,
	CodeInvalidArgument:  ErrInvalidArgument,
	CodeNotFound:         ErrNotFound,
	CodeLimitExceeded:    ErrLimitExceeded,
	CodeUnavailable:      ErrUnavailable,
	CodeUnknownFunction:  ErrUnknownFunction,
	CodeInternal:         ErrInternal,
}

// HostError is a host call the host answered with {"error": {"code", "message"}}, or one that
// could not reach the host (code "unavailable"). errors.Is(err, ErrCapabilityDenied) and the
// other sentinels match on Code.
type HostError struct {
	Fn      string // the host function called
	Code    string // one of the Code constants (a newer host may send others)
	Message string // the host's message
}

func (e *HostError) Error() string {
	return "host call " + e.Fn + ": " + e.Code + ": " + e.Message
}

// Is matches the sentinel of e's code.
func (e *HostError) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

// request is the envelope of a host call: {"fn": string, "args": object}.
type request struct {
	Fn   string          `json:"fn"`
	Args json.RawMessage `json:"args"`
}

// EncodeRequest returns the JSON request of a host call, as Host.Call sends it.
func EncodeRequest(fn string, args any) ([]byte, error) {
	var raw json.RawMessage
	switch a := args.(type) {
	case nil:
		raw = json.RawMessage("{}")
	case json.RawMessage:
		raw = a
	default:
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("host call %s: encoding args: %w", fn, err)
		}
		raw = b
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	b, err := json.Marshal(request{Fn: fn, Args: raw})
	if err != nil {
		return nil, fmt.Errorf("host call %s: encoding args: %w", fn, err)
	}
	return b, nil
}

// DecodeResponse reads the JSON response of a host call: the "ok" value (JSON null included), or
// a *HostError for {"error": {...}}.
func DecodeResponse(fn string, resp []byte) (json.RawMessage, error) {
	var r struct {
		OK    json.RawMessage `json:"ok"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, fmt.Errorf("host call %s: malformed response: %w", fn, err)
	}
	switch {
	case r.Error != nil:
		return nil, &HostError{Fn: fn, Code: r.Error.Code, Message: r.Error.Message}
	case r.OK == nil:
		return nil, fmt.Errorf("host call %s: malformed response: neither ok nor error", fn)
	}
	return r.OK, nil
}

// hostConns dials the host's broker ids and keeps the connections. go-plugin's broker drops a
// connection offer that nobody dials within 5 s, so a connection is dialled as soon as a call
// names its id (prefetch), not at the first host call.
type hostConns struct {
	broker *goplugin.GRPCBroker
	mu     sync.Mutex
	conns  map[uint32]*hostConn
}

type hostConn struct {
	once sync.Once
	conn *grpc.ClientConn
	err  error
}

func (h *hostConns) entry(id uint32) *hostConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.conns[id]
	if !ok {
		if h.conns == nil {
			h.conns = make(map[uint32]*hostConn)
		}
		c = &hostConn{}
		h.conns[id] = c
	}
	return c
}

// get returns the connection to id, dialling it once (concurrent callers wait for the dial).
func (h *hostConns) get(id uint32) (*grpc.ClientConn, error) {
	c := h.entry(id)
	c.once.Do(func() {
		if h.broker == nil {
			c.err = errors.New("no broker")
			return
		}
		c.conn, c.err = h.broker.DialWithOptions(id, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxHostResponse)))
	})
	return c.conn, c.err
}

// prefetch starts dialling id unless it was.
func (h *hostConns) prefetch(id uint32) {
	h.mu.Lock()
	_, ok := h.conns[id]
	h.mu.Unlock()
	if !ok {
		go h.get(id)
	}
}

// hostClient is the Host of one export call.
type hostClient struct {
	conns  *hostConns
	id     uint32
	callID string
}

func (h *hostClient) Call(ctx context.Context, fn string, args any) (json.RawMessage, error) {
	req, err := EncodeRequest(fn, args)
	if err != nil {
		return nil, err
	}
	if h.id == 0 {
		return nil, &HostError{Fn: fn, Code: CodeUnavailable, Message: "the host provided no host ABI to this call"}
	}
	conn, err := h.conns.get(h.id)
	if err != nil {
		return nil, &HostError{Fn: fn, Code: CodeUnavailable, Message: "connecting to the host: " + err.Error()}
	}
	ctx = metadata.AppendToOutgoingContext(ctx, CallIDMetadata, h.callID)
	var resp wrapperspb.BytesValue
	if err := conn.Invoke(ctx, HostCallMethod, wrapperspb.Bytes(req), &resp); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("host call %s: %w", fn, ctx.Err())
		}
		return nil, &HostError{Fn: fn, Code: CodeUnavailable, Message: "calling the host: " + err.Error()}
	}
	return DecodeResponse(fn, resp.GetValue())
}

func newHostClient(conns *hostConns, id uint32, callID uint64) *hostClient {
	return &hostClient{conns: conns, id: id, callID: strconv.FormatUint(callID, 10)}
}
