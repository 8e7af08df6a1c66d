package configtest

import (
	"errors"
	"testing"

	"github.com/strata-go/strata/config"
)

// UnknownNames returns the unknown-name problems in err, the error a layer's
// Load returns, in order. It fails the test if err holds anything else, so a
// layer test can check that its only problems are the names it expected.
func UnknownNames(tb testing.TB, err error) []config.UnknownNameError {
	tb.Helper()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	out := make([]config.UnknownNameError, 0, len(errs))
	for _, e := range errs {
		var u *config.UnknownNameError
		if !errors.As(e, &u) {
			tb.Fatalf("error %v is not an *UnknownNameError", e)
		}
		out = append(out, *u)
	}
	return out
}
