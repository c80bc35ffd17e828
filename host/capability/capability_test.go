package capability

import (
	"errors"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pat, rel string
		want     bool
	}{
		{"**/*.jpg", "a.jpg", true},
		{"**/*.jpg", "x/y/a.jpg", true},
		{"**/*.jpg", "x/y/a.png", false},
		{"*.jpg", "a.jpg", true},
		{"*.jpg", "x/a.jpg", false},
		{"photos/**", "photos/a/b.jpg", true},
		{"photos/**", "photos", true},
		{"photos/**", "other/a.jpg", false},
		{"a/**/b/*.txt", "a/b/c.txt", true},
		{"a/**/b/*.txt", "a/x/y/b/c.txt", true},
		{"a/**/b/*.txt", "a/x/y/b/z/c.txt", false},
		{"**/a", "a/a", true},
		{"**/**/**/x", "a/b/c/x", true},
		{"**", "anything/at/all", true},
		{"?.txt", "ab.txt", false},
		{"[ab].txt", "b.txt", true},
		{"**/*.jpg", "", false},
	}
	for _, c := range cases {
		g, err := CompileGlob(c.pat)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", c.pat, err)
		}
		if got := g.Match(c.rel); got != c.want {
			t.Errorf("%q.Match(%q) = %v, want %v", c.pat, c.rel, got, c.want)
		}
	}
	for _, bad := range []string{"", "/abs", "a//b", "a**/b", "[", "a/[/b"} {
		if _, err := CompileGlob(bad); err == nil {
			t.Errorf("CompileGlob(%q) succeeded, want an error", bad)
		}
	}
}

func TestGlobMayContain(t *testing.T) {
	cases := []struct {
		pat, dir string
		want     bool
	}{
		{"**/*.jpg", "", true},
		{"**/*.jpg", "any/dir", true},
		{"photos/*.jpg", "photos", true},
		{"photos/*.jpg", "music", false},
		{"photos/*.jpg", "photos/sub", false},
		{"photos/**/*.jpg", "photos/sub/deeper", true},
		{"a/b/c.txt", "a", true},
		{"a/b/c.txt", "a/b", true},
		{"a/b/c.txt", "a/b/c.txt", false},
		{"*.txt", "dir", false},
	}
	for _, c := range cases {
		g, _ := CompileGlob(c.pat)
		if got := g.MayContain(c.dir); got != c.want {
			t.Errorf("%q.MayContain(%q) = %v, want %v", c.pat, c.dir, got, c.want)
		}
	}
}

func TestHostileGlobNoExponentialBlowup(t *testing.T) {
	g, _ := CompileGlob("**/a/**/a/**/a/**/a/**/a/**/b")
	rel := ""
	for i := 0; i < 200; i++ {
		rel += "a/"
	}
	rel += "c"
	if g.Match(rel) { // returns promptly: O(pattern × path)
		t.Fatal("matched")
	}
}

func photos() *manifest.Manifest {
	return &manifest.Manifest{
		ID: "dev.cairn.photos",
		Capabilities: map[string]manifest.Scope{
			"entries.read":   {Globs: []string{"**/*.jpg", "**/*.heic"}},
			"content.read":   {Globs: []string{"**/*.jpg"}},
			"sidecars.write": {},
			"metadata.write": {},
			"events.emit":    {},
			"kv":             {},
		},
		Contributes: manifest.Contributions{Sidecars: []manifest.Sidecar{{Kind: "thumb", Export: "t"}}},
	}
}

func TestEffective(t *testing.T) {
	s, err := Effective(photos(), Grant{
		"content.read":   {Locations: []string{"loc-1"}, Globs: []string{"public/**"}},
		"entries.read":   {Locations: []string{AllLocations}},
		"sidecars.write": {},
		"metadata.write": {},
		"events.emit":    {},
		"net":            {Hosts: []string{"example.com"}}, // granted, never requested
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); len(got) != 5 || got[0] != "content.read" {
		t.Errorf("Names = %v", got)
	}
	// kv requested, not granted; net granted, not requested; tags never mentioned.
	for c, want := range map[string]string{
		"kv":         "dev.cairn.photos: kv is not granted (requested: yes; granted: no)",
		"net":        "dev.cairn.photos: net is not granted (requested: no; granted: yes)",
		"tags.write": "dev.cairn.photos: tags.write is not granted (requested: no; granted: no)",
	} {
		err := s.Check(c)
		if !errors.Is(err, ErrDenied) || err.Error() != want {
			t.Errorf("Check(%s) = %v, want %q", c, err, want)
		}
	}

	cr := s.Files(ContentRead)
	for _, c := range []struct {
		loc, rel string
		want     bool
	}{
		{"loc-1", "public/a.jpg", true},
		{"loc-1", "public/x/a.jpg", true},
		{"loc-1", "public/a.png", false}, // not a requested glob
		{"loc-1", "private/a.jpg", false},
		{"loc-2", "public/a.jpg", false}, // location not granted
	} {
		if got := cr.Allows(c.loc, c.rel); got != c.want {
			t.Errorf("content.read Allows(%s, %s) = %v, want %v", c.loc, c.rel, got, c.want)
		}
	}
	if !cr.MayContain("loc-1", "public") || cr.MayContain("loc-1", "private") || !cr.MayContain("loc-1", "") {
		t.Error("content.read MayContain is wrong")
	}
	if err := s.CheckFile(ContentRead, "loc-1", "private/a.jpg", "/data/loc-1/private/a.jpg"); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckFile outside scope = %v", err)
	} else {
		t.Log(err)
	}
	er := s.Files(EntriesRead)
	if !er.Allows("any-loc", "x/y.heic") || er.Allows("any-loc", "x/y.txt") {
		t.Error("entries.read with all locations is wrong")
	}

	if err := s.CheckKind("thumb"); err != nil {
		t.Errorf("CheckKind(thumb) = %v (the manifest contributes it)", err)
	}
	if err := s.CheckKind("ocr"); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckKind(ocr) = %v", err)
	}
	if err := s.CheckEmit("dev.cairn.photos.face"); err != nil {
		t.Errorf("emit own type: %v", err)
	}
	if err := s.CheckEmit("job.progress"); !errors.Is(err, ErrDenied) {
		t.Errorf("emit kernel type: %v", err)
	}
	if ns := s.Namespace(MetadataWrite); ns != "dev.cairn.photos" {
		t.Errorf("metadata namespace = %q", ns)
	}
}

func TestEmptyLocationGrantIsNothing(t *testing.T) {
	s, err := Effective(photos(), Grant{"content.read": {}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Files(ContentRead).Allows("loc-1", "a.jpg") {
		t.Error("a grant without locations allowed a file")
	}
	var nilScope *FileScope
	if nilScope.Allows("loc-1", "a.jpg") || nilScope.MayContain("loc-1", "") {
		t.Error("a nil scope allowed something")
	}
}

func TestBadGrantGlob(t *testing.T) {
	if _, err := Effective(photos(), Grant{"content.read": {Globs: []string{"a**"}}}); err == nil {
		t.Error("a malformed granted glob was accepted")
	}
}
