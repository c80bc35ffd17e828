package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// HeaderSize is how much of a file's start Detect reads.
const HeaderSize = 8 << 10

// Result is what Detect tells about a file.
type Result struct {
	Mime       string  `json:"mime"`
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
	// By is what decided: "magic", "zip", "extension", "filename",
	// "shebang", "content" (text sniffing) or "empty".
	By string `json:"by"`
}

// Detector detects file types. It is safe for concurrent use.
type Detector struct {
	types   []*fileType
	byID    map[string]*fileType
	byExt   map[string][]*fileType
	byName  map[string][]*fileType
	byInter map[string]*fileType
	first   [256][]*magic // offset-0 magics whose first byte is exact, by that byte
	general []*magic      // every other magic
	zips    []*fileType   // types with a ZIP rule
	zipType *fileType     // application/zip
	plain   *fileType     // text/plain
	binary  *fileType     // application/octet-stream
	json    *fileType     // application/json
}

// New returns a detector of the built-in types plus those of the user
// documents (TOML text, same format as the built-ins). A user type whose id
// is a built-in's replaces it; later documents override earlier ones. An
// invalid document is an error naming it (definitions[i]), the line and the
// reason.
func New(userDefs ...[]byte) (*Detector, error) {
	all, err := builtins()
	if err != nil {
		return nil, fmt.Errorf("load built-in definitions: %w", err)
	}
	for i, doc := range userDefs {
		ts, err := loadDocument(fmt.Sprintf("definitions[%d]", i), doc)
		if err != nil {
			return nil, fmt.Errorf("load user definitions: %w", err)
		}
		all = append(all, ts...)
	}
	return build(all), nil
}

// build indexes the types; a later type with an earlier one's id replaces it.
func build(all []*fileType) *Detector {
	d := &Detector{byID: map[string]*fileType{}, byExt: map[string][]*fileType{},
		byName: map[string][]*fileType{}, byInter: map[string]*fileType{}}
	pos := map[string]int{}
	for _, t := range all {
		if i, ok := pos[t.ID]; ok {
			d.types[i] = t
			continue
		}
		pos[t.ID] = len(d.types)
		d.types = append(d.types, t)
	}
	for _, t := range d.types {
		d.byID[t.ID] = t
		for _, e := range t.Extensions {
			d.byExt[e] = append(d.byExt[e], t)
		}
		for _, n := range t.Filenames {
			d.byName[n] = append(d.byName[n], t)
		}
		for _, in := range t.Interpreters {
			d.byInter[in] = t
		}
		for _, m := range t.magics {
			if m.offset == 0 && m.search == 0 && !m.fold && m.lit != nil {
				d.first[m.lit[0]] = append(d.first[m.lit[0]], m)
			} else {
				d.general = append(d.general, m)
			}
		}
		if t.Zip != nil {
			d.zips = append(d.zips, t)
		}
	}
	for _, l := range d.byExt {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Priority > l[j].Priority })
	}
	sort.SliceStable(d.zips, func(i, j int) bool { return d.zips[i].Priority > d.zips[j].Priority })
	d.zipType = d.byID["application/zip"]
	d.plain = d.orSynthetic("text/plain", "Plain text", "text")
	d.binary = d.orSynthetic("application/octet-stream", "Binary data", "binary")
	d.json = d.orSynthetic("application/json", "JSON", "config")
	return d
}

func (d *Detector) orSynthetic(id, name, kind string) *fileType {
	if t := d.byID[id]; t != nil {
		return t
	}
	return &fileType{Definition: Definition{ID: id, Name: name, Category: kind}}
}

// Types returns the ids of every type the detector knows, in definition order.
func (d *Detector) Types() []string {
	ids := make([]string, len(d.types))
	for i, t := range d.types {
		ids[i] = t.ID
	}
	return ids
}

// Definition returns the definition of a type by id (primary MIME).
func (d *Detector) Definition(id string) (Definition, bool) {
	t := d.byID[id]
	if t == nil {
		return Definition{}, false
	}
	return t.Definition, true
}

var headerPool = sync.Pool{New: func() any { b := make([]byte, HeaderSize); return &b }}

