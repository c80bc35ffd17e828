package probe

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Matroska element ids Probe reads.
const (
	idSegment       = 0x18538067
	idInfo          = 0x1549A966
	idTimecodeScale = 0x2AD7B1
	idDuration      = 0x4489
	idDateUTC       = 0x4461
	idTracks        = 0x1654AE6B
	idTrackEntry    = 0xAE
	idTrackType     = 0x83
	idCodecID       = 0x86
	idDefaultDur    = 0x23E383
	idVideo         = 0xE0
	idPixelWidth    = 0xB0
	idPixelHeight   = 0xBA
	idAudio         = 0xE1
	idSamplingFreq  = 0xB5
	idChannels      = 0x9F
	idBitDepth      = 0x6264
	idCluster       = 0x1F43B675
)

const unknownSize = -1

// vint reads an EBML variable-length integer at b: an element id (marker
// bits kept) or a size (marker stripped; all ones is unknownSize).
func vint(b []byte, id bool) (v int64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = 1
	for b[0]&(0x80>>(n-1)) == 0 {
		n++
	}
	if n > len(b) || (id && n > 4) {
		return 0, 0, false
	}
	v = int64(b[0])
	if !id {
		v &= int64(0xFF >> n)
	}
	allOnes := v == int64(0xFF>>n)
	for i := 1; i < n; i++ {
		v = v<<8 | int64(b[i])
		allOnes = allOnes && b[i] == 0xFF
	}
	if !id && allOnes {
		return unknownSize, n, true
	}
	return v, n, true
}

// element is an EBML element: its id and payload range.
type element struct {
	id         int64
	start, end int64 // end is -1 for an unknown size
}

// elementAt reads the header of the element at off.
func elementAt(s *src, off int64) (element, error) {
	h, err := s.readUpTo(off, 12)
	if err != nil {
		return element{}, err
	}
	id, n, ok := vint(h, true)
	if !ok {
		return element{}, malformed("bad element id at offset %d", off)
	}
	size, m, ok := vint(h[n:], false)
	if !ok {
		return element{}, malformed("bad element size at offset %d", off)
	}
	e := element{id: id, start: off + int64(n+m), end: unknownSize}
	if size != unknownSize {
		e.end = e.start + size
	}
	return e, nil
}

// children iterates over the elements in b (a master element's payload).
func children(b []byte, fn func(id int64, p []byte)) {
	for n := 0; len(b) > 0 && n < maxBoxes; n++ {
		id, i, ok := vint(b, true)
		if !ok {
			return
		}
		size, j, ok := vint(b[i:], false)
		if !ok || size == unknownSize || size > int64(len(b)-i-j) {
			return
		}
		fn(id, b[i+j:i+j+int(size)])
		b = b[i+j+int(size):]
	}
}

func ebmlUint(p []byte) uint64 {
	var v uint64
	for _, c := range p[:min(len(p), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}

func ebmlFloat(p []byte) float64 {
	switch len(p) {
	case 4:
		return float64(math.Float32frombits(be32(p)))
	case 8:
		return math.Float64frombits(be64(p))
	}
	return 0
}

// mkvCodecs maps Matroska codec ids to ffprobe's codec names.
var mkvCodecs = map[string]string{
	"V_MPEG4/ISO/AVC": "h264", "V_MPEGH/ISO/HEVC": "hevc", "V_VP8": "vp8", "V_VP9": "vp9", "V_AV1": "av1",
	"V_MPEG4/ISO/ASP": "mpeg4", "V_MPEG4/ISO/SP": "mpeg4", "V_MPEG2": "mpeg2video", "V_MPEG1": "mpeg1video",
	"V_MJPEG": "mjpeg", "V_THEORA": "theora", "V_PRORES": "prores", "V_FFV1": "ffv1",
	"A_MPEG/L3": "mp3", "A_MPEG/L2": "mp2", "A_FLAC": "flac", "A_VORBIS": "vorbis", "A_OPUS": "opus",
	"A_AC3": "ac3", "A_EAC3": "eac3", "A_DTS": "dts", "A_ALAC": "alac", "A_TRUEHD": "truehd",
}

func mkvCodec(id string, bits int) string {
	switch {
	case mkvCodecs[id] != "":
		return mkvCodecs[id]
	case strings.HasPrefix(id, "A_AAC"):
		return "aac"
	case id == "A_PCM/INT/LIT" && bits == 8:
		return "pcm_u8"
	case id == "A_PCM/INT/LIT":
		return fmt.Sprintf("pcm_s%dle", bits)
	case id == "A_PCM/INT/BIG":
		return fmt.Sprintf("pcm_s%dbe", bits)
	case id == "A_PCM/FLOAT/IEEE":
		return fmt.Sprintf("pcm_f%dle", bits)
	}
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(id, "V_"), "A_"))
}

