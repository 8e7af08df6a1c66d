package config

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// decodeFunc stores raw (a string, or a JSON value) into dst, which is
// addressable, of the field's type and holds its zero value. Its error says
// what was expected and where inside the value (an item number), and never
// contains any part of raw: no text, no map key, no item. The store decides
// whether the value itself may be shown.
type decodeFunc func(dst reflect.Value, raw any) error

// decodeOpts are the options of one field that change how it decodes.
type decodeOpts struct {
	nonFinite bool // floats accept NaN and infinities
}

// decoders builds the decoder of one field type once, when the schema is
// computed, so decoding a load is a walk over prepared functions. stack holds
// the types being built, to find a type that contains itself.
type decoders struct {
	opts  decodeOpts
	stack []reflect.Type
}

func (d *decoders) build(t reflect.Type) (decodeFunc, error) {
	if slices.Contains(d.stack, t) {
		return nil, fmt.Errorf("recursive type %s: a value of it can contain itself, which configuration cannot describe", t)
	}
	d.stack = append(d.stack, t)
	defer func() { d.stack = d.stack[:len(d.stack)-1] }()
	if dec := wellKnownDecoder(t); dec != nil {
		return dec, nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, fmt.Errorf("unsupported type %s: an interface cannot be decoded; use a concrete type", t)
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Uintptr:
		return nil, fmt.Errorf("unsupported type %s: a %s cannot be set from configuration", t, t.Kind())
	}
	if t.Kind() != reflect.Pointer && t.Implements(textType) {
		return nil, fmt.Errorf("unsupported type %s: its UnmarshalText has a value receiver (or comes from an embedded pointer or interface), so it cannot set the value; declare it on *%s", t, t.Name())
	}
	if reflect.PointerTo(t).Implements(textType) {
		return textDecoder(t), nil
	}
	switch t.Kind() {
	case reflect.String:
		return stringDecoder, nil
	case reflect.Bool:
		return boolDecoder, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intDecoder(t), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return uintDecoder(t), nil
	case reflect.Float32, reflect.Float64:
		return floatDecoder(t, d.opts.nonFinite), nil
	case reflect.Complex64, reflect.Complex128:
		return complexDecoder(t, d.opts.nonFinite), nil
	case reflect.Pointer:
		return d.pointer(t)
	case reflect.Slice:
		return d.slice(t)
	case reflect.Array:
		return d.array(t)
	case reflect.Map:
		return d.mapping(t)
	case reflect.Struct:
		if reaches(t, d.stack, map[reflect.Type]bool{}) {
			return nil, fmt.Errorf("recursive type %s: a value of it can contain itself, which configuration cannot describe", t)
		}
		return nil, structError(t)
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// reaches reports whether a value of type t can hold a value of one of the
// types in targets.
func reaches(t reflect.Type, targets []reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return slices.Contains(targets, t.Elem()) || reaches(t.Elem(), targets, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			ft := t.Field(i).Type
			if slices.Contains(targets, ft) || reaches(ft, targets, seen) {
				return true
			}
		}
	}
	return false
}

// structError explains why a struct type that is not a section cannot be a
// value: inside a pointer, list or map, or a type defined from Secret.
func structError(t reflect.Type) error {
	if isDerivedSecret(t) {
		return derivedSecretError(t)
	}
	return fmt.Errorf("unsupported type %s: a struct inside a pointer, list or map cannot be set from configuration; "+
		"use the struct itself as a field (a section of keys), or %s", t, unmarshalTextAdvice(t))
}

// unmarshalTextAdvice tells how to give t a text form: UnmarshalText on its
// pointer, which an unnamed type such as struct{ A int } first needs a name for.
func unmarshalTextAdvice(t reflect.Type) string {
	if t.Name() == "" {
		return "declare a named type for it with UnmarshalText on its pointer"
	}
	return "declare UnmarshalText on *" + t.Name()
}

// derivedSecretError is the error for `type P config.Secret`: such a type has
// none of Secret's methods, so it would print its value.
func derivedSecretError(t reflect.Type) error {
	return fmt.Errorf("type %s is defined from config.Secret but has none of its methods, so it would print its value; "+
		"use config.Secret, an alias (type %s = config.Secret), or embed it (type %s struct{ config.Secret })", t, t.Name(), t.Name())
}

// isDerivedSecret reports whether t is a struct type defined from Secret
// (type P config.Secret), which has Secret's fields but not its methods.
func isDerivedSecret(t reflect.Type) bool {
	return t != secretType && t.Kind() == reflect.Struct && t.ConvertibleTo(secretType)
}

func wellKnownDecoder(t reflect.Type) decodeFunc {
	switch t {
	case secretType:
		return func(dst reflect.Value, raw any) error {
			if raw == nil {
				return nil
			}
			s, err := scalarString(raw, "a string")
			if err == nil {
				dst.Set(reflect.ValueOf(NewSecret(s)))
			}
			return err
		}
	case durationType:
		return parsedDecoder(t, "a duration such as 5s, 250ms or 1m30s", func(s string) (any, error) {
			return time.ParseDuration(s)
		})
	case urlType:
		return parsedDecoder(t, "a URL such as https://example.com/path", func(s string) (any, error) {
			u, err := url.Parse(s)
			if err != nil {
				return nil, err
			}
			return *u, nil
		})
	case timeType:
		return parsedDecoder(t, "an RFC 3339 time such as 2026-01-02T15:04:05Z", func(s string) (any, error) {
			return time.Parse(time.RFC3339Nano, s)
		})
	case jsonNumberType:
		return jsonNumberDecoder
	}
	return nil
}

// jsonNumberDecoder takes a number, or text that is a JSON number, exactly as
// written.
func jsonNumberDecoder(dst reflect.Value, raw any) error {
	if raw == nil {
		return nil
	}
	s, _, ok := numberText(raw)
	if !ok || !isJSONNumberText(s) || !json.Valid([]byte(s)) {
		return expected("a number", raw)
	}
	dst.SetString(s)
	return nil
}

// parsedDecoder decodes text (trimmed) with parse, or takes a value that
// already has the type t, as a koanf provider of Go values may give.
func parsedDecoder(t reflect.Type, expect string, parse func(string) (any, error)) decodeFunc {
	return func(dst reflect.Value, raw any) error {
		if raw == nil {
			return nil
		}
		if rv := reflect.ValueOf(raw); rv.Type() == t {
			dst.Set(rv)
			return nil
		}
		s, ok := textOf(raw)
		if !ok {
			return expected(expect, raw)
		}
		v, err := parse(strings.TrimSpace(s))
		if err != nil {
			return expected(expect, raw)
		}
		dst.Set(reflect.ValueOf(v).Convert(t))
		return nil
	}
}

func isJSONNumberText(s string) bool {
	return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// textDecoder calls UnmarshalText on *T. A panic in it is reported as a bad
// value; its message and error are dropped, as they may quote the input.
func textDecoder(t reflect.Type) decodeFunc {
	expect := "a valid " + t.String()
	return func(dst reflect.Value, raw any) (err error) {
		if raw == nil {
			return nil
		}
		s, err := scalarString(raw, expect)
		if err != nil {
			return err
		}
		defer func() {
			if recover() != nil {
				err = errors.New("expected " + expect + " (its UnmarshalText panicked)")
			}
		}()
		if dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)) != nil {
			return errors.New("expected " + expect)
		}
		return nil
	}
}

