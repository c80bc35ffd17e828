package cairnpkg

import (
	"encoding/hex"
	"errors"

	"github.com/zeebo/blake3"
)

// FormatVersion is the version of the container this package writes and the only one it reads.
const FormatVersion = 1

// Member names, in the order they appear in a package. The module member is named by the
// manifest's entry.file and sits between the manifest and the signature.
const (
	VersionMember   = "cairnpkg-version"
	ManifestMember  = "cairn.toml"
	SignatureMember = "signature.json"
)

// Limits on members: Open refuses a package whose headers declare more, before allocating.
const (
	MaxVersionSize   = 64
	MaxManifestSize  = 256 << 10
	MaxModuleSize    = 256 << 20
	MaxSignatureSize = 4 << 10
	// MaxPackageSize bounds a whole package file: every member at its limit, plus headers,
	// padding and the end-of-archive marker.
	MaxPackageSize = MaxVersionSize + MaxManifestSize + MaxModuleSize + MaxSignatureSize + 4*(2*blockSize) + 2*blockSize
)

// ContentType is the media type of a package file (HTTP Content-Type).
const ContentType = "application/vnd.cairn.package"

// Ext is the file name extension of a package.
const Ext = ".cairnpkg"

// Sentinel errors; callers branch on them with errors.Is. Each failure wraps exactly one.
var (
	// ErrCorruptPackage: the file is not a well-formed package (truncated, bad header, a member
	// missing, duplicated, unknown, out of order, oversized, or with an unsafe name; an invalid
	// manifest or signature document).
	ErrCorruptPackage = errors.New("corrupt package")
	// ErrBadSignature: the signature does not verify over the manifest bytes with the
	// embedded public key.
	ErrBadSignature = errors.New("bad package signature")
	// ErrUntrustedKey: the signature is valid but the key is not in the trust store (and
	// unknown keys were not allowed), or the trust store holds a different key under its id.
	ErrUntrustedKey = errors.New("untrusted publisher key")
	// ErrHashMismatch: the module's BLAKE3 differs from the manifest's entry.blake3.
	ErrHashMismatch = errors.New("module hash mismatch")
	// ErrABIMismatch: the extension's ABI range does not admit the host's ABI version.
	ErrABIMismatch = errors.New("host ABI mismatch")
	// ErrKernelMismatch: the extension's kernel range does not admit this kernel's version.
	ErrKernelMismatch = errors.New("kernel version mismatch")
)

// HashHex returns the lowercase hex of the BLAKE3-256 of data.
func HashHex(data []byte) string {
	sum := blake3.Sum256(data)
	return hex.EncodeToString(sum[:])
}