// probeEBML reads a Matroska or WebM file's Info and Tracks.
func probeEBML(s *src, info *Info) error {
	hdr, err := elementAt(s, 0)
	if err != nil || hdr.end == unknownSize {
		return malformed("bad EBML header")
	}
	seg, err := elementAt(s, hdr.end)
	if err != nil {
		return fmt.Errorf("reading the segment: %w", err)
	}
	if seg.id != idSegment {
		return malformed("element 0x%X after the EBML header is not a segment", seg.id)
	}
	end := seg.end
	if end == unknownSize || end > s.size {
		end = s.size
	}
	var gotInfo, gotTracks bool
	scale := uint64(1000000)
	var duration float64
	var videoSeen, audioSeen bool
	for pos, n := seg.start, 0; pos < end && n < maxBoxes; n++ {
		e, err := elementAt(s, pos)
		if err != nil {
			return fmt.Errorf("reading the element at offset %d: %w", pos, err)
		}
		if e.id == idCluster && gotInfo && gotTracks || e.end == unknownSize {
			break
		}
		switch e.id {
		case idInfo:
			p, err := s.read(e.start, min(e.end, end)-e.start)
			if err != nil {
				return fmt.Errorf("reading Info: %w", err)
			}
			gotInfo = true
			children(p, func(id int64, p []byte) {
				switch id {
				case idTimecodeScale:
					if v := ebmlUint(p); v > 0 {
						scale = v
					}
				case idDuration:
					duration = ebmlFloat(p)
				case idDateUTC:
					if len(p) == 8 {
						t := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(int64(be64(p))))
						info.TakenAt = t.Format(time.RFC3339)
					}
				}
			})
		case idTracks:
			p, err := s.read(e.start, min(e.end, end)-e.start)
			if err != nil {
				return fmt.Errorf("reading Tracks: %w", err)
			}
			gotTracks = true
			children(p, func(id int64, p []byte) {
				if id != idTrackEntry {
					return
				}
				var typ uint64
				var codec string
				var w, h, ch, bits int
				var rate, fps float64
				children(p, func(id int64, p []byte) {
					switch id {
					case idTrackType:
						typ = ebmlUint(p)
					case idCodecID:
						codec = cstr(p)
					case idDefaultDur:
						if d := ebmlUint(p); d > 0 {
							fps = 1e9 / float64(d)
						}
					case idVideo:
						children(p, func(id int64, p []byte) {
							switch id {
							case idPixelWidth:
								w = int(min(ebmlUint(p), 1<<31))
							case idPixelHeight:
								h = int(min(ebmlUint(p), 1<<31))
							}
						})
					case idAudio:
						children(p, func(id int64, p []byte) {
							switch id {
							case idSamplingFreq:
								rate = ebmlFloat(p)
							case idChannels:
								ch = int(min(ebmlUint(p), 1<<16))
							case idBitDepth:
								bits = int(min(ebmlUint(p), 1<<8))
							}
						})
					}
				})
				switch {
				case typ == 1 && !videoSeen:
					videoSeen = true
					info.Codec, info.Width, info.Height, info.FPS = mkvCodec(codec, bits), w, h, fps
				case typ == 2 && !audioSeen:
					audioSeen = true
					if !videoSeen {
						info.Codec = mkvCodec(codec, bits)
					}
					if rate > 0 && rate < 1e7 {
						info.SampleRate = int(rate)
					}
					info.Channels = ch
					if strings.HasPrefix(codec, "A_PCM") || codec == "A_FLAC" {
						info.BitDepth = bits
					}
				}
			})
		}
		pos = e.end
	}
	if !gotInfo {
		return malformed("no segment Info before the first cluster")
	}
	if duration > 0 {
		info.DurationS = duration * float64(scale) / 1e9
		info.Bitrate = int64(float64(s.size) * 8 / info.DurationS)
	}
	return nil
}
