package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// NewValidator returns a validator prepared for Strata's value types: a
// Secret is validated as its string (so min=12 counts characters) and a
// url.URL as its text. Register custom rules on it (RegisterValidation), then
// pass it as Options.Validator; register nothing on it once a Load has used
// it, as the validator is not safe to modify while in use. Load never
// modifies a validator, so one can be shared by any number of stores.
//
// Load also accepts a validator that did not come from NewValidator: the
// rules of fields holding a Secret or a url.URL are then checked on their
// text by the store itself (such a rule cannot refer to another field).
func NewValidator() *validator.Validate { return newValidator() }

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	registerTypes(v)
	return v
}

func registerTypes(v *validator.Validate) {
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		return f.Interface().(Secret).Reveal()
	}, Secret{})
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		u := f.Interface().(url.URL)
		return u.String()
	}, url.URL{})
}

// validate runs the rules of the validate tags over cfg and returns one
// FieldError per failure. It builds messages from the rule and its parameter,
// never from the value, so a secret cannot leak through a validation message.
//
// The validator panics on a rule it cannot run (an unknown rule, a parameter
// such as min=abc that does not parse, a custom rule that panics). Such a
// failure is reported by field key and rule, never with the panic's text, and
// the other fields are still checked.
func (s *Schema) validate(v *validator.Validate, cfg any, merged []slot) []error {
	err, panicked := runValidator(func() error { return v.Struct(cfg) })
	if panicked {
		return s.validatePanicked(v, cfg, merged)
	}
	return s.validationErrors(err, merged)
}

// validateWith is validate for the store's validator; foreign marks one
// given in Options.Validator, on which Strata's types may not be registered:
// the rules of fields that hold them are checked on their text.
func (s *Schema) validateWith(v *validator.Validate, foreign bool, cfg any, merged []slot) []error {
	var except []string
	var own []*Field
	for _, f := range s.fields {
		if foreign && f.Validate != "" && holdsText(f.Type) {
			except = append(except, f.GoPath)
			own = append(own, f)
		}
	}
	if len(own) == 0 {
		return s.validate(v, cfg, merged)
	}
	var out []error
	err, panicked := runValidator(func() error { return v.StructExcept(cfg, except...) })
	if panicked {
		out = append(out, fmt.Errorf("%w: a validate rule panicked; check the rules and custom validations", ErrSchema))
	} else {
		out = s.validationErrors(err, merged)
	}
	root := reflect.ValueOf(cfg).Elem()
	for _, f := range own {
		fv, err := root.FieldByIndexErr(f.index)
		if err != nil {
			continue // under a nil pointer: not set
		}
		out = append(out, s.validateText(v, f, textView(fv), merged)...)
	}
	return out
}

// validateText checks the rules of f on val, the text view of its value.
func (s *Schema) validateText(v *validator.Validate, f *Field, val any, merged []slot) []error {
	err, panicked := runValidator(func() error { return v.Var(val, f.Validate) })
	if panicked {
		e := &FieldError{Key: f.Key, Env: f.Env, secret: f.Secret, Err: ErrSchema,
			Message: fmt.Sprintf("has a validate rule %q that cannot run (the validator panicked); fix the tag or the custom rule", f.Validate)}
		if merged[f.pos].set {
			e.Source = merged[f.pos].Source
		}
		return []error{e}
	}
	var verrs validator.ValidationErrors
	if err == nil {
		return nil
	} else if !errors.As(err, &verrs) {
		return []error{fmt.Errorf("%w: %T", ErrValidation, err)}
	}
	var out []error
	for _, fe := range verrs {
		item := fe.Namespace()
		if !strings.HasPrefix(item, "[") {
			item = ""
		}
		e := &FieldError{Rule: fe.Tag(), Message: ruleMessage(fe), Err: ErrValidation}
		s.locate(e, f, item, merged)
		out = append(out, e)
	}
	return out
}

// holdsText reports whether values of t contain a Secret, a type embedding
// one, or a url.URL, which a validator checks as text only once told how.
func holdsText(t reflect.Type) bool {
	for range 32 {
		if k := t.Kind(); k != reflect.Pointer && k != reflect.Slice && k != reflect.Array && k != reflect.Map {
			break
		}
		t = t.Elem()
	}
	_, wraps := embeddedSecret(t)
	return t == secretType || t == urlType || wraps
}

