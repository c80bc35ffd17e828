// Package plugin is the SDK of native Cairn extensions: ordinary Go programs that the host runs
// as child processes through hashicorp/go-plugin, for work WASM does badly (native libraries,
// SIMD, heavy decoding). A native extension speaks the same host ABI, with the same JSON, as a
// WASM one (schemas/hostabi/v1.md); only the transport differs.
//
// An extension's main is one call:
//
//	func main() {
//		plugin.Serve(map[string]plugin.Export{
//			"stage": func(ctx context.Context, host plugin.Host, input []byte) ([]byte, error) {
//				raw, err := host.Call(ctx, "kv.get", map[string]any{"key": "last-run"})
//				if errors.Is(err, plugin.ErrCapabilityDenied) {
//					return nil, err // the manifest did not ask for kv, or the user did not grant it
//				}
//				...
//				return json.Marshal(out)
//			},
//		})
//	}
//
// Rules:
//
//   - Log to stderr (Logger, slog, log); stdout is go-plugin's handshake.
//   - Return when ctx is done. The host fails the call at its deadline and kills the process
//     if the export has not returned a grace period later.
//   - Errors and recovered panics become the call's error (not a fault). A panic on another
//     goroutine or os.Exit kills the process: the call fails as crashed, the host restarts the
//     process with backoff and disables an extension that keeps faulting.
//   - The process dies with the host: the host has the kernel kill it (Linux), and Serve exits
//     when its parent changes (everywhere). Children the extension starts itself are its own
//     business: give them a way to die with it (exec.Cmd's SysProcAttr.Pdeathsig on Linux).
//
// Build with the standard toolchain for the host's platform (go build -trimpath). The host pins
// the binary's SHA-256 and refuses to start a binary that does not match.
//
// This package must not import the host side (core, host, cmd); host/process imports its wire
// definitions (Handshake, CallRequest, the method names).
package plugin
