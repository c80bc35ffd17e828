package treegen

import (
	"encoding/binary"
	"math"
	"strings"
	"sync"
)

// rng is splitmix64: tiny, fast and good enough for shapes and bytes.
type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
func (r *rng) intn(n int) int        { return int(r.u64() % uint64(n)) }
func (r *rng) f64() float64          { return float64(r.u64()>>11) / (1 << 53) }
func (r *rng) chance(p float64) bool { return r.f64() < p }
func (r *rng) lognorm(median, sigma float64) float64 {
	u1, u2 := max(r.f64(), 1e-300), r.f64()
	return median * math.Exp(sigma*math.Sqrt(-2*math.Log(u1))*math.Cos(2*math.Pi*u2))
}

// class is a kind of file content with a lognormal size.
type class struct {
	median, sigma float64 // bytes
	max           float64 // cap, bytes (before SizeScale)
	text          bool
}

const (
	cText = iota
	cHashobj
	cMail
	cDoc
	cImage
	cThumb
	cAudio
	cVideo
	cArchive
	cDB
	cBin
	nClasses
)

// Sizes are make-tree.sh's realistic ones scaled down (media ~500×, text ~2.5×), so that a
// million files take a few GiB: median ~1.6 KB, mean ~3.6 KB.
var classes = [nClasses]class{
	cText:    {1000, 1.2, 256 << 10, true},
	cHashobj: {500, 1.5, 256 << 10, false},
	cMail:    {2000, 1.0, 256 << 10, true},
	cDoc:     {2500, 1.2, 384 << 10, false},
	cImage:   {3000, 0.9, 384 << 10, false},
	cThumb:   {1500, 0.7, 64 << 10, false},
	cAudio:   {6000, 0.5, 384 << 10, false},
	cVideo:   {12000, 1.0, 512 << 10, false},
	cArchive: {3000, 1.8, 512 << 10, false},
	cDB:      {3000, 1.8, 512 << 10, false},
	cBin:     {3000, 1.5, 512 << 10, false},
}

// magic headers, so content sniffers see plausible files.
var magic = map[string]string{
	".png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".jpg": "\xff\xd8\xff\xe0\x00\x10JFIF\x00", ".JPG": "\xff\xd8\xff\xe1\x00\x18Exif\x00\x00",
	".heic": "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ".gif": "GIF89a", ".pdf": "%PDF-1.7\n", ".zip": "PK\x03\x04",
	".docx": "PK\x03\x04", ".xlsx": "PK\x03\x04", ".pptx": "PK\x03\x04", ".odt": "PK\x03\x04", ".jar": "PK\x03\x04",
	".gz": "\x1f\x8b\x08\x00", ".tgz": "\x1f\x8b\x08\x00", ".xz": "\xfd7zXZ\x00", ".mp3": "ID3\x04\x00\x00", ".flac": "fLaC",
	".ogg": "OggS", ".mp4": "\x00\x00\x00\x20ftypisom", ".mov": "\x00\x00\x00\x14ftypqt  ", ".mkv": "\x1a\x45\xdf\xa3",
	".sqlite": "SQLite format 3\x00", ".db": "SQLite format 3\x00", ".so": "\x7fELF\x02\x01\x01",
	".deb": "!<arch>\ndebian-binary   ", ".webp": "RIFF\x00\x00\x00\x00WEBP", ".wav": "RIFF\x00\x00\x00\x00WAVE",
}

// ---------- pseudo-words, Zipf-distributed

var (
	wordsOnce sync.Once
	words     []string
	zipfTab   [65536]uint16
	syllables = []string{"ka", "lo", "mi", "ra", "te", "no", "su", "vi", "de", "pa", "zo", "ri", "be", "ta", "gu", "fe",
		"shi", "an", "el", "or", "un", "is", "qu", "ex", "ja", "we", "yo", "ci", "ha", "mo", "ne", "sa"}
)

func initWords() {
	wordsOnce.Do(func() {
		r := rng{s: 12345}
		seen := map[string]bool{}
		for len(words) < 8192 {
			n := 1 + r.intn(4)
			var b strings.Builder
			for i := 0; i < n; i++ {
				b.WriteString(syllables[r.intn(len(syllables))])
			}
			w := b.String()
			if !seen[w] && !reservedWord(w) {
				seen[w] = true
				words = append(words, w)
			}
		}
		var total float64
		cdf := make([]float64, len(words))
		for i := range words {
			total += 1 / math.Pow(float64(i+1), 1.07)
			cdf[i] = total
		}
		j := 0
		for k := range zipfTab {
			u := (float64(k) + 0.5) / float64(len(zipfTab)) * total
			for cdf[j] < u {
				j++
			}
			zipfTab[k] = uint16(j)
		}
	})
}

func word(r *rng) string { return words[zipfTab[r.u64()&0xffff]] }

// title capitalises an ASCII word.
func title(w string) string { return string(w[0]-'a'+'A') + w[1:] }

// ---------- content

// chunkSize bounds the write buffer; bigger files are written in chunks.
const chunkSize = 1 << 20

// gen produces one file's bytes: its class and seed decide them completely.
type gen struct {
	r     rng
	text  bool
	magic string
	col   int
}

func newGen(seed uint64, class uint8, ext string) gen {
	g := gen{r: rng{s: seed}, text: classes[class].text}
	if !g.text {
		g.magic = magic[ext]
	}
	return g
}

// next fills b (all of it) with the next bytes of the file.
func (g *gen) next(b []byte) {
	n := 0
	if g.magic != "" {
		n = copy(b, g.magic)
		g.magic = g.magic[n:]
	}
	if g.text {
		for n < len(b) {
			v := g.r.u64()
			w := words[zipfTab[v&0xffff]]
			n += copy(b[n:], w)
			g.col += len(w) + 1
			if n >= len(b) {
				break
			}
			switch x := (v >> 16) & 31; {
			case g.col > 72 || x == 0:
				b[n] = '\n'
				g.col = 0
				n++
			case x == 1 && n+1 < len(b):
				b[n], b[n+1] = '.', ' '
				n += 2
			default:
				b[n] = ' '
				n++
			}
		}
		return
	}
	for ; n+8 <= len(b); n += 8 {
		binary.LittleEndian.PutUint64(b[n:], g.r.u64())
	}
	if n < len(b) {
		v := g.r.u64()
		for ; n < len(b); n++ {
			b[n] = byte(v)
			v >>= 8
		}
	}
}