func embeddedSecret(t reflect.Type) ([]int, bool) {
	if t.Kind() != reflect.Struct || t == secretType {
		return nil, false
	}
	if sf, ok := t.FieldByName("Secret"); ok && sf.Anonymous && sf.Type == secretType {
		return sf.Index, true
	}
	return nil, false
}

// textView is v with every Secret and url.URL replaced by its text, for the
// validator: slices and arrays become []any, maps map[K]any.
func textView(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch t {
	case secretType:
		return v.Interface().(Secret).Reveal()
	case urlType:
		u := v.Interface().(url.URL)
		return u.String()
	}
	if index, ok := embeddedSecret(t); ok {
		return v.FieldByIndex(index).Interface().(Secret).Reveal()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return textView(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any(nil)
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = textView(v.Index(i))
		}
		return out
	case reflect.Map:
		out := reflect.MakeMapWithSize(reflect.MapOf(t.Key(), reflect.TypeFor[any]()), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), reflect.ValueOf(textView(it.Value())))
		}
		return out.Interface()
	}
	return v.Interface()
}

// runValidator calls fn and reports whether it panicked.
func runValidator(fn func() error) (err error, panicked bool) {
	defer func() {
		if recover() != nil {
			err, panicked = nil, true
		}
	}()
	return fn(), false
}

// validatePanicked finds the fields whose rules make the validator panic,
// reports each by key and rule, and checks the other fields.
func (s *Schema) validatePanicked(v *validator.Validate, cfg any, merged []slot) []error {
	root := reflect.ValueOf(cfg).Elem()
	var out []error
	var except []string
	for _, f := range s.fields {
		if f.Validate == "" {
			continue
		}
		value := root.FieldByIndex(f.index).Interface()
		if _, p := runValidator(func() error { return v.Var(value, f.Validate) }); !p {
			continue
		}
		rule := f.Validate
		for _, r := range strings.Split(f.Validate, ",") {
			if _, p := runValidator(func() error { return v.Var(value, r) }); p {
				rule = r
				break
			}
		}
		name, _, _ := strings.Cut(rule, "=")
		e := &FieldError{Key: f.Key, Env: f.Env, Rule: name, secret: f.Secret,
			Message: fmt.Sprintf("has a validate rule %q that cannot run (the validator panicked); fix the tag or the custom rule", rule),
			Err:     ErrSchema}
		if merged[f.pos].set {
			e.Source = merged[f.pos].Source
		}
		out = append(out, e)
		except = append(except, f.GoPath)
	}
	if len(except) == 0 {
		return []error{fmt.Errorf("%w: a validate rule panicked, and no field's own rules do; check the rules of nested structs and struct-level validations", ErrSchema)}
	}
	err, p := runValidator(func() error { return v.StructExcept(cfg, except...) })
	if p {
		return append(out, fmt.Errorf("%w: a validate rule panicked outside the fields named above; other rules were not checked", ErrSchema))
	}
	return append(out, s.validationErrors(err, merged)...)
}

// validationErrors converts the validator's errors into FieldErrors.
func (s *Schema) validationErrors(err error, merged []slot) []error {
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return []error{fmt.Errorf("%w: %T", ErrValidation, err)}
	}
	out := make([]error, 0, len(verrs))
	for _, fe := range verrs {
		goPath := fe.StructNamespace()
		if _, rest, ok := strings.Cut(goPath, "."); ok {
			goPath = rest
		}
		item := ""
		if i := strings.IndexByte(goPath, '['); i >= 0 {
			item = goPath[i:]
			goPath = goPath[:i]
		}
		e := &FieldError{Rule: fe.Tag(), Message: ruleMessage(fe), Err: ErrValidation}
		if f := s.byGoPath[goPath]; f != nil {
			s.locate(e, f, item, merged)
		} else {
			e.Key = s.keyOfGoPath(goPath) + item
		}
		out = append(out, e)
	}
	return out
}

// locate sets the key, environment name and source of e, a failed rule of
// f at item ("", "[2]", "[key]") inside its value. A map key of a secret, or
// of a value from a sensitive source (a JSON secret with shifted keys), may
// be secret text: it is dropped, and the message says an entry failed.
func (s *Schema) locate(e *FieldError, f *Field, item string, merged []slot) {
	if m := merged[f.pos]; f.Secret || m.sensitive || m.Secret {
		var entry bool
		item, entry = secretItem(f.Type, item)
		if entry {
			e.Message = "has an entry that " + e.Message
		}
	}
	e.Key, e.Env, e.secret = f.Key+item, f.Env, f.Secret
	if merged[f.pos].set {
		e.Source = merged[f.pos].Source
	}
}

