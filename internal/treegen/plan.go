package treegen

import (
	"context"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

type extw struct {
	ext   string
	class uint8
	w     float64
}

type areaKind uint8

const (
	kCode areaKind = iota
	kCache
	kConfig
	kDocs
	kMixed
	kPhotos
	kMusic
	kVideo
	kMail
)

type area struct {
	root     string
	share    float64
	kind     areaKind
	exts     []extw
	maxDepth int
}

// Areas of a home directory, in planning order. Directory symlinks only point to directories of
// earlier areas, so following them never cycles.
var areas = []area{
	{"src", 0.30, kCode, []extw{{".go", cText, 10}, {".py", cText, 8}, {".js", cText, 14}, {".ts", cText, 6}, {".json", cText, 6}, {".md", cText, 3}, {".c", cText, 3}, {".h", cText, 3}, {".rs", cText, 2}, {".java", cText, 2}, {".html", cText, 2}, {".css", cText, 2}, {".txt", cText, 1}, {".yml", cText, 1}, {".sh", cText, 1}, {".png", cThumb, 1.5}, {".svg", cText, 1}, {".so", cBin, 0.3}, {".jar", cArchive, 0.2}, {"", cText, 1}}, 24},
	// the hashed fan-out of a cache, under a name no ignore list has (a real home would use .cache)
	{".local/state", 0.12, kCache, []extw{{"", cHashobj, 10}, {".png", cThumb, 3}, {".jpg", cThumb, 2}, {".json", cText, 1}, {".bin", cHashobj, 1}}, 6},
	{".local/share", 0.05, kConfig, []extw{{".json", cText, 3}, {".db", cDB, 1}, {".sqlite", cDB, 1}, {".log", cText, 2}, {".xml", cText, 1}, {"", cHashobj, 2}, {".png", cThumb, 1}}, 6},
	{".config", 0.03, kConfig, []extw{{".json", cText, 3}, {".conf", cText, 3}, {".ini", cText, 2}, {".toml", cText, 1}, {".yaml", cText, 1}, {"", cText, 2}, {".db", cDB, 0.3}}, 5},
	{"Documents", 0.10, kDocs, []extw{{".pdf", cDoc, 6}, {".docx", cDoc, 4}, {".xlsx", cDoc, 2}, {".odt", cDoc, 1}, {".txt", cText, 4}, {".md", cText, 2}, {".csv", cText, 2}, {".pptx", cDoc, 1}, {".jpg", cImage, 1}, {".png", cImage, 1}}, 7},
	{"Downloads", 0.04, kMixed, []extw{{".pdf", cDoc, 4}, {".zip", cArchive, 3}, {".tgz", cArchive, 1}, {".xz", cArchive, 0.5}, {".deb", cArchive, 0.5}, {".iso", cArchive, 0.1}, {".jpg", cImage, 2}, {".png", cImage, 2}, {".mp4", cVideo, 0.3}, {".mp3", cAudio, 0.5}, {".docx", cDoc, 1}, {".txt", cText, 1}}, 3},
	{"Pictures", 0.12, kPhotos, []extw{{".JPG", cImage, 6}, {".jpg", cImage, 4}, {".heic", cImage, 3}, {".png", cImage, 2}, {".gif", cImage, 0.3}, {".webp", cImage, 0.3}, {".mov", cVideo, 0.3}, {".mp4", cVideo, 0.2}}, 4},
	{"Music", 0.05, kMusic, []extw{{".mp3", cAudio, 6}, {".flac", cAudio, 2}, {".ogg", cAudio, 1}, {".jpg", cThumb, 0.5}, {".m3u", cText, 0.1}}, 4},
	{"Videos", 0.01, kVideo, []extw{{".mp4", cVideo, 4}, {".mkv", cVideo, 2}, {".mov", cVideo, 1}, {".srt", cText, 1}}, 3},
	{"Mail", 0.10, kMail, []extw{{"", cMail, 1}}, 4},
	{"Desktop", 0.02, kMixed, []extw{{".png", cImage, 3}, {".txt", cText, 2}, {".pdf", cDoc, 1}, {".desktop", cText, 1}, {".zip", cArchive, 0.5}}, 2},
	{"backup", 0.06, kMixed, []extw{{".jpg", cImage, 2}, {".pdf", cDoc, 2}, {".docx", cDoc, 1}, {".txt", cText, 2}, {".tgz", cArchive, 0.5}, {".json", cText, 1}, {".mp3", cAudio, 0.5}}, 6},
}

// rootDotfiles are written first, in the root (as many as Options.Files allows).
var rootDotfiles = []string{".bashrc", ".profile", ".gitconfig", ".vimrc"}

var (
	projNames = []string{"internal", "cmd", "pkg", "lib", "src", "test", "tests", "docs", "vendor", "build", "dist", "assets",
		"scripts", "api", "util", "core", "web", "app", "models", "views", "static", "config", "examples", "tools", "deps", "packages"}
	codeNoExt = []string{"Makefile", "LICENSE", "README", "Dockerfile", "go.sum", "AUTHORS", ".editorconfig", ".prettierrc"}
	months    = []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}
	mailboxes = []string{"INBOX", "Sent", "Archive", "Lists", "Drafts", "Trash"}
	maildirs  = []string{"cur", "new", "tmp"}
)

