package probe

import (
	"bytes"
	"fmt"
)

// probeID3 skips ID3v2 tags and reads the audio after them (MP3 or FLAC).
func probeID3(s *src, info *Info) error {
	off := int64(0)
	for i := 0; i < 4; i++ {
		h, err := s.readUpTo(off, 10)
		if err != nil {
			return err
		}
		if len(h) < 10 || string(h[:3]) != "ID3" {
			break
		}
		if h[6]|h[7]|h[8]|h[9] >= 0x80 {
			return malformed("ID3v2 tag at offset %d has a size that is not syncsafe", off)
		}
		size := int64(h[6])<<21 | int64(h[7])<<14 | int64(h[8])<<7 | int64(h[9])
		off += 10 + size
		if h[5]&0x10 != 0 {
			off += 10 // footer
		}
	}
	if off >= s.size {
		return malformed("nothing after the ID3v2 tag")
	}
	if h, _ := s.readUpTo(off, 4); string(h) == "fLaC" {
		return probeFLAC(s.section(off, s.size-off), info)
	}
	return mp3From(s, off, info)
}

// probeMP3 reads an MPEG audio file without an ID3v2 tag.
func probeMP3(s *src, info *Info) error { return mp3From(s, 0, info) }

// mpegFrame is an MPEG audio frame header.
type mpegFrame struct {
	version  int // 1, 2 or 25 (2.5)
	layer    int
	bitrate  int // bits per second
	rate     int
	channels int
	size     int // bytes, header included
	samples  int // per frame
}

