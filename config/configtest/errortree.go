package configtest

// ErrorTree returns err and every error it wraps, through Unwrap() error and
// Unwrap() []error, depth first: what an error reporter that walks causes (a
// Sentry-style client) sees. Tests of a layer search all of them for secret
// text. It returns nil for a nil error.
func ErrorTree(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, ErrorTree(e.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = append(out, ErrorTree(x)...)
		}
	}
	return out
}
