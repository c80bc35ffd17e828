package probe_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/extensions/media/probe"
	"github.com/cairnfs/cairn/internal/testtool"
)

func probeBytes(name string, b []byte) (*probe.Info, error) {
	return probe.Probe(name, "", bytes.NewReader(b), int64(len(b)))
}

// jpegWithExif inserts an APP1 Exif segment after a JPEG's SOI.
func jpegWithExif(jpg, tiff []byte) []byte {
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1}, u16(len(app1)+2)...)
	return bytes.Join([][]byte{jpg[:2], seg, app1, jpg[2:]}, nil)
}

// pngWithExif inserts an eXIf chunk after a PNG's IHDR (its CRC is not
// checked by Probe).
func pngWithExif(p, tiff []byte) []byte {
	chunk := bytes.Join([][]byte{u32(len(tiff)), []byte("eXIf"), tiff, u32(0)}, nil)
	return bytes.Join([][]byte{p[:33], chunk, p[33:]}, nil)
}

func wav(rate, channels, bits, seconds int) []byte {
	le := binary.LittleEndian
	data := rate * channels * bits / 8 * seconds
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(data))
	return append(b, make([]byte, data)...)
}

func flac(rate, channels, bits int, samples int64) []byte {
	si := make([]byte, 34)
	si[10], si[11] = byte(rate>>12), byte(rate>>4)
	si[12] = byte(rate<<4) | byte(channels-1)<<1 | byte((bits-1)>>4)
	si[13] = byte((bits-1)<<4) | byte(samples>>32)
	binary.BigEndian.PutUint32(si[14:], uint32(samples))
	return append(append([]byte("fLaC\x80\x00\x00\x22"), si...), make([]byte, 100)...)
}

// mp3 is n zero-filled MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz, stereo.
func mp3(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x04})
		b = append(b, f...)
	}
	return b
}

// corpus is a small set of files of every format Probe reads, made in Go
// (and by ffmpeg, when it is installed).
func corpus(t testing.TB, withFFmpeg bool) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	img := testImage(40, 30)
	c := map[string][]byte{
		"exif.jpg": jpegWithExif(read(writeImage(t, dir, "a.jpg", img)), tinyTIFF(6)),
		"exif.png": pngWithExif(read(writeImage(t, dir, "a.png", img)), tinyTIFF(3)),
		"a.gif":    read(writeImage(t, dir, "a.gif", img)),
		"a.bmp":    read(writeImage(t, dir, "a.bmp", img)),
		"a.tif":    read(writeImage(t, dir, "a.tif", img)),
		"a.heic":   heic(4032, 3024, 1, [2]any{"irot", 3}),
		"a.wav":    wav(8000, 1, 16, 2),
		"a.flac":   flac(44100, 2, 16, 441000),
		"a.mp3":    mp3(20),
		"id3.mp3":  append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0a"+strings.Repeat("\x00", 10)), mp3(5)...),
	}
	if !withFFmpeg {
		return c
	}
	if _, ok := testtool.Optional(t, "ffmpeg", "ffmpeg"); !ok {
		return c
	}
	for _, ac := range avCases {
		if ac.encoder != "" && !optionalEncoder(t, ac.encoder) {
			continue
		}
		p := filepath.Join(dir, ac.name)
		run(t, "ffmpeg", append(append([]string{"-v", "error", "-y"}, ac.args...), p)...)
		c[ac.name] = read(p)
	}
	return c
}

func TestHandmade(t *testing.T) {
	c := corpus(t, false)
	for name, want := range map[string]probe.Info{
		"exif.jpg": {Width: 40, Height: 30, Orientation: 6, CameraMake: "TestMake", BitDepth: 8},
		"exif.png": {Width: 40, Height: 30, Orientation: 3, CameraMake: "TestMake", BitDepth: 8},
		"a.gif":    {Width: 40, Height: 30},
		"a.bmp":    {Width: 40, Height: 30},
		"a.heic":   {Width: 4032, Height: 3024, Orientation: 6, CameraMake: "TestMake"},
		"a.wav":    {DurationS: 2, Codec: "pcm_s16le", SampleRate: 8000, Channels: 1, BitDepth: 16, Bitrate: 128000},
		"a.flac":   {DurationS: 10, Codec: "flac", SampleRate: 44100, Channels: 2, BitDepth: 16, Bitrate: 113},
		"a.mp3":    {DurationS: 20 * 417 * 8 / 128000.0, Codec: "mp3", SampleRate: 44100, Channels: 2, Bitrate: 128000},
		"id3.mp3":  {DurationS: 5 * 417 * 8 / 128000.0, Codec: "mp3", SampleRate: 44100, Channels: 2, Bitrate: 128000},
	} {
		info, err := probeBytes(name, c[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if *info != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, *info, want)
		}
	}
}

