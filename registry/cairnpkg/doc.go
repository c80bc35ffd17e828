// Package cairnpkg reads, writes, signs and verifies extension packages (.cairnpkg files): one
// ustar archive holding a format marker, the manifest, the module it pins by BLAKE3, and an
// Ed25519 signature over the exact manifest bytes. The layout is specified in registry/FORMAT.md.
//
// Open parses a package from an untrusted source without trusting any size it declares; Verify
// checks, in order, signature → module hash → ABI (and kernel) range, and returns the requested
// capabilities for the caller to show. Publisher keys and the keyring of trusted keys live here too.
package cairnpkg
