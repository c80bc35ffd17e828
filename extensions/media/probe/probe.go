package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"

	"github.com/cairnfs/cairn/extensions/internal/svgsize"
)

// Info is what Probe learnt about a file. Every field is optional: a field
// the file does not record is left zero and omitted from its JSON.
type Info struct {
	// Width and Height are the stored pixel dimensions (before orientation
	// is applied), like exiftool's ImageWidth and ImageHeight.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Orientation is the EXIF orientation, 1–8 (for HEIF, derived from the
	// irot/imir properties; for video, from the track matrix).
	Orientation int `json:"orientation,omitempty"`
	// TakenAt is the date taken in RFC 3339: with its UTC offset when the
	// file says it (OffsetTimeOriginal, or the GPS time; video times are
	// UTC), otherwise a local time without offset ("2023-04-05T10:11:12").
	TakenAt     string `json:"taken_at,omitempty"`
	GPS         *GPS   `json:"gps,omitempty"`
	CameraMake  string `json:"camera_make,omitempty"`
	CameraModel string `json:"camera_model,omitempty"`
	Lens        string `json:"lens,omitempty"`

	// DurationS is the duration in seconds of audio and video.
	DurationS float64 `json:"duration_s,omitempty"`
	// Codec is the main stream's codec in ffprobe's names: the video codec
	// of a video, the audio codec of audio ("h264", "aac", "pcm_s16le", …).
	Codec      string  `json:"codec,omitempty"`
	SampleRate int     `json:"sample_rate,omitempty"` // Hz, of the audio stream
	Channels   int     `json:"channels,omitempty"`    // of the audio stream
	BitDepth   int     `json:"bit_depth,omitempty"`   // bits per sample (audio) or per channel (images)
	FPS        float64 `json:"fps,omitempty"`         // frames per second of the video stream
	Bitrate    int64   `json:"bitrate,omitempty"`     // bits per second
}

// GPS is a position in decimal degrees, negative south and west, and an
// optional altitude in metres (negative below sea level).
type GPS struct {
	Lat float64  `json:"lat"`
	Lon float64  `json:"lon"`
	Alt *float64 `json:"alt,omitempty"`
}

// Sentinel errors callers branch on.
var (
	// ErrUnsupported is a file that is not in a format Probe reads.
	ErrUnsupported = errors.New("unsupported format")
	// ErrMalformed is a file in a format Probe reads that breaks the format.
	ErrMalformed = errors.New("malformed file")
	// ErrLimit is a file that asks for more than a resource cap allows.
	ErrLimit = errors.New("over a resource limit")
)

// Resource caps.
const (
	MaxDimension = 1 << 20          // pixels per side
	MaxRead      = 1 << 20          // bytes of any one header read (an EXIF block, a box)
	MaxDuration  = 10 * 365 * 86400 // seconds: ten years
	maxBoxes     = 10000            // boxes, chunks, segments or elements walked per level
	maxDepth     = 12               // nesting of boxes and elements
)

// Probe reads the metadata of the file of the given size through r. name
// and mime are hints (the extension or MIME type of a file whose magic is
// weak); the format is recognised by its content.
func Probe(name, mime string, r io.ReaderAt, size int64) (info *Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("probing %s: internal error (recovered panic: %v): %w", name, p, ErrMalformed)
		}
	}()
	if size < 0 {
		return nil, fmt.Errorf("probing %s: negative size %d", name, size)
	}
	s := &src{r: r, size: size}
	// One read of the first 64 KiB serves most headers (a syscall each
	// under WASI otherwise).
	head, err := s.readUpTo(0, headSize)
	if err != nil {
		return nil, fmt.Errorf("probing %s: reading header: %w", name, err)
	}
	s.head = head
	f := sniff(head, name, mime)
	if f == nil {
		return nil, ErrUnsupported
	}
	info = &Info{}
	if err := f.probe(s, info); err != nil {
		return nil, fmt.Errorf("probing %s as %s: %w", name, f.name, err)
	}
	if err := info.check(); err != nil {
		return nil, fmt.Errorf("probing %s as %s: %w", name, f.name, err)
	}
	return info, nil
}

// check refuses absurd values.
func (i *Info) check() error {
	if i.Width < 0 || i.Height < 0 || i.Width > MaxDimension || i.Height > MaxDimension {
		return fmt.Errorf("dimensions %d×%d beyond %d pixels a side: %w", i.Width, i.Height, MaxDimension, ErrLimit)
	}
	if math.IsNaN(i.DurationS) || math.IsInf(i.DurationS, 0) || i.DurationS < 0 || i.DurationS > MaxDuration {
		return fmt.Errorf("duration %g s is not a plausible duration: %w", i.DurationS, ErrMalformed)
	}
	if i.Orientation < 0 || i.Orientation > 8 {
		i.Orientation = 0
	}
	if math.IsNaN(i.FPS) || math.IsInf(i.FPS, 0) || i.FPS < 0 || i.FPS > 1e6 {
		i.FPS = 0
	}
	i.FPS = math.Round(i.FPS*1000) / 1000
	if i.Bitrate < 0 {
		i.Bitrate = 0
	}
	return nil
}

