// Package pluginwire is the wire protocol between a Cairn host and a native (go-plugin)
// extension: the go-plugin handshake, the gRPC methods, the hand-written CallRequest message, the
// size limits and the failure kinds. It is a shared contract: the SDK's side (sdk/plugin, which
// extension authors use through Serve) and the host's side (host/process) both import it, and
// neither imports the other.
package pluginwire
