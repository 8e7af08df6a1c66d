package ssm

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
)

// binder turns the parameters of a state into config values for a schema.
type binder struct {
	schema *config.Schema
	strict bool
	values config.Values
	errs   []error
	warns  []error
}

// bind maps the parameters of st to values, spec by spec: a later spec
// overrides an earlier one key by key, as layers do. It returns the values,
// the errors (two parameters of one spec for one key; unknown names with
// StrictKeys) and the unknown-name warnings.
func (l *Reader) bind(schema *config.Schema, st *state) (config.Values, []error, []error) {
	b := &binder{schema: schema, strict: l.opts.StrictKeys, values: config.Values{}}
	for _, s := range l.sources {
		b.spec(s, st)
	}
	return b.values, b.errs, b.warns
}

// spec binds the parameters of one spec.
func (b *binder) spec(s Spec, st *state) {
	var names []string
	switch s.kind {
	case kindPath:
		names = st.listed[s.root]
	default:
		names = s.ParameterNames()
	}
	own := config.Values{}
	from := map[string]string{} // key -> the parameter that set it
	dup := map[string]bool{}
	for _, n := range names {
		p, ok := st.params[n]
		if !ok {
			continue
		}
		key, known := s.key, b.schema == nil || b.schema.Field(s.key) != nil
		if s.kind != kindParameter {
			rel, _ := under(n, s.root)
			key, known = keyOf(b.schema, s.key, rel)
		}
		src := config.Source{Layer: LayerName, Location: n, Version: p.versionText()}
		if !known {
			b.unknown(s, key, src)
			continue
		}
		if other, seen := from[key]; seen && other != n {
			dup[key] = true
			b.errs = append(b.errs, &config.SourceError{Layer: LayerName, Source: s.root, Code: config.ErrMalformed, Keys: []string{key},
				Message: fmt.Sprintf("the parameters %s and %s both map to the key %s (a hyphen reads as an underscore and CamelCase as snake_case); rename or delete one", other, n, key)})
			continue
		}
		from[key] = n
		own[key] = config.Value{Raw: rawOf(b.field(key), p), Source: src, Sensitive: p.secure(), Secret: p.secure()}
	}
	for k, v := range own {
		if !dup[k] {
			b.values[k] = v
		}
	}
}

func (b *binder) field(key string) *config.Field {
	if b.schema == nil {
		return nil
	}
	return b.schema.Field(key)
}

// unknown reports a parameter that maps to no field: a warning naming the
// parameter, with the closest parameter name that would map to a field, or
// an error with StrictKeys. Parameter names are not secret; values are
// never shown.
func (b *binder) unknown(s Spec, key string, src config.Source) {
	u := b.schema.UnknownKey(key, src)
	if s.kind != kindParameter {
		u.Name = src.Location
		if u.Suggestion != "" {
			if name, ok := nameOf(s.root, s.key, u.Suggestion); ok {
				u.Suggestion = name
			} else {
				u.Suggestion = ""
			}
		}
	}
	if !b.strict {
		b.warns = append(b.warns, u)
		return
	}
	b.errs = append(b.errs, &config.SourceError{Layer: LayerName, Source: src.Location, Code: config.ErrMalformed,
		Message: u.Error() + " (StrictKeys is set)"})
}

// rawOf is the raw value of p for field f: a StringList for a list field is
// its items, split at the commas Parameter Store separates them with;
// anything else is the text.
func rawOf(f *config.Field, p *param) any {
	if p.typ != types.ParameterTypeStringList || f == nil || !isList(f.Type) {
		return p.value
	}
	parts := strings.Split(p.value, stringListSeparator)
	out := make([]any, len(parts))
	for i, s := range parts {
		out[i] = s
	}
	return out
}

func isList(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8
}

// joinErrs joins errors in order, or returns nil.
func joinErrs(groups ...[]error) error {
	var all []error
	for _, g := range groups {
		all = append(all, g...)
	}
	return errors.Join(all...)
}
