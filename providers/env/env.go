package env

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/strata-go/strata/config"
)

// layerName is the Layer of every Source of this package.
const layerName = "env"

// Options tune a layer made by New. The zero value (and nil) is valid; each
// field's default is given in its comment.
type Options struct {
	// Environ returns the "NAME=value" entries the layer reads, as os.Environ
	// does. It is called at each load. Tests set it to load a fixed
	// environment without touching the process's own, so they can run in
	// parallel. Defaults to os.Environ.
	Environ func() []string
}

// New returns a layer that reads the process environment (or opts.Environ)
// each time it is loaded. opts may be nil.
func New(opts *Options) config.Layer {
	l := &layer{environ: os.Environ}
	if opts != nil && opts.Environ != nil {
		l.environ = opts.Environ
	}
	return l
}

type layer struct {
	environ func() []string
}

// Name returns "env".
func (l *layer) Name() string { return layerName }

// Sensitive returns false: the environment of a process can be read by
// anyone who may inspect the process, so secrets set by it break the secret
// policy.
func (l *layer) Sensitive() bool { return false }

// Load maps the environment onto schema.
func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return scan(l.environ(), schema)
}

// scan maps environ entries onto schema. A name that appears twice takes its
// first value, as os.Getenv does.
func scan(environ []string, schema *config.Schema) (config.Values, error) {
	prefix := schema.EnvPrefix()
	out := make(config.Values, 16)
	var errs []error
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			// Not NAME=value. Windows keeps entries such as "=C:=C:\dir"
			// for the current directory of each drive.
			continue
		}
		if f := schema.FieldByEnv(name); f != nil {
			if _, dup := out[f.Key]; !dup {
				out[f.Key] = config.Value{Raw: value, Source: config.Source{Layer: layerName, Location: name}}
			}
			continue
		}
		if prefix != "" && strings.HasPrefix(name, prefix) && !reported(errs, name) {
			errs = append(errs, schema.UnknownEnv(name, config.Source{Layer: layerName, Location: name}))
		}
	}
	return out, errors.Join(errs...)
}

// reported reports whether errs already holds the unknown name.
func reported(errs []error, name string) bool {
	for _, err := range errs {
		if u, ok := err.(*config.UnknownNameError); ok && u.Name == name {
			return true
		}
	}
	return false
}
