package extract

import (
	"io"
	"regexp"
	"strings"
)

var (
	mdFence    = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
	mdHeading  = regexp.MustCompile(`^\s{0,3}(#{1,6})(\s+|$)`)
	mdRule     = regexp.MustCompile(`^\s{0,3}([-*_])(\s*[-*_]){2,}\s*$`)
	mdSetext   = regexp.MustCompile(`^\s{0,3}(=+|-+)\s*$`)
	mdList     = regexp.MustCompile(`^\s*([-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?`)
	mdQuote    = regexp.MustCompile(`^\s{0,3}(>\s?)+`)
	mdRefDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*\S+`)
	mdTableSep = regexp.MustCompile(`^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$`)
	mdImage    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink     = regexp.MustCompile(`\[([^\]]*)\](\([^)]*\)|\[[^\]]*\])`)
	mdAutolink = regexp.MustCompile(`<((?:https?|ftp|mailto):[^>\s]+)>`)
	mdTag      = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>`)
	mdStrong   = regexp.MustCompile(`(\*\*|__)(\S(?:.*?\S)?)(\*\*|__)`)
	mdEmph     = regexp.MustCompile(`(^|[^\w*])[*_](\S(?:[^*_]*?\S)?)[*_]($|[^\w*])`)
	mdStrike   = regexp.MustCompile(`~~(\S(?:.*?\S)?)~~`)
)

// extractMarkdown keeps the text of Markdown and drops its markup: heading,
// list and quote markers, emphasis, code fence lines, link and image URLs,
// reference definitions, rules, table separators, and front matter.
func extractMarkdown(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	inFence, fence := false, ""
	first, inFront := true, false
	return lines(utf8Reader(r, size), func(line string) error {
		if first {
			first = false
			if strings.TrimSpace(line) == "---" {
				inFront = true
				return nil
			}
		}
		if inFront {
			if t := strings.TrimSpace(line); t == "---" || t == "..." {
				inFront = false
			} else if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "title" && res.Title == "" {
				res.Title = strings.Trim(strings.TrimSpace(v), `"'`)
			}
			return nil
		}
		if m := mdFence.FindStringSubmatch(line); m != nil {
			switch {
			case !inFence:
				inFence, fence = true, m[1][:3]
				w.Para()
				return nil
			case strings.HasPrefix(m[1], fence):
				inFence = false
				w.Para()
				return nil
			}
		}
		if inFence {
			w.Line()
			return w.Text(line)
		}
		if strings.TrimSpace(line) == "" {
			w.Para()
			return nil
		}
		if mdTableSep.MatchString(line) {
			return nil
		}
		if mdRule.MatchString(line) || mdSetext.MatchString(line) || mdRefDef.MatchString(line) {
			w.Para()
			return nil
		}
		heading := false
		if m := mdHeading.FindStringSubmatchIndex(line); m != nil {
			heading = true
			line = strings.TrimRight(strings.TrimSpace(line[m[1]:]), "# ")
			if res.Title == "" && m[3]-m[2] == 1 {
				res.Title = mdInline(line)
			}
			w.Para()
		}
		if m := mdQuote.FindStringIndex(line); m != nil {
			line = line[m[1]:]
		}
		if m := mdList.FindStringIndex(line); m != nil {
			line = line[m[1]:]
			w.Line()
		}
		if strings.Contains(line, "|") && strings.Count(line, "|") >= 2 {
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			w.Line()
			for i, c := range cells {
				if i > 0 {
					w.Tab()
				}
				if err := w.Text(mdInline(strings.TrimSpace(c))); err != nil {
					return err
				}
			}
			w.Line()
			return nil
		}
		w.Space()
		if err := w.Text(mdInline(strings.TrimSpace(line))); err != nil {
			return err
		}
		if heading {
			w.Para()
		}
		return nil
	})
}

// mdInline strips inline markup from one line of Markdown.
func mdInline(s string) string {
	if !strings.ContainsAny(s, "[]()*_`~<>!\\") {
		return s
	}
	// Code spans keep their content as is.
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			out.WriteString(mdSpan(s))
			break
		}
		n := 1
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		j := strings.Index(s[i+n:], s[i:i+n])
		if j < 0 {
			out.WriteString(mdSpan(s))
			break
		}
		out.WriteString(mdSpan(s[:i]))
		out.WriteString(strings.TrimSpace(s[i+n : i+n+j]))
		s = s[i+n+j+n:]
	}
	return out.String()
}

func mdSpan(s string) string {
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdAutolink.ReplaceAllString(s, "$1")
	s = mdTag.ReplaceAllString(s, "")
	s = mdStrong.ReplaceAllString(s, "$2")
	s = mdStrike.ReplaceAllString(s, "$1")
	for range 2 { // adjacent emphases share a boundary character
		s = mdEmph.ReplaceAllString(s, "$1$2$3")
	}
	if strings.IndexByte(s, '\\') >= 0 {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!|<>~", s[i+1]) >= 0 {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	return s
}
