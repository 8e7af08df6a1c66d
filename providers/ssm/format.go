package ssm

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/strata-go/strata/internal/awscall"
)

// A Reader prints, logs and marshals as its specs and region only: never
// the client (which holds credentials), the values read, or the logger.

// Format prints the reader's specs and region for every verb.
func (l *Reader) Format(f fmt.State, verb rune) { awscall.WriteText(f, verb, l.String()) }

// String returns "ssm.Reader{specs: [...], region eu-west-1}".
func (l *Reader) String() string {
	if l == nil {
		return "ssm.Reader(nil)"
	}
	return awscall.ReaderText("ssm.Reader", l.specTexts(), l.where)
}

// GoString returns String, for %#v.
func (l *Reader) GoString() string { return "&" + l.String() }

// LogValue logs String.
func (l *Reader) LogValue() slog.Value { return slog.StringValue(l.String()) }

// MarshalJSON renders {"specs": [...], "where": "..."}.
func (l *Reader) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	return awscall.ReaderJSON(l.specTexts(), l.where)
}

// specTexts returns the text of each spec.
func (l *Reader) specTexts() []string {
	out := make([]string, len(l.sources))
	for i, s := range l.sources {
		out[i] = s.String()
	}
	return out
}

// A state (the config.State a store keeps for the layer) holds the values
// read: it prints, logs and marshals as the versions it names only.

// Format prints the versions of the state for every verb.
func (st *state) Format(f fmt.State, verb rune) { awscall.WriteText(f, verb, st.String()) }

// String returns "ssm.state{versions: map[...]}".
func (st *state) String() string {
	if st == nil {
		return "ssm.state(nil)"
	}
	return "ssm.state{versions: " + fmt.Sprint(st.versions()) + "}"
}

// GoString returns String, for %#v.
func (st *state) GoString() string { return st.String() }

// LogValue logs String.
func (st *state) LogValue() slog.Value { return slog.StringValue(st.String()) }

// MarshalJSON renders {"versions": {...}}.
func (st *state) MarshalJSON() ([]byte, error) {
	if st == nil {
		return []byte("null"), nil
	}
	return json.Marshal(map[string]any{"versions": st.versions()})
}

// A param holds a value: it prints as its name and version only.

// Format prints the parameter's name, type and version for every verb.
func (p *param) Format(f fmt.State, verb rune) { awscall.WriteText(f, verb, p.String()) }

// String returns "ssm.param{/a/b SecureString version 3}".
func (p *param) String() string {
	if p == nil {
		return "ssm.param(nil)"
	}
	return fmt.Sprintf("ssm.param{%s %s version %d}", p.name, p.typ, p.version)
}

// GoString returns String, for %#v.
func (p *param) GoString() string { return p.String() }

// LogValue logs String.
func (p *param) LogValue() slog.Value { return slog.StringValue(p.String()) }

// MarshalJSON renders the name, type and version.
func (p *param) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"name": p.name, "type": string(p.typ), "version": p.version})
}
