package plugin

import (
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/cairnfs/cairn/schemas/pluginwire"
)

// The wire protocol between a Cairn host and a native extension lives in schemas/pluginwire,
// shared with the host. Extension authors need none of it: Serve speaks it. These names are
// kept for code that used them from here.
const (
	MagicCookieKey      = pluginwire.MagicCookieKey
	MagicCookieValue    = pluginwire.MagicCookieValue
	ProtocolVersion     = pluginwire.ProtocolVersion
	PluginName          = pluginwire.PluginName
	ExtensionCallMethod = pluginwire.ExtensionCallMethod
	HostCallMethod      = pluginwire.HostCallMethod
	CallIDMetadata      = pluginwire.CallIDMetadata
	MaxInput            = pluginwire.MaxInput
	MaxHostResponse     = pluginwire.MaxHostResponse

	KindGuest    = pluginwire.KindGuest
	KindNoExport = pluginwire.KindNoExport
	KindDeadline = pluginwire.KindDeadline
	KindCanceled = pluginwire.KindCanceled
)

// Handshake is the go-plugin handshake of Cairn native extensions.
var Handshake = pluginwire.Handshake

// CallRequest is the request of cairn.ext.v1.Extension/Call (pluginwire.CallRequest).
type CallRequest = pluginwire.CallRequest

// FailureKind returns the failure kind an Extension/Call error carries (pluginwire.FailureKind).
func FailureKind(err error) string { return pluginwire.FailureKind(err) }

// failure makes the gRPC error an extension answers a failed call with.
func failure(code codes.Code, kind, msg string) error { return pluginwire.Failure(code, kind, msg) }

var errNotHostSide = errors.New("cairn extension plugin: this side serves, it does not dispense")
