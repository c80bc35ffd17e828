package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob string
		path string
		want bool
	}{
		// Unanchored (no slash): a name at any depth.
		{"*.jpg", "a.jpg", true},
		{"*.jpg", "Pictures/2024/a.jpg", true},
		{"*.jpg", "a.jpeg", false},
		{"*.jpg", "a.JPG", false},          // case-sensitive
		{"*.jpg", "x.jpg/inner.txt", true}, // a matching directory selects its contents
		{"a?c", "dir/abc", true},
		{"a?c", "dir/ac", false},
		{"[abc].txt", "b.txt", true},
		{"[abc].txt", "d.txt", false},
		{"[!abc].txt", "d.txt", true},
		{"[!abc].txt", "a.txt", false},
		{"[a-c]x", "bx", true},
		{`\*.txt`, "*.txt", true},
		{`\*.txt`, "a.txt", false},
		{"Pictures", "Pictures", true},
		{"Pictures", "home/Pictures/a.jpg", true},
		// Anchored (contains a slash).
		{"Pictures/**", "Pictures/a.jpg", true},
		{"Pictures/**", "Pictures/2024/x/a.jpg", true},
		{"Pictures/**", "Pictures", false},
		{"Pictures/**", "home/Pictures/a.jpg", false},
		{"Pictures/**", "PicturesX/a.jpg", false},
		{"/notes.txt", "notes.txt", true},
		{"/notes.txt", "sub/notes.txt", false},
		{"docs/*.md", "docs/a.md", true},
		{"docs/*.md", "docs/sub/a.md", false},
		{"docs/*.md", "x/docs/a.md", false},
		// ** in the middle and at the start.
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"**/foo", "foo", true},
		{"**/foo", "x/y/foo", true},
		{"**/foo/bar", "x/foo/bar", true},
		{"**/.cache/**", "home/.cache/x", true},
		{"**/.cache/**", ".cache/x", true},
		{"**", "anything/at/all", true},
		{"DCIM/**/IMG_????.*", "DCIM/100APPLE/IMG_0001.HEIC", true},
		{"DCIM/**/IMG_????.*", "DCIM/IMG_0001.jpg", true},
		{"DCIM/**/IMG_????.*", "DCIM/IMG_01.jpg", false},
		{"a***b", "axxb", true}, // runs of stars inside a name are one star
		// Trailing slash: directories only.
		{"build/", "build/out.o", true},
		{"build/", "src/build/out.o", true},
		{"build/", "build", false},
		// Path normalisation.
		{"Pictures/**", "./Pictures/a.jpg", true},
		{"Pictures/**", "/Pictures/a.jpg", true},
		{"*.jpg", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s~%s", tt.glob, tt.path), func(t *testing.T) {
			if err := CheckGlob(tt.glob); err != nil {
				t.Fatalf("CheckGlob: %v", err)
			}
			if got := (Filter{Globs: []string{tt.glob}}).MatchPath(tt.path); got != tt.want {
				t.Errorf("MatchPath = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestCheckGlob(t *testing.T) {
	for _, bad := range []string{"", "/", "!x", "a/[bc", `x\`, "../a", "a/./b", "a//b"} {
		if CheckGlob(bad) == nil {
			t.Errorf("CheckGlob(%q) accepted a bad pattern", bad)
		}
	}
	for _, good := range []string{"*", `\!x`, "a/**", "a/b/", "x\\\\"} {
		if err := CheckGlob(good); err != nil {
			t.Errorf("CheckGlob(%q): %v", good, err)
		}
	}
}

func TestMatchPathIncludeExclude(t *testing.T) {
	f := Filter{Globs: []string{"Pictures/**", "*.png"}, ExcludeGlobs: []string{"**/.thumbs/**", "*.tmp.png"}}
	tests := map[string]bool{
		"Pictures/a.jpg":         true,
		"other/b.png":            true,
		"other/b.jpg":            false,
		"Pictures/.thumbs/a.jpg": false,
		"x/y.tmp.png":            false,
	}
	for p, want := range tests {
		if got := f.MatchPath(p); got != want {
			t.Errorf("MatchPath(%q) = %v; want %v", p, got, want)
		}
	}
	if !(Filter{}).MatchPath("any/thing") || (Filter{ExcludeGlobs: []string{"any/**"}}).MatchPath("any/thing") {
		t.Error("no globs: everything but the excluded")
	}
}

func TestMatchType(t *testing.T) {
	tests := []struct {
		f          Filter
		kind, mime string
		want       bool
	}{
		{Filter{}, "", "", true},
		{Filter{Kinds: []string{"image"}}, "image", "", true},
		{Filter{Kinds: []string{"image"}}, "video", "video/mp4", false},
		{Filter{Mimes: []string{"image/*"}}, "", "image/png", true},
		{Filter{Mimes: []string{"image/*"}}, "", "imagex/png", false},
		{Filter{Mimes: []string{"text/plain"}}, "", "Text/Plain; charset=utf-8", true},
		{Filter{Mimes: []string{"text/plain"}}, "", "text/plainx", false},
		{Filter{Kinds: []string{"document"}, Mimes: []string{"image/*"}}, "document", "application/pdf", true}, // alternatives
		{Filter{Kinds: []string{"document"}, Mimes: []string{"image/*"}}, "image", "image/gif", true},
		{Filter{Kinds: []string{"document"}, Mimes: []string{"image/*"}}, "video", "video/mp4", false},
		{Filter{Mimes: []string{"image/*"}}, "image", "", false},
	}
	for i, tt := range tests {
		if got := tt.f.MatchType(tt.kind, tt.mime); got != tt.want {
			t.Errorf("%d: MatchType(%q, %q) with %+v = %v; want %v", i, tt.kind, tt.mime, tt.f, got, tt.want)
		}
	}
}

func TestMatchSizeAndMatch(t *testing.T) {
	f := Filter{MinSize: 100_000, MaxSize: 200_000}
	for n, want := range map[int64]bool{0: false, 99_999: false, 100_000: true, 200_000: true, 200_001: false} {
		if f.MatchSize(n) != want {
			t.Errorf("MatchSize(%d) != %v", n, want)
		}
	}
	if !(Filter{MinSize: 5}).MatchSize(1 << 60) {
		t.Error("MaxSize 0 must mean no limit")
	}
	// The acceptance filter: Pictures/** images over 100 KB.
	src := "[pipeline.t]\n[[pipeline.t.stage]]\nid = \"stage.thumbnail\"\nkinds = [\"image\"]\nglobs = [\"Pictures/**\"]\nmin_size = \"100 KB\"\n"
	file, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	th := file.Pipelines[0].Stages[0].Filter
	tests := []struct {
		path, kind string
		size       int64
		want       bool
	}{
		{"Pictures/a.jpg", "image", 100_001, true},
		{"Pictures/deep/a.jpg", "image", 5 << 20, true},
		{"Pictures/a.jpg", "image", 99_999, false},
		{"Pictures/a.mp4", "video", 5 << 20, false},
		{"Desktop/a.jpg", "image", 5 << 20, false},
	}
	for _, tt := range tests {
		if got := th.Match(tt.path, tt.kind, "", tt.size); got != tt.want {
			t.Errorf("Match(%s, %s, %d) = %v; want %v", tt.path, tt.kind, tt.size, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"4096", 4096, false},
		{"100 KB", 100_000, false},
		{"100KB", 100_000, false},
		{"100kb", 100_000, false},
		{"100KiB", 102_400, false},
		{"100 kib", 102_400, false},
		{"1.5 MB", 1_500_000, false},
		{"1.5 MiB", 1_572_864, false},
		{"2GB", 2_000_000_000, false},
		{"256 MiB", 256 << 20, false},
		{"1 TB", 1e12, false},
		{"1 PiB", 1 << 50, false},
		{"12 B", 12, false},
		{"  7 b ", 7, false},
		{"0.3 KiB", 307, false}, // 307.2 rounds to the nearest byte
		{"0.5 B", 1, false},
		{"8191 PiB", 8191 << 50, false},
		{"8192 PiB", 0, true}, // overflows int64
		{"100 XB", 0, true},
		{"1e6", 0, true},
		{"-5 KB", 0, true},
		{"KB", 0, true},
		{"", 0, true},
		{"1.5.5 MB", 0, true},
		{"1,000", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 256 << 20: "256 MiB", 1 << 62: "4 EiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q; want %q", n, got, want)
		}
		if back, err := ParseSize(FormatSize(n)); err != nil || back != n {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func BenchmarkMatchPath(b *testing.B) {
	f := Filter{Globs: []string{"Pictures/**", "*.jpg", "DCIM/**/IMG_????.*"}, ExcludeGlobs: []string{"**/.cache/**"}}
	paths := []string{"Pictures/2024/summer/IMG_0001.jpg", "home/user/docs/report.pdf", "DCIM/100APPLE/IMG_1234.HEIC", "a/.cache/b/c.jpg"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.MatchPath(paths[i%len(paths)])
	}
}

// TestGlobNoBacktracking: a pattern full of "**" against a deep path stays fast (the matcher is
// a dynamic programme, not backtracking).
func TestGlobNoBacktracking(t *testing.T) {
	deep := strings.Repeat("a/", 500) + "b"
	f := Filter{Globs: []string{strings.Repeat("**/a/", 20) + "**/c"}}
	start := time.Now()
	if f.MatchPath(deep) {
		t.Error("matched")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}
