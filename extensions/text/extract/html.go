package extract

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// htmlSkip are elements whose content is not visible text.
var htmlSkip = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Svg: true,
	atom.Math: true, atom.Iframe: true, atom.Object: true, atom.Canvas: true, atom.Select: true,
	atom.Datalist: true,
}

// htmlBreak are elements that separate their content from the text around
// it: by a blank line (sepPara), a line (sepLine) or a tab (sepTab).
var htmlBreak = map[atom.Atom]int{
	atom.P: sepPara, atom.H1: sepPara, atom.H2: sepPara, atom.H3: sepPara, atom.H4: sepPara, atom.H5: sepPara,
	atom.H6: sepPara, atom.Blockquote: sepPara, atom.Pre: sepPara, atom.Table: sepPara, atom.Ul: sepPara,
	atom.Ol: sepPara, atom.Dl: sepPara, atom.Section: sepPara, atom.Article: sepPara, atom.Header: sepPara,
	atom.Footer: sepPara, atom.Nav: sepPara, atom.Aside: sepPara, atom.Figure: sepPara, atom.Hr: sepPara,
	atom.Address: sepPara, atom.Main: sepPara, atom.Form: sepPara, atom.Body: sepPara, atom.Fieldset: sepPara,
	atom.Details: sepPara,
	atom.Div:     sepLine, atom.Li: sepLine, atom.Tr: sepLine, atom.Br: sepLine, atom.Dt: sepLine, atom.Dd: sepLine,
	atom.Figcaption: sepLine, atom.Caption: sepLine, atom.Option: sepLine, atom.Summary: sepLine,
	atom.Legend: sepLine, atom.Tbody: sepLine, atom.Thead: sepLine,
	atom.Td: sepTab, atom.Th: sepTab,
}

var htmlCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_-]+)`)

// extractHTML writes the visible text of an HTML document.
func extractHTML(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	src := utf8Reader(r, size)
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	if m := htmlCharset.FindSubmatch(head[:n]); m != nil {
		switch strings.ToLower(string(m[1])) {
		case "windows-1252", "iso-8859-1", "latin1", "iso-8859-15", "us-ascii", "cp1252":
			src = transform.NewReader(src, charmap.Windows1252.NewDecoder())
		}
	}
	return htmlText(src, w, &res.Title)
}

// htmlText writes the visible text of the HTML read from src to w, and the
// document's first <title> to *title when that is empty.
func htmlText(src io.Reader, w *writer, title *string) error {
	z := html.NewTokenizer(src)
	z.SetMaxBuf(16 << 20)
	skip := 0 // depth inside skipped elements
	pre := 0  // depth inside <pre>
	inTitle := false
	var titleText strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			err := z.Err()
			if errors.Is(err, io.EOF) {
				if *title == "" {
					*title = titleText.String()
				}
				return nil
			}
			return fmt.Errorf("parse html: %w", err)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title {
				inTitle = tt == html.StartTagToken
				continue
			}
			if htmlSkip[a] && tt == html.StartTagToken {
				skip++
				continue
			}
			if a == atom.Pre && tt == html.StartTagToken {
				pre++
			}
			if s, ok := htmlBreak[a]; ok {
				w.Sep(s)
			}
			if a == atom.Img && skip == 0 {
				// An image's alternative text stands for it.
				for {
					k, v, more := z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						w.Space()
						if err := w.Flow(string(v)); err != nil {
							return err
						}
						w.Space()
					}
					if !more {
						break
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title {
				inTitle = false
				continue
			}
			if htmlSkip[a] {
				skip = max(0, skip-1)
				continue
			}
			if a == atom.Pre {
				pre = max(0, pre-1)
			}
			if s, ok := htmlBreak[a]; ok {
				w.Sep(s)
			}
		case html.TextToken:
			if inTitle {
				if titleText.Len() < 4096 {
					titleText.Write(z.Text())
				}
				continue
			}
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if pre > 0 {
				for i, line := range strings.Split(text, "\n") {
					if i > 0 {
						w.Line()
					}
					if err := w.Text(strings.TrimRight(line, " \t\r")); err != nil {
						return err
					}
				}
				continue
			}
			if err := w.Flow(text); err != nil {
				return err
			}
		}
	}
}
