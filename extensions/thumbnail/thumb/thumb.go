package thumb

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/cairnfs/cairn/extensions/internal/svgsize"
)

// Defaults.
const (
	DefaultMaxPixels = 100_000_000 // 100 megapixels
	DefaultMaxInput  = 512 << 20   // bytes
	DefaultQuality   = 80          // JPEG quality
)

// DefaultVariants are the variants made when none are asked for.
var DefaultVariants = []int{256, 1024}

// MaxVariant is the largest variant accepted (longest edge in pixels).
const MaxVariant = 8192

// Limits bound the work of one image. Zero fields take the defaults.
type Limits struct {
	// MaxPixels is the most pixels (width × height, as the header declares
	// them) an image may have; checked before decoding.
	MaxPixels int64
	// MaxInput is the largest file accepted, in bytes.
	MaxInput int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxInput <= 0 {
		l.MaxInput = DefaultMaxInput
	}
	return l
}

// Options are everything Generate takes besides the image.
type Options struct {
	Variants []int // longest edges in pixels; nil means DefaultVariants
	Limits   Limits
	Quality  int // JPEG quality 1–100; 0 means DefaultQuality
	// Rendered says the image is not a file of the library but a rendering (a video frame, a
	// PDF page): it cannot be its own thumbnail, so every variant is encoded.
	Rendered bool
}

// Thumb is one thumbnail.
type Thumb struct {
	Variant       int // the longest edge asked for
	Width, Height int // the thumbnail's size, upright (orientation applied); 0 for an SVG without a size
	Format        string
	Data          []byte // the encoded thumbnail; nil when Original
	// Original: the image is its own thumbnail for this variant (Format is the image's own),
	// because it is no larger than the variant, or a thumbnail would take more bytes than it.
	// Never set for an image a viewer cannot be relied on to show upright as it is (TIFF, an
	// EXIF orientation other than 1), which always gets a made thumbnail.
	Original bool
}

// Formats of Thumb.Format. An Original has the image's own format: one of these, or gif, webp,
// bmp or svg.
const (
	FormatJPEG = "jpg"
	FormatPNG  = "png"
)

// MaxOriginalSVG is the largest SVG that stands as its own thumbnail. SVG is not rendered (no
// pure-Go renderer); a browser shows the SVG itself, but a larger one is too heavy to load as a
// thumbnail, so it is unsupported.
const MaxOriginalSVG = 128 << 10

// ownFormats are the formats a viewer (a browser, an image widget) shows as they are: the ones
// an image may be its own thumbnail in, by the name Thumb.Format uses.
var ownFormats = map[string]string{"jpeg": FormatJPEG, "png": FormatPNG, "gif": "gif", "webp": "webp", "bmp": "bmp"}

// ErrUnsupported is matched (errors.Is) by the error of an image whose
// format Make cannot decode, such as HEIC or AVIF.
var ErrUnsupported = errors.New("image format not supported for thumbnails")

// ErrTooLarge is matched by the error of an image over a limit.
var ErrTooLarge = errors.New("image over the thumbnail limits")

// limitError is a limit's error: its message says which limit and by how much.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrTooLarge }

// Make makes the thumbnails of the image in r (size bytes; mime is a hint,
// the format is sniffed from the bytes) for each variant, with the default
// JPEG quality. See Generate.
func Make(r io.ReaderAt, size int64, mime string, variants []int, lim Limits) ([]Thumb, error) {
	return Generate(r, size, mime, Options{Variants: variants, Limits: lim})
}

// Generate makes the thumbnails of the image in r, one per variant, largest
// first (duplicates are made once). Errors say what failed;
// an undecodable format matches ErrUnsupported, a limit ErrTooLarge. A panic
// while decoding or resizing is recovered into the error.
func Generate(r io.ReaderAt, size int64, mime string, opts Options) (thumbs []Thumb, err error) {
	defer func() {
		if p := recover(); p != nil {
			thumbs, err = nil, fmt.Errorf("making thumbnails: the image crashed the decoder (corrupt file?): %v", p)
		}
	}()
	lim := opts.Limits.withDefaults()
	variants, err := normalizeVariants(opts.Variants)
	if err != nil {
		return nil, err
	}
	quality := opts.Quality
	if quality == 0 {
		quality = DefaultQuality
	}
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("making thumbnails: JPEG quality %d is not between 1 and 100", quality)
	}
	if size > lim.MaxInput {
		return nil, &limitError{fmt.Sprintf("image file is %s, over the %s thumbnail input limit", byteSize(size), byteSize(lim.MaxInput))}
	}
	head := make([]byte, 64)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the image header: %w", err)
	}
	format := sniff(head[:n])
	if format == "" && (mime == "image/svg+xml" || svgsize.Looks(head[:n])) {
		return svgThumbs(r, size, variants)
	}
	if format == "" {
		return nil, unsupported(head[:n], mime)
	}
	src, orientation, err := decode(io.NewSectionReader(r, 0, size), r, size, format, lim)
	if err != nil {
		return nil, err
	}
	own := ""
	if orientation <= 1 && !opts.Rendered {
		own = ownFormats[format]
	}
	return render(src, orientation, variants, quality, own, size)
}

