package cairnpkg

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// rawMember is one member of a hand-built archive. size < 0 means len(data); typeflag 0 means '0'.
type rawMember struct {
	name     string
	data     []byte
	size     int64
	typeflag byte
}

// ustarHeader builds a POSIX ustar header by hand, so tests can declare any size or type.
func ustarHeader(name string, size int64, typeflag byte) []byte {
	h := make([]byte, blockSize)
	copy(h[0:100], name)
	copy(h[100:108], "0000644\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:263], "ustar\x00")
	copy(h[263:265], "00")
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// rawPackage concatenates members (header, data, zero padding) and the end-of-archive marker.
func rawPackage(ms ...rawMember) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		size := m.size
		if size < 0 {
			size = int64(len(m.data))
		}
		tf := m.typeflag
		if tf == 0 {
			tf = '0'
		}
		b.Write(ustarHeader(m.name, size, tf))
		b.Write(m.data)
		if pad := len(m.data) % blockSize; pad != 0 {
			b.Write(make([]byte, blockSize-pad))
		}
	}
	b.Write(make([]byte, 2*blockSize))
	return b.Bytes()
}

// members reads a package with archive/tar (an independent reader: our output must be a
// standard tar).
func members(t testing.TB, pkg []byte) []rawMember {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(pkg))
	var out []rawMember
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Format != tar.FormatUSTAR && hdr.Format != tar.FormatUnknown {
			t.Fatalf("member %s: format %v, want ustar", hdr.Name, hdr.Format)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawMember{name: hdr.Name, data: data, size: -1})
	}
}

// rebuild re-assembles pkg with each member's data passed through edit.
func rebuild(t testing.TB, pkg []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	ms := members(t, pkg)
	for i := range ms {
		ms[i].data = edit(ms[i].name, ms[i].data)
	}
	return rawPackage(ms...)
}

func marshalSig(t testing.TB, s Signature) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
