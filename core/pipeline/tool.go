package pipeline

import (
	"errors"
	"strings"

	"github.com/cairnfs/cairn/core/store"
)

// StatusMissingTool is the ledger status of an outcome that failed because an external program
// the stage runs is not installed; such contents are offered to the stage again by every run.
const StatusMissingTool = store.StatusMissingTool

// MissingToolError is a stage outcome that failed because an external program is not
// installed. Extensions say so with an outcome error of the form (schemas/hostabi/v1.md,
// "Missing tools"; sdk/cairn.MissingTool writes it)
//
//	missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not available
//
// where the package part is optional.
type MissingToolError struct {
	Tool    string
	Package string // "" when the extension did not name one
	Detail  string
}

const missingToolPrefix = "missing tool "

func (e *MissingToolError) Error() string {
	s := missingToolPrefix + e.Tool
	if e.Package != "" {
		s += " (Debian package " + e.Package + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// MissingTool returns the *MissingToolError that err is, wraps, or states in its message (an
// extension's outcome error arrives as text), or nil.
func MissingTool(err error) *MissingToolError {
	if err == nil {
		return nil
	}
	var mt *MissingToolError
	if errors.As(err, &mt) {
		return mt
	}
	return ParseMissingTool(err.Error())
}

// ParseMissingTool parses an outcome error of the missing-tool form, or returns nil.
func ParseMissingTool(msg string) *MissingToolError {
	rest, ok := strings.CutPrefix(msg, missingToolPrefix)
	if !ok {
		return nil
	}
	head, detail, _ := strings.Cut(rest, ": ")
	tool, pkg, hasPkg := strings.Cut(head, " (Debian package ")
	if hasPkg {
		var closed bool
		if pkg, closed = strings.CutSuffix(pkg, ")"); !closed {
			return nil
		}
	}
	if !validToolName(tool) || (hasPkg && !validToolName(pkg)) {
		return nil
	}
	return &MissingToolError{Tool: tool, Package: pkg, Detail: detail}
}

// validToolName: a program or package name, no spaces or brackets.
func validToolName(s string) bool {
	return s != "" && len(s) <= 100 && !strings.ContainsAny(s, " \t\n()[]:")
}
