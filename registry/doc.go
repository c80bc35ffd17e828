// Package registry is a static extension registry: an index (index.json) listing every version
// of every extension with its package file's URL, size and BLAKE3, built from a folder of
// packages by BuildIndex, read from a folder or over HTTP by Client, and served read-only by
// Handler (`cairn registry serve DIR`). The formats are specified in FORMAT.md.
//
// # Trust model
//
// Three keys, three questions (TUF's roles, in the small):
//
//   - A publisher key signs a package (cairnpkg): "who made this module?". The user's keyring
//     lists publisher keys trusted for new extensions; installing one by an unknown key needs
//     --trust, which also adds the key to the keyring (FORMAT.md §5).
//   - An extension id is bound to the publisher key that first installed it (trust on first
//     use per id, recorded in the install store: installed.json's key_id and the installed
//     signature.json's public key). An update signed by any other key — even one the keyring
//     trusts, since trusting a publisher for its own extensions is not trusting it with someone
//     else's — is refused (extstore.ErrKeyChanged, naming both key ids and fingerprints) unless
//     the user passes --accept-new-key (extstore.UpdateOptions.AcceptNewKey); the id is then
//     bound to the new key and no grant carries over: the user consents again.
//   - A registry key signs the index: "is this the registry's newest list?". A signed index
//     carries a version (a counter the registry increases with each index) and an expiry.
//     A client pins a registry's key on first use (shown, with its fingerprint) and records the
//     newest version it has seen (Pins, in the data directory's keys/registries.json, keyed by
//     the index URL or the folder's absolute path); a user who got the key out of band pins it
//     before first use instead (`cairn registry trust SOURCE KEY.pub`). It then refuses an index signed by another
//     key (ErrRegistryKeyChanged; `cairn registry forget SOURCE` after a deliberate rotation),
//     an index whose signature does not verify (ErrBadIndexSignature), an older version
//     (ErrIndexRollback), the same version with other content (ErrIndexFork), an index past its
//     expiry (ErrIndexExpired: the freeze attack, where a mirror or a network attacker keeps
//     serving an old index), and an unsigned index from a registry that was signed before
//     (ErrUnsignedIndex: stripping the signature would strip the other checks).
//
// Unsigned indexes: a local folder registry may be unsigned (development: `cairn registry index
// DIR --unsigned`); the CLI warns each time it reads one. An unsigned remote (http/https) index
// is refused unless the user passes --allow-unsigned-index. The index binds each release to its
// package's size and BLAKE3, so a signed index also pins the package bytes.
//
// Independently of the index, `ext update` never installs an older version than the installed
// one (a registry that drops its newest release, signed or not, must not roll an extension
// back): that needs --allow-downgrade (extstore.ErrDowngrade, UpdateOptions.AllowDowngrade).
// And a native extension (kind "process": code that runs outside the WASM sandbox, with the
// user's rights except where the OS sandbox restricts it) is installed or updated only with
// --allow-native, and `ext list` marks it as native.
//
// What this does not defend against: a registry key that is stolen (the thief can sign newer
// indexes; packages still need a publisher key the user accepted), a first use that is already
// attacked (trust on first use), and a publisher key that is stolen (the thief can sign updates
// of that publisher's ids; the registry's signed index still has to list them).
//
// Subpackages: cairnpkg (the package file: pack, open, sign, verify, keys), resolve (semver
// resolution with dependencies) and extstore (the install store in the data directory).
package registry
