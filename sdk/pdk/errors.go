package pdk

// wrapError is fmt.Errorf("%s: %w", msg, err) without fmt, which would add
// ~0.7 MB to a guest that does not otherwise use it.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }

func wrap(msg string, err error) error { return &wrapError{msg: msg, err: err} }
