package probe_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/cairnfs/cairn/extensions/media/probe"
	"github.com/cairnfs/cairn/internal/testtool"
)

// needExiftool skips the test (fails it under CI=true) unless exiftool is installed.
func needExiftool(t testing.TB) { t.Helper(); testtool.Need(t, "exiftool", "libimage-exiftool-perl") }

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// testImage is a w×h picture with a gradient, so encoders have pixels to code.
func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

// writeImage encodes img in a format Go can write and returns the path.
func writeImage(t testing.TB, dir, name string, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch filepath.Ext(name) {
	case ".jpg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	case ".png":
		err = png.Encode(&buf, img)
	case ".tif":
		err = tiff.Encode(&buf, img, nil)
	case ".gif":
		err = gif.Encode(&buf, img, nil)
	case ".bmp":
		err = bmp.Encode(&buf, img)
	default:
		t.Fatalf("no encoder for %s", name)
	}
	if err != nil {
		t.Fatalf("encoding %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func probeFile(t testing.TB, p string) (*probe.Info, error) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return probe.Probe(filepath.Base(p), "", f, st.Size())
}

// exifCase is the EXIF exiftool writes into one photo.
type exifCase struct {
	orientation int
	offset      string // OffsetTimeOriginal, "" for none
	subsec      string
	gpsTime     bool // also write GPSDateStamp/GPSTimeStamp (the offset then comes from it)
	lat, lon    float64
	alt         float64
}

var exifCases = []exifCase{
	{1, "+02:00", "", false, 48.858370, 2.294481, 35},
	{2, "-05:30", "250", false, -33.856812, -151.215312, -12.5},
	{3, "+00:00", "", false, 0.5, -0.25, 0},
	{4, "", "", false, -89.999999, 179.999999, 8848.86},
	{5, "+09:45", "07", false, 35.689487, 139.691711, 40},
	{6, "-11:00", "", false, -13.833333, -171.75, 2},
	{7, "+14:00", "", false, 1.870, -157.36, 3},
	{8, "", "", true, 40.748817, -73.985428, 10},
}

func (c exifCase) args(i int, file string) []string {
	a := []string{
		"-DateTimeOriginal=2023:04:05 10:11:12",
		fmt.Sprintf("-Orientation#=%d", c.orientation),
		fmt.Sprintf("-Make=Make %d", i), fmt.Sprintf("-Model=Model %d", i), fmt.Sprintf("-LensModel=Lens %d 24-105mm", i),
		fmt.Sprintf("-GPSLatitude#=%g", math.Abs(c.lat)), "-GPSLatitudeRef#=" + map[bool]string{true: "S", false: "N"}[c.lat < 0],
		fmt.Sprintf("-GPSLongitude#=%g", math.Abs(c.lon)), "-GPSLongitudeRef#=" + map[bool]string{true: "W", false: "E"}[c.lon < 0],
		fmt.Sprintf("-GPSAltitude#=%g", math.Abs(c.alt)), fmt.Sprintf("-GPSAltitudeRef#=%d", map[bool]int{true: 1}[c.alt < 0]),
	}
	if c.offset != "" {
		a = append(a, "-OffsetTimeOriginal="+c.offset)
	}
	if c.subsec != "" {
		a = append(a, "-SubSecTimeOriginal="+c.subsec)
	}
	if c.gpsTime {
		a = append(a, "-GPSDateStamp=2023:04:05", "-GPSTimeStamp=14:11:09") // local 10:11:12 is UTC−4
	}
	return append(a, file, "-execute")
}

// TestExiftool writes EXIF with exiftool into JPEG, PNG, TIFF, WebP and AVIF
// files (eight orientations, offsets, hemispheres, altitudes) and checks that
// Probe reads what exiftool reads back.
func TestExiftool(t *testing.T) {
	needExiftool(t)
	dir := t.TempDir()
	img := testImage(64, 48)
	var files []string
	for _, ext := range []string{".jpg", ".png", ".tif", ".webp", ".avif"} {
		for i := range exifCases {
			name := fmt.Sprintf("photo%d%s", i+1, ext)
			switch ext {
			case ".webp":
				if _, ok := testtool.Optional(t, "cwebp", "webp"); !ok {
					continue // no WebP photos
				}
				src := writeImage(t, dir, fmt.Sprintf("src%d.png", i), img)
				run(t, "cwebp", "-quiet", src, "-o", filepath.Join(dir, name))
			case ".avif":
				if !optionalEncoder(t, "libaom-av1") {
					continue // no AVIF photos
				}
				src := writeImage(t, dir, fmt.Sprintf("src%d.png", i), img)
				run(t, "ffmpeg", "-v", "error", "-i", src, "-c:v", "libaom-av1", "-still-picture", "1", "-frames:v", "1", filepath.Join(dir, name))
			default:
				writeImage(t, dir, name, img)
			}
			files = append(files, name)
		}
	}
	var args []string
	for _, name := range files {
		var i int
		fmt.Sscanf(name, "photo%d", &i)
		args = append(args, exifCases[i-1].args(i, name)...)
	}
	argFile := filepath.Join(dir, "args")
	if err := os.WriteFile(argFile, []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("exiftool", "-overwrite_original", "-q", "-@", argFile)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("exiftool writing: %v\n%s", err, out)
	}
	cmd = exec.Command("exiftool", append([]string{"-j", "-n", "-G1"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("exiftool reading: %v", err)
	}
	var tags []map[string]any
	if err := json.Unmarshal(out, &tags); err != nil {
		t.Fatalf("exiftool JSON: %v", err)
	}
	compared := 0
	for _, m := range tags {
		name := m["SourceFile"].(string)
		t.Run(name, func(t *testing.T) {
			info, err := probeFile(t, filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(info)
			t.Logf("probe: %s", j)
			compareExif(t, info, m)
			compared++
		})
	}
	t.Logf("compared %d photos with exiftool (%d formats × %d cases)", compared, len(files)/len(exifCases), len(exifCases))
}

func hasEncoder(enc string) bool {
	out, err := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output()
	return err == nil && bytes.Contains(out, []byte(" "+enc+" "))
}

// optionalEncoder reports whether ffmpeg is installed with encoder enc. Outside CI a missing
// ffmpeg or encoder is logged and the caller goes without; under CI=true (Debian's ffmpeg has
// every encoder these tests use) it fails the test.
func optionalEncoder(t testing.TB, enc string) bool {
	t.Helper()
	if _, ok := testtool.Optional(t, "ffmpeg", "ffmpeg"); !ok {
		return false
	}
	if hasEncoder(enc) {
		return true
	}
	if testtool.InCI() {
		t.Fatalf("ffmpeg lacks the %s encoder (CI=true: Debian's ffmpeg package has it)", enc)
	}
	t.Logf("ffmpeg lacks the %s encoder; going without it", enc)
	return false
}

// compareExif checks Probe's fields against exiftool's -j -n -G1 tags.
func compareExif(t *testing.T, info *probe.Info, m map[string]any) {
	t.Helper()
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) (float64, bool) { f, ok := m[k].(float64); return f, ok }
	var w, h int
	fmt.Sscanf(str("Composite:ImageSize"), "%d %d", &w, &h)
	if info.Width != w || info.Height != h {
		t.Errorf("dimensions %d×%d, exiftool %d×%d", info.Width, info.Height, w, h)
	}
	if o, _ := num("IFD0:Orientation"); info.Orientation != int(o) {
		t.Errorf("orientation %d, exiftool %v", info.Orientation, o)
	}
	for field, want := range map[string]string{info.CameraMake: str("IFD0:Make"), info.CameraModel: str("IFD0:Model"), info.Lens: str("ExifIFD:LensModel")} {
		if field != want {
			t.Errorf("camera/lens %q, exiftool %q", field, want)
		}
	}
	lat, _ := num("Composite:GPSLatitude")
	lon, _ := num("Composite:GPSLongitude")
	alt, _ := num("Composite:GPSAltitude")
	if info.GPS == nil || math.Abs(info.GPS.Lat-lat) > 1e-6 || math.Abs(info.GPS.Lon-lon) > 1e-6 || info.GPS.Alt == nil || math.Abs(*info.GPS.Alt-alt) > 1e-6 {
		t.Errorf("gps %+v, exiftool %v %v %v", info.GPS, lat, lon, alt)
	}
	// The date: exiftool's SubSecDateTimeOriginal carries the sub-seconds
	// and offset when there are any; without an offset, the GPS time gives it.
	want := str("Composite:SubSecDateTimeOriginal")
	if want == "" {
		want = str("ExifIFD:DateTimeOriginal")
	}
	local, err := time.Parse("2006:01:02 15:04:05", want[:19])
	if err != nil {
		t.Fatalf("exiftool date %q: %v", want, err)
	}
	want = strings.Replace(strings.Replace(want, ":", "-", 2), " ", "T", 1)
	if g := str("Composite:GPSDateTime"); g != "" && str("ExifIFD:OffsetTimeOriginal") == "" {
		utc, err := time.Parse("2006:01:02 15:04:05Z", g)
		if err != nil {
			t.Fatalf("exiftool GPS time %q: %v", g, err)
		}
		d := local.Sub(utc).Round(15 * time.Minute)
		want += fmt.Sprintf("%+03d:%02d", int(d.Hours()), int(d.Abs().Minutes())%60)
	}
	if info.TakenAt != want { // same instant and offset, same sub-seconds
		t.Errorf("taken_at %q, exiftool %q", info.TakenAt, want)
	}
}

// TestExiftoolDimensions compares the dimensions of the formats exiftool
// cannot write EXIF into (GIF, BMP).
func TestExiftoolDimensions(t *testing.T) {
	needExiftool(t)
	dir := t.TempDir()
	files := []string{
		writeImage(t, dir, "a.gif", testImage(33, 17)),
		writeImage(t, dir, "b.bmp", testImage(70, 9)),
		writeImage(t, dir, "c.png", testImage(1, 300)),
	}
	out := run(t, "exiftool", append([]string{"-j", "-n", "-ImageSize"}, files...)...)
	var tags []map[string]any
	if err := json.Unmarshal(out, &tags); err != nil {
		t.Fatal(err)
	}
	for _, m := range tags {
		info, err := probeFile(t, m["SourceFile"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%d %d", info.Width, info.Height); got != m["ImageSize"] {
			t.Errorf("%s: %s, exiftool %v", m["SourceFile"], got, m["ImageSize"])
		}
	}
}
