package configcheck

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Format prints the options that describe the check (name and environment)
// for every verb; the setup function, readers, writers and environment it
// holds, which may reach input or secrets, are never followed.
func (o Options) Format(f fmt.State, verb rune) {
	text := o.String()
	if verb == 'q' {
		text = strconv.Quote(text)
	}
	_, _ = f.Write([]byte(text))
}

// String returns the options that describe the check; see Format.
func (o Options) String() string {
	return fmt.Sprintf("configcheck.Options{Name:%q Environment:%q Setup:%t}", o.Name, o.Environment, o.Setup != nil)
}

// GoString returns String, for %#v.
func (o Options) GoString() string { return o.String() }

// LogValue logs String.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON renders the options that describe the check.
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"Name": o.Name, "Environment": o.Environment, "Setup": o.Setup != nil})
}
