package configcheck

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Format prints the options that describe the service (name, prefix, files,
// sources, environment, interval) for every verb; the readers, writers and
// functions it holds, which may reach input or secrets, are never followed.
func (o Options) Format(f fmt.State, verb rune) {
	text := o.String()
	if verb == 'q' {
		text = strconv.Quote(text)
	}
	_, _ = f.Write([]byte(text))
}

// String returns the options that describe the service; see Format.
func (o Options) String() string {
	srcs := make([]string, len(o.SecretSources))
	for i, s := range o.SecretSources {
		srcs[i] = s.String()
	}
	return fmt.Sprintf("configcheck.Options{Name:%q EnvPrefix:%q EnvFiles:%q SecretSources:%v Environment:%q RefreshInterval:%s}",
		o.Name, o.EnvPrefix, o.EnvFiles, srcs, o.Environment, o.RefreshInterval)
}

// GoString returns String, for %#v.
func (o Options) GoString() string { return o.String() }

// LogValue logs String.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON renders the options that describe the service.
func (o Options) MarshalJSON() ([]byte, error) {
	srcs := make([]string, len(o.SecretSources))
	for i, s := range o.SecretSources {
		srcs[i] = s.String()
	}
	return json.Marshal(map[string]any{"Name": o.Name, "EnvPrefix": o.EnvPrefix, "EnvFiles": o.EnvFiles,
		"SecretSources": srcs, "Environment": o.Environment, "RefreshInterval": o.RefreshInterval.String()})
}