func stringDecoder(dst reflect.Value, raw any) error {
	if raw == nil {
		return nil
	}
	s, err := scalarString(raw, "a string")
	if err == nil {
		dst.SetString(s)
	}
	return err
}

func boolDecoder(dst reflect.Value, raw any) error {
	const expect = "a boolean (true, false, 1, 0)"
	switch v := raw.(type) {
	case nil:
		return nil
	case bool:
		dst.SetBool(v)
		return nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			dst.SetBool(b)
			return nil
		}
	}
	return expected(expect, raw)
}

func intDecoder(t reflect.Type) decodeFunc {
	bits := t.Bits()
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	expect := fmt.Sprintf("an integer from %d to %d", lo, hi)
	rangeErr := expect
	if t.Kind() == reflect.Int {
		expect, rangeErr = "an integer", "an integer (the value is out of range)"
	}
	return func(dst reflect.Value, raw any) error {
		if raw == nil {
			return nil
		}
		s, jsonNum, ok := numberText(raw)
		if !ok {
			return expected(expect, raw)
		}
		if jsonNum {
			var err error
			if s, err = exactInteger(s); err != nil {
				return expected(rangeOr(err, rangeErr, expect), raw)
			}
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return expected(rangeOr(err, rangeErr, expect), raw)
		}
		dst.SetInt(n)
		return nil
	}
}

