package config

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
)

// KeyInfo describes one field of the current snapshot: where its value came
// from and a printable form of it. It is safe to print and log: a secret's value
// is replaced by [REDACTED] and a fingerprint.
type KeyInfo struct {
	Key    string // "database.host"
	Env    string // "APP_DATABASE_HOST"
	Type   string // "string", "duration", "secret", ...
	Secret bool
	// Set is false when no layer and no default supplied a value.
	Set bool
	// Value is the value as the layer gave it, for fields that are not secret;
	// [REDACTED] for secrets that are set.
	Value string
	// Fingerprint is a short keyed hash of a secret's value (see Fingerprint), so
	// two environments can be compared without showing it. Empty for other fields.
	Fingerprint string
	// Source says which layer set the value and where: "default", ".env:12",
	// "env APP_DATABASE_HOST", "secretsmanager my-app/production/database#host".
	Source Source
}

// Explain describes the field with the given key in the current snapshot.
func (s *Store[T]) Explain(key string) (KeyInfo, bool) {
	if s.current() == nil {
		return KeyInfo{}, false
	}
	f := s.schema.byKey[key]
	if f == nil {
		return KeyInfo{}, false
	}
	return keyInfo(f, s.snap.Load().values[f.pos], s.opts.FingerprintKey), true
}

// Keys describes every field of the current snapshot, in schema order.
func (s *Store[T]) Keys() []KeyInfo {
	snap := s.current()
	if snap == nil {
		return nil
	}
	values := snap.values
	out := make([]KeyInfo, len(s.schema.fields))
	for i, f := range s.schema.fields {
		out[i] = keyInfo(f, values[i], s.opts.FingerprintKey)
	}
	return out
}

// Explain describes every field of schema given merged values, in schema order,
// with fingerprints under fingerprintKey (nil for the default; see
// Options.FingerprintKey). Tools that read layers without a store (such as
// configcheck) use it.
//
// Values need not be valid. A value that does not decode into its field's
// type is shown as [REDACTED], with no fingerprint, whatever its layer: it may
// be secret text that a sensitive source put under the wrong key (a JSON
// secret whose keys are shifted). The load's error says what is wrong with it.
func Explain(schema *Schema, values Values, fingerprintKey []byte) []KeyInfo {
	out := make([]KeyInfo, 0, len(schema.fields))
	for _, f := range schema.fields {
		v, ok := values[f.Key]
		ki := keyInfo(f, slot{Value: v, set: ok}, fingerprintKey)
		if ok && !ki.Secret && decodeField(f, reflect.New(f.Type).Elem(), v.Raw) != nil {
			ki.Value, ki.Fingerprint = Redacted, ""
		}
		out = append(out, ki)
	}
	return out
}

func keyInfo(f *Field, v slot, fingerprintKey []byte) KeyInfo {
	ki := KeyInfo{Key: f.Key, Env: f.Env, Type: f.TypeName(), Secret: f.Secret}
	if !v.set {
		return ki
	}
	ki.Set, ki.Source = true, v.Source
	text := rawText(v.Raw)
	if f.Secret || v.Secret {
		ki.Value = Redacted
		ki.Fingerprint = FingerprintWithKey(fingerprintKey, text)
		return ki
	}
	ki.Value = text
	return ki
}

// rawText renders a raw layer value: strings as they are, anything else as JSON.
func rawText(raw any) string {
	switch v := raw.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	if s, err := scalarString(raw, ""); err == nil {
		return s
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return ""
	}
	return string(b)
}

// Masked returns the whole current configuration in a printable, loggable form
// with every secret replaced by [REDACTED]: it prints one "key = value" line a
// field, marshals to nested JSON, and logs as nested slog groups.
func (s *Store[T]) Masked() MaskedConfig { return MaskedConfig(s.Keys()) }

// MaskedConfig is a configuration with its secrets masked; see Store.Masked.
type MaskedConfig []KeyInfo

// String renders one "key = value" line a field, in schema order: the value,
// "[REDACTED] fp:" and the fingerprint for a secret, or "(unset)" (see
// KeyInfo.Display).
func (m MaskedConfig) String() string {
	var b strings.Builder
	for _, k := range m {
		b.WriteString(k.Key)
		b.WriteString(" = ")
		b.WriteString(k.Display())
		b.WriteString("\n")
	}
	return b.String()
}

// Display returns the value as Strata prints it: the value, "[REDACTED] fp:"
// and the fingerprint for a secret, or "(unset)".
func (k KeyInfo) Display() string {
	switch {
	case !k.Set:
		return "(unset)"
	case k.Secret && k.Fingerprint == "":
		return Redacted
	case k.Secret:
		return Redacted + " fp:" + k.Fingerprint
	}
	return k.Value
}

// MarshalJSON renders the configuration as nested JSON objects of masked
// strings: {"database":{"host":"db","password":"[REDACTED]"}}.
func (m MaskedConfig) MarshalJSON() ([]byte, error) {
	root := map[string]any{}
	for _, k := range m {
		if !k.Set {
			continue
		}
		parts := strings.Split(k.Key, ".")
		node := root
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		v := k.Value
		if k.Secret {
			v = Redacted
		}
		node[parts[len(parts)-1]] = v
	}
	return json.Marshal(root)
}

// LogValue renders the configuration as nested slog groups.
func (m MaskedConfig) LogValue() slog.Value {
	type node struct {
		attrs []slog.Attr
		kids  map[string]*node
		order []string
	}
	root := &node{kids: map[string]*node{}}
	for _, k := range m {
		if !k.Set {
			continue
		}
		parts := strings.Split(k.Key, ".")
		n := root
		for _, p := range parts[:len(parts)-1] {
			child := n.kids[p]
			if child == nil {
				child = &node{kids: map[string]*node{}}
				n.kids[p] = child
				n.order = append(n.order, p)
			}
			n = child
		}
		v := k.Value
		if k.Secret {
			v = Redacted
		}
		n.attrs = append(n.attrs, slog.String(parts[len(parts)-1], v))
	}
	var build func(n *node) slog.Value
	build = func(n *node) slog.Value {
		attrs := slices.Clone(n.attrs)
		for _, name := range n.order {
			attrs = append(attrs, slog.Attr{Key: name, Value: build(n.kids[name])})
		}
		return slog.GroupValue(attrs...)
	}
	return build(root)
}
