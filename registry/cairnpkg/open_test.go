package cairnpkg

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestOpenRebuiltIsValid(t *testing.T) {
	good := packBytes(t, newKey(t), "^1.0")
	again := rebuild(t, good, func(_ string, d []byte) []byte { return d })
	open(t, again) // the hand-built form is accepted too
	ms := members(t, good)
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	if got := strings.Join(names, " "); got != "cairnpkg-version cairn.toml hello.wasm signature.json" {
		t.Fatalf("member order = %s", got)
	}
	if string(ms[0].data) != "1\n" {
		t.Fatalf("version member = %q", ms[0].data)
	}
}

func TestOpenTruncated(t *testing.T) {
	good := packBytes(t, newKey(t), "^1.0")
	for n := 0; n < len(good); n++ {
		if n%blockSize != 0 && n%97 != 0 {
			continue
		}
		_, err := Open(bytes.NewReader(good[:n]), int64(n))
		if !errors.Is(err, ErrCorruptPackage) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorruptPackage", n, len(good), err)
		}
	}
	if _, err := Open(bytes.NewReader(good), int64(len(good))+1); !errors.Is(err, ErrCorruptPackage) {
		t.Fatalf("declared size past the end: err = %v", err)
	}
}

// TestHostileOpenCorrupt covers hostile structures: each is refused by Open with ErrCorruptPackage and
// a message naming the problem.
func TestHostileOpenCorrupt(t *testing.T) {
	key := newKey(t)
	good := packBytes(t, key, "^1.0")
	ms := members(t, good)
	ver, man, mod, sig := ms[0], ms[1], ms[2], ms[3]
	with := func(m rawMember, f func(*rawMember)) rawMember { f(&m); return m }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	cases := []struct {
		name    string
		pkg     []byte
		mention string
	}{
		{"empty", nil, "truncated"},
		{"not a tar", bytes.Repeat([]byte("x"), 2048), "not a ustar header"},
		{"only the end marker", rawPackage(), "missing"},
		{"oversized manifest", rawPackage(ver, with(man, func(m *rawMember) {
			m.data = append(bytes.Clone(man.data), bytes.Repeat([]byte("\n"), MaxManifestSize)...)
		}), mod, sig), "limit"},
		{"oversized module, declared only", rawPackage(ver, man, with(mod, func(m *rawMember) { m.size = MaxModuleSize + 1 })), "limit"},
		{"huge declared module in a small file", rawPackage(ver, man, with(mod, func(m *rawMember) { m.size = 100 << 20 })), "truncated"},
		{"10 GB declared manifest", rawPackage(ver, with(man, func(m *rawMember) { m.size = 10 << 30 })), "limit"},
		{"path traversal member", rawPackage(ver, man, with(mod, func(m *rawMember) { m.name = "../x" }), sig), "unsafe path"},
		{"absolute member", rawPackage(ver, man, with(mod, func(m *rawMember) { m.name = "/etc/passwd" }), sig), "unsafe path"},
		{"dot-dot inside member", rawPackage(ver, man, with(mod, func(m *rawMember) { m.name = "a/../hello.wasm" }), sig), "unsafe path"},
		{"duplicate manifest", rawPackage(ver, man, man, mod, sig), "duplicate member"},
		{"duplicate signature", rawPackage(ver, man, mod, sig, sig), "duplicate member"},
		{"unknown member after the signature", rawPackage(ver, man, mod, sig, rawMember{name: "extra.txt", data: []byte("hi"), size: -1}), "unknown member"},
		{"unknown member instead of the module", rawPackage(ver, man, rawMember{name: "README", data: []byte("hi"), size: -1}, sig), "unexpected member"},
		{"members out of order", rawPackage(ver, man, sig, mod), "unexpected member"},
		{"no version member", rawPackage(man, mod, sig), "unexpected member"},
		{"newer format", rawPackage(with(ver, func(m *rawMember) { m.data = []byte("2\n") }), man, mod, sig), "format 2 is not supported"},
		{"garbage version", rawPackage(with(ver, func(m *rawMember) { m.data = []byte("01\n") }), man, mod, sig), "decimal version"},
		{"symlink module", rawPackage(ver, man, with(mod, func(m *rawMember) { m.typeflag = '2'; m.data = nil; m.size = 0 }), sig), "regular file"},
		{"trailing data", cat(good, make([]byte, blockSize)), "trailing data"},
		{"invalid manifest", rawPackage(ver, with(man, func(m *rawMember) { m.data = []byte("id = 3\n") }), mod, sig), "cairn.toml"},
		{"unpinned module", rawPackage(ver, with(man, func(m *rawMember) {
			m.data = []byte(strings.ReplaceAll(strings.ReplaceAll(helloManifest, "%ABI%", "^1.0"), "# comments are not kept", ""))
		}), mod, sig), "entry.blake3 missing"},
		{"module named like a member", rawPackage(ver, with(man, func(m *rawMember) {
			m.data = bytes.Replace(man.data, []byte(`"hello.wasm"`), []byte(`"signature.json"`), 1)
		}), mod, sig), "collides"},
		{"signature with unknown field", rawPackage(ver, man, mod, with(sig, func(m *rawMember) {
			m.data = bytes.Replace(sig.data, []byte(`{`), []byte(`{"extra": 1,`), 1)
		})), "unknown field"},
		{"signature key id mismatch", rawPackage(ver, man, mod, with(sig, func(m *rawMember) {
			s, _ := parseSignature(sig.data)
			s.KeyID = "0000000000000000"
			m.data = marshalSig(t, s)
		})), "does not match the public key"},
		{"short signature", rawPackage(ver, man, mod, with(sig, func(m *rawMember) {
			s, _ := parseSignature(sig.data)
			s.Signature = s.Signature[:10]
			m.data = marshalSig(t, s)
		})), "signature is 10 bytes"},
		{"bad header checksum", func() []byte { b := bytes.Clone(good); b[0] ^= 1; return b }(), "checksum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(c.pkg), int64(len(c.pkg)))
			if !errors.Is(err, ErrCorruptPackage) {
				t.Fatalf("err = %v, want ErrCorruptPackage", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("err %q does not mention %q", err, c.mention)
			}
		})
	}
}

