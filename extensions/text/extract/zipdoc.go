package extract

import (
	"archive/zip"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ZIP bounds: a document with more members, or whose members inflate to
// more, is refused (zip bombs).
const (
	maxZipEntries  = 20000
	maxMemberBytes = 128 << 20 // inflated bytes of one member
	maxZipInflated = 256 << 20 // inflated bytes read from all members
	maxSmallMember = 16 << 20  // metadata and shared-string members, held in memory
)

// zipDoc is an opened ZIP-based document.
type zipDoc struct {
	zr       *zip.Reader
	files    map[string]*zip.File
	inflated int64
}

func openZip(r io.ReaderAt, size int64) (*zipDoc, error) {
	n, err := zipEntryCount(r, size)
	if err != nil {
		return nil, err
	}
	if n > maxZipEntries {
		return nil, fmt.Errorf("zip has %d entries, over the limit of %d: %w", n, maxZipEntries, ErrTooLarge)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	d := &zipDoc{zr: zr, files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		d.files[f.Name] = f
	}
	return d, nil
}

// zipEntryCount reads the entry count of the end-of-central-directory
// record (ZIP64 too), before archive/zip allocates a record per entry.
func zipEntryCount(r io.ReaderAt, size int64) (uint64, error) {
	tail := min(size, 65535+22)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read zip directory: %w", err)
	}
	i := strings.LastIndex(string(buf), "PK\x05\x06")
	if i < 0 || i+22 > len(buf) {
		return 0, errors.New("open zip: no end of central directory: not a zip file, or cut short")
	}
	n := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xFFFF || i < 20 || string(buf[i-20:i-16]) != "PK\x06\x07" {
		return n, nil
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	var rec [56]byte
	if off < 0 || off > size-56 {
		return 0, errors.New("open zip: bad zip64 directory offset")
	}
	if _, err := r.ReadAt(rec[:], off); err != nil || string(rec[:4]) != "PK\x06\x06" {
		return 0, errors.New("open zip: bad zip64 end of central directory")
	}
	return binary.LittleEndian.Uint64(rec[32:]), nil
}

// open opens a member for reading, at most limit inflated bytes.
func (d *zipDoc) open(name string, limit int64) (io.ReadCloser, error) {
	f, ok := d.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, errMissing)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &capReader{rc: rc, name: name, left: limit, limit: limit, doc: d}, nil
}

var errMissing = errors.New("member missing")

// read returns a whole (small) member.
func (d *zipDoc) read(name string) ([]byte, error) {
	rc, err := d.open(name, maxSmallMember)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// capReader fails a member that inflates past its limit or past the
// document's total.
type capReader struct {
	rc    io.ReadCloser
	name  string
	left  int64
	limit int64
	doc   *zipDoc
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	c.doc.inflated += int64(n)
	if c.left < 0 {
		return n, fmt.Errorf("%s inflates past %s: %w (zip bomb?)", c.name, FormatSize(c.limit), ErrTooLarge)
	}
	if c.doc.inflated > maxZipInflated {
		return n, fmt.Errorf("members inflate past %s in all: %w (zip bomb?)", FormatSize(maxZipInflated), ErrTooLarge)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("inflate %s: %w", c.name, err)
	}
	return n, err
}

func (c *capReader) Close() error { return c.rc.Close() }

// numbered returns the members matching re (whose first group is a
// number) in numeric order.
func (d *zipDoc) numbered(re *regexp.Regexp) []string {
	type member struct {
		name string
		n    int
	}
	var ms []member
	for _, f := range d.zr.File {
		if m := re.FindStringSubmatch(f.Name); m != nil {
			n, _ := strconv.Atoi(m[1])
			ms = append(ms, member{f.Name, n})
		}
	}
	slices.SortFunc(ms, func(a, b member) int { return a.n - b.n })
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}

// xmlWalk streams the XML member name through fn, token by token (raw:
// names keep their prefixes, Local is the name without it).
func (d *zipDoc) xmlWalk(name string, fn func(tok xml.Token) error) error {
	rc, err := d.open(name, maxMemberBytes)
	if err != nil {
		return err
	}
	defer rc.Close()
	return walkXML(rc, name, fn)
}

func walkXML(r io.Reader, name string, fn func(tok xml.Token) error) error {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

// coreTitle reads a dc:title from an XML member (docProps/core.xml,
// meta.xml); "" when there is none.
func (d *zipDoc) coreTitle(name string) string {
	var title strings.Builder
	in := false
	err := d.xmlWalk(name, func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "title"
		case xml.EndElement:
			if in {
				return io.EOF
			}
		case xml.CharData:
			if in && title.Len() < 4096 {
				title.Write(t)
			}
		}
		return nil
	})
	_ = err // a title is optional
	return title.String()
}

// ---- DOCX ----

func extractDOCX(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	d, err := openZip(r, size)
	if err != nil {
		return err
	}
	res.Title = d.coreTitle("docProps/core.xml")
	main := "word/document.xml"
	if _, ok := d.files[main]; !ok {
		return errors.New("no word/document.xml: not a Word document")
	}
	inText, cells := false, 0
	return d.xmlWalk(main, func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				w.Tab()
			case "br", "cr":
				w.Line()
			case "tc":
				cells++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				if cells > 0 {
					w.Space()
				} else {
					w.Para()
				}
			case "tc":
				cells = max(0, cells-1)
				w.Tab()
			case "tr":
				w.Line()
			}
		case xml.CharData:
			if inText {
				return w.Text(string(t))
			}
		}
		return nil
	})
}