func uintDecoder(t reflect.Type) decodeFunc {
	bits := t.Bits()
	hi := uint64(1)<<(bits-1)<<1 - 1
	expect := fmt.Sprintf("an integer from 0 to %d", hi)
	rangeErr := expect
	if t.Kind() == reflect.Uint {
		expect, rangeErr = "an integer of 0 or more", "an integer of 0 or more (the value is out of range)"
	}
	return func(dst reflect.Value, raw any) error {
		if raw == nil {
			return nil
		}
		s, jsonNum, ok := numberText(raw)
		if !ok {
			return expected(expect, raw)
		}
		if jsonNum {
			var err error
			if s, err = exactInteger(s); err == nil && strings.HasPrefix(s, "-") {
				err = strconv.ErrRange
			}
			if err != nil {
				return expected(rangeOr(err, rangeErr, expect), raw)
			}
		}
		n, err := strconv.ParseUint(s, 10, bits)
		if err != nil {
			return expected(rangeOr(err, rangeErr, expect), raw)
		}
		dst.SetUint(n)
		return nil
	}
}

// exactInteger rewrites the text of a JSON number as plain decimal digits
// when it is exactly an integer, however it is written (10, 1e16, 1.5e1,
// 9007199254740993.0). A number with a fraction that is not zero is
// strconv.ErrSyntax, however close to an integer (1.0000000000000001); one
// with more than 20 digits is strconv.ErrRange. No float is involved, so
// no value is rounded.
func exactInteger(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || (hasExp && !validExponent(expText)) {
		return "", strconv.ErrSyntax
	}
	digits := strings.TrimLeft(whole+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return "0", nil
	}
	exp := len(digits) - len(trimmed) - len(frac) // the power of ten after trimmed
	if hasExp {
		e, err := strconv.Atoi(expText)
		switch {
		case err != nil && strings.HasPrefix(expText, "-"):
			return "", strconv.ErrSyntax
		case err != nil:
			return "", strconv.ErrRange
		}
		exp += e
	}
	switch {
	case exp < 0:
		return "", strconv.ErrSyntax
	case len(trimmed)+exp > 20:
		return "", strconv.ErrRange
	}
	out := trimmed + strings.Repeat("0", exp)
	if neg {
		out = "-" + out
	}
	return out, nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validExponent(s string) bool {
	s = strings.TrimLeft(s, "+-")
	return s != "" && allDigits(s)
}

// rangeOr returns rangeMsg for a range error and msg for any other.
func rangeOr(err error, rangeMsg, msg string) string {
	if isRange(err) {
		return rangeMsg
	}
	return msg
}

func isRange(err error) bool { return errors.Is(err, strconv.ErrRange) }

func floatDecoder(t reflect.Type, nonFinite bool) decodeFunc {
	bits := t.Bits()
	expect := "a number"
	if !nonFinite {
		expect = "a finite number (NaN and infinities need the tag option config:\",nonfinite\")"
	}
	return func(dst reflect.Value, raw any) error {
		if raw == nil {
			return nil
		}
		s, _, ok := numberText(raw)
		if !ok {
			return expected("a number", raw)
		}
		f, err := strconv.ParseFloat(s, bits)
		switch {
		case isRange(err):
			return expected(fmt.Sprintf("a number within the range of float%d", bits), raw)
		case err != nil:
			return expected("a number", raw)
		case !nonFinite && (math.IsNaN(f) || math.IsInf(f, 0)):
			return expected(expect, raw)
		}
		dst.SetFloat(f)
		return nil
	}
}

func complexDecoder(t reflect.Type, nonFinite bool) decodeFunc {
	bits := t.Bits()
	const expect = "a complex number such as 1+2i"
	return func(dst reflect.Value, raw any) error {
		if raw == nil {
			return nil
		}
		s, _, ok := numberText(raw)
		if !ok {
			return expected(expect, raw)
		}
		c, err := strconv.ParseComplex(s, bits)
		if err != nil {
			return expected(expect, raw)
		}
		if !nonFinite && (math.IsNaN(real(c)) || math.IsNaN(imag(c)) || math.IsInf(real(c), 0) || math.IsInf(imag(c), 0)) {
			return expected("a finite complex number (NaN and infinities need the tag option config:\",nonfinite\")", raw)
		}
		dst.SetComplex(c)
		return nil
	}
}

func (d *decoders) pointer(t reflect.Type) (decodeFunc, error) {
	elem, err := d.build(t.Elem())
	if err != nil {
		return nil, err
	}
	return func(dst reflect.Value, raw any) error {
		if isEmpty(raw) {
			return nil // an empty value leaves the pointer nil: unset
		}
		p := reflect.New(t.Elem())
		if err := elem(p.Elem(), raw); err != nil {
			return err
		}
		dst.Set(p.Convert(t))
		return nil
	}, nil
}

func (d *decoders) slice(t reflect.Type) (decodeFunc, error) {
	if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(textType) {
		return bytesDecoder, nil
	}
	elem, err := d.build(t.Elem())
	if err != nil {
		return nil, err
	}
	return func(dst reflect.Value, raw any) error {
		if isEmpty(raw) {
			return nil // no items: the list stays nil
		}
		items, err := listItems(t.Elem(), raw)
		if err != nil {
			return err
		}
		out := reflect.MakeSlice(t, len(items), len(items))
		if err := decodeItems(out, items, elem); err != nil {
			return err
		}
		dst.Set(out)
		return nil
	}, nil
}

func bytesDecoder(dst reflect.Value, raw any) error {
	if isEmpty(raw) {
		return nil
	}
	if b, ok := raw.([]byte); ok {
		dst.SetBytes(append([]byte(nil), b...))
		return nil
	}
	s, err := scalarString(raw, "text or bytes")
	if err == nil {
		dst.SetBytes([]byte(s))
	}
	return err
}

func (d *decoders) array(t reflect.Type) (decodeFunc, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		return nil, fmt.Errorf("unsupported type %s: use []byte for text or bytes, or a type whose *T has UnmarshalText (for example a hex or base64 key)", t)
	}
	elem, err := d.build(t.Elem())
	if err != nil {
		return nil, err
	}
	n := t.Len()
	expect := fmt.Sprintf("a list of exactly %d items", n)
	return func(dst reflect.Value, raw any) error {
		if isEmpty(raw) {
			return nil
		}
		items, err := listItems(t.Elem(), raw)
		if err != nil {
			return err
		}
		if len(items) != n {
			return errors.New("expected " + expect)
		}
		return decodeItems(dst, items, elem)
	}, nil
}