var (
	mpegBitrates = [2][3][16]int{ // [v1, v2][layer-1][index] in kbit/s
		{{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
			{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}},
		{{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}},
	}
	mpegRates = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
)

// isMPEGAudioHeader reports whether h is a plausible MPEG audio frame header.
func isMPEGAudioHeader(h uint32) bool {
	_, ok := parseMPEGHeader(h)
	return ok
}

func parseMPEGHeader(h uint32) (mpegFrame, bool) {
	if h&0xFFE00000 != 0xFFE00000 {
		return mpegFrame{}, false
	}
	vbits, lbits, bri, sri := h>>19&3, h>>17&3, h>>12&0xF, h>>10&3
	if vbits == 1 || lbits == 0 || bri == 0 || bri == 15 || sri == 3 {
		return mpegFrame{}, false
	}
	f := mpegFrame{version: map[uint32]int{0: 25, 2: 2, 3: 1}[vbits], layer: int(4 - lbits)}
	v := 0
	if f.version != 1 {
		v = 1
	}
	f.bitrate = mpegBitrates[v][f.layer-1][bri] * 1000
	f.rate = mpegRates[f.version][sri]
	pad := int(h >> 9 & 1)
	f.channels = 2
	if h>>6&3 == 3 {
		f.channels = 1
	}
	switch {
	case f.layer == 1:
		f.samples, f.size = 384, (12*f.bitrate/f.rate+pad)*4
	case f.layer == 3 && f.version != 1:
		f.samples, f.size = 576, 72*f.bitrate/f.rate+pad
	default:
		f.samples, f.size = 1152, 144*f.bitrate/f.rate+pad
	}
	return f, true
}

// mp3From finds the first frame at or after off (two frames in a row, or
// one at the end) and computes the duration from a Xing/Info or VBRI header,
// or from the bitrate of a constant-bitrate stream.
func mp3From(s *src, off int64, info *Info) error {
	buf, err := s.readUpTo(off, 64<<10)
	if err != nil {
		return err
	}
	pos, f := -1, mpegFrame{}
	for i := 0; i+4 <= len(buf); i++ {
		if buf[i] != 0xFF {
			continue
		}
		g, ok := parseMPEGHeader(be32(buf[i:]))
		if !ok {
			continue
		}
		next := off + int64(i+g.size)
		if next+4 <= s.size {
			h := buf[min(i+g.size, len(buf)):]
			if len(h) < 4 {
				if h, err = s.read(next, 4); err != nil {
					return err
				}
			}
			n, ok := parseMPEGHeader(be32(h))
			if !ok || n.version != g.version || n.layer != g.layer || n.rate != g.rate {
				continue
			}
		} else if next > s.size+int64(g.size) {
			continue
		}
		pos, f = i, g
		break
	}
	if pos < 0 {
		if off > 0 {
			return malformed("no MPEG audio frame in the first 64 KiB after the ID3 tag")
		}
		return ErrUnsupported
	}
	start := off + int64(pos)
	info.Codec = [4]string{1: "mp1", 2: "mp2", 3: "mp3"}[f.layer]
	info.SampleRate, info.Channels, info.Bitrate = f.rate, f.channels, int64(f.bitrate)
	frame, _ := s.readUpTo(start, int64(min(f.size, 512)))
	side := 32
	switch {
	case f.version == 1 && f.channels == 1:
		side = 17
	case f.version != 1 && f.channels == 2:
		side = 17
	case f.version != 1:
		side = 9
	}
	frames, audioBytes := int64(0), int64(0)
	if x := 4 + side; len(frame) >= x+16 && (string(frame[x:x+4]) == "Xing" || string(frame[x:x+4]) == "Info") {
		flags := be32(frame[x+4:])
		p := x + 8
		if flags&1 != 0 {
			frames = int64(be32(frame[p:]))
			p += 4
		}
		if flags&2 != 0 && len(frame) >= p+4 {
			audioBytes = int64(be32(frame[p:]))
		}
	} else if len(frame) >= 36+18 && string(frame[36:40]) == "VBRI" {
		audioBytes, frames = int64(be32(frame[36+10:])), int64(be32(frame[36+14:]))
	}
	if frames > 0 {
		info.DurationS = float64(frames) * float64(f.samples) / float64(f.rate)
		if audioBytes > 0 {
			info.Bitrate = int64(float64(audioBytes) * 8 / info.DurationS)
		}
		return nil
	}
	end := s.size
	if t, _ := s.readUpTo(end-128, 3); end >= 128 && string(t) == "TAG" {
		end -= 128
	}
	info.DurationS = float64(end-start) * 8 / float64(f.bitrate)
	return nil
}

// probeFLAC reads STREAMINFO.
func probeFLAC(s *src, info *Info) error {
	b, err := s.read(4, 4+34)
	if err != nil {
		return fmt.Errorf("reading STREAMINFO: %w", err)
	}
	if b[0]&0x7F != 0 || be24(b[1:]) < 34 {
		return malformed("first metadata block is type %d of %d bytes, not STREAMINFO", b[0]&0x7F, be24(b[1:]))
	}
	return streamInfo(b[4:], s.size, info)
}

// streamInfo reads a FLAC STREAMINFO block's 34 bytes.
func streamInfo(b []byte, size int64, info *Info) error {
	rate := int(b[10])<<12 | int(b[11])<<4 | int(b[12])>>4
	if rate == 0 {
		return malformed("STREAMINFO gives sample rate 0")
	}
	info.Codec, info.SampleRate = "flac", rate
	info.Channels = int(b[12]>>1&7) + 1
	info.BitDepth = int(b[12]&1)<<4 | int(b[13]>>4) + 1
	total := int64(b[13]&0xF)<<32 | int64(be32(b[14:]))
	if total > 0 {
		info.DurationS = float64(total) / float64(rate)
		info.Bitrate = int64(float64(size) * 8 / info.DurationS)
	}
	return nil
}

// wavCodecs maps WAVE format tags to codec names (PCM by bit depth apart).
var wavCodecs = map[uint16]string{2: "adpcm_ms", 6: "pcm_alaw", 7: "pcm_mulaw", 0x11: "adpcm_ima_wav",
	0x50: "mp2", 0x55: "mp3", 0xFF: "aac", 0x1610: "aac", 0x2000: "ac3"}

// probeWAV reads a RIFF or RF64 WAVE file's fmt chunk and data size.
func probeWAV(s *src, info *Info) error {
	rf64 := false
	if h, _ := s.readUpTo(0, 4); string(h) == "RF64" {
		rf64 = true
	}
	var tag uint16
	var byteRate, dataSize, ds64 int64
	gotFmt := false
	pos := int64(12)
	for n := 0; n < maxBoxes && pos+8 <= s.size; n++ {
		h, err := s.read(pos, 8)
		if err != nil {
			return fmt.Errorf("reading the chunk at offset %d: %w", pos, err)
		}
		typ, length := string(h[:4]), int64(le32(h[4:]))
		data := pos + 8
		switch typ {
		case "ds64":
			if b, err := s.read(data, 16); err == nil {
				ds64 = int64(le64(b[8:]))
			}
		case "fmt ":
			if length < 16 {
				return malformed("fmt chunk of %d bytes", length)
			}
			b, err := s.read(data, min(length, 40))
			if err != nil {
				return fmt.Errorf("reading fmt: %w", err)
			}
			tag = le16(b)
			info.Channels, info.SampleRate = int(le16(b[2:])), int(le32(b[4:]))
			byteRate, info.BitDepth = int64(le32(b[8:])), int(le16(b[14:]))
			if tag == 0xFFFE && len(b) >= 26 {
				tag = le16(b[24:]) // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first field
			}
			gotFmt = true
		case "data":
			dataSize = length
			if rf64 && length == 0xFFFFFFFF && ds64 > 0 {
				dataSize = ds64
			}
			dataSize = min(dataSize, s.size-data)
			if gotFmt {
				pos = s.size
				continue
			}
			length = dataSize
		}
		pos = data + length + length&1
	}
	if !gotFmt {
		return malformed("no fmt chunk")
	}
	switch {
	case tag == 1 && info.BitDepth == 8:
		info.Codec = "pcm_u8"
	case tag == 1:
		info.Codec = fmt.Sprintf("pcm_s%dle", info.BitDepth)
	case tag == 3:
		info.Codec = fmt.Sprintf("pcm_f%dle", info.BitDepth)
	default:
		info.Codec = wavCodecs[tag]
		if info.Codec == "" {
			info.Codec = fmt.Sprintf("wav_0x%04x", tag)
		}
		if info.BitDepth == 0 || tag == 0x55 || tag == 0x50 || tag == 0xFF || tag == 0x1610 || tag == 0x2000 {
			info.BitDepth = 0
		}
	}
	if byteRate > 0 {
		info.DurationS = float64(dataSize) / float64(byteRate)
		info.Bitrate = byteRate * 8
	}
	return nil
}

// oggStream is a logical stream's identification header.
type oggStream struct {
	serial   uint32
	codec    string
	rate     int
	channels int
	preskip  int64
	video    bool
	w, h     int
	fps      float64
	bits     int
}

// probeOgg reads the beginning-of-stream pages and the last granule
// position of the main audio stream.
func probeOgg(s *src, info *Info) error {
	var streams []oggStream
	pos := int64(0)
	for n := 0; n < 16; n++ {
		h, err := s.readUpTo(pos, 27+255)
		if err != nil || len(h) < 27 || string(h[:4]) != "OggS" {
			break
		}
		if h[5]&2 == 0 { // not a beginning-of-stream page
			break
		}
		nseg := int(h[26])
		if len(h) < 27+nseg {
			return malformed("page at offset %d is truncated", pos)
		}
		body := int64(0)
		for _, l := range h[27 : 27+nseg] {
			body += int64(l)
		}
		p, err := s.readUpTo(pos+27+int64(nseg), min(body, 64))
		if err != nil {
			return err
		}
		streams = append(streams, oggIdent(le32(h[14:]), p))
		pos += 27 + int64(nseg) + body
	}
	if len(streams) == 0 {
		return malformed("no beginning-of-stream page")
	}
	var audio, video *oggStream
	for i := range streams {
		st := &streams[i]
		if st.video && video == nil {
			video = st
		} else if !st.video && st.rate > 0 && audio == nil {
			audio = st
		}
	}
	if audio == nil && video == nil {
		return malformed("no stream in a codec Probe knows (%q)", streams[0].codec)
	}
	if audio != nil {
		info.Codec, info.SampleRate, info.Channels, info.BitDepth = audio.codec, audio.rate, audio.channels, audio.bits
		if g, ok := lastGranule(s, audio.serial); ok {
			rate := int64(audio.rate)
			if audio.codec == "opus" {
				rate = 48000
			}
			if g -= audio.preskip; g > 0 {
				info.DurationS = float64(g) / float64(rate)
				info.Bitrate = int64(float64(s.size) * 8 / info.DurationS)
			}
		}
	}
	if video != nil {
		info.Codec, info.Width, info.Height, info.FPS = video.codec, video.w, video.h, video.fps
	}
	return nil
}

// oggIdent reads a stream's first packet.
func oggIdent(serial uint32, p []byte) oggStream {
	st := oggStream{serial: serial}
	switch {
	case len(p) >= 16 && string(p[:7]) == "\x01vorbis":
		st.codec, st.channels, st.rate = "vorbis", int(p[11]), int(le32(p[12:]))
	case len(p) >= 16 && string(p[:8]) == "OpusHead":
		st.codec, st.channels, st.preskip = "opus", int(p[9]), int64(le16(p[10:]))
		st.rate = 48000
	case len(p) >= 51 && string(p[:5]) == "\x7fFLAC" && string(p[9:13]) == "fLaC":
		var i Info
		if streamInfo(p[17:51], 0, &i) == nil {
			st.codec, st.rate, st.channels, st.bits = "flac", i.SampleRate, i.Channels, i.BitDepth
		}
	case len(p) >= 52 && string(p[:8]) == "Speex   ":
		st.codec, st.rate, st.channels = "speex", int(le32(p[36:])), int(le32(p[48:]))
	case len(p) >= 30 && string(p[:7]) == "\x80theora":
		st.codec, st.video = "theora", true
		st.w, st.h = int(be24(p[14:])), int(be24(p[17:]))
		if num, den := be32(p[22:]), be32(p[26:]); den > 0 {
			st.fps = float64(num) / float64(den)
		}
	}
	return st
}

// lastGranule finds the granule position of the stream's last page in the
// last 256 KiB of the file.
func lastGranule(s *src, serial uint32) (int64, bool) {
	from := max(0, s.size-256<<10)
	tail, err := s.readUpTo(from, s.size-from)
	if err != nil {
		return 0, false
	}
	for i := len(tail) - 27; i >= 0; i-- {
		i = bytes.LastIndex(tail[:i+4], []byte("OggS"))
		if i < 0 || i+27 > len(tail) {
			return 0, false
		}
		g := int64(le64(tail[i+6:]))
		if le32(tail[i+14:]) == serial && g >= 0 {
			return g, true
		}
	}
	return 0, false
}
