package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Export is one export of a native extension: it gets the call's input (JSON) and returns its
// output (JSON). ctx carries the call's deadline; host calls the host ABI for this call.
//
// An export must return once ctx is done: the host fails the call at its deadline and kills the
// whole process if the export has not returned within a grace period after it. A returned error
// becomes the call's error, and so does a panic (recovered, with its stack). A panic on another
// goroutine cannot be recovered: it kills the process, and the host restarts it.
type Export func(ctx context.Context, host Host, input []byte) ([]byte, error)

// Serve runs the extension: it answers go-plugin's handshake on stdout, serves
// cairn.ext.v1.Extension/Call with exports (by name, as the manifest lists them), and returns
// when the host shuts the extension down; main should then return. Run without the host's
// handshake in its environment, it prints that it is a plugin and exits with status 1.
//
// Serve makes Logger the default slog logger. stdout belongs to the handshake: log to stderr
// (through Logger, slog or the log package), never to stdout.
//
// Serve also exits the process when its parent changes (the host died without stopping it);
// on Linux the host additionally asks the kernel to kill it with the host. The environment
// variable CAIRN_PLUGIN_PARENT_POLL sets how often the parent is checked (a Go duration,
// default 1s; 0 turns the check off).
func Serve(exports map[string]Export) {
	log := Logger()
	slog.SetDefault(log)
	watchParent(log)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &grpcPlugin{exports: maps.Clone(exports)}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(MaxInput))...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "go-plugin", Output: stderr, JSONFormat: true, Level: hclog.Warn,
		}),
	})
}

// grpcPlugin is the go-plugin side of an extension.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	exports map[string]Export
}

func (p *grpcPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&extensionServiceDesc, &server{exports: p.exports, hosts: &hostConns{broker: broker}})
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errNotHostSide
}

// server serves cairn.ext.v1.Extension.
type server struct {
	exports map[string]Export
	hosts   *hostConns
}

// extensionServer is the handler type of extensionServiceDesc.
type extensionServer interface {
	call(ctx context.Context, req *CallRequest) (*wrapperspb.BytesValue, error)
}

var extensionServiceDesc = grpc.ServiceDesc{
	ServiceName: "cairn.ext.v1.Extension",
	HandlerType: (*extensionServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := new(CallRequest)
			if err := dec(req); err != nil {
				return nil, err
			}
			s := srv.(extensionServer)
			if icpt == nil {
				return s.call(ctx, req)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: ExtensionCallMethod}
			return icpt(ctx, req, info, func(ctx context.Context, req any) (any, error) {
				return s.call(ctx, req.(*CallRequest))
			})
		},
	}},
	Metadata: "cairn/ext/v1/extension.proto",
}

func (s *server) call(ctx context.Context, req *CallRequest) (*wrapperspb.BytesValue, error) {
	fn, ok := s.exports[req.Export]
	if !ok {
		return nil, failure(codes.Unimplemented, KindNoExport, fmt.Sprintf("no export %q", req.Export))
	}
	if req.Host != 0 {
		s.hosts.prefetch(req.Host)
	}
	if req.DeadlineUnixNano != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, req.DeadlineUnixNano))
		defer cancel()
	}
	out, err := run(ctx, fn, newHostClient(s.hosts, req.Host, req.CallID), req.Input)
	if err != nil {
		switch {
		case ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded):
			return nil, failure(codes.DeadlineExceeded, KindDeadline, err.Error())
		case ctx.Err() != nil && errors.Is(err, context.Canceled):
			return nil, failure(codes.Canceled, KindCanceled, err.Error())
		}
		return nil, failure(codes.Unknown, KindGuest, err.Error())
	}
	return &wrapperspb.BytesValue{Value: out}, nil
}

// run calls fn, turning a panic into an error.
func run(ctx context.Context, fn Export, h Host, input []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v\n\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, h, input)
}

// Interface guards.
var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)
