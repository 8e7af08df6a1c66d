package secretsmanager

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/strata-go/strata/internal/awscall"
)

// A Reader and a KoanfProvider print, log and marshal as their specs and
// region only: never the client (which holds credentials), the secret values
// read, or the logger.

// Format prints the reader's specs and region for every verb.
func (l *Reader) Format(f fmt.State, verb rune) { awscall.WriteText(f, verb, l.String()) }

// String returns "secretsmanager.Reader{specs: [...], the client's region}".
func (l *Reader) String() string {
	if l == nil {
		return "secretsmanager.Reader(nil)"
	}
	return awscall.ReaderText("secretsmanager.Reader", l.specTexts(), l.where)
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

// Format prints the provider's layer for every verb.
func (p *KoanfProvider) Format(f fmt.State, verb rune) { awscall.WriteText(f, verb, p.String()) }

// String returns "secretsmanager.KoanfProvider{...}" with the layer's String.
func (p *KoanfProvider) String() string {
	if p == nil {
		return "secretsmanager.KoanfProvider(nil)"
	}
	return "secretsmanager.KoanfProvider{" + p.l.String() + "}"
}

// GoString returns String, for %#v.
func (p *KoanfProvider) GoString() string { return "&" + p.String() }

// LogValue logs String.
func (p *KoanfProvider) LogValue() slog.Value { return slog.StringValue(p.String()) }

// MarshalJSON renders the provider's layer.
func (p *KoanfProvider) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	return p.l.MarshalJSON()
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

// String returns "secretsmanager.state{versions: map[...]}".
func (st *state) String() string {
	if st == nil {
		return "secretsmanager.state(nil)"
	}
	return "secretsmanager.state{versions: " + fmt.Sprint(st.versions()) + "}"
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
