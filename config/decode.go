package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// decodeFunc stores raw (a string, or a JSON value) into dst, which is
// addressable and of the field's type. Its error says what was expected and never
// contains the raw value, so callers decide whether the value may be shown.
type decodeFunc func(dst reflect.Value, raw any) error

// decoderFor builds the decoder of one type once, when the schema is computed,
// so decoding a load is a walk over prepared functions.
func decoderFor(t reflect.Type) (decodeFunc, error) {
	switch t {
	case secretType:
		return func(dst reflect.Value, raw any) error {
			s, err := scalarString(raw, "a string")
			if err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(NewSecret(s)))
			return nil
		}, nil
	case durationType:
		return func(dst reflect.Value, raw any) error {
			s, ok := raw.(string)
			if !ok {
				return errors.New("expected a duration such as 5s, 250ms or 1m30s")
			}
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return errors.New("expected a duration such as 5s, 250ms or 1m30s")
			}
			dst.SetInt(int64(d))
			return nil
		}, nil
	case urlType:
		return func(dst reflect.Value, raw any) error {
			s, ok := raw.(string)
			if !ok {
				return errors.New("expected a URL")
			}
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil {
				return errors.New("expected a URL such as https://example.com/path")
			}
			dst.Set(reflect.ValueOf(*u))
			return nil
		}, nil
	case timeType:
		return func(dst reflect.Value, raw any) error {
			s, ok := raw.(string)
			if !ok {
				return errors.New("expected an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
			if err != nil {
				return errors.New("expected an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			dst.Set(reflect.ValueOf(tm))
			return nil
		}, nil
	}
	if reflect.PointerTo(t).Implements(textType) {
		return func(dst reflect.Value, raw any) error {
			s, err := scalarString(raw, "text")
			if err != nil {
				return err
			}
			if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				return fmt.Errorf("expected a valid %s", t)
			}
			return nil
		}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(dst reflect.Value, raw any) error {
			s, err := scalarString(raw, "a string")
			if err != nil {
				return err
			}
			dst.SetString(s)
			return nil
		}, nil
	case reflect.Bool:
		return func(dst reflect.Value, raw any) error {
			switch v := raw.(type) {
			case bool:
				dst.SetBool(v)
				return nil
			case string:
				b, err := strconv.ParseBool(strings.TrimSpace(v))
				if err == nil {
					dst.SetBool(b)
					return nil
				}
			}
			return errors.New("expected a boolean (true, false, 1, 0)")
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		expect := fmt.Sprintf("expected an integer from %d to %d", lo, hi)
		return func(dst reflect.Value, raw any) error {
			switch v := raw.(type) {
			case string:
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
				if err != nil {
					return errors.New(expect)
				}
				dst.SetInt(n)
				return nil
			case float64:
				// float64(hi) rounds up to 2^(bits-1), which is out of range.
				if v == math.Trunc(v) && v >= float64(lo) && v < -float64(lo) {
					dst.SetInt(int64(v))
					return nil
				}
			}
			return errors.New(expect)
		}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		hi := uint64(1)<<(bits-1)<<1 - 1
		expect := fmt.Sprintf("expected an integer from 0 to %d", hi)
		return func(dst reflect.Value, raw any) error {
			switch v := raw.(type) {
			case string:
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, bits)
				if err != nil {
					return errors.New(expect)
				}
				dst.SetUint(n)
				return nil
			case float64:
				// 2^bits is the first integer out of range; float64(hi) may round up to it.
				if v == math.Trunc(v) && v >= 0 && v < 2*(float64(hi/2)+1) {
					dst.SetUint(uint64(v))
					return nil
				}
			}
			return errors.New(expect)
		}, nil
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(dst reflect.Value, raw any) error {
			switch v := raw.(type) {
			case string:
				f, err := strconv.ParseFloat(strings.TrimSpace(v), bits)
				if err == nil {
					dst.SetFloat(f)
					return nil
				}
			case float64:
				if bits == 32 && math.Abs(v) > math.MaxFloat32 {
					break
				}
				dst.SetFloat(v)
				return nil
			}
			return errors.New("expected a number")
		}, nil
	case reflect.Pointer:
		elem, err := decoderFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, raw any) error {
			p := reflect.New(t.Elem())
			if err := elem(p.Elem(), raw); err != nil {
				return err
			}
			dst.Set(p)
			return nil
		}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(dst reflect.Value, raw any) error {
				s, err := scalarString(raw, "text or bytes")
				if err != nil {
					if b, ok := raw.([]byte); ok {
						dst.SetBytes(append([]byte(nil), b...))
						return nil
					}
					return err
				}
				dst.SetBytes([]byte(s))
				return nil
			}, nil
		}
		elem, err := decoderFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, raw any) error {
			var items []any
			switch v := raw.(type) {
			case string:
				items = splitList(v)
			case []any:
				items = v
			default:
				return fmt.Errorf("expected a comma-separated list of %s", typeName(t.Elem()))
			}
			out := reflect.MakeSlice(t, len(items), len(items))
			for i, it := range items {
				if err := elem(out.Index(i), it); err != nil {
					return fmt.Errorf("item %d: %w", i+1, err)
				}
			}
			dst.Set(out)
			return nil
		}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("unsupported type %s: map keys must be strings", t)
		}
		elem, err := decoderFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, raw any) error {
			out := reflect.MakeMap(t)
			put := func(k string, v any) error {
				ev := reflect.New(t.Elem()).Elem()
				if err := elem(ev, v); err != nil {
					return fmt.Errorf("entry %q: %w", k, err)
				}
				out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
				return nil
			}
			switch v := raw.(type) {
			case string:
				for _, item := range splitList(v) {
					k, val, ok := strings.Cut(item.(string), "=")
					if !ok {
						return errors.New("expected key=value pairs separated by commas, such as a=1,b=2")
					}
					if err := put(strings.TrimSpace(k), strings.TrimSpace(val)); err != nil {
						return err
					}
				}
			case map[string]any:
				for k, val := range v {
					if err := put(k, val); err != nil {
						return err
					}
				}
			default:
				return errors.New("expected key=value pairs separated by commas, such as a=1,b=2")
			}
			dst.Set(out)
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// scalarString accepts a string, or a JSON number or boolean written as text.
func scalarString(raw any, expect string) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("expected %s", expect)
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
