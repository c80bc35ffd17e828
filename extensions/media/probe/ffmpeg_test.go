package probe_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/extensions/media/probe"
	"github.com/cairnfs/cairn/internal/testtool"
)

// avCase is a clip ffmpeg makes from its test sources.
type avCase struct {
	name    string
	encoder string // an encoder the clip needs ("" for built-in ones)
	args    []string
	post    func(t *testing.T, path string) // edits the clip after ffmpeg wrote it
}

const (
	video  = "testsrc=size=160x120:rate=25:duration=1"
	video2 = "testsrc=size=96x64:rate=30:duration=2"
	tone   = "sine=frequency=440:sample_rate=44100:duration=1"
	tone48 = "sine=frequency=440:sample_rate=48000:duration=1.5"
)

var avCases = []avCase{
	{"h264-aac.mp4", "libx264", []string{"-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-metadata", "location=-33.8568+151.2153+012.000/"}, nil},
	{"mpeg4.mp4", "", []string{"-f", "lavfi", "-i", video2, "-c:v", "mpeg4"}, nil},
	{"hevc.mp4", "libx265", []string{"-f", "lavfi", "-i", video, "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error"}, nil},
	{"av1.mp4", "libaom-av1", []string{"-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1"}, nil},
	{"rotated.mov", "libx264", []string{"-f", "lavfi", "-i", video2, "-f", "lavfi", "-i", tone48, "-c:v", "libx264", "-preset", "ultrafast",
		"-c:a", "pcm_s16le", "-metadata", "creation_time=2023-04-05T10:11:12Z", "-metadata", "location=+48.8584-002.2945/", "-shortest"}, rotate90},
	{"vp9-opus.webm", "libvpx-vp9", []string{"-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone48, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", "-shortest"}, nil},
	{"vp8-vorbis.webm", "libvpx", []string{"-f", "lavfi", "-i", video2, "-f", "lavfi", "-i", tone, "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis"}, nil},
	{"h264-flac.mkv", "libx264", []string{"-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac"}, nil},
	{"audio-only.mka", "libmp3lame", []string{"-f", "lavfi", "-i", tone48, "-c:a", "libmp3lame"}, nil},
	{"cbr.mp3", "libmp3lame", []string{"-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0"}, nil},
	{"vbr.mp3", "libmp3lame", []string{"-f", "lavfi", "-i", tone48, "-c:a", "libmp3lame", "-q:a", "4", "-metadata", "title=A tone"}, nil},
	{"mono.flac", "", []string{"-f", "lavfi", "-i", tone48, "-ac", "1", "-c:a", "flac"}, nil},
	{"s16.wav", "", []string{"-f", "lavfi", "-i", tone, "-ac", "2", "-c:a", "pcm_s16le"}, nil},
	{"s24.wav", "", []string{"-f", "lavfi", "-i", tone48, "-c:a", "pcm_s24le"}, nil},
	{"f32.wav", "", []string{"-f", "lavfi", "-i", tone, "-c:a", "pcm_f32le"}, nil},
	{"vorbis.ogg", "libvorbis", []string{"-f", "lavfi", "-i", tone, "-c:a", "libvorbis"}, nil},
	{"opus.opus", "libopus", []string{"-f", "lavfi", "-i", tone48, "-c:a", "libopus"}, nil},
	{"flac.oga", "", []string{"-f", "lavfi", "-i", tone, "-c:a", "flac", "-f", "ogg"}, nil},
	{"theora.ogv", "libtheora", []string{"-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone, "-c:v", "libtheora", "-c:a", "libvorbis"}, nil},
	{"aac.m4a", "", []string{"-f", "lavfi", "-i", tone, "-c:a", "aac"}, nil},
}

// rotate90 sets the first track's matrix to a quarter turn clockwise, as
// phones record portrait video (ffmpeg 5 has no option that writes it).
func rotate90(t *testing.T, p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("tkhd"))
	if i < 0 || b[i+4] != 0 {
		t.Fatalf("no version 0 tkhd in %s", p)
	}
	m := b[i+4+40:]
	for k, v := range []int32{0, 1 << 16, 0, -1 << 16, 0} {
		binary.BigEndian.PutUint32(m[4*k:], uint32(v))
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ffprobe is the part of ffprobe's JSON the comparison reads.
type ffprobe struct {
	Format struct {
		Duration string            `json:"duration"`
		Tags     map[string]string `json:"tags"`
	} `json:"format"`
	Streams []struct {
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
		RFrameRate string `json:"r_frame_rate"`
		SideData   []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
}

// TestFFprobe makes short clips with ffmpeg and compares Probe's duration,
// codec, dimensions, audio parameters, rotation and creation time with
// ffprobe's.
func TestFFprobe(t *testing.T) {
	testtool.NeedAll(t, testtool.Tool{Name: "ffmpeg", Package: "ffmpeg"}, testtool.Tool{Name: "ffprobe", Package: "ffmpeg"})
	dir := t.TempDir()
	for _, c := range avCases {
		t.Run(c.name, func(t *testing.T) {
			if c.encoder != "" && !hasEncoder(c.encoder) {
				if testtool.InCI() {
					t.Fatalf("ffmpeg lacks the %s encoder (CI=true: Debian's ffmpeg package has it)", c.encoder)
				}
				t.Skipf("ffmpeg lacks the %s encoder", c.encoder)
			}
			p := filepath.Join(dir, c.name)
			run(t, "ffmpeg", append(append([]string{"-v", "error", "-y"}, c.args...), p)...)
			if c.post != nil {
				c.post(t, p)
			}
			var ff ffprobe
			if err := json.Unmarshal(run(t, "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", p), &ff); err != nil {
				t.Fatal(err)
			}
			info, err := probeFile(t, p)
			if err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(info)
			t.Logf("probe: %s", j)
			compareFF(t, info, &ff)
		})
	}
}

func compareFF(t *testing.T, i *probe.Info, ff *ffprobe) {
	t.Helper()
	var vcodec, acodec string
	rotated := 0
	tol := 0.05
	for _, s := range ff.Streams {
		switch s.CodecType {
		case "video":
			if vcodec != "" {
				continue
			}
			vcodec = s.CodecName
			if i.Width != s.Width || i.Height != s.Height {
				t.Errorf("dimensions %d×%d, ffprobe %d×%d", i.Width, i.Height, s.Width, s.Height)
			}
			if num, den, ok := strings.Cut(s.RFrameRate, "/"); ok {
				n, _ := strconv.ParseFloat(num, 64)
				d, _ := strconv.ParseFloat(den, 64)
				if d > 0 && n > 0 {
					tol = max(tol, d/n)
					if i.FPS != 0 && math.Abs(i.FPS-n/d) > 0.5 {
						t.Errorf("fps %g, ffprobe %g", i.FPS, n/d)
					}
				}
			}
			want := 0
			for _, sd := range s.SideData {
				want = map[float64]int{0: 1, -90: 6, 270: 6, 90: 8, -270: 8, 180: 3, -180: 3}[sd.Rotation]
			}
			if want > 1 {
				rotated++
			}
			if want > 1 && i.Orientation != want {
				t.Errorf("orientation %d, ffprobe rotation %v (orientation %d)", i.Orientation, s.SideData, want)
			}
		case "audio":
			if acodec != "" {
				continue
			}
			acodec = s.CodecName
			if rate, _ := strconv.Atoi(s.SampleRate); i.SampleRate != rate || i.Channels != s.Channels {
				t.Errorf("audio %d Hz × %d, ffprobe %d Hz × %d", i.SampleRate, i.Channels, rate, s.Channels)
			}
		}
	}
	want := vcodec
	if want == "" {
		want = acodec
	}
	if i.Codec != want {
		t.Errorf("codec %q, ffprobe %q", i.Codec, want)
	}
	d, err := strconv.ParseFloat(ff.Format.Duration, 64)
	if err != nil || math.Abs(i.DurationS-d) > tol {
		t.Errorf("duration %g s, ffprobe %s (tolerance %g)", i.DurationS, ff.Format.Duration, tol)
	}
	if rotated > 0 {
		t.Logf("rotation compared")
	}
	if loc := ff.Format.Tags["location"]; loc != "" {
		var lat, lon float64
		if _, err := fmt.Sscanf(loc, "%f%f", &lat, &lon); err != nil {
			t.Fatalf("ffprobe location %q: %v", loc, err)
		}
		if i.GPS == nil || math.Abs(i.GPS.Lat-lat) > 1e-4 || math.Abs(i.GPS.Lon-lon) > 1e-4 {
			t.Errorf("gps %+v, ffprobe location %q", i.GPS, loc)
		}
	}
	if ct := ff.Format.Tags["creation_time"]; ct != "" && !strings.HasPrefix(ct, strings.TrimSuffix(i.TakenAt, "Z")) {
		t.Errorf("taken_at %q, ffprobe creation_time %q", i.TakenAt, ct)
	}
}
