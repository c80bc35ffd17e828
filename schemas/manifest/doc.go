// Package manifest is the extension manifest contract (cairn.toml): its Go types, parsing with
// errors that name the line, and validation. The JSON Schema in schemas/manifest.schema.json
// describes the same document for tools in other languages; golden examples live in testdata/.
//
// The registry verifies packages against it, the host enforces it, and the SDK scaffolds it, so
// it imports nothing from the kernel.
package manifest
