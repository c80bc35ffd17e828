package cas

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/testtool"
)

// referenceMessage builds the sampled-v1 message of data straight from REFERENCE.md §1, with none
// of the package's code.
func referenceMessage(data []byte) []byte {
	size := len(data)
	msg := binary.LittleEndian.AppendUint64(nil, uint64(size))
	if size <= 102400 {
		return append(msg, data...)
	}
	msg = append(msg, data[0:8192]...)
	jump := (size - 16384) / 4
	for i := 0; i < 4; i++ {
		start := 8192 + i*jump
		msg = append(msg, data[start:start+10240]...)
	}
	return append(msg, data[size-8192:size]...)
}

// referenceID is the cas_id of data computed with blake3.Sum256 over referenceMessage.
func referenceID(data []byte) string {
	sum := blake3.Sum256(referenceMessage(data))
	return hex.EncodeToString(sum[:])[:16]
}

// b3sum returns the b3sum hex digest of data, or "" (with a log line) when b3sum is not on PATH;
// under CI=true a missing b3sum fails the test.
func b3sum(t testing.TB, data []byte) string {
	t.Helper()
	bin, ok := testtool.Optional(t, "b3sum", "b3sum")
	if !ok {
		return ""
	}
	cmd := exec.Command(bin, "--no-names")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("b3sum: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// randomBytes returns n bytes from a PRNG seeded by seed.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)}).Read(b)
	return b
}

// writeFile writes data to a new file in a temporary directory and returns its path.
func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSampledID(t *testing.T) {
	for _, size := range []int{
		1, 2, 8191, 8192, 16384,
		16385,                // jump would be 0
		8192*2 + 10240*4 + 1, // 57345: the size at which four samples would just stop overlapping
		102399,
		102400, // largest hashed whole
		102401, // smallest sampled
		102403, // jump not a multiple of 4
		1 << 20,
		5_000_011,
		50 << 20,
	} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			data := randomBytes(size, uint64(size))
			path := writeFile(t, data)
			got, n, err := NewSampler().SumFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(size) {
				t.Errorf("SumFile size = %d, want %d", n, size)
			}
			if want := referenceID(data); got != want {
				t.Errorf("cas_id = %s, reference = %s", got, want)
			}
			if len(got) != IDLen || strings.ToLower(got) != got {
				t.Errorf("cas_id %q is not %d lowercase hex characters", got, IDLen)
			}
			if b3 := b3sum(t, referenceMessage(data)); b3 != "" && b3[:16] != got {
				t.Errorf("cas_id = %s, b3sum of the sampled message = %s", got, b3)
			}
		})
	}
}

func TestSampledEmpty(t *testing.T) {
	path := writeFile(t, nil)
	id, n, err := NewSampler().SumFile(path)
	if !errors.Is(err, ErrEmpty) || id != "" || n != 0 {
		t.Fatalf("SumFile(empty) = %q, %d, %v; want ErrEmpty", id, n, err)
	}
	if _, err := NewSampler().Sum(bytes.NewReader(nil), 0); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Sum(size 0) err = %v, want ErrEmpty", err)
	}
}

// patternReaderAt is content of any size whose byte i is ((i*0x9E3779B1) mod 2^64) >> 15, as in
// testdata/gen_golden.py.
type patternReaderAt struct{ size int64 }

