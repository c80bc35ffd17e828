package cairn

// MissingToolError is the error of an item that could not be processed because an external
// program the extension runs (ffmpeg, pdftoppm, …) is not installed. Fail an item with it
// (it.Fail(cairn.MissingTool(…))): the host records the item as waiting for the tool, not as a
// broken file, offers it again on every run (so it is done once the tool is installed), and
// prints one note per tool instead of one failure per file. On the wire it is the outcome's
// error text (schemas/hostabi/v1.md, "Missing tools"):
//
//	missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not available
type MissingToolError struct {
	Tool    string // the program, as looked up on PATH
	Package string // the Debian package that installs it ("" if unknown)
	Detail  string // what is not available without it
}

// MissingTool returns the error of an item that needs tool, installed by the Debian package
// pkg ("" if unknown); detail says what is not available without it.
func MissingTool(tool, pkg, detail string) error {
	return &MissingToolError{Tool: tool, Package: pkg, Detail: detail}
}

func (e *MissingToolError) Error() string {
	s := "missing tool " + e.Tool
	if e.Package != "" {
		s += " (Debian package " + e.Package + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}
