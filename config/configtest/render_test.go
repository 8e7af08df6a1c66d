package configtest_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/strata-go/strata/config/configtest"
)

// Reveals finds a secret in any form a rendering shows it in, deep in an
// error's tree too, and finds nothing where it is not.
func TestReveals(t *testing.T) {
	t.Parallel()
	const secret = "Kq7-render-secret"
	for name, v := range map[string]any{
		"plain":      "password=" + secret,
		"bytes %x":   []byte(secret),
		"deep error": fmt.Errorf("outer: %w", hiding{errors.New("inner " + secret)}),
	} {
		if how, _, ok := configtest.Reveals(v, secret); !ok {
			t.Errorf("%s: not found", name)
		} else if how == "" {
			t.Errorf("%s: found without saying how", name)
		}
	}
	if how, text, ok := configtest.Reveals(errors.New("nothing here"), secret); ok {
		t.Errorf("found in %s: %s", how, text)
	}
}

// hiding is an error whose text hides its cause, which Unwrap gives.
type hiding struct{ cause error }

func (h hiding) Error() string { return "hidden" }
func (h hiding) Unwrap() error { return h.cause }