// listItems splits text at commas, or takes a JSON array. A list of lists or
// maps cannot be written as comma-separated text (its commas would be
// ambiguous); as text it is a JSON array. Text items are never empty: "a,,b"
// and "a," are errors, whatever the item type.
func listItems(elem reflect.Type, raw any) ([]any, error) {
	switch v := raw.(type) {
	case []any:
		return v, nil
	case string:
		if isContainer(elem) {
			return jsonText[[]any](v, "a JSON array (a list of "+typeName(elem)+" cannot be written as comma-separated text)")
		}
		items := splitList(v)
		for i, it := range items {
			if it == "" {
				return nil, fmt.Errorf("item %d is empty: a comma-separated list has no empty items", i+1)
			}
		}
		return items, nil
	}
	return nil, expected("a comma-separated list of "+typeName(elem), raw)
}

// jsonText parses text that holds a JSON array or object (T is []any or
// map[string]any), with numbers kept exactly as written. Its error says what
// was expected and never quotes the text.
func jsonText[T any](s, expect string) (T, error) {
	var out T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&out) != nil || dec.Decode(new(any)) != io.EOF {
		var zero T
		return zero, errors.New("expected " + expect)
	}
	return out, nil
}

func decodeItems(out reflect.Value, items []any, elem decodeFunc) error {
	for i, it := range items {
		if err := elem(out.Index(i), it); err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	return nil
}

func (d *decoders) mapping(t reflect.Type) (decodeFunc, error) {
	if t.Key().Kind() != reflect.String {
		return nil, fmt.Errorf("unsupported type %s: map keys must be strings", t)
	}
	elem, err := d.build(t.Elem())
	if err != nil {
		return nil, err
	}
	return func(dst reflect.Value, raw any) error {
		if isEmpty(raw) {
			return nil // no entries: the map stays nil
		}
		out := reflect.MakeMap(t)
		put := func(k string, v any) error {
			ev := reflect.New(t.Elem()).Elem()
			if err := elem(ev, v); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
			return nil
		}
		var err error
		switch v := raw.(type) {
		case string:
			err = textEntries(t, v, put)
		case map[string]any:
			err = objectEntries(v, put)
		default:
			err = expected("key=value pairs separated by commas, such as a=1,b=2, or a JSON object", raw)
		}
		if err != nil {
			return err
		}
		dst.Set(out)
		return nil
	}, nil
}

// textEntries decodes "k=v,k2=v2". An entry is named by its position, never
// by its key, which may be secret.
func textEntries(t reflect.Type, s string, put func(string, any) error) error {
	if isContainer(t.Elem()) {
		obj, err := jsonText[map[string]any](s, "a JSON object (a map of "+typeName(t.Elem())+" cannot be written as key=value text)")
		if err != nil {
			return err
		}
		return objectEntries(obj, put)
	}
	seen := map[string]bool{}
	items := splitList(s)
	for i, item := range items {
		k, val, ok := strings.Cut(item.(string), "=")
		k = strings.TrimSpace(k)
		var err error
		switch {
		case !ok:
			err = errors.New("expected key=value pairs separated by commas, such as a=1,b=2")
		case k == "":
			err = errors.New("the key is empty")
		case seen[k]:
			err = errors.New("the key repeats an earlier entry's")
		default:
			seen[k] = true
			err = put(k, strings.TrimSpace(val))
		}
		if err != nil && len(items) > 1 {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// objectEntries decodes a JSON object in key order, so a failure is reported
// the same way every time.
func objectEntries(v map[string]any, put func(string, any) error) error {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if k == "" {
			return errors.New("an entry of the JSON object has an empty key")
		}
		if err := put(k, v[k]); err != nil {
			return fmt.Errorf("entry %d (in key order): %w", i+1, err)
		}
	}
	return nil
}

// isContainer reports whether t is written as a list or map, not as one
// piece of text.
func isContainer(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textType) {
		return false
	}
	switch t.Kind() {
	case reflect.Map, reflect.Array:
		return true
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	}
	return false
}

// isEmpty reports whether raw holds no value: JSON null, text of only spaces,
// an empty JSON array or object, or no bytes.
func isEmpty(raw any) bool {
	switch v := raw.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	case []byte:
		return len(v) == 0
	}
	return false
}

// textOf returns raw when it is text: a string or bytes.
func textOf(raw any) (string, bool) {
	switch v := raw.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// numberText returns raw as the text of a number: a string (trimmed), a JSON
// number exactly as written, or a Go number from a parser such as YAML's.
// jsonNum is true for values that are numbers already, not text.
func numberText(raw any) (s string, jsonNum, ok bool) {
	switch v := raw.(type) {
	case string:
		return strings.TrimSpace(v), false, true
	case json.Number:
		return string(v), true, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true, true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true, true
	}
	rv := reflect.ValueOf(raw)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), true, true
	}
	return "", false, false
}