func TestUnsupported(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":      nil,
		"text.txt":   []byte("hello, world\n"),
		"doc.pdf":    []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"),
		"zip.zip":    []byte("PK\x03\x04\x14\x00\x00\x00"),
		"random.bin": randomBytes(1, 4096),
		"avi.avi":    []byte("RIFF\x00\x00\x00\x00AVI LIST"),
	} {
		if _, err := probeBytes(name, b); !errors.Is(err, probe.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHostileMalformed(t *testing.T) {
	loop := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x00\x01\x03\x00\x01\x00\x00\x00\x10\x00\x00\x00\x08\x00\x00\x00")
	manyEntries := []byte("MM\x00*\x00\x00\x00\x08\xff\xff")
	for _, c := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"soi-only.jpg", []byte("\xFF\xD8\xFF"), probe.ErrMalformed, "before the end-of-image"},
		{"no-marker.jpg", []byte("\xFF\xD8\xFF\xE0\x00\x04\x00\x00garbage"), probe.ErrMalformed, "no JPEG marker"},
		{"no-sof.jpg", []byte("\xFF\xD8\xFF\xD9"), probe.ErrMalformed, "no frame header"},
		{"no-ihdr.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\x00\x00\x00\x00"), probe.ErrMalformed, "not IHDR"},
		{"huge.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x02\x00\x00\x00"), probe.ErrLimit, "beyond"},
		{"empty.webp", []byte("RIFF\x04\x00\x00\x00WEBP"), probe.ErrMalformed, "no VP8"},
		{"loop.tif", loop, nil, ""}, // IFD0 reads; its next pointer loops and is ignored
		{"entries.tif", manyEntries, probe.ErrMalformed, "65535 entries"},
		{"bad-size.mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isom\x7f\x00\x00\x00moov"), probe.ErrMalformed, "size"},
		{"no-moov.mp4", []byte("\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"), probe.ErrMalformed, "neither a movie"},
		{"bad.mkv", []byte("\x1A\x45\xDF\xA3\x80\x00\x00\x00"), probe.ErrMalformed, ""},
		{"no-fmt.wav", []byte("RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00"), probe.ErrMalformed, "no fmt"},
		{"bad.flac", []byte("fLaC\x04\x00\x00\x22" + strings.Repeat("\x00", 34)), probe.ErrMalformed, "not STREAMINFO"},
		{"id3-only.mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), probe.ErrMalformed, "nothing after"},
		{"long.wav", append(wav(8000, 1, 8, 1)[:28], 0, 0, 0, 0), probe.ErrMalformed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := probeBytes(c.name, c.b)
			if c.want == nil {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "panic") {
				t.Errorf("error %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
}

// TestHostileCorrupt truncates and mutates every corpus file: Probe must answer
// (an Info or an error) without a panic, every time.
func TestHostileCorrupt(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for name, b := range corpus(t, true) {
		check := func(what string, b []byte) {
			_, err := probeBytes(name, b)
			if err != nil && strings.Contains(err.Error(), "panic") {
				t.Fatalf("%s %s: %v", name, what, err)
			}
		}
		for n := 0; n < len(b); n += 1 + n/64 {
			check("truncated", b[:n])
		}
		for i := 0; i < 300; i++ {
			m := bytes.Clone(b)
			for k := 0; k < 1+r.IntN(4); k++ {
				m[r.IntN(min(len(m), 4096))] = byte(r.Uint32())
			}
			check("mutated", m)
		}
	}
}

func FuzzProbe(f *testing.F) {
	// Go-made seeds only: every fuzz worker runs this, and ffmpeg is slow.
	for name, b := range corpus(f, false) {
		if len(b) < 64<<10 {
			f.Add(name, b)
		}
	}
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		info, err := probeBytes(name, b)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
		if err == nil && (info.Width > probe.MaxDimension || info.DurationS < 0) {
			t.Fatalf("absurd %+v", info)
		}
	})
}

func BenchmarkProbe(b *testing.B) {
	c := corpus(b, true)
	var bytesTotal int64
	for _, f := range c {
		bytesTotal += int64(len(f))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for name, f := range c {
			if _, err := probeBytes(name, f); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(c))/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(len(c)), "files/op")
}