// svgThumbs makes an SVG its own thumbnail, for every variant, when it is an SVG of at most
// MaxOriginalSVG bytes; otherwise it is unsupported.
func svgThumbs(r io.ReaderAt, size int64, variants []int) ([]Thumb, error) {
	sz, err := svgsize.Read(io.NewSectionReader(r, 0, size))
	if errors.Is(err, svgsize.ErrNotSVG) {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if err != nil {
		return nil, fmt.Errorf("making thumbnails: %w", err)
	}
	if size > MaxOriginalSVG {
		return nil, fmt.Errorf("%w: SVG rendering (no pure-Go renderer), and at %s the SVG is over the %s an SVG may take to stand as its own thumbnail",
			ErrUnsupported, byteSize(size), byteSize(MaxOriginalSVG))
	}
	thumbs := make([]Thumb, len(variants))
	for i, v := range variants {
		thumbs[i] = Thumb{Variant: v, Width: sz.Width, Height: sz.Height, Format: "svg", Original: true}
	}
	return thumbs, nil
}

// decode checks the declared size against the limits and decodes the image.
func decode(sr *io.SectionReader, r io.ReaderAt, size int64, format string, lim Limits) (image.Image, int, error) {
	c, err := decoders[format].config(sr)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the %s header: %w", strings.ToUpper(format), clarify(err))
	}
	if c.Width <= 0 || c.Height <= 0 {
		return nil, 0, fmt.Errorf("reading the %s header: the image is %d×%d pixels", strings.ToUpper(format), c.Width, c.Height)
	}
	if px := int64(c.Width) * int64(c.Height); px > lim.MaxPixels {
		return nil, 0, &limitError{fmt.Sprintf("image is %d×%d (%.1f MP), over the %s MP thumbnail limit",
			c.Width, c.Height, float64(px)/1e6, strconv.FormatFloat(float64(lim.MaxPixels)/1e6, 'f', -1, 64))}
	}
	orientation := Orientation(r, size, format)
	if _, err := sr.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("decoding the %s image: %w", strings.ToUpper(format), err)
	}
	img, err := decoders[format].decode(sr)
	if err != nil {
		return nil, 0, fmt.Errorf("decoding the %s image: %w", strings.ToUpper(format), clarify(err))
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels || b.Empty() {
		return nil, 0, fmt.Errorf("decoding the %s image: it decoded to %d×%d pixels, not the %d×%d its header declares",
			strings.ToUpper(format), b.Dx(), b.Dy(), c.Width, c.Height)
	}
	return img, orientation, nil
}

// clarify names a truncated file as such.
func clarify(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the file is truncated: %w", err)
	}
	if strings.HasSuffix(err.Error(), "short Huffman data") { // image/jpeg's word for running out of scan data
		return fmt.Errorf("the file is truncated or corrupt: %w", err)
	}
	return err
}

type decoder struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var decoders = map[string]decoder{
	"jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"png":  {png.DecodeConfig, png.Decode},
	"gif":  {gif.DecodeConfig, gif.Decode},
	"webp": {webp.DecodeConfig, webp.Decode},
	"tiff": {tiff.DecodeConfig, tiff.Decode},
	"bmp":  {bmp.DecodeConfig, bmp.Decode},
}

