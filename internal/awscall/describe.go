package awscall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-go/strata/config"
)

// Where describes the region and endpoint of a client's options, for
// messages: "region eu-west-1 at http://127.0.0.1:4566", or "the client's
// region" when none is set.
func Where(region string, endpoint *string) string {
	where := "the client's region"
	if region != "" {
		where = "region " + region
	}
	if endpoint != nil && *endpoint != "" {
		where += " at " + *endpoint
	}
	return where
}

// ReaderText is how a layer's reader prints: its type, the text of its
// specs and where it reads ("ssm.Reader{specs: [...], region eu-west-1}"),
// never its client (which holds credentials), values or logger.
func ReaderText(typ string, specs []string, where string) string {
	return typ + "{specs: [" + strings.Join(specs, ", ") + "], " + where + "}"
}

// ReaderJSON is ReaderText as JSON: {"specs": [...], "where": "..."}.
func ReaderJSON(specs []string, where string) ([]byte, error) {
	return json.Marshal(map[string]any{"specs": specs, "where": where})
}

// WriteText writes text for a Format method: every verb prints it, %q
// quoted.
func WriteText(f fmt.State, verb rune, text string) {
	if verb == 'q' {
		text = strconv.Quote(text)
	}
	_, _ = f.Write([]byte(text))
}

// Unclassified fills se for a failure of op that no API error code
// explains: transient when reason (what failed in the transport or the
// service) is given, else a failure naming the code, if any.
func Unclassified(se *config.SourceError, op fmt.Stringer, err error, code, reason string) {
	if reason == "" {
		se.Message = fmt.Sprintf("%s failed", op)
		if code != "" {
			se.Message += " with " + code
		}
		return
	}
	se.Code = config.ErrTransient
	se.Message = fmt.Sprintf("%s failed%s: %s", op, Attempts(err), reason)
	if errors.Is(err, context.DeadlineExceeded) {
		se.Err = context.DeadlineExceeded
	}
}
