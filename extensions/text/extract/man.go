package extract

import (
	"bytes"
	"io"
	"path"
	"regexp"
	"strings"
)

// manExt matches the extensions of manual pages: section digit, optional suffix ("ls.1",
// "open.3pm", "ssl.1ssl").
var manExt = regexp.MustCompile(`^\.[0-9][a-z0-9]{0,8}$`)

// looksTroff reports whether a text starts like a troff source: its first non-blank line is a
// request (".TH", ".\"", ".Dd", "'\"").
func looksTroff(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		return len(line) >= 2 && (line[0] == '.' || line[0] == '\'') && (line[1] == '\\' || line[1] >= 'A' && line[1] <= 'Z')
	}
	return false
}

// isManName reports whether a name or MIME type says troff (a manual page).
func isManName(name, mime string) bool {
	switch mime {
	case "text/troff", "text/x-troff", "text/x-troff-man", "application/x-troff-man", "text/x-man":
		return true
	}
	ext := strings.ToLower(path.Ext(name))
	return manExt.MatchString(ext) || ext == ".man" || ext == ".roff"
}

// extractMan renders a troff manual page (man or mdoc macros) as readable text: requests that
// only format are dropped, headings and paragraphs become blank lines, font and character
// escapes become their characters. The title is "NAME(SECTION)" from .TH or .Dt.
func extractMan(r io.ReaderAt, size int64, w *writer, res *Result, _ Limits) error {
	noFill, tag := false, false // tag: the line is a .TP tag, its description goes below it
	nm := ""                    // mdoc: the page's name, which a bare .Nm stands for
	end := func() {
		if noFill || tag {
			w.Line()
		} else {
			w.Space()
		}
		tag = false
	}
	return lines(utf8Reader(r, size), func(line string) error {
		if line == "" {
			if noFill {
				w.Line()
			} else {
				w.Para()
			}
			return nil
		}
		if line[0] != '.' && line[0] != '\'' { // text
			if err := w.Text(manText(line)); err != nil {
				return err
			}
			end()
			return nil
		}
		name, args := manRequest(line[1:])
		switch name {
		case "", "\\\"": // an empty request, a comment
			return nil
		case "TH", "Dt":
			if len(args) >= 2 && res.Title == "" {
				res.Title = manText(args[0]) + "(" + manText(args[1]) + ")"
			}
			return nil
		case "SH", "SS", "Sh", "Ss":
			w.Para()
			if err := w.Text(manText(strings.Join(args, " "))); err != nil {
				return err
			}
			w.Line()
			return nil
		case "PP", "P", "LP", "sp", "Pp", "Lp", "HP":
			w.Para()
			return nil
		case "br", "Bl", "El", "Bd", "Ed":
			w.Line()
			return nil
		case "nf", "EX":
			noFill = true
			w.Line()
			return nil
		case "fi", "EE":
			noFill = false
			w.Line()
			return nil
		case "TP":
			w.Line()
			tag = true
			return nil
		case "IP", "It":
			w.Line()
			if len(args) > 0 {
				if err := w.Text(manText(strings.Join(manArgs(name, args), " "))); err != nil {
					return err
				}
				w.Tab()
			}
			return nil
		case "B", "I", "SM", "SB", "BR", "RB", "BI", "IB", "IR", "RI", "UR", "MT", "Nm", "Nd", "Ar", "Pa", "Fl", "Cm",
			"Op", "Xr", "Em", "Sy", "Li", "Dv", "Ev", "Er", "Va", "Fn", "Fa", "Ft", "Ic", "Ql", "Dq", "Sq", "Pq", "Qq",
			"Ad", "An", "Cd", "Vt", "Tn", "Ux", "%A", "%T", "%B", "%J", "%D", "%O", "%P", "%V", "%N":
			if name == "Nm" {
				if len(args) == 0 && nm != "" {
					args = []string{nm}
				} else if nm == "" && len(args) > 0 {
					nm = args[0]
				}
			}
			if name == "Xr" && len(args) >= 2 {
				args = append([]string{args[0] + "(" + args[1] + ")"}, args[2:]...)
			}
			if len(args) == 0 {
				return nil
			}
			sep := " "
			if len(name) == 2 && strings.ContainsAny(name[:1], "BIR") && strings.ContainsAny(name[1:], "BIR") {
				sep = "" // alternating fonts: the words touch
			}
			if name == "Nd" {
				if err := w.Text("—"); err != nil {
					return err
				}
				w.Space()
			}
			if err := w.Text(manText(strings.Join(manArgs(name, args), sep))); err != nil {
				return err
			}
			end()
			return nil
		}
		return nil // every other request formats, defines or includes: no text
	})
}

