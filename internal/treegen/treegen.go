// Package treegen generates deterministic, home-folder-like trees for benchmarks: the same
// options always give the same paths, sizes, bytes and mtimes. Areas (src, Documents,
// Pictures/YYYY/MM, Music/Artist/Album, Mail, Downloads, .config, backup), lognormal files per
// directory and file sizes, fan-out shrinking with depth, ~5% duplicate contents and ~0.5% empty
// files. Sizes are small by default (median ~1.5 KB) so a million files fit in a few GiB.
// No name it makes is on Cairn's default ignore lists, so find, fd -HI and cairn see the same tree.
package treegen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cairnfs/cairn/internal/par"
)

// Options shape a tree.
type Options struct {
	Files         int
	Seed          uint64
	SizeScale     float64 // multiplies every size (default 1)
	DupFraction   float64 // default 0.05
	EmptyFraction float64 // default 0.005
	Workers       int     // parallel writers (default 8)
}

// Stats describe a generated tree.
type Stats struct {
	Files, Dirs, Duplicates, Empty int
	Bytes                          int64
}

type file struct {
	path  string
	size  int64
	seed  uint64
	mtime int64
}

type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
func (r *rng) intn(n int) int { return int(r.u64() % uint64(n)) }
func (r *rng) f64() float64   { return float64(r.u64()>>11) / (1 << 53) }
func (r *rng) lognorm(median, sigma float64) float64 {
	u1, u2 := max(r.f64(), 1e-300), r.f64()
	return median * math.Exp(sigma*math.Sqrt(-2*math.Log(u1))*math.Cos(2*math.Pi*u2))
}

