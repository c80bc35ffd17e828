package cairn

import "errors"

// Error codes of host ABI v1 (schemas/hostabi/v1.md). Callers branch on them,
// usually through IsDenied, IsNotFound and the other Is* functions.
const (
	CodeCapabilityDenied = "capability_denied"
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeLimitExceeded    = "limit_exceeded"
	CodeUnavailable      = "unavailable"
	CodeUnknownFunction  = "unknown_function"
	CodeInternal         = "internal"
)

// Error is a failed host call: the error the host answered with, or one the
// SDK made for a call that did not get a well-formed answer (code internal).
type Error struct {
	Fn      string `json:"-"`       // the host function called, e.g. "kv.get"
	Code    string `json:"code"`    // one of the Code* constants
	Message string `json:"message"` // the host's explanation
}

func (e *Error) Error() string {
	s := "cairn: "
	if e.Fn != "" {
		s += e.Fn + ": "
	}
	s += e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrCapabilityDenied) and the like match any *Error
// with the same code. Only targets with no Fn and no Message (the Err*
// sentinels) match by code; other targets match only themselves.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Fn == "" && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is, one per code.
var (
	ErrCapabilityDenied = &Error{Code: CodeCapabilityDenied}
	ErrInvalidArgument  = &Error{Code: CodeInvalidArgument}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrLimitExceeded    = &Error{Code: CodeLimitExceeded}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrUnknownFunction  = &Error{Code: CodeUnknownFunction}
	ErrInternal         = &Error{Code: CodeInternal}
)

// ErrorCode returns the code of the *Error in err's chain, or "" when there
// is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsDenied reports whether err is a capability_denied answer: the extension
// did not request, or the user did not grant, what the call needs.
func IsDenied(err error) bool { return errors.Is(err, ErrCapabilityDenied) }

// IsNotFound reports whether err is a not_found answer.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsInvalidArgument reports whether err is an invalid_argument answer.
func IsInvalidArgument(err error) bool { return errors.Is(err, ErrInvalidArgument) }

// IsLimitExceeded reports whether err is a limit_exceeded answer (a size
// limit, or the extension's rate of host calls).
func IsLimitExceeded(err error) bool { return errors.Is(err, ErrLimitExceeded) }

// IsUnavailable reports whether err is an unavailable answer: this host does
// not provide the service (or, natively, no fake host is installed).
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsUnknownFunction reports whether err is an unknown_function answer: the
// host speaks an older ABI minor version than the function needs.
func IsUnknownFunction(err error) bool { return errors.Is(err, ErrUnknownFunction) }