// Detect tells the type of the file called name (a base name or a path)
// whose size bytes r reads. A read error gives application/octet-stream with
// confidence 0; DetectErr reports it.
func (d *Detector) Detect(name string, r io.ReaderAt, size int64) Result {
	res, _ := d.DetectErr(name, r, size)
	return res
}

// DetectErr is Detect that also returns a read error (or a recovered panic).
func (d *Detector) DetectErr(name string, r io.ReaderAt, size int64) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = d.result(d.binary, 0, "error"), fmt.Errorf("detect %s: panic: %v", name, p)
		}
	}()
	if size <= 0 {
		return Result{Mime: "inode/x-empty", Kind: "text", Name: "Empty file", Confidence: 1, By: "empty"}, nil
	}
	bp := headerPool.Get().(*[]byte)
	defer headerPool.Put(bp)
	n := int(min(size, HeaderSize))
	hdr := (*bp)[:n]
	if k, err := r.ReadAt(hdr, 0); k < n && !(errors.Is(err, io.EOF) && k > 0) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return d.result(d.binary, 0, "error"), fmt.Errorf("detect %s: read header: %w", name, err)
	} else if k < n {
		hdr = hdr[:k]
	}
	s := &source{hdr: hdr, r: r, size: size}
	return d.detect(name, s), nil
}

// source is what matching reads from: the header, and the reader for the
// few bytes at far offsets.
type source struct {
	hdr    []byte
	r      io.ReaderAt
	size   int64
	text   int8 // 0 unknown, 1 text, -1 not text
	far    []byte
	farOff int64
}

// isText tells whether the header looks like text (cached).
func (s *source) isText() bool {
	if s.text == 0 {
		s.text = -1
		if looksText(s.hdr) {
			s.text = 1
		}
	}
	return s.text == 1
}

// window returns up to n bytes at off: from the header when it holds them,
// else read (once per offset) from r.
func (s *source) window(off int64, n int) []byte {
	if off >= s.size {
		return nil
	}
	if end := off + int64(n); end <= int64(len(s.hdr)) || int64(len(s.hdr)) == s.size {
		return s.hdr[min(off, int64(len(s.hdr))):min(end, int64(len(s.hdr)))]
	}
	if s.far == nil || s.farOff != off || len(s.far) < n {
		buf := make([]byte, min(int64(n), s.size-off))
		k, _ := s.r.ReadAt(buf, off)
		s.far, s.farOff = buf[:k], off
	}
	return s.far[:min(n, len(s.far))]
}

func (d *Detector) detect(name string, s *source) Result {
	base := name
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	cands := d.candidates(base)
	m := d.bestMagic(s, cands)
	if m != nil {
		t := m.t
		if t.ID == "application/x-sharedlib" && elfHasInterp(s.hdr) {
			if pie := d.byID["application/x-pie-executable"]; pie != nil {
				t = pie
			}
		}
		if t == d.zipType || t.Zip != nil {
			z, known := d.zipRefine(s)
			if z != nil {
				return d.result(z, confidence(0.95, z, cands), "zip")
			}
			for _, c := range cands {
				if c.Zip != nil && !known { // named so, and its members could not be read
					return d.result(c, 0.6, "extension")
				}
			}
		}
		// A magic found by searching (not at its offset) inside a text file that its name calls
		// another text type is a mention, not the format: Go source or Markdown that contains
		// "<svg" or "%PDF-" is what its name says.
		if m.search > 0 && !contains(cands, t) && s.isText() {
			for _, c := range cands {
				if c.Text {
					return d.result(c, 0.8, "extension")
				}
			}
		}
		if m.priority >= weakMagic || len(cands) == 0 || contains(cands, t) {
			return d.result(t, confidence(0.9, t, cands), "magic")
		}
		// A weak magic (e.g. text/xml) and a text type named by extension: trust the name.
		for _, c := range cands {
			if c.Text && s.isText() {
				return d.result(c, 0.8, "extension")
			}
		}
		return d.result(t, 0.7, "magic")
	}
	if s.isText() {
		if t := d.shebang(s.hdr); t != nil {
			return d.result(t, confidence(0.9, t, cands), "shebang")
		}
	}
	for _, c := range cands {
		switch {
		case c.Text && s.isText():
			return d.result(c, 0.8, byOf(c, base))
		case !c.Text && len(c.magics) == 0 && c.Zip == nil:
			return d.result(c, 0.6, byOf(c, base))
		}
	}
	if !s.isText() {
		for _, c := range cands {
			if !c.Text { // its magic did not match: a damaged or unusual file
				return d.result(c, 0.4, byOf(c, base))
			}
		}
	}
	return d.sniff(s)
}

