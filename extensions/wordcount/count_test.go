package main

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cairnfs/cairn/internal/testtool"
)

func count(b []byte, chunk int) Counts {
	var c Counter
	for len(b) > 0 {
		n := min(chunk, len(b))
		c.Write(b[:n])
		b = b[n:]
	}
	return c.Counts()
}

var cases = []struct {
	in   string
	want Counts // Bytes is len(in)
}{
	{"", Counts{}},
	{"hello world\n", Counts{1, 2, 12}},
	{"no newline", Counts{0, 2, 10}},
	{"  leading and   trailing  \n\n", Counts{2, 3, 28}},
	{"tabs\tand\vother\fspaces\r\n", Counts{1, 4, 24}},
	{"Καλημέρα κόσμε — こんにちは 世界\n", Counts{1, 5, 57}},
	{"nbsp\u00a0splits\u2003em-space too\n", Counts{1, 4, 30}},
	{"caf\xc3", Counts{0, 1, 4}},               // a character cut at the end
	{"bad \xff\xfe bytes\n", Counts{1, 3, 13}}, // invalid bytes are word characters
	{"\xe2\x82a b", Counts{0, 2, 5}},           // a truncated sequence, then ASCII
	{"日本語", Counts{0, 1, 9}},
}

func TestCounter(t *testing.T) {
	for _, tc := range cases {
		tc.want.Bytes = int64(len(tc.in))
		for _, chunk := range []int{1, 2, 3, 5, 7, 64 << 10} {
			if got := count([]byte(tc.in), chunk); got != tc.want {
				t.Errorf("%q in chunks of %d: %+v, want %+v", tc.in, chunk, got, tc.want)
			}
		}
	}
}

// TestCounterMatchesWC compares with wc(1) in a UTF-8 locale, on text whose
// spaces are ASCII (wc and unicode.IsSpace disagree on some Unicode spaces).
func TestCounterMatchesWC(t *testing.T) {
	testtool.Need(t, "wc", "coreutils")
	var big bytes.Buffer
	for i := 0; big.Len() < 300<<10; i++ {
		big.WriteString("Line " + strconv.Itoa(i) + ": héllo wörld ✓ 日本語\tand  more  \r\n")
	}
	for _, in := range []string{"hello world\n", "a  b\tc\n\nd", "Καλημέρα κόσμε — こんにちは 世界\n", big.String()} {
		cmd := exec.Command("wc", "-l", "-w", "-c")
		cmd.Env = append(cmd.Environ(), "LC_ALL=C.UTF-8")
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(out))
		want := Counts{atoi(t, f[0]), atoi(t, f[1]), atoi(t, f[2])}
		if got := count([]byte(in), 4096+3); got != want {
			t.Errorf("%.30q: %+v, wc says %+v", in, got, want)
		}
	}
}

func atoi(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func BenchmarkCounter(b *testing.B) {
	data := bytes.Repeat([]byte("Line: héllo wörld ✓ 日本語\tand  more\n"), 30000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		count(data, 64<<10)
	}
}

// reference is the obvious implementation Counter must agree with.
func reference(b []byte) Counts {
	var c Counts
	in := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r == '\n' {
			c.Lines++
		}
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			c.Words++
		}
	}
	return c
}

// TestCounterRandom checks the eight-bytes-at-a-time path against the
// reference on random text of every ASCII class and some UTF-8, cut at
// random places.
func TestCounterRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{" ", "\t", "\n", "\v", "\f", "\r", "a", "Z", "0", "\x00", "\x08", "\x0e", "\x1f", "!", "~", "\x7f",
		"é", "✓", "日", "\u00a0", "\u2003", "\xff"}
	for n := 0; n < 2000; n++ {
		var b []byte
		for range rng.IntN(100) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		want := reference(b)
		want.Bytes = int64(len(b))
		if got := count(b, 1+rng.IntN(20)); got != want {
			t.Fatalf("%q: %+v, want %+v", b, got, want)
		}
	}
}

func BenchmarkCounterASCII(b *testing.B) {
	data := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 30000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		count(data, 64<<10)
	}
}