// ignoredNames are names on core/ignore's default lists (system names, VCS, dev and NAS
// directories, the ignore files themselves, and the Cargo.toml that makes "target" ignored). No
// generated name may equal one of them (compared case-insensitively, for case-folding file systems).
var ignoredNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{".DS_Store", ".AppleDouble", ".Spotlight-V100", ".fseventsd", ".TemporaryItems",
		".DocumentRevisions-V100", ".Trashes", ".Trash", "Thumbs.db", "ehthumbs.db", "desktop.ini", "$RECYCLE.BIN",
		"System Volume Information", "lost+found", ".directory", "Icon\r",
		".git", ".hg", ".svn", ".bzr", "_darcs", "CVS",
		"node_modules", "bower_components", "__pycache__", ".cache", ".venv", ".tox", ".nox", ".mypy_cache",
		".pytest_cache", ".ruff_cache", ".gradle", ".next", ".nuxt", ".terraform", ".stack-work", "dist-newstyle",
		".parcel-cache", ".sass-cache", "target", "Cargo.toml",
		"@eaDir", "#recycle", "#snapshot", ".snapshot", ".snapshots", "@Recycle", ".@__thumb", "@tmp", ".zfs",
		".gitignore", ".ignore", ".cairnignore"} {
		m[strings.ToLower(n)] = true
	}
	return m
}()

func reservedWord(w string) bool { return ignoredNames[w] }

// safeName keeps a name clear of every default ignore rule.
func safeName(n string) string {
	l := strings.ToLower(n)
	if ignoredNames[l] || strings.HasPrefix(n, "._") || strings.HasPrefix(l, ".trash-") || strings.HasSuffix(n, "~") {
		return "x" + n
	}
	return n
}

func pickExt(r *rng, exts []extw) extw {
	var t float64
	for _, e := range exts {
		t += e.w
	}
	u := r.f64() * t
	for _, e := range exts {
		if u < e.w {
			return e
		}
		u -= e.w
	}
	return exts[len(exts)-1]
}

func dirName(r *rng, kind areaKind, depth int) string {
	switch kind {
	case kCode:
		if depth == 1 {
			return word(r) + "-" + word(r)
		}
		if depth == 2 && r.chance(0.03) {
			return ".github"
		}
		if r.chance(0.5) {
			return projNames[r.intn(len(projNames))]
		}
	case kCache:
		if depth > 1 {
			return hex(r, 2)
		}
	case kPhotos:
		switch depth {
		case 1:
			return strconv.Itoa(2008 + r.intn(17))
		case 2:
			return months[r.intn(12)]
		}
		return word(r) + " " + word(r)
	case kMusic:
		if depth == 1 {
			return title(word(r)) + " " + title(word(r))
		}
		return strconv.Itoa(1970+r.intn(55)) + " - " + title(word(r))
	case kMail:
		switch depth {
		case 1:
			return mailboxes[r.intn(len(mailboxes))]
		case 2:
			return maildirs[r.intn(len(maildirs))]
		}
	case kDocs:
		if r.chance(0.2) {
			return strconv.Itoa(2005 + r.intn(20))
		}
		if r.chance(0.1) {
			return title(word(r)) + " ñotes"
		}
		return title(word(r))
	}
	return word(r)
}

