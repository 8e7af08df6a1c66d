package secretsmanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/strata-go/strata/config"
)

// secret is one fetched version of a secret. It holds the value: never log
// or print it.
type secret struct {
	name      string
	arn       string
	versionID string
	stages    []string
	text      string
	hasText   bool
	bin       []byte
	created   time.Time // the version's CreatedDate; zero when the answer had none
}

func (s *secret) size() int {
	if s.hasText {
		return max(len(s.text), len(s.bin))
	}
	return len(s.bin)
}

// textBytes prefers SecretString, binaryBytes prefers SecretBinary.
func (s *secret) textBytes() []byte {
	if s.hasText {
		return []byte(s.text)
	}
	return s.bin
}

func (s *secret) binaryBytes() []byte {
	if s.bin != nil {
		return s.bin
	}
	return []byte(s.text)
}

func (s *secret) textValue() string {
	if s.hasText {
		return s.text
	}
	return string(s.bin)
}

// binding says where the values of one fetched ref go.
type binding struct {
	kind kind // kindPrefix for a secret discovered under a prefix
	ref  ref
	key  string // the mount key, or the key path of a discovered secret
}

// stageOf is the stage reported in provenance.
func stageOf(r ref, s *secret) string {
	switch {
	case r.stage != "":
		return r.stage
	case r.versionID == "":
		return StageCurrent
	case slices.Contains(s.stages, StageCurrent):
		return StageCurrent
	case len(s.stages) > 0:
		return s.stages[0]
	}
	return ""
}

// mapper turns fetched secrets into config values for a schema, or into a
// nested map when schema is nil (for koanf).
type mapper struct {
	schema *config.Schema
	strict bool
	values config.Values
	tree   map[string]any
	errs   []error
	warns  []error
	seen   map[string]bool // error texts already reported
}

func newMapper(schema *config.Schema, strict bool) *mapper {
	return &mapper{
		schema: schema,
		strict: strict,
		values: config.Values{},
		tree:   map[string]any{},
		seen:   map[string]bool{},
	}
}

func (m *mapper) fail(err error) {
	if msg := err.Error(); !m.seen[msg] {
		m.seen[msg] = true
		m.errs = append(m.errs, err)
	}
}

// unknown reports a key that maps to no field: a warning, or an error with
// StrictKeys.
func (m *mapper) unknown(key string, src config.Source) {
	if m.schema == nil {
		return
	}
	u := m.schema.UnknownKey(key, src)
	if !m.strict {
		m.warns = append(m.warns, u)
		return
	}
	// Not ErrUnknownName: the store downgrades those to warnings unless its
	// own Strict option is set, and StrictKeys asks for an error.
	id, _, _ := strings.Cut(src.Location, "#")
	m.fail(&config.SourceError{
		Layer:   LayerName,
		Source:  id,
		Code:    config.ErrMalformed,
		Message: "key " + u.Error() + " (StrictKeys is set)",
	})
}

// unknownSecret reports a key that maps to no field and is part of a secret's
// content (a key of its JSON document) or of a name found under a prefix: the
// error names the secret (src, which must not hold the key) and never the key
// (see config.Schema.UnknownSecretKeyUnder), and lists the names the schema
// has under mount, where the secret is mounted. Identical reports are made
// once.
func (m *mapper) unknownSecret(mount, key string, src config.Source) {
	if m.schema == nil {
		return
	}
	u := m.schema.UnknownSecretKeyUnder(mount, key, src)
	if !m.strict {
		if msg := u.Error(); !m.seen[msg] {
			m.seen[msg] = true
			m.warns = append(m.warns, u)
		}
		return
	}
	msg := "a key maps to no field"
	if len(u.Known) > 0 {
		what := "the keys under " + mount
		if mount == "" {
			what = "the top-level keys"
		}
		msg += " (" + what + " are " + strings.Join(u.Known, ", ") + ")"
	}
	if u.Suggestion != "" {
		msg += "; did you mean " + u.Suggestion + "?"
	}
	m.fail(malformed(src.Location, msg+" (key not shown: it is part of the secret; StrictKeys is set)"))
}

func (m *mapper) source(b binding, s *secret, jsonKey string) config.Source {
	loc := b.ref.id
	if jsonKey != "" {
		loc += "#" + jsonKey
	}
	return config.Source{Layer: LayerName, Location: loc, Version: s.versionID, Stage: stageOf(b.ref, s)}
}

func (m *mapper) set(key string, raw any, src config.Source) {
	if m.schema != nil {
		m.values[key] = config.Value{Raw: raw, Source: src}
		return
	}
	setPath(m.tree, key, raw)
}

func (m *mapper) field(key string) *config.Field {
	if m.schema == nil || key == "" {
		return nil
	}
	return m.schema.Field(key)
}

// isMount reports whether key can take a JSON object: the root or a section.
func (m *mapper) isMount(key string) bool {
	return m.schema == nil || key == "" || m.schema.IsSection(key)
}

