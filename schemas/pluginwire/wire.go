package pluginwire

import (
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The transport is described in doc.go.
//
// The transport is hashicorp/go-plugin over gRPC with AutoMTLS. The extension serves
//
//	service cairn.ext.v1.Extension { rpc Call(CallRequest) returns (google.protobuf.BytesValue); }
//
// and the host serves, over the go-plugin broker (id CallRequest.host),
//
//	service cairn.host.v1.Host { rpc Call(google.protobuf.BytesValue) returns (google.protobuf.BytesValue); }
//
// Inputs, outputs and host calls carry the same JSON as for WASM (schemas/hostabi/v1.md).
const (
	// MagicCookieKey and MagicCookieValue are go-plugin's handshake: an extension binary run
	// without them in its environment says it is a plugin and exits.
	MagicCookieKey   = "CAIRN_EXTENSION"
	MagicCookieValue = "cairn:host/v1 native extension 6c1f0e54"
	// ProtocolVersion is the go-plugin protocol version (not the host ABI version, which
	// cairn_init negotiates).
	ProtocolVersion = 1
	// PluginName is the one plugin in the go-plugin plugin set.
	PluginName = "extension"

	// ExtensionCallMethod is the full gRPC method the extension serves.
	ExtensionCallMethod = "/cairn.ext.v1.Extension/Call"
	// HostCallMethod is the full gRPC method the host serves over the broker.
	HostCallMethod = "/cairn.host.v1.Host/Call"
	// CallIDMetadata is the gRPC metadata key a host call carries: the call_id of the export
	// call it is made for, so the host can give the call's context to its dispatcher.
	CallIDMetadata = "cairn-call-id"

	// MaxInput is the largest CallRequest an extension accepts, in bytes.
	MaxInput = 64 << 20
	// MaxHostResponse is the largest host call response an extension accepts, in bytes.
	MaxHostResponse = 64 << 20
)

// Handshake is the go-plugin handshake of Cairn native extensions.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// CallRequest is the request of cairn.ext.v1.Extension/Call:
//
//	message CallRequest {
//	  string export = 1;             // the export to run
//	  bytes  input = 2;              // its input (JSON)
//	  int64  deadline_unix_nano = 3; // the call's deadline, 0 for none
//	  uint32 host = 4;               // go-plugin broker id of cairn.host.v1.Host, 0 for none
//	  uint64 call_id = 5;            // sent back as cairn-call-id metadata on host calls
//	}
//
// The gRPC deadline of the call is later than deadline_unix_nano by the host's grace period: an
// export has to give the call back (return) within that grace after its context is done, or the
// host kills the process.
//
// It is a hand-written protobuf message (no protoc): the struct tags describe it to the
// protobuf runtime.
type CallRequest struct {
	Export           string `protobuf:"bytes,1,opt,name=export,proto3"`
	Input            []byte `protobuf:"bytes,2,opt,name=input,proto3"`
	DeadlineUnixNano int64  `protobuf:"varint,3,opt,name=deadline_unix_nano,json=deadlineUnixNano,proto3"`
	Host             uint32 `protobuf:"varint,4,opt,name=host,proto3"`
	CallID           uint64 `protobuf:"varint,5,opt,name=call_id,json=callId,proto3"`
}

// Reset, String and ProtoMessage make CallRequest a protobuf message.
func (m *CallRequest) Reset()         { *m = CallRequest{} }
func (m *CallRequest) String() string { return "cairn.ext.v1.CallRequest{export:" + m.Export + "}" }
func (*CallRequest) ProtoMessage()    {}

// Failure kinds. A failed Extension/Call whose gRPC status carries one of these as a
// google.protobuf.StringValue detail was answered by the extension; a failure without one is the
// transport's (the process died, or its connection broke).
const (
	// KindGuest: the export returned an error, or panicked and Serve recovered it.
	KindGuest = "cairn.ext.v1/guest"
	// KindNoExport: no export of that name.
	KindNoExport = "cairn.ext.v1/no_export"
	// KindDeadline: the export gave up because its context's deadline passed.
	KindDeadline = "cairn.ext.v1/deadline"
	// KindCanceled: the export gave up because its context was cancelled.
	KindCanceled = "cairn.ext.v1/canceled"
)

// FailureKind returns the failure kind an Extension/Call error carries, or "" when the error did
// not come from the extension.
func FailureKind(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if s, ok := d.(*wrapperspb.StringValue); ok && strings.HasPrefix(s.GetValue(), "cairn.ext.v1/") {
			return s.GetValue()
		}
	}
	return ""
}

// Failure makes the gRPC error an extension answers a failed call with.
func Failure(code codes.Code, kind, msg string) error {
	st, err := status.New(code, msg).WithDetails(wrapperspb.String(kind))
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}
