package exttest

import "testing"

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, rel string
		want         bool
	}{
		{"**", "a/b/c.txt", true},
		{"**/*.txt", "c.txt", true},
		{"**/*.txt", "a/b/c.txt", true},
		{"*.txt", "c.txt", true},
		{"*.txt", "a/c.txt", false},
		{"notes/**", "notes/a/b.md", true},
		{"notes/**", "other/a.md", false},
		{"notes/*.txt", "notes/a.txt", true},
		{"notes/*.txt", "notes/x/a.txt", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"**", "", false},
	} {
		if got := matchGlob(tc.pattern, tc.rel); got != tc.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tc.pattern, tc.rel, got, tc.want)
		}
	}
	for _, tc := range []struct {
		pattern, typ string
		want         bool
	}{
		{"dev.x.*", "dev.x.done", true},
		{"dev.x.*", "dev.y.done", false},
		{"dev.x.done", "dev.x.done", true},
		{"*", "anything", true},
	} {
		if got := typeCovers(tc.pattern, tc.typ); got != tc.want {
			t.Errorf("typeCovers(%q, %q) = %v", tc.pattern, tc.typ, got)
		}
	}
}