// TestOpenDoesNotTrustDeclaredSizes: a member declaring 200 MiB in a 3 KiB file is refused
// without allocating anything like 200 MiB.
func TestOpenDoesNotTrustDeclaredSizes(t *testing.T) {
	ms := members(t, packBytes(t, newKey(t), "^1.0"))
	ms[1].size = 200 << 10 // manifest: under its limit, past the end of the file
	ms[2].size = 200 << 20
	for _, pkg := range [][]byte{rawPackage(ms[0], ms[1]), rawPackage(ms[0:3]...)} {
		alloc := allocated(func() {
			if _, err := Open(bytes.NewReader(pkg), int64(len(pkg))); !errors.Is(err, ErrCorruptPackage) {
				t.Fatalf("err = %v", err)
			}
		})
		if alloc > 64<<10 {
			t.Fatalf("Open allocated %d bytes for a %d-byte file", alloc, len(pkg))
		}
	}
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzOpen: Open on any bytes returns a package or ErrCorruptPackage, never panics, and
// allocates in proportion to the input, not to what its headers declare.
func FuzzOpen(f *testing.F) {
	good := packBytes(f, newKey(f), "^1.0")
	f.Add(good)
	f.Add(good[:700])
	f.Add(good[:len(good)-blockSize])
	f.Add([]byte{})
	f.Add(rawPackage(rawMember{name: "cairnpkg-version", data: []byte("1\n"), size: 10 << 30}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p *Package
		var err error
		alloc := allocated(func() { p, err = Open(bytes.NewReader(data), int64(len(data))) })
		if limit := uint64(64*len(data) + 4<<20); alloc > limit {
			t.Fatalf("Open allocated %d bytes for %d input bytes", alloc, len(data))
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptPackage) {
				t.Fatalf("err = %v, want ErrCorruptPackage", err)
			}
			return
		}
		_, _ = Verify(p, nil, VerifyOptions{HostABI: hostABI, AllowUnknownKey: true})
	})
}