// sniff names the format of an image from its first bytes, or "".
func sniff(h []byte) string {
	switch {
	case bytes.HasPrefix(h, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(h, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(h, []byte("GIF87a")), bytes.HasPrefix(h, []byte("GIF89a")):
		return "gif"
	case len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(h, []byte("II*\x00")), bytes.HasPrefix(h, []byte("MM\x00*")):
		return "tiff"
	case bytes.HasPrefix(h, []byte("BM")) && len(h) >= 18:
		return "bmp"
	}
	return ""
}

// heifBrands are ISO-BMFF brands of HEIC, HEIF and AVIF files.
var heifBrands = []string{"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis"}

// unsupported explains why an image that is not sniffed cannot be decoded.
func unsupported(h []byte, mime string) error {
	name := ""
	if len(h) >= 12 && string(h[4:8]) == "ftyp" && slices.Contains(heifBrands, string(h[8:12])) {
		name = strings.ToUpper(string(h[8:12]))
	}
	switch mime {
	case "image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence", "image/avif":
		name = strings.ToUpper(strings.TrimPrefix(mime, "image/"))
	}
	switch {
	case name == "AVIF" || name == "AVIS":
		return fmt.Errorf("%w: AVIF cannot be decoded in pure Go (no AV1 decoder)", ErrUnsupported)
	case name != "":
		return fmt.Errorf("%w: HEIC/HEIF (%s) cannot be decoded in pure Go (no HEVC decoder)", ErrUnsupported, name)
	case mime != "" && mime != "application/octet-stream":
		return fmt.Errorf("%w: %s is not JPEG, PNG, GIF, WebP, TIFF or BMP", ErrUnsupported, mime)
	}
	return fmt.Errorf("%w: not a JPEG, PNG, GIF, WebP, TIFF or BMP file", ErrUnsupported)
}

// normalizeVariants checks the variants and orders them largest first,
// without duplicates.
func normalizeVariants(vs []int) ([]int, error) {
	if len(vs) == 0 {
		vs = DefaultVariants
	}
	out := make([]int, 0, len(vs))
	for _, v := range vs {
		if v < 1 || v > MaxVariant {
			return nil, fmt.Errorf("making thumbnails: variant %d is not between 1 and %d pixels", v, MaxVariant)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// render makes the variants (largest first) from src and encodes them. own is the format of
// an image that may be its own thumbnail ("" when it may not): a variant the image is no larger
// than is the Original. A larger image always gets a made thumbnail (a variant promises its
// longest edge); when its JPEG would outweigh the image (size bytes: a flat PNG), it is a PNG.
func render(src image.Image, orientation int, variants []int, quality int, own string, size int64) ([]Thumb, error) {
	b := src.Bounds()
	prev := src
	format := ""
	thumbs := make([]Thumb, 0, len(variants))
	for _, v := range variants {
		if own != "" && max(b.Dx(), b.Dy()) <= v {
			thumbs = append(thumbs, Thumb{Variant: v, Width: b.Dx(), Height: b.Dy(), Format: own, Original: true})
			continue
		}
		w, h := fit(b.Dx(), b.Dy(), v)
		img := resize(prev, w, h)
		prev = img
		if format == "" { // decided once, on the largest thumbnail
			format = FormatJPEG
			if !opaque(img) {
				format = FormatPNG
			}
		}
		up := orient(img, orientation)
		var buf bytes.Buffer
		var err error
		if format == FormatJPEG {
			err = jpeg.Encode(&buf, up, &jpeg.Options{Quality: quality})
		} else {
			err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, up)
		}
		if err != nil {
			return nil, fmt.Errorf("encoding the %d px thumbnail: %w", v, err)
		}
		got := format
		if own != "" && format == FormatJPEG && int64(buf.Len()) >= size {
			// A flat image's JPEG can outweigh the whole image: a lossless PNG of the few
			// pixels is then smaller, so no thumbnail is larger than the image it stands for.
			var alt bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&alt, up); err == nil && alt.Len() < buf.Len() {
				buf, got = alt, FormatPNG
			}
		}
		ub := up.Bounds()
		thumbs = append(thumbs, Thumb{Variant: v, Width: ub.Dx(), Height: ub.Dy(), Format: got, Data: buf.Bytes()})
	}
	return thumbs, nil
}

// fit returns the size of a w×h image scaled so that its longest edge is v,
// never larger than w×h, aspect kept (each edge at least 1 pixel).
func fit(w, h, v int) (int, int) {
	long := max(w, h)
	if long <= v {
		return w, h
	}
	sw := max(1, int((int64(w)*int64(v)+int64(long)/2)/int64(long)))
	sh := max(1, int((int64(h)*int64(v)+int64(long)/2)/int64(long)))
	return sw, sh
}

// byteSize formats n bytes for messages.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