// scalarString accepts a string, bytes, or a JSON number or boolean written
// as text (a json.Number exactly as written).
func scalarString(raw any, expect string) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	if s, _, ok := numberText(raw); ok {
		return s, nil
	}
	return "", expected(expect, raw)
}

// expected is the error of a value that is not what the type needs. For a
// value that is not text it names the JSON type that arrived, never the
// value.
func expected(what string, raw any) error {
	if _, ok := raw.(string); ok {
		return errors.New("expected " + what)
	}
	return fmt.Errorf("expected %s, got %s", what, kindOf(raw))
}

// kindOf names the kind of a raw value without showing it.
func kindOf(raw any) string {
	switch raw.(type) {
	case nil:
		return "JSON null"
	case bool:
		return "a JSON boolean"
	case json.Number, float64, float32:
		return "a JSON number"
	case string:
		return "text"
	case []any:
		return "a JSON array"
	case map[string]any:
		return "a JSON object"
	case []byte:
		return "binary data"
	}
	if _, _, ok := numberText(raw); ok {
		return "a number"
	}
	return fmt.Sprintf("a value of type %T", raw)
}

// splitList splits a comma-separated list, trimming spaces; "" is an empty list.
func splitList(s string) []any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = strings.TrimSpace(p)
	}
	return out
}
