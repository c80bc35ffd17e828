// Package datafs is the read-only file tree a WASM extension sees at /data: exactly the files its
// content.read scope grants, and nothing else.
//
// # Mapping
//
// Each granted location appears as one directory named by its UUID, and a file appears at its
// path relative to the location root:
//
//	host:  <location root>/<rel>          e.g. /home/ann/Photos/2024/a.jpg
//	guest: /data/<location uuid>/<rel>    e.g. /data/5b1a…c0e1/2024/a.jpg
//
// UUIDs rather than names because they are unique and stable (two locations may share a base
// name, and a location may be renamed). GuestPath and HostPath convert between the two; the
// entries.query and stage calls of the host ABI use the same guest paths, so a path an extension
// is given is the path it opens.
//
// A path that is not valid UTF-8 (a name written in Latin-1 or Shift JIS by an old program) cannot
// travel in the JSON messages of the ABI: the encoder would replace its bytes with U+FFFD and the
// guest would open a file that does not exist. Such a file is given an alias path instead, in a
// tree beside the locations where '%' and every byte of invalid UTF-8 are escaped as %XX:
//
//	host:  <location root>/caf\xe9.txt
//	guest: /data/.raw/<location uuid>/caf%E9.txt
//
// Opening an alias opens the real file, with the same scope checks made on its real name. The
// alias tree cannot be listed (its paths are handed out by the host), and a listing of a location
// folder shows names as they are on disk.
//
// # What is visible
//
//   - /data lists the granted locations (capability.FileScope.AllowsLocation) that are known to
//     the FS (SetLocations); an unknown location does not exist.
//   - A regular file is visible when the scope allows its location-relative path; anything else
//     (another file, a symlink, a device, a socket) is refused with fs.ErrPermission, decided from
//     the name alone before the disk is touched, so a refusal says nothing about existence.
//   - A directory is visible when some path below it could be in scope (Glob.MayContain); its
//     listing shows only visible files and directories.
//   - No path component may be a symlink. On Linux the open is one openat2 call with
//     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS relative to the location's root directory, so the check
//     and the open cannot be told apart by a racing rename; elsewhere (or before Linux 5.6) each
//     component is checked with Lstat and the opened file must be the one that was checked
//     (os.SameFile). FIFOs and devices are never opened for reading (O_NONBLOCK, then refused).
//
// # Read-only by construction
//
// The FS sits on os.Root (the traversal-resistant form of os.DirFS: "..", absolute symlinks and
// symlinks leaving the root fail) or openat2, opens O_RDONLY, and hands out wrappers that
// have no Write, Truncate or Chmod method at all, so wazero's fs.FS adapter (FSConfig.WithFSMount)
// answers every mutation with an error; nothing depends on the guest's good behaviour or on
// wazero's "ro:" flag.
package datafs