var syllables = []string{"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "pa", "do", "fe", "gu", "ha", "ji", "qu", "we", "xo", "yu", "bo"}

func word(r *rng) string {
	n := 2 + r.intn(3)
	b := make([]byte, 0, 8)
	for i := 0; i < n; i++ {
		b = append(b, syllables[r.intn(len(syllables))]...)
	}
	return string(b)
}

type area struct {
	root  string
	share float64
	exts  []string
}

var areas = []area{
	{"src", 0.30, []string{".go", ".py", ".js", ".ts", ".json", ".md", ".c", ".h", ".rs", ".html", ".css", ".sh", ""}},
	{"Documents", 0.15, []string{".pdf", ".docx", ".xlsx", ".txt", ".md", ".csv", ".odt", ".pptx"}},
	{"Pictures", 0.15, []string{".jpg", ".JPG", ".png", ".heic", ".gif", ".webp", ".mov"}},
	{"Music", 0.08, []string{".mp3", ".flac", ".ogg", ".jpg"}},
	{"Mail", 0.10, []string{".eml"}},
	{"Downloads", 0.07, []string{".zip", ".pdf", ".tgz", ".jpg", ".deb", ".txt"}},
	{".config", 0.05, []string{".json", ".conf", ".toml", ".ini", ".yaml", ""}},
	{"backup", 0.10, []string{".jpg", ".pdf", ".docx", ".txt", ".json", ".tgz"}},
}

// plan lays out the tree without touching the disk.
func plan(o Options) ([]string, []file, Stats) {
	r := rng{s: o.Seed*0x2545F4914F6CDD1D + 1}
	var dirs []string
	var files []file
	var st Stats
	seen := map[string]bool{}
	base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	remaining := o.Files
	for ai, a := range areas {
		target := int(math.Round(a.share * float64(o.Files)))
		if ai == len(areas)-1 || target > remaining {
			target = remaining
		}
		remaining -= target
		type qd struct {
			path  string
			depth int
		}
		queue := []qd{{a.root, 0}}
		dirs = append(dirs, a.root)
		placed := 0
		for placed < target {
			if len(queue) == 0 {
				p := a.root + "/" + word(&r) + strconv.Itoa(r.intn(1000))
				if !seen[p] {
					seen[p] = true
					dirs = append(dirs, p)
					queue = append(queue, qd{p, 1})
				}
				continue
			}
			d := queue[0]
			queue = queue[1:]
			k := min(int(r.lognorm(8, 1.0)), target-placed)
			if d.depth == 0 {
				k = min(k, 3)
			}
			for i := 0; i < k; i++ {
				ext := a.exts[r.intn(len(a.exts))]
				size := int64(min(r.lognorm(1500, 1.4)*o.SizeScale, 512<<10))
				f := file{size: max(size, 1), seed: r.u64(), mtime: base + int64(r.f64()*3e8)}
				switch {
				case r.f64() < o.EmptyFraction:
					f.size = 0
					st.Empty++
				case len(files) > 10 && r.f64() < o.DupFraction:
					src := files[r.intn(len(files))]
					if src.size > 0 {
						f.size, f.seed = src.size, src.seed
						st.Duplicates++
					}
				}
				name := word(&r) + ext
				if seen[d.path+"/"+name] {
					name = strconv.Itoa(len(files)) + "_" + name
				}
				f.path = d.path + "/" + name
				seen[f.path] = true
				files = append(files, f)
				st.Bytes += f.size
			}
			placed += k
			if d.depth < 9 {
				sub := int(r.lognorm(2.2*math.Pow(0.72, float64(d.depth)), 0.7))
				if d.depth == 0 {
					sub = 3 + r.intn(8)
				}
				for j := 0; j < sub; j++ {
					p := d.path + "/" + word(&r)
					if seen[p] {
						continue
					}
					seen[p] = true
					dirs = append(dirs, p)
					queue = append(queue, qd{p, d.depth + 1})
				}
			}
		}
	}
	st.Files, st.Dirs = len(files), len(dirs)
	return dirs, files, st
}

func (o *Options) defaults() {
	if o.SizeScale == 0 {
		o.SizeScale = 1
	}
	if o.DupFraction == 0 {
		o.DupFraction = 0.05
	}
	if o.EmptyFraction == 0 {
		o.EmptyFraction = 0.005
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
}

// Plan reports what Generate would write.
func Plan(o Options) Stats {
	o.defaults()
	_, _, st := plan(o)
	return st
}

// Generate writes the tree into dir, which must be empty or absent. progress (may be nil) is
// called with files written so far.
func Generate(ctx context.Context, dir string, o Options, progress func(done, total int)) (Stats, error) {
	o.defaults()
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return Stats{}, fmt.Errorf("treegen: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Stats{}, fmt.Errorf("treegen: %w", err)
	}
	dirs, files, st := plan(o)
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return st, fmt.Errorf("treegen: %w", err)
		}
	}
	var mu sync.Mutex
	var firstErr error
	done := 0
	bufs := make([][]byte, o.Workers)
	for w := range bufs {
		bufs[w] = make([]byte, 0, 64<<10)
	}
	ctxErr := par.Each(ctx, len(files), o.Workers, func(w, i int) {
		err := write(filepath.Join(dir, files[i].path), &files[i], &bufs[w])
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		done++
		if progress != nil && done%1000 == 0 {
			progress(done, len(files))
		}
	})
	if firstErr != nil {
		return st, firstErr
	}
	if ctxErr != nil {
		return st, ctxErr
	}
	// directory mtimes last, deepest first, so writing files does not disturb them
	for i := len(dirs) - 1; i >= 0; i-- {
		t := time.Unix(1600000000+int64(i), 0)
		os.Chtimes(filepath.Join(dir, dirs[i]), t, t)
	}
	return st, nil
}

func write(p string, f *file, buf *[]byte) error {
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("treegen: %w", err)
	}
	r := rng{s: f.seed}
	left := f.size
	for left > 0 {
		n := min(left, int64(cap(*buf)))
		b := (*buf)[:0]
		for int64(len(b)) < n {
			v := r.u64()
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
		}
		if _, err := fh.Write(b[:n]); err != nil {
			fh.Close()
			return fmt.Errorf("treegen: %w", err)
		}
		left -= n
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("treegen: %w", err)
	}
	t := time.Unix(f.mtime, 0)
	return os.Chtimes(p, t, t)
}
