// Package ext is the runtime-independent handle of a loaded extension: Extension.Call runs one
// export with a deadline and an output cap, classifies what went wrong with typed errors
// (ErrDeadline, ErrMemoryLimit, ErrOutputTooLarge, ErrTrap; ErrGuest for an error the extension
// reported itself), counts faults, and disables the extension after N consecutive faults, after
// which calls fail fast with ErrDisabled naming the fault history until Enable.
//
// A Runner does the running: host/wasm's Module (a pool of wazero instances) today, a go-plugin
// process client later. Runners discard broken instances themselves; Extension only keeps score,
// so a misbehaving extension fails its own calls and nothing else in the process.
package ext
