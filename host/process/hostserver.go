package process

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"strconv"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/schemas/pluginwire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// hostServer is the handler type of hostServiceDesc.
type hostServer interface {
	hostCall(ctx context.Context, req *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
}

// hostServiceDesc is cairn.host.v1.Host: Call(BytesValue) returns (BytesValue), the request and
// response JSON of the host ABI.
var hostServiceDesc = grpc.ServiceDesc{
	ServiceName: "cairn.host.v1.Host",
	HandlerType: (*hostServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := new(wrapperspb.BytesValue)
			if err := dec(req); err != nil {
				return nil, err
			}
			s := srv.(hostServer)
			if icpt == nil {
				return s.hostCall(ctx, req)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: pluginwire.HostCallMethod}
			return icpt(ctx, req, info, func(ctx context.Context, req any) (any, error) {
				return s.hostCall(ctx, req.(*wrapperspb.BytesValue))
			})
		},
	}},
	Metadata: "cairn/host/v1/host.proto",
}

// newHostServer makes the gRPC server of the host ABI for one process (go-plugin's broker adds
// the mTLS credentials in opts).
func (p *Process) newHostServer(opts []grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(MaxHostRequest))...)
	s.RegisterService(&hostServiceDesc, (*hostService)(p))
	return s
}

// hostService serves the host ABI of one extension.
type hostService Process

func (h *hostService) hostCall(rpcCtx context.Context, req *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	p := (*Process)(h)
	p.hostCalls.Add(1)
	ctx, cancel := p.dispatchContext(rpcCtx)
	defer cancel()
	return wrapperspb.Bytes(p.dispatch(ctx, req.GetValue())), nil
}

// dispatchContext is the context of a host call: the values of the export call it was made for
// (named by the cairn-call-id metadata), done when either that call or the host call is.
func (p *Process) dispatchContext(rpcCtx context.Context) (context.Context, context.CancelFunc) {
	md, _ := metadata.FromIncomingContext(rpcCtx)
	ids := md.Get(pluginwire.CallIDMetadata)
	if len(ids) != 1 {
		return context.WithCancel(rpcCtx)
	}
	id, err := strconv.ParseUint(ids[0], 10, 64)
	if err != nil {
		return context.WithCancel(rpcCtx)
	}
	v, ok := p.inflight.Load(id)
	if !ok {
		return context.WithCancel(rpcCtx)
	}
	call := v.(context.Context)
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(call))
	stopRPC := context.AfterFunc(rpcCtx, func() { cancel(context.Cause(rpcCtx)) })
	stopCall := context.AfterFunc(call, func() { cancel(context.Cause(call)) })
	end := func() {
		stopRPC()
		stopCall()
		cancel(context.Canceled)
	}
	dl, ok := rpcCtx.Deadline()
	if d, ok2 := call.Deadline(); ok2 && (!ok || d.Before(dl)) {
		dl, ok = d, true
	}
	if ok {
		var cancelDL context.CancelFunc
		ctx, cancelDL = context.WithDeadline(ctx, dl)
		return ctx, func() { cancelDL(); end() }
	}
	return ctx, end
}

// dispatch answers one host call, never panicking.
func (p *Process) dispatch(ctx context.Context, req []byte) (resp []byte) {
	if p.cfg.Dispatcher == nil {
		return errorResponse(abi.CodeUnavailable, "this host serves no host ABI")
	}
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("host ABI dispatcher panicked", "panic", r, "stack", string(debug.Stack()))
			resp = errorResponse(abi.CodeInternal, "the host failed to answer")
		}
	}()
	return p.cfg.Dispatcher.Dispatch(ctx, p.id, req)
}

// errorResponse is a host ABI error Response.
func errorResponse(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return b
}
