package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// newValidator returns a validator that sees through Strata's value types: a
// Secret is validated as its string (so min=12 counts characters) and a url.URL
// as its text.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	registerTypes(v)
	return v
}

func registerTypes(v *validator.Validate) {
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		return f.Interface().(Secret).value
	}, Secret{})
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		u := f.Interface().(url.URL)
		return u.String()
	}, url.URL{})
}

// validate runs the rules of the validate tags over cfg and returns one
// FieldError per failure. It builds messages from the rule and its parameter,
// never from the value, so a secret cannot leak through a validation message.
func (s *Schema) validate(v *validator.Validate, cfg any, merged []slot) (out []error) {
	defer func() {
		// The validator panics on a rule it does not know; that is a mistake in
		// the struct tags, reported as such rather than crashing the service.
		if r := recover(); r != nil {
			out = []error{fmt.Errorf("%w: validate tag: %v", ErrSchema, r)}
		}
	}()
	err := v.Struct(cfg)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return []error{fmt.Errorf("%w: %v", ErrValidation, err)}
	}
	out = make([]error, 0, len(verrs))
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
			e.Key, e.Env = f.Key+item, f.Env
			if merged[f.pos].set {
				e.Source = merged[f.pos].Source
			}
		} else {
			e.Key = goPath + item
		}
		out = append(out, e)
	}
	return out
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
	switch fe.Tag() {
	case "required":
		return "is required"
	case "required_if", "required_unless", "required_with", "required_without", "required_with_all", "required_without_all":
		return fmt.Sprintf("is required (%s %s)", strings.ReplaceAll(fe.Tag(), "_", " "), p)
	case "min", "gte":
		if sized {
			return "must have at least " + p + unit
		}
		return "must be at least " + p
	case "max", "lte":
		if sized {
			return "must have at most " + p + unit
		}
		return "must be at most " + p
	case "gt":
		if sized {
			return "must have more than " + p + unit
		}
		return "must be greater than " + p
	case "lt":
		if sized {
			return "must have fewer than " + p + unit
		}
		return "must be less than " + p
	case "len":
		if sized {
			return "must have exactly " + p + unit
		}
		return "must be " + p
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