// secretItem returns the part of item ("[2]", "[key][0]") that a message
// about a secret field may show: the indexes of lists up to the first map,
// whose keys may be secret text. entry reports that a map key was dropped.
func secretItem(t reflect.Type, item string) (shown string, entry bool) {
	rest := item
	for rest != "" {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return item[:len(item)-len(rest)], true
		}
		end := strings.IndexByte(rest, ']')
		if !strings.HasPrefix(rest, "[") || end < 0 {
			return item[:len(item)-len(rest)], true
		}
		rest = rest[end+1:]
		t = t.Elem()
	}
	return item, false
}

// keyOfGoPath returns the key of a Go selector path that is no field, such as
// a nested struct ("Database" is "database"), or goPath itself when it does
// not resolve.
func (s *Schema) keyOfGoPath(goPath string) string {
	t := s.typ
	var segs []string
	for _, name := range strings.Split(goPath, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return goPath
		}
		sf, ok := t.FieldByName(name)
		if !ok {
			return goPath
		}
		tag := sf.Tag.Get("config")
		flattened := sf.Anonymous && tag == "" && sf.Type.Kind() == reflect.Struct && !isLeaf(sf.Type)
		if !flattened {
			if tag == "" {
				tag = SnakeCase(sf.Name)
			}
			segs = append(segs, tag)
		}
		t = sf.Type
	}
	return strings.Join(segs, ".")
}

// boundMessage phrases the rules that bound a value or a size.
func boundMessage(tag, p string, sized bool, unit string) (string, bool) {
	var size, value string
	switch tag {
	case "min", "gte":
		size, value = "must have at least ", "must be at least "
	case "max", "lte":
		size, value = "must have at most ", "must be at most "
	case "gt":
		size, value = "must have more than ", "must be greater than "
	case "lt":
		size, value = "must have fewer than ", "must be less than "
	case "len":
		size, value = "must have exactly ", "must be "
	default:
		return "", false
	}
	if sized {
		return size + p + unit, true
	}
	return value + p, true
}

// ruleMessage turns a failed rule into a readable predicate, such as "must be
// at most 65535" or "is required".
func ruleMessage(fe validator.FieldError) string {
	p := fe.Param()
	kind := fe.Kind()
	if fe.Type() == secretType {
		kind = reflect.String
	}
	sized := kind == reflect.String || kind == reflect.Slice || kind == reflect.Map || kind == reflect.Array
	unit := ""
	if sized {
		unit = " items"
		if kind == reflect.String {
			unit = " characters"
		}
	}
	if msg, ok := boundMessage(fe.Tag(), p, sized, unit); ok {
		return msg
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "required_if", "required_unless", "required_with", "required_without", "required_with_all", "required_without_all":
		return fmt.Sprintf("is required (%s %s)", strings.ReplaceAll(fe.Tag(), "_", " "), p)
	case "eq":
		return "must equal " + p
	case "ne":
		return "must not equal " + p
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(p), ", ")
	case "hostname", "hostname_rfc1123", "fqdn":
		return "must be a valid hostname"
	case "hostname_port":
		return "must be host:port"
	case "url", "http_url":
		return "must be a valid URL"
	case "uri":
		return "must be a valid URI"
	case "email":
		return "must be a valid email address"
	case "ip", "ipv4", "ipv6":
		return "must be a valid " + strings.ToUpper(fe.Tag()[:2]) + fe.Tag()[2:] + " address"
	case "cidr":
		return "must be a valid CIDR"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "alphanum":
		return "must contain only letters and digits"
	case "numeric":
		return "must be numeric"
	case "startswith":
		return "must start with " + p
	case "endswith":
		return "must end with " + p
	case "contains":
		return "must contain " + p
	case "file":
		return "must name an existing file"
	case "dir":
		return "must name an existing directory"
	}
	if p != "" {
		return fmt.Sprintf("must satisfy %s=%s", fe.Tag(), p)
	}
	return "must satisfy " + fe.Tag()
}