// format is one format's recogniser and reader.
type format struct {
	name  string
	probe func(s *src, info *Info) error
}

// sniff picks the format from the first bytes of the file.
func sniff(h []byte, name, mime string) *format {
	ext := strings.ToLower(path.Ext(name))
	at := func(off int, magic string) bool {
		return len(h) >= off+len(magic) && string(h[off:off+len(magic)]) == magic
	}
	switch {
	case at(0, "\xFF\xD8\xFF"):
		return &format{"jpeg", probeJPEG}
	case at(0, "\x89PNG\r\n\x1a\n"):
		return &format{"png", probePNG}
	case at(0, "GIF87a"), at(0, "GIF89a"):
		return &format{"gif", probeGIF}
	case at(0, "RIFF") && at(8, "WEBP"):
		return &format{"webp", probeWebP}
	case (at(0, "RIFF") || at(0, "RF64")) && at(8, "WAVE"):
		return &format{"wav", probeWAV}
	case at(0, "II*\x00"), at(0, "MM\x00*"):
		return &format{"tiff", probeTIFF}
	case at(0, "BM") && len(h) >= 18 && validBMPHeader(le32(h[14:])):
		return &format{"bmp", probeBMP}
	case at(4, "ftyp"), at(4, "moov"), at(4, "mdat") && (ext == ".mov" || ext == ".mp4" || strings.HasPrefix(mime, "video/")),
		at(4, "wide"), at(4, "pnot"):
		return &format{"iso-bmff", probeBMFF}
	case at(0, "\x1A\x45\xDF\xA3"):
		return &format{"matroska", probeEBML}
	case at(0, "fLaC"):
		return &format{"flac", probeFLAC}
	case at(0, "OggS"):
		return &format{"ogg", probeOgg}
	case at(0, "ID3"):
		return &format{"id3", probeID3}
	case len(h) >= 4 && isMPEGAudioHeader(be32(h)):
		return &format{"mp3", probeMP3}
	case ext == ".mp3" || mime == "audio/mpeg":
		return &format{"mp3", probeMP3}
	case mime == "image/svg+xml" || ext == ".svg" || svgsize.Looks(h):
		return &format{"svg", probeSVG}
	}
	return nil
}

// src is the file: bounded reads through an io.ReaderAt.
type src struct {
	r    io.ReaderAt
	size int64
	head []byte // the first bytes of the file, when read
}

// headSize is how much of the file Probe reads at once to start with.
const headSize = 64 << 10

// read reads exactly n bytes at off; n must not exceed MaxRead.
func (s *src) read(off int64, n int64) ([]byte, error) {
	if n < 0 || off < 0 {
		return nil, fmt.Errorf("read of %d bytes at offset %d: %w", n, off, ErrMalformed)
	}
	if n > MaxRead {
		return nil, fmt.Errorf("read of %d bytes at offset %d is over the %d-byte cap: %w", n, off, MaxRead, ErrLimit)
	}
	if off > s.size || n > s.size-off {
		return nil, fmt.Errorf("%d bytes at offset %d run past the end of the %d-byte file: %w", n, off, s.size, ErrMalformed)
	}
	if off+n <= int64(len(s.head)) {
		return bytes.Clone(s.head[off : off+n]), nil
	}
	b := make([]byte, n)
	if _, err := s.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && int64(len(b)) == n) {
		return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
	}
	return b, nil
}

// readUpTo reads up to n bytes at off, fewer at the end of the file.
func (s *src) readUpTo(off int64, n int64) ([]byte, error) {
	if off >= s.size {
		return nil, nil
	}
	if n > s.size-off {
		n = s.size - off
	}
	return s.read(off, n)
}

// section is a window of a file as an io.ReaderAt.
func (s *src) section(off, n int64) *src {
	if off > s.size {
		off = s.size
	}
	if n > s.size-off {
		n = s.size - off
	}
	return &src{r: io.NewSectionReader(s.r, off, n), size: n}
}

// bytesSrc is a src over a byte slice.
func bytesSrc(b []byte) *src { return &src{r: bytes.NewReader(b), size: int64(len(b))} }

func malformed(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrMalformed)...)
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 { return uint32(le16(b)) | uint32(le16(b[2:]))<<16 }
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
func be32(b []byte) uint32 { return uint32(be16(b))<<16 | uint32(be16(b[2:])) }
func be64(b []byte) uint64 { return uint64(be32(b))<<32 | uint64(be32(b[4:])) }

// cstr is b up to its first NUL, trimmed of spaces.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

// setDims records the dimensions unless they are already known.
func (i *Info) setDims(w, h int) {
	if i.Width == 0 && i.Height == 0 {
		i.Width, i.Height = w, h
	}
}

// probeSVG reads an SVG's intrinsic size from its root element's width, height and viewBox
// (CSS pixels); an SVG that states neither has no dimensions.
func probeSVG(s *src, info *Info) error {
	sz, err := svgsize.Read(io.NewSectionReader(s.r, 0, s.size))
	if errors.Is(err, svgsize.ErrNotSVG) {
		return fmt.Errorf("%v: %w", err, ErrUnsupported)
	}
	if err != nil {
		return malformed("%v", err)
	}
	info.setDims(sz.Width, sz.Height)
	return nil
}
