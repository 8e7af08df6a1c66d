package config

import (
	"context"
	"errors"
)

// Static returns a layer of fixed values keyed by field key, such as
// {"server.addr": ":9090"}: values a program computes, or a test's inputs. It is
// not sensitive. A key that is no field is reported as an unknown name.
func Static(name string, values map[string]string) Layer {
	return staticLayer{name: name, values: values}
}

// StaticSecrets is Static for a sensitive layer: its values may set secret
// fields without breaking the secret policy. Tests use it in place of a secret
// store.
func StaticSecrets(name string, values map[string]string) Layer {
	return staticLayer{name: name, values: values, sensitive: true}
}

type staticLayer struct {
	name      string
	values    map[string]string
	sensitive bool
}

func (l staticLayer) Name() string    { return l.name }
func (l staticLayer) Sensitive() bool { return l.sensitive }

func (l staticLayer) Load(ctx context.Context, s *Schema) (Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(Values, len(l.values))
	var errs []error
	for k, v := range l.values {
		src := Source{Layer: l.name, Location: k}
		if s.Field(k) == nil {
			errs = append(errs, s.UnknownKey(k, src))
			continue
		}
		out[k] = Value{Raw: v, Source: src}
	}
	return out, errors.Join(errs...)
}