// manArgs renders mdoc's flag and option macros: ".Fl v" is "-v", ".Op Fl v" is "[-v]".
func manArgs(name string, args []string) []string {
	out := make([]string, 0, len(args))
	flag := name == "Fl"
	for _, a := range args {
		switch {
		case a == "Fl":
			flag = true
			continue
		case len(a) == 2 && a[0] >= 'A' && a[0] <= 'Z' && a[1] >= 'a' && a[1] <= 'z': // a nested mdoc macro
			flag = false
			continue
		}
		if flag {
			a = "-" + a
		}
		out = append(out, a)
	}
	if name == "Op" && len(out) > 0 {
		return []string{"[" + strings.Join(out, " ") + "]"}
	}
	return out
}

// manRequest splits a request line (after its control character) into the request name and
// its arguments; double quotes group an argument.
func manRequest(s string) (string, []string) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, `\"`) {
		return `\"`, nil
	}
	if i := strings.Index(s, `\"`); i >= 0 { // a trailing comment
		s = s[:i]
	}
	name, rest, _ := strings.Cut(s, " ")
	var args []string
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(rest, " \t") {
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				args, rest = append(args, rest[1:]), ""
				break
			}
			args, rest = append(args, rest[1:end+1]), rest[end+2:]
			continue
		}
		a, r, _ := strings.Cut(rest, " ")
		args, rest = append(args, a), r
	}
	return name, args
}

// manChars are troff's named characters (\(xx and \[xx]) that manual pages use most.
var manChars = map[string]string{
	"em": "—", "en": "–", "hy": "-", "mi": "-", "aq": "'", "dq": `"`, "lq": "“", "rq": "”", "oq": "‘",
	"cq": "’", "bu": "•", "co": "©", "rg": "®", "tm": "™", "de": "°", "->": "→", "<-": "←", "<=": "≤",
	">=": "≥", "!=": "≠", "mu": "×", "di": "÷", "+-": "±", "ti": "~", "ha": "^", "rs": `\`, "sl": "/",
	"ga": "`", "aa": "´", "bv": "|", "ba": "|", "or": "|", "pl": "+", "eq": "=", "fm": "′", "sc": "§",
	"Lq": "“", "Rq": "”", "R": "®", "Tm": "™",
}

// manText renders the escapes of a line of troff text.
func manText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '"': // a comment: the rest of the line
			return strings.TrimRight(b.String(), " \t")
		case 'f', 's', 'F', 'm', 'n', 'k', 'g', 'z': // font, size, colour, registers: dropped
			if e == 's' && i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				i++
			}
			i = skipName(s, i+1) - 1
		case '(':
			if i+2 < len(s) {
				b.WriteString(manChar(s[i+1 : i+3]))
				i += 2
			}
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				i = len(s)
				break
			}
			b.WriteString(manChar(s[i+1 : i+end]))
			i += end
		case '*': // a string: the common quotes, others dropped
			j := skipName(s, i+1)
			b.WriteString(manChar(strings.Trim(s[i+1:j], "([]")))
			i = j - 1
		case 'e', '\\':
			b.WriteByte('\\')
		case '-':
			b.WriteByte('-')
		case ' ', '~', '0':
			b.WriteByte(' ')
		case '&', '|', '^', '%', 'c', ')', ',', '/', ':', '{', '}', 'd', 'u', 'p', 'a', 'r', 't':
			// zero-width and motion escapes
		case 'h', 'v', 'w', 'l', 'L', 'o', 'b', 'x', 'D', 'X', 'Z', 'A', 'B', 'C', 'N', 'R', 'S', 'V', 'Y': // escapes with a quoted argument
			if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '[') {
				close := s[i+1]
				if close == '[' {
					close = ']'
				}
				if end := strings.IndexByte(s[i+2:], close); end >= 0 {
					i += end + 2
				} else {
					i = len(s)
				}
			}
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

// skipName returns the index after a troff name at i: one character, "(xx" or "[name]".
func skipName(s string, i int) int {
	switch {
	case i >= len(s):
		return len(s)
	case s[i] == '(':
		return min(len(s), i+3)
	case s[i] == '[':
		if end := strings.IndexByte(s[i:], ']'); end >= 0 {
			return i + end + 1
		}
		return len(s)
	}
	return i + 1
}

// manChar is a named character's text, "" when unknown.
func manChar(name string) string { return manChars[name] }
