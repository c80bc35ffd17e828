// Package registry is a static extension registry: an index (index.json) listing every version
// of every extension with its package file's URL, size and BLAKE3, built from a folder of
// packages by BuildIndex, read from a folder or over HTTP by Client, and served read-only by
// Handler (`cairn registry serve DIR`). The formats are specified in FORMAT.md.
//
// Subpackages: cairnpkg (the package file: pack, open, sign, verify, keys), resolve (semver
// resolution with dependencies) and extstore (the install store in the data directory).
package registry