const hexDigits = "0123456789abcdef"

func hex(r *rng, n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = r.u64()
		}
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return string(b)
}

func pad(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func fileName(r *rng, kind areaKind, ext string) string {
	var b []byte
	switch kind {
	case kCache:
		if ext == "" || ext == ".bin" {
			return hex(r, 40) + ext
		}
	case kPhotos:
		switch r.intn(4) {
		case 0:
			b = pad(append(b, "IMG_"...), r.intn(10000), 4)
		case 1:
			b = append(b, "PXL_2023"...)
			b = pad(b, 1+r.intn(12), 2)
			b = pad(b, 1+r.intn(28), 2)
			b = pad(append(b, '_'), r.intn(1000000000), 9)
		case 2:
			b = pad(append(b, "DSC"...), r.intn(100000), 5)
		default:
			b = strconv.AppendInt(append(append(b, word(r)...), '_'), int64(r.intn(1000)), 10)
		}
		return string(append(b, ext...))
	case kMusic:
		b = pad(b, 1+r.intn(20), 2)
		b = append(append(append(append(b, ' '), title(word(r))...), ' '), word(r)...)
		return string(append(b, ext...))
	case kMail:
		b = strconv.AppendInt(b, int64(1400000000+r.intn(300000000)), 10)
		b = strconv.AppendInt(append(b, ".M"...), int64(r.intn(1000000)), 10)
		b = strconv.AppendInt(append(b, 'P'), int64(r.intn(100000)), 10)
		b = strconv.AppendInt(append(b, ".host,S="...), int64(r.intn(100000)), 10)
		return string(append(b, ":2,S"...))
	case kCode:
		if ext == "" {
			return codeNoExt[r.intn(len(codeNoExt))]
		}
	}
	b = append(b, word(r)...)
	if r.chance(0.3) {
		b = append(append(b, '_'), word(r)...)
	}
	if r.chance(0.1) {
		b = strconv.AppendInt(b, int64(r.intn(100)), 10)
	}
	return string(append(b, ext...))
}

// ---------- the planner

// fileSpec is one file to write.
type fileSpec struct {
	name  string
	ext   string
	size  int64
	seed  uint64
	mtime int64
	class uint8
}

// linkSpec is one symlink to create.
type linkSpec struct {
	name, target string
	mtime        int64
}

// batch is (part of) one directory's entries: its new subdirectories, files and symlinks.
// Batches are emitted in the order the planner visits directories, so a batch's directory is
// created by an earlier batch (or by the planner: the root and the area roots).
type batch struct {
	dir   string        // relative to the root; "" is the root
	ready chan struct{} // closed once dir exists; nil if it exists already
	// subdirs to create (before the files), each closing its ready channel once made
	subdirs []subdir
	files   []fileSpec
	links   []linkSpec
}

type subdir struct {
	name  string
	ready chan struct{}
}

// maxBatch bounds a batch, so one huge directory is written by several workers.
const maxBatch = 256

type dirRec struct {
	path   string
	mtime  int64 // newest direct file's mtime (base if none)
	hidden bool
}

// fileRef is an earlier file, a possible source of duplicate content or a symlink target.
type fileRef struct {
	dir   int32
	name  string
	ext   string
	size  int64
	seed  uint64
	class uint8
}

type planner struct {
	o     Options
	r     rng
	st    Stats
	dirs  []dirRec
	ring  [1024]fileRef // the most recent files
	nring int
	res   [4096]fileRef // a uniform sample of all earlier files
	nseen int
	// emit receives each batch (nil for a dry run); mkdir creates a directory synchronously (the
	// area roots; nil for a dry run).
	emit  func(*batch) error
	mkdir func(rel string) error

	dangling, fileLinks, dirLinks int
	loopDone                      bool
	areaStart                     int // first index in dirs of the current area
}

var (
	baseTime = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	timeSpan = int64(10 * 365 * 86400)
)

// addDir records a new directory; now says whether to create it at once (else a batch will).
func (p *planner) addDir(rel string, parentHidden, now bool) (int, error) {
	name := path.Base(rel)
	p.dirs = append(p.dirs, dirRec{path: rel, mtime: baseTime, hidden: parentHidden || name[0] == '.'})
	p.st.Dirs++
	if now && p.mkdir != nil {
		if err := p.mkdir(rel); err != nil {
			return 0, err
		}
	}
	return len(p.dirs) - 1, nil
}

// pending returns a readiness channel for a directory a batch will create (nil in a dry run).
func (p *planner) pending() chan struct{} {
	if p.emit == nil {
		return nil
	}
	return make(chan struct{})
}

func (p *planner) remember(f fileRef) {
	p.ring[p.nring%len(p.ring)] = f
	p.nring++
	// reservoir sampling (Algorithm R), driven by the plan's PRNG
	if p.nseen < len(p.res) {
		p.res[p.nseen] = f
	} else if j := p.r.intn(p.nseen + 1); j < len(p.res) {
		p.res[j] = f
	}
	p.nseen++
}

// newFile plans one file in directory di; names holds the names already used there.
func (p *planner) newFile(di int, kind areaKind, exts []extw, names map[string]bool) fileSpec {
	r := &p.r
	e := pickExt(r, exts)
	c := &classes[e.class]
	sz := min(r.lognorm(c.median, c.sigma), c.max) * p.o.SizeScale
	// floors: 32 bytes of text, or the magic plus 16 random bytes, so distinct files never coincide
	if c.text {
		sz = max(sz, 32)
	} else {
		sz = max(sz, float64(len(magic[e.ext])+16))
	}
	f := fileSpec{ext: e.ext, class: e.class, size: int64(sz), seed: r.u64(), mtime: baseTime + int64(r.f64()*float64(timeSpan))}
	var src *fileRef
	if r.chance(p.o.EmptyFraction) {
		f.size = 0
	} else if p.nseen > 10 && r.chance(p.o.DupFraction) {
		// a copy of an earlier file: 30% a recent one (copies next to the original), else any
		if r.chance(0.3) {
			src = &p.ring[(p.nring-1-r.intn(min(p.nring, len(p.ring))))%len(p.ring)]
		} else {
			src = &p.res[r.intn(min(p.nseen, len(p.res)))]
		}
	}
	if src != nil {
		f.size, f.seed, f.class, f.ext = src.size, src.seed, src.class, src.ext
		stem := strings.TrimSuffix(src.name, src.ext)
		cands := [...]string{src.name, stem + " (1)" + src.ext, "Copy of " + src.name, stem + " (2)" + src.ext}
		start := r.intn(3)
		for j := range cands {
			if n := safeName(cands[(start+j)%len(cands)]); !names[n] {
				f.name = n
				break
			}
		}
		if f.name == "" {
			f.name = safeName(strconv.Itoa(p.st.Files) + "_" + src.name)
		}
		p.st.Duplicates++
	} else {
		for tries := 0; ; tries++ {
			n := fileName(r, kind, e.ext)
			if tries > 3 {
				n = strconv.Itoa(p.st.Files) + "_" + n
			}
			if n = safeName(n); !names[n] {
				f.name = n
				break
			}
		}
	}
	names[f.name] = true
	if f.size == 0 {
		p.st.Empty++
	} else {
		p.remember(fileRef{dir: int32(di), name: f.name, ext: f.ext, size: f.size, seed: f.seed, class: f.class})
	}
	p.st.Files++
	p.st.Bytes += f.size
	if p.dirs[di].hidden || f.name[0] == '.' {
		p.st.Hidden++
	}
	if f.mtime > p.dirs[di].mtime {
		p.dirs[di].mtime = f.mtime
	}
	return f
}

// newLink plans one symlink in directory di: the first ones are one of each kind, then 10%
// dangling, 20% to a directory of an earlier area and 70% to a recent file.
func (p *planner) newLink(di int, names map[string]bool) (linkSpec, bool) {
	r := &p.r
	dir := p.dirs[di].path
	l := linkSpec{mtime: baseTime + int64(r.f64()*float64(timeSpan))}
	const (
		dangling = iota
		toDir
		toFile
	)
	kind := toFile
	switch x := r.intn(10); {
	case p.dangling == 0 || p.nring == 0:
		kind = dangling
	case p.fileLinks == 0:
	case p.dirLinks == 0 && p.areaStart > 0:
		kind = toDir
	case x == 0:
		kind = dangling
	case x <= 2 && p.areaStart > 0:
		kind = toDir
	}
	switch kind {
	case toDir:
		t := p.dirs[r.intn(p.areaStart)].path
		if t == dir || strings.HasPrefix(dir, t+"/") {
			return l, false // an ancestor would make a cycle
		}
		l.target, l.name = rel(dir, t), path.Base(t)
	case toFile:
		f := &p.ring[(p.nring-1-r.intn(min(p.nring, len(p.ring))))%len(p.ring)]
		l.target, l.name = rel(dir, path.Join(p.dirPath(f.dir), f.name)), f.name
	default:
		l.name = word(r) + ".txt"
		if p.nring > 0 {
			l.name = p.ring[(p.nring-1)%len(p.ring)].name
		}
		l.target = "deleted-" + l.name // no generated name starts with "deleted-"
		if r.chance(0.5) {
			l.target = "../" + l.target
		}
	}
	if names[l.name] {
		l.name = "link to " + l.name
	}
	if l.name = safeName(l.name); names[l.name] {
		return l, false
	}
	names[l.name] = true
	switch kind {
	case dangling:
		p.dangling++
	case toDir:
		p.dirLinks++
	default:
		p.fileLinks++
	}
	p.st.Symlinks++
	return l, true
}

func (p *planner) dirPath(di int32) string {
	if di < 0 {
		return "" // the root
	}
	return p.dirs[di].path
}

// rel is the relative path from directory from to target (both relative to the root).
func rel(from, target string) string {
	f, t := strings.Split(from, "/"), strings.Split(target, "/")
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var b strings.Builder
	for j := i; j < len(f); j++ {
		b.WriteString("../")
	}
	b.WriteString(strings.Join(t[i:], "/"))
	return b.String()
}

// run plans the whole tree, emitting batches as it goes.
func (p *planner) run(ctx context.Context) error {
	initWords()
	o := &p.o
	p.r = rng{s: o.Seed*0x2545F4914F6CDD1D + 0x632BE59BD9B4E019}
	linkP := 0.0
	if o.Symlinks && o.Files > 0 {
		linkP = max(0.001, 4/float64(o.Files))
	}
	remaining := o.Files
	// dotfiles in the root
	if n := min(len(rootDotfiles), remaining); n > 0 {
		b := &batch{}
		for _, name := range rootDotfiles[:n] {
			c := &classes[cText]
			sz := max(min(p.r.lognorm(c.median/2, 0.8), c.max)*o.SizeScale, 32)
			f := fileSpec{name: name, class: cText, size: int64(sz), seed: p.r.u64(), mtime: baseTime + int64(p.r.f64()*float64(timeSpan))}
			b.files = append(b.files, f)
			p.st.Files++
			p.st.Hidden++
			p.st.Bytes += f.size
			p.remember(fileRef{dir: -1, name: f.name, size: f.size, seed: f.seed, class: f.class})
		}
		remaining -= n
		if p.emit != nil {
			if err := p.emit(b); err != nil {
				return err
			}
		}
	}
	total := remaining
	made := map[string]bool{}
	type qd struct {
		di, depth int
		ready     chan struct{}
	}
	nDirs := 0
	for ai := range areas {
		a := &areas[ai]
		target := int(math.Round(a.share * float64(total)))
		if ai == len(areas)-1 || target > remaining {
			target = remaining
		}
		remaining -= target
		// intermediate directories (.local)
		if i := strings.IndexByte(a.root, '/'); i > 0 && !made[a.root[:i]] {
			made[a.root[:i]] = true
			if _, err := p.addDir(a.root[:i], false, true); err != nil {
				return err
			}
		}
		p.areaStart = len(p.dirs)
		rootHidden := a.root[0] == '.'
		rdi, err := p.addDir(a.root, rootHidden, true)
		if err != nil {
			return err
		}
		queue := []qd{{rdi, 0, nil}}
		rootNames := map[string]bool{}
		placed := 0
		for placed < target {
			if nDirs++; nDirs%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(queue) == 0 { // grow: a new top-level subtree (project, year, artist, ...)
				name := safeName(dirName(&p.r, a.kind, 1) + strconv.Itoa(p.r.intn(1000)))
				if rootNames[name] {
					continue
				}
				rootNames[name] = true
				di, _ := p.addDir(a.root+"/"+name, rootHidden || name[0] == '.', false)
				ready := p.pending()
				if p.emit != nil {
					if err := p.emit(&batch{dir: a.root, subdirs: []subdir{{name, ready}}}); err != nil {
						return err
					}
				}
				queue = append(queue, qd{di, 1, ready})
			}
			d := queue[0]
			queue = queue[1:]
			names := rootNames
			if d.depth > 0 {
				names = map[string]bool{}
			}
			// files in this directory: lognormal, heavy tail
			med := 6.0
			switch a.kind {
			case kMail:
				med = 40
			case kCache:
				med = 3
			case kPhotos:
				med = 25
			case kMusic:
				med = 10
			}
			if d.depth == 0 {
				med = 1.5
			}
			k := min(int(p.r.lognorm(med, 1.0)), target-placed)
			b := &batch{dir: p.dirs[d.di].path, ready: d.ready}
			nlinks := 0
			for i := 0; i < k; i++ {
				b.files = append(b.files, p.newFile(d.di, a.kind, a.exts, names))
				if linkP > 0 && p.r.chance(linkP) {
					nlinks++
				}
			}
			placed += k
			for ; nlinks > 0; nlinks-- {
				if l, ok := p.newLink(d.di, names); ok {
					b.links = append(b.links, l)
				}
			}
			if o.Symlinks && !p.loopDone && a.kind == kCode && d.depth == 2 && !names["workspace"] {
				// the one loop: a link to an ancestor directory
				names["workspace"] = true
				b.links = append(b.links, linkSpec{name: "workspace", target: "../..", mtime: baseTime})
				p.loopDone = true
				p.st.Symlinks++
			}
			// subdirectories: fan-out shrinks with depth, so each subtree ends by itself and an area
			// reaches its budget by adding more top-level subtrees
			if d.depth < a.maxDepth {
				var sub int
				base, decay := 2.2, 0.7
				switch a.kind {
				case kCode:
					base, decay = 3.2, 0.78
				case kCache:
					base, decay = 4, 0.45
				case kMail, kMusic, kVideo:
					base, decay = 1.5, 0.6
				}
				if d.depth == 0 {
					sub = 3 + p.r.intn(12)
				} else {
					sub = int(p.r.lognorm(base*math.Pow(decay, float64(d.depth-1)), 0.8))
				}
				if a.kind == kCode && d.depth >= 4 && p.r.chance(0.12) {
					sub++ // nested dependency chains (deps/x/deps/y/...): a thin deep tail
				}
				for j := 0; j < sub; j++ {
					name := safeName(dirName(&p.r, a.kind, d.depth+1))
					if names[name] {
						continue
					}
					names[name] = true
					di, _ := p.addDir(p.dirs[d.di].path+"/"+name, p.dirs[d.di].hidden || name[0] == '.', false)
					ready := p.pending()
					b.subdirs = append(b.subdirs, subdir{name, ready})
					queue = append(queue, qd{di, d.depth + 1, ready})
				}
			}
			if p.emit != nil && (len(b.files) > 0 || len(b.links) > 0 || len(b.subdirs) > 0) {
				for len(b.files) > maxBatch { // the first part creates the subdirectories
					part := &batch{dir: b.dir, ready: b.ready, subdirs: b.subdirs, files: b.files[:maxBatch:maxBatch]}
					b.files, b.subdirs = b.files[maxBatch:], nil
					if err := p.emit(part); err != nil {
						return err
					}
				}
				if err := p.emit(b); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