// weakMagic is the magic priority under which a text type named by the
// extension wins over the magic.
const weakMagic = 30

func byOf(t *fileType, base string) string {
	for _, n := range t.Filenames {
		if n == base {
			return "filename"
		}
	}
	return "extension"
}

func contains(l []*fileType, t *fileType) bool {
	for _, c := range l {
		if c == t {
			return true
		}
	}
	return false
}

// confidence is base, or 1 when the name agrees.
func confidence(base float64, t *fileType, cands []*fileType) float64 {
	if contains(cands, t) {
		return 1
	}
	return base
}

func (d *Detector) result(t *fileType, conf float64, by string) Result {
	return Result{Mime: t.ID, Kind: t.Category, Name: t.Name, Confidence: conf, By: by}
}

// candidates are the types named by base's exact name, then by its
// extensions (longest first: "tar.gz" before "gz").
func (d *Detector) candidates(base string) []*fileType {
	var out []*fileType
	out = append(out, d.byName[base]...)
	lower := strings.ToLower(base)
	for i := 0; i < len(lower); i++ {
		if lower[i] != '.' || i == 0 && len(out) > 0 {
			continue
		}
		if l := d.byExt[lower[i+1:]]; len(l) > 0 {
			out = append(out, l...)
			break
		}
	}
	return out
}

// nameBonus is added to the priority of the magics of the types the name
// names: it breaks near-ties (an OLE2 file named .xls is an Excel workbook).
const nameBonus = 10

// bestMagic is the matching magic of highest priority (with the name's
// bonus), then specificity, then type priority.
func (d *Detector) bestMagic(s *source, cands []*fileType) *magic {
	var best *magic
	bestP := 0
	try := func(ms []*magic) {
		for _, m := range ms {
			p := m.priority
			if len(cands) > 0 && contains(cands, m.t) {
				p += nameBonus
			}
			if best != nil && !better(m, p, best, bestP) {
				continue
			}
			if m.t.Text && !s.isText() {
				continue
			}
			if m.match(s) {
				best, bestP = m, p
			}
		}
	}
	if len(s.hdr) > 0 {
		try(d.first[s.hdr[0]])
	}
	try(d.general)
	return best
}

func better(a *magic, ap int, b *magic, bp int) bool {
	if ap != bp {
		return ap > bp
	}
	if a.weight != b.weight {
		return a.weight > b.weight
	}
	return a.t.Priority > b.t.Priority
}

func (m *magic) match(s *source) bool {
	plen := len(m.lit)
	if m.lit == nil {
		plen = len(m.lo)
	}
	w := s.window(m.offset, plen+m.search)
	if len(w) < plen {
		return false
	}
	found := false
	switch {
	case m.lit != nil && !m.fold && m.search == 0:
		found = bytes.Equal(w[:plen], m.lit)
	case m.lit != nil && !m.fold:
		found = bytes.Contains(w, m.lit)
	default:
		for i := 0; i+plen <= len(w) && !found; i++ {
			found = m.at(w[i : i+plen])
		}
	}
	if !found {
		return false
	}
	for _, a := range m.and {
		if !a.match(s) {
			return false
		}
	}
	return true
}

// at compares a window of exactly the pattern's length.
func (m *magic) at(w []byte) bool {
	if m.lit != nil {
		for i, c := range m.lit {
			b := w[i]
			if m.fold && 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if b != c {
				return false
			}
		}
		return true
	}
	for i, b := range w {
		if b < m.lo[i] || b > m.hi[i] {
			return false
		}
	}
	return true
}
