package configcheck

import (
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
)

// TestClassifyDotenvWarning checks that a warning of the .env layer is a
// warning here too, as it is for the store, and an error when strict.
func TestClassifyDotenvWarning(t *testing.T) {
	t.Parallel()
	w := &dotenv.Warning{Kind: dotenv.UndefinedVariable, Name: "APP_X", Variable: "UNSET",
		Source: config.Source{Layer: "dotenv", Location: ".env", Line: 3}}
	if f := classify(w, policy{}); f.Severity != severityWarning || f.Kind != kindUnknownName || f.Message != w.Error() {
		t.Errorf("classify = %+v, want an unknown-name warning", f)
	}
	if f := classify(w, policy{strict: true}); f.Severity != severityError {
		t.Errorf("strict classify = %+v, want an error", f)
	}
}