func (p patternReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := len(b)
	if rest := p.size - off; int64(n) > rest {
		n = int(rest)
	}
	for i := range n {
		b[i] = byte(uint64(off+int64(i)) * 0x9E3779B1 >> 15)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// TestSampledGolden checks cas_ids computed by testdata/gen_golden.py (b3sum over messages built
// in Python), up to sizes no test could write to disk.
func TestSampledGolden(t *testing.T) {
	f, err := os.Open("testdata/sampled-v1.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewSampler()
	var cases int
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		sizeStr, want, _ := strings.Cut(line, " ")
		size, err := strconv.ParseInt(sizeStr, 10, 64)
		if err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		got, err := s.Sum(patternReaderAt{size}, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got != want {
			t.Errorf("size %d: cas_id = %s, golden = %s", size, got, want)
		}
		cases++
	}
	if cases < 10 {
		t.Fatalf("only %d golden cases", cases)
	}
}

// TestSampledCoverage pins which bytes of a sampled file take part in its id.
func TestSampledCoverage(t *testing.T) {
	const size = 1 << 20
	jump := (size - 16384) / 4
	data := randomBytes(size, 7)
	s := NewSampler()
	base, err := s.Sum(bytes.NewReader(data), size)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		off     int
		counted bool
	}{
		{0, true},
		{8191, true},
		{8192, true},                   // sample 0 starts right after the head
		{8192 + 10239, true},           // last byte of sample 0
		{8192 + 10240, false},          // first byte after sample 0
		{8192 + jump - 1, false},       // just before sample 1
		{8192 + jump, true},            // sample 1
		{8192 + 3*jump + 10239, true},  // last byte of sample 3
		{8192 + 3*jump + 10240, false}, // just after sample 3
		{size - 8193, false},           // just before the tail
		{size - 8192, true},            // tail
		{size - 1, true},               // last byte
		{8192 + 2*jump, true},          // sample 2 (here: the middle byte)
	} {
		mutated := bytes.Clone(data)
		mutated[tc.off] ^= 0xff
		got, err := s.Sum(bytes.NewReader(mutated), size)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceID(mutated); got != want {
			t.Errorf("offset %d: cas_id = %s, reference = %s", tc.off, got, want)
		}
		if changed := got != base; changed != tc.counted {
			t.Errorf("offset %d: id changed = %v, want %v", tc.off, changed, tc.counted)
		}
	}
}

// eofReaderAt returns io.EOF together with a full read that ends at EOF, as io.ReaderAt allows.
type eofReaderAt struct{ r *bytes.Reader }

func (e eofReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if err == nil && off+int64(n) == e.r.Size() {
		err = io.EOF
	}
	return n, err
}

// shortReaderAt breaks the io.ReaderAt contract: short reads without an error.
type shortReaderAt struct{}

func (shortReaderAt) ReadAt(p []byte, off int64) (int, error) { return len(p) / 2, nil }

// failReaderAt fails every read.
type failReaderAt struct{ err error }

func (f failReaderAt) ReadAt(p []byte, off int64) (int, error) { return 0, f.err }

func TestSumReaders(t *testing.T) {
	errBoom := errors.New("boom")
	small, big := randomBytes(5000, 1), randomBytes(300_000, 2)
	for _, tc := range []struct {
		name    string
		r       io.ReaderAt
		size    int64
		want    string // cas_id, or "" for an error
		wantErr error
	}{
		{"eof-with-full-read/small", eofReaderAt{bytes.NewReader(small)}, 5000, referenceID(small), nil},
		{"eof-with-full-read/sampled", eofReaderAt{bytes.NewReader(big)}, 300_000, referenceID(big), nil},
		{"longer-than-size/ignored", bytes.NewReader(big), 200_000, referenceID(big[:200_000]), nil},
		{"truncated/small", bytes.NewReader(small), 6000, "", io.ErrUnexpectedEOF},
		{"truncated/tail", bytes.NewReader(big), 300_100, "", io.ErrUnexpectedEOF},
		{"truncated/sample", bytes.NewReader(big), 2_000_000, "", io.ErrUnexpectedEOF},
		{"truncated/all", bytes.NewReader(nil), 200_000, "", io.ErrUnexpectedEOF},
		{"short-read-without-error", shortReaderAt{}, 200_000, "", io.ErrUnexpectedEOF},
		{"read-error", failReaderAt{errBoom}, 200_000, "", errBoom},
		{"negative-size", bytes.NewReader(small), -1, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewSampler().Sum(tc.r, tc.size)
			switch {
			case tc.want != "":
				if err != nil || got != tc.want {
					t.Fatalf("Sum = %q, %v; want %s", got, err, tc.want)
				}
			case err == nil || got != "":
				t.Fatalf("Sum = %q, %v; want an error", got, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Sum error %q does not wrap %v", err, tc.wantErr)
			default:
				t.Logf("error: %v", err)
			}
		})
	}
}

// TestSumFileTruncatedSinceStat truncates an open file after its size was taken, as a file being
// rewritten between the indexer's stat and its hash.
func TestSumFileTruncatedSinceStat(t *testing.T) {
	for _, size := range []int{50_000, 500_000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			path := writeFile(t, randomBytes(size, 3))
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := os.Truncate(path, int64(size)-100); err != nil {
				t.Fatal(err)
			}
			id, err := NewSampler().Sum(f, int64(size))
			if !errors.Is(err, io.ErrUnexpectedEOF) || id != "" {
				t.Fatalf("Sum = %q, %v; want an error wrapping io.ErrUnexpectedEOF", id, err)
			}
			if !strings.Contains(err.Error(), "shorter than its size") {
				t.Errorf("error %q does not say what happened", err)
			}
		})
	}
}

func TestSumFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := NewSampler().SumFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if _, _, err := NewSampler().SumFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: err = %v, want 'not a regular file'", err)
	}
}

// TestSamplerReuse checks that a Sampler's buffer carries nothing from one file to the next.
func TestSamplerReuse(t *testing.T) {
	s := NewSampler()
	sizes := []int{102400, 3, 500_000, 102401, 1, 102400}
	for i, size := range sizes {
		data := randomBytes(size, uint64(i))
		got, err := s.Sum(bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceID(data); got != want {
			t.Errorf("file %d (size %d): cas_id = %s, reference = %s", i, size, got, want)
		}
	}
}

func TestSamplerAllocs(t *testing.T) {
	s := NewSampler()
	for _, size := range []int{1000, 1 << 20} {
		r := bytes.NewReader(randomBytes(size, 4))
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := s.Sum(r, int64(size)); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 { // the returned string
			t.Errorf("size %d: %.0f allocations per Sum, want 1", size, allocs)
		}
	}
}

func TestContentUUID(t *testing.T) {
	golden, err := os.ReadFile("testdata/content-uuid.golden")
	if err != nil {
		t.Fatal(err)
	}
	var cases int
	for line := range strings.Lines(string(golden)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		casID, want, _ := strings.Cut(line, " ")
		got := ContentUUID(casID)
		if got.String() != want {
			t.Errorf("ContentUUID(%s) = %s, golden (Python uuid.uuid5) = %s", casID, got, want)
		}
		if got != ContentUUID(casID) {
			t.Errorf("ContentUUID(%s) is not deterministic", casID)
		}
		if got.Version() != 5 || got.Variant() != uuid.RFC4122 {
			t.Errorf("ContentUUID(%s) = %s: version %d variant %s, want 5 RFC4122", casID, got,
				got.Version(), got.Variant())
		}
		cases++
	}
	if cases < 5 {
		t.Fatalf("only %d golden cases", cases)
	}
	if namespace != uuid.NameSpaceDNS {
		t.Errorf("namespace = %s, want the DNS namespace", namespace)
	}
	if ContentUUID("0000000000000000") == ContentUUID("0000000000000001") {
		t.Error("different cas_ids share a UUID")
	}
}

// FuzzSampledMatchesReference compares Sampler.Sum with the reference on content of random sizes
// (up to 2 MiB): the fuzzer's bytes, extended by seeded random bytes.
func FuzzSampledMatchesReference(f *testing.F) {
	f.Add([]byte("a"), uint32(0), uint64(0))
	f.Add([]byte{}, uint32(102400), uint64(1))
	f.Add([]byte{1, 2, 3}, uint32(102398), uint64(2))
	f.Add([]byte("x"), uint32(16384), uint64(3))
	f.Add([]byte("tail"), uint32(1<<21), uint64(4))
	s := NewSampler()
	f.Fuzz(func(t *testing.T, prefix []byte, extra uint32, seed uint64) {
		data := append(bytes.Clone(prefix), randomBytes(int(extra%(2<<20)), seed)...)
		got, err := s.Sum(bytes.NewReader(data), int64(len(data)))
		if len(data) == 0 {
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("empty content: err = %v, want ErrEmpty", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceID(data); got != want {
			t.Fatalf("size %d: cas_id = %s, reference = %s", len(data), got, want)
		}
	})
}