// ---- PPTX ----

var pptxSlide = regexp.MustCompile(`^ppt/slides/slide(\d+)\.xml$`)

func extractPPTX(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	d, err := openZip(r, size)
	if err != nil {
		return err
	}
	res.Title = d.coreTitle("docProps/core.xml")
	slides := d.numbered(pptxSlide)
	if len(slides) == 0 {
		return errors.New("no slides (ppt/slides/slideN.xml)")
	}
	for _, s := range slides {
		w.Para()
		inText := false
		err := d.xmlWalk(s, func(tok xml.Token) error {
			switch t := tok.(type) {
			case xml.StartElement:
				switch t.Name.Local {
				case "t":
					inText = true
				case "br":
					w.Line()
				}
			case xml.EndElement:
				switch t.Name.Local {
				case "t":
					inText = false
				case "p":
					w.Line()
				case "tc":
					w.Tab()
				}
			case xml.CharData:
				if inText {
					return w.Text(string(t))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- XLSX ----

var xlsxSheet = regexp.MustCompile(`^xl/worksheets/sheet(\d+)\.xml$`)

func extractXLSX(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	d, err := openZip(r, size)
	if err != nil {
		return err
	}
	res.Title = d.coreTitle("docProps/core.xml")
	shared, err := d.sharedStrings()
	if err != nil {
		return err
	}
	for _, s := range d.numbered(xlsxSheet) {
		w.Para()
		var cellType string
		var val strings.Builder
		inV, inIs, inT := false, false, false
		err := d.xmlWalk(s, func(tok xml.Token) error {
			switch t := tok.(type) {
			case xml.StartElement:
				switch t.Name.Local {
				case "c":
					cellType = ""
					for _, a := range t.Attr {
						if a.Name.Local == "t" {
							cellType = a.Value
						}
					}
					val.Reset()
				case "v":
					inV = true
				case "is":
					inIs = true
				case "t":
					inT = inIs
				}
			case xml.EndElement:
				switch t.Name.Local {
				case "v":
					inV = false
				case "is":
					inIs = false
				case "t":
					inT = false
				case "c":
					v := val.String()
					if cellType == "s" {
						i, err := strconv.Atoi(strings.TrimSpace(v))
						if err != nil || i < 0 || i >= len(shared) {
							v = ""
						} else {
							v = shared[i]
						}
					}
					if v != "" {
						w.Tab()
						return w.Text(v)
					}
				case "row":
					w.Line()
				}
			case xml.CharData:
				if (inV || inT) && val.Len() < 1<<20 {
					val.Write(t)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *zipDoc) sharedStrings() ([]string, error) {
	const name = "xl/sharedStrings.xml"
	if _, ok := d.files[name]; !ok {
		return nil, nil
	}
	rc, err := d.open(name, maxSmallMember)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []string
	var cur strings.Builder
	inT, inPh := false, false
	err = walkXML(rc, name, func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				inPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				out = append(out, cur.String())
			case "t":
				inT = false
			case "rPh":
				inPh = false
			}
		case xml.CharData:
			if inT && !inPh {
				cur.Write(t)
			}
		}
		return nil
	})
	return out, err
}

// ---- ODT, ODS, ODP ----

func extractODF(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	d, err := openZip(r, size)
	if err != nil {
		return err
	}
	res.Title = d.coreTitle("meta.xml")
	textDepth, cellDepth := 0, 0
	return d.xmlWalk("content.xml", func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p", "h":
				textDepth++
			case "table-cell":
				cellDepth++
			case "s":
				w.Space()
			case "tab":
				w.Tab()
			case "line-break":
				w.Line()
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "p", "h":
				textDepth = max(0, textDepth-1)
				if cellDepth > 0 {
					w.Space()
				} else {
					w.Para()
				}
			case "table-cell":
				cellDepth = max(0, cellDepth-1)
				w.Tab()
			case "table-row":
				w.Line()
			case "page", "table", "list":
				w.Para()
			}
		case xml.CharData:
			if textDepth > 0 {
				return w.Flow(string(t))
			}
		}
		return nil
	})
}

// ---- EPUB ----

type epubPackage struct {
	Titles   []string `xml:"metadata>title"`
	Manifest []struct {
		ID        string `xml:"id,attr"`
		Href      string `xml:"href,attr"`
		MediaType string `xml:"media-type,attr"`
	} `xml:"manifest>item"`
	Spine []struct {
		IDRef  string `xml:"idref,attr"`
		Linear string `xml:"linear,attr"`
	} `xml:"spine>itemref"`
}

func extractEPUB(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	d, err := openZip(r, size)
	if err != nil {
		return err
	}
	container, err := d.read("META-INF/container.xml")
	if err != nil {
		return err
	}
	var c struct {
		Rootfiles []struct {
			FullPath string `xml:"full-path,attr"`
		} `xml:"rootfiles>rootfile"`
	}
	if err := xml.Unmarshal(container, &c); err != nil {
		return fmt.Errorf("parse META-INF/container.xml: %w", err)
	}
	if len(c.Rootfiles) == 0 {
		return errors.New("META-INF/container.xml names no rootfile")
	}
	opfName := c.Rootfiles[0].FullPath
	opf, err := d.read(opfName)
	if err != nil {
		return err
	}
	var pkg epubPackage
	if err := xml.Unmarshal(opf, &pkg); err != nil {
		return fmt.Errorf("parse %s: %w", opfName, err)
	}
	if len(pkg.Titles) > 0 {
		res.Title = pkg.Titles[0]
	}
	hrefs := map[string]string{}
	for _, it := range pkg.Manifest {
		hrefs[it.ID] = it.Href
	}
	dir := path.Dir(opfName)
	for _, ref := range pkg.Spine {
		href, ok := hrefs[ref.IDRef]
		if !ok {
			continue
		}
		if i := strings.IndexAny(href, "#?"); i >= 0 {
			href = href[:i]
		}
		if u, err := urlUnescape(href); err == nil {
			href = u
		}
		name := path.Clean(path.Join(dir, href))
		rc, err := d.open(name, maxMemberBytes)
		if errors.Is(err, errMissing) {
			continue // a dangling spine entry: skip it
		}
		if err != nil {
			return err
		}
		w.Para()
		var ignored string
		err = htmlText(rc, w, &ignored)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// urlUnescape decodes %XX escapes.
func urlUnescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// sniffZip tells the ZIP-based formats apart by their members.
func sniffZip(r io.ReaderAt, size int64) string {
	d, err := openZip(r, size)
	if err != nil {
		return ""
	}
	if f, ok := d.files["mimetype"]; ok && f.UncompressedSize64 < 200 {
		if b, err := d.read("mimetype"); err == nil {
			if fm, ok := mimeFormats[strings.TrimSpace(string(b))]; ok {
				return fm
			}
		}
	}
	switch {
	case d.files["word/document.xml"] != nil:
		return "docx"
	case d.files["ppt/presentation.xml"] != nil:
		return "pptx"
	case d.files["xl/workbook.xml"] != nil:
		return "xlsx"
	case d.files["META-INF/container.xml"] != nil:
		return "epub"
	}
	return ""
}
