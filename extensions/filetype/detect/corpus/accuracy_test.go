package corpus_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cairnfs/cairn/extensions/filetype/detect"
	"github.com/cairnfs/cairn/extensions/filetype/detect/corpus"
	"github.com/cairnfs/cairn/internal/testtool"
)

// fileWrong documents the samples where file(1) 5.44's --mime-type is not
// the true format: there the detector must give the label instead.
var fileWrong = map[string]string{
	"anim.apng":      "file calls an animated PNG image/png (APNG has its own type, image/apng)",
	"a.txt.lzo":      "file has no MIME for lzop data (application/octet-stream)",
	"snd.voc":        "file says audio/x-unknown for Creative Voice",
	"snd.caf":        "file has no MIME for Core Audio Format",
	"snd.tta":        "file has no MIME for True Audio",
	"snd.wv":         "file has no MIME for WavPack",
	"img.dds":        "file has no MIME for DirectDraw surfaces",
	"img.ras":        "file has no MIME for Sun raster",
	"img.sgi":        "file has no MIME for SGI images",
	"img.xbm":        "file calls X bitmaps (C source) text/plain",
	"vid.ivf":        "file has no MIME for IVF",
	"vid.nut":        "file has no MIME for NUT",
	"vid.ts":         "file does not recognise ffmpeg's MPEG-TS (application/octet-stream)",
	"vid.m4v":        "file calls an M4V-branded MP4 video/mp4",
	"hello.go":       "file calls Go source text/x-c",
	"doc.md":         "file has no Markdown type (text/plain)",
	"doc.org":        "file has no Org type (text/plain)",
	"doc.rst":        "file has no reStructuredText type (text/plain)",
	"book.fb2":       "file calls FictionBook generic XML",
	"nb.ipynb":       "file calls a Jupyter notebook generic JSON",
	"pyproject.toml": "file has no TOML type (text/plain)",
	"font.t1":        "file has no MIME for Type 1 fonts (application/octet-stream)",
}

// corpusTools are file(1) and the corpus tools .ci/run installs: with all of them the corpus has
// over 100 formats. Without them the test skips naming the missing packages (fails under
// CI=true). Recipes whose tools are in otherTools are made when those happen to be installed.
var corpusTools = []testtool.Tool{
	{Name: "file", Package: "file"},
	{Name: "ffmpeg", Package: "ffmpeg"},
	{Name: "convert", Package: "imagemagick"},
	{Name: "cwebp", Package: "webp"},
	{Name: "gs", Package: "ghostscript"},
	{Name: "ps2pdf", Package: "ghostscript"},
	{Name: "ps2ps", Package: "ghostscript"},
	{Name: "pandoc", Package: "pandoc"},
	{Name: "zip", Package: "zip"},
	{Name: "7z", Package: "p7zip-full"},
	{Name: "xz", Package: "xz-utils"},
	{Name: "zstd", Package: "zstd"},
	{Name: "lz4", Package: "lz4"},
	{Name: "sqlite3", Package: "sqlite3"},
	{Name: "cpio", Package: "cpio"},
	{Name: "genisoimage", Package: "genisoimage"},
	{Name: "lzip", Package: "lzip"},
	{Name: "lzop", Package: "lzop"},
}

// otherTools are the recipes' other tools: part of every Debian system or of Go, or optional
// extras the ≥ 80 formats do not depend on.
var otherTools = []string{"tar", "gzip", "diff", "iconv", "dpkg-deb", "go", "gofmt",
	"bzip2", "ar", "gcc", "jar", "javac", "tex", "msgfmt", "xgettext", "python3"}

// TestRecipeToolsListed keeps corpusTools and otherTools in step with the recipes: a recipe
// with a tool in neither would be left out silently, even in CI.
func TestRecipeToolsListed(t *testing.T) {
	known := map[string]bool{}
	for _, tl := range corpusTools {
		known[tl.Name] = true
	}
	for _, name := range otherTools {
		known[name] = true
	}
	for _, r := range corpus.Recipes {
		for _, n := range r.Needs {
			if !known[n] {
				t.Errorf("recipe %s needs %s, which neither corpusTools nor otherTools lists", r.Name, n)
			}
		}
	}
}

// TestAccuracyAgainstFile is the acceptance point 1: on a corpus of
// real files made by real tools (≥ 80 formats, misnamed and extensionless
// files included) the detector's MIME must match file --mime-type, or the
// true format where file is wrong, on ≥ 95% of the files.
func TestAccuracyAgainstFile(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a corpus with external tools")
	}
	fileBin := testtool.NeedAll(t, corpusTools...)["file"]
	dir := t.TempDir()
	start := time.Now()
	samples, skipped, err := corpus.Generate(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: %d files in %v; %d recipes left out", len(samples), time.Since(start).Round(time.Millisecond), len(skipped))
	for _, s := range skipped {
		t.Logf("  left out %s: %.120s", s.Name, s.Reason)
	}
	formats := map[string]bool{} // distinct true formats (labels)
	for _, s := range samples {
		formats[s.Label] = true
	}
	if len(formats) < 80 {
		t.Errorf("only %d formats generated, want ≥ 80 (install the tools the skipped recipes name)", len(formats))
	}

	// file over the whole corpus, one invocation, timed.
	args := []string{"-b", "--mime-type"}
	for _, s := range samples {
		args = append(args, s.Path)
	}
	fstart := time.Now()
	out, err := exec.Command(fileBin, args...).Output()
	fileDur := time.Since(fstart)
	if err != nil {
		t.Fatalf("file: %v", err)
	}
	answers := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(answers) != len(samples) {
		t.Fatalf("file gave %d answers for %d files", len(answers), len(samples))
	}

	d, err := detect.New()
	if err != nil {
		t.Fatal(err)
	}
	ours := make([]detect.Result, len(samples))
	dstart := time.Now()
	for i, s := range samples {
		ours[i] = detectPath(t, d, s.Path)
	}
	detDur := time.Since(dstart)

	var tab bytes.Buffer
	w := tabwriter.NewWriter(&tab, 0, 0, 1, ' ', 0)
	fmt.Fprintln(w, "file\tformat\tlabel\tfile(1)\tours\tmatch")
	ok := 0
	for i, s := range samples {
		fileSays := strings.TrimSpace(answers[i])
		got := ours[i].Mime
		match := "yes"
		switch {
		case got == fileSays:
			ok++
		case got == s.Label:
			ok++
			match = "label"
			if _, known := fileWrong[s.Name]; !known && fileSays != s.Label {
				match = "label (file differs, undocumented)"
			}
		default:
			match = "NO"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Format, s.Label, fileSays, got, match)
	}
	w.Flush()
	t.Log("accuracy table:\n" + tab.String())
	acc := float64(ok) / float64(len(samples))
	t.Logf("accuracy: %d/%d = %.1f%% over %d formats", ok, len(samples), 100*acc, len(formats))
	t.Logf("throughput: detect (native) %.0f files/s (%v for %d files); file --mime-type %.0f files/s (%v, one invocation)",
		float64(len(samples))/detDur.Seconds(), detDur.Round(time.Microsecond), len(samples),
		float64(len(samples))/fileDur.Seconds(), fileDur.Round(time.Microsecond))
	if acc < 0.95 {
		t.Errorf("accuracy %.1f%% < 95%%", 100*acc)
	}
}

func detectPath(t testing.TB, d *detect.Detector, path string) detect.Result {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.DetectErr(path, f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return res
}