func (m *mapper) bind(b binding, s *secret) {
	if n := s.size(); n > maxValueSize {
		m.fail(malformed(b.ref.id, fmt.Sprintf("the value is %d bytes, over the Secrets Manager limit of %d bytes", n, maxValueSize)))
		return
	}
	switch b.kind {
	case kindString:
		if m.schema != nil && m.field(b.key) == nil {
			m.unknown(b.key, m.source(b, s, ""))
			return
		}
		m.set(b.key, s.textValue(), m.source(b, s, ""))
	case kindJSON:
		if m.field(b.key) == nil && !m.isMount(b.key) {
			// The spec's key is the program's (a typo such as "databse"):
			// name it, rather than each key of the secret it would hide.
			m.unknown(b.key, m.source(b, s, ""))
			return
		}
		m.object(b, s, s.textBytes())
	case kindBinary:
		data := s.binaryBytes()
		if m.field(b.key) != nil {
			m.set(b.key, data, m.source(b, s, ""))
			return
		}
		if doc, err := parseObject(data); err == nil {
			m.mount(b, s, doc)
			return
		}
		if m.schema == nil {
			m.set(b.key, data, m.source(b, s, ""))
			return
		}
		if !m.isMount(b.key) {
			m.unknown(b.key, m.source(b, s, ""))
			return
		}
		m.object(b, s, data)
	case kindPrefix:
		if f := m.field(b.key); f != nil {
			m.set(b.key, leafValue(f, s), m.source(b, s, ""))
			return
		}
		if m.schema == nil {
			if doc, err := parseObject(s.textBytes()); err == nil {
				m.mount(b, s, doc)
			} else if s.hasText {
				m.set(b.key, s.text, m.source(b, s, ""))
			} else {
				m.set(b.key, s.bin, m.source(b, s, ""))
			}
			return
		}
		m.object(b, s, s.textBytes())
	}
}

// leafValue is the raw value of a discovered secret for one field: its text,
// or the parsed JSON for a map or list field when the text is JSON.
func leafValue(f *config.Field, s *secret) any {
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	structured := t.Kind() == reflect.Map || (t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8)
	if structured {
		if v, err := parseJSON(s.textBytes()); err == nil {
			switch v.(type) {
			case map[string]any, []any:
				return v
			}
		}
	}
	if !s.hasText {
		return s.bin
	}
	return s.text
}

// object parses data as a JSON object and mounts it.
func (m *mapper) object(b binding, s *secret, data []byte) {
	doc, err := parseObject(data)
	if err != nil {
		m.fail(malformed(b.ref.id, err.Error()))
		return
	}
	m.mount(b, s, doc)
}

// mount puts a parsed object under the binding's key: whole when the key is a
// field, key by key through Schema.Flatten otherwise.
func (m *mapper) mount(b binding, s *secret, doc map[string]any) {
	if m.schema == nil || m.field(b.key) != nil {
		m.set(b.key, doc, m.source(b, s, ""))
		return
	}
	jsonKey := func(key string) string {
		if b.key == "" {
			return key
		}
		return strings.TrimPrefix(key, b.key+".")
	}
	vals := m.schema.Flatten(b.key, doc,
		func(key string) config.Source { return m.source(b, s, jsonKey(key)) },
		func(key string) { m.unknownSecret(b.key, key, m.source(b, s, "")) },
	)
	for k, v := range vals {
		m.values[k] = v
	}
}

// objectError is the reason a value is not a JSON object. Its text never
// contains any part of the value.
type objectError string

func (e objectError) Error() string { return string(e) }

// parseObject decodes a JSON object. Its errors give a byte offset or a type,
// never content.
func parseObject(data []byte) (map[string]any, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, objectError(jsonError(err))
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, objectError(fmt.Sprintf("the value is a JSON %s, expected a JSON object", jsonKind(v)))
	}
	return doc, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "value"
}

// maxJSONDepth bounds the nesting of a JSON secret, as encoding/json does.
const maxJSONDepth = 1000

// parseJSON decodes one JSON value the way config.Value documents it:
// objects as map[string]any, arrays as []any, numbers as json.Number exactly
// as written (an integer above 2^53 keeps every digit). An object with a
// repeated key is an error: which of its values is meant is not clear.
func parseJSON(data []byte) (any, error) {
	if !json.Valid(data) {
		// encoding/json's syntax errors give the offset users expect.
		return nil, json.Unmarshal(data, new(any))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseJSONValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &jsonShapeError{msg: "data after the JSON value", offset: dec.InputOffset()}
	}
	return v, nil
}

func parseJSONValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, &jsonShapeError{msg: "JSON nested too deeply", offset: dec.InputOffset()}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			at := dec.InputOffset()
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			if _, dup := obj[k]; dup {
				return nil, &jsonShapeError{msg: "a JSON object repeats a key", offset: at}
			}
			if obj[k], err = parseJSONValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err = dec.Token() // }
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := parseJSONValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token() // ]
		return arr, err
	}
	return tok, nil
}

// jsonShapeError is a JSON document that parses but cannot be used. It names
// a byte offset, never content.
type jsonShapeError struct {
	msg    string
	offset int64
}

func (e *jsonShapeError) Error() string { return fmt.Sprintf("%s at byte offset %d", e.msg, e.offset) }

// setPath stores v at the dotted key in a nested map, merging objects.
func setPath(tree map[string]any, key string, v any) {
	if key == "" {
		if doc, ok := v.(map[string]any); ok {
			mergeMaps(tree, doc)
		}
		return
	}
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := tree[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			tree[p] = next
		}
		tree = next
	}
	last := parts[len(parts)-1]
	if doc, ok := v.(map[string]any); ok {
		if old, ok := tree[last].(map[string]any); ok {
			mergeMaps(old, doc)
			return
		}
		cp := map[string]any{}
		mergeMaps(cp, doc)
		v = cp
	}
	tree[last] = v
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			dv, ok := dst[k].(map[string]any)
			if !ok {
				dv = map[string]any{}
				dst[k] = dv
			}
			mergeMaps(dv, sv)
			continue
		}
		dst[k] = v
	}
}

// joinErrs joins errors in order, or returns nil.
func joinErrs(groups ...[]error) error {
	var all []error
	for _, g := range groups {
		all = append(all, g...)
	}
	return errors.Join(all...)
}
