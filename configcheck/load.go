package configcheck

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/strata-go/strata/config"
)

// layerFlags choose the environment checked and how strictly. validate,
// explain and lint share them; the layers are the service's own (Setup).
type layerFlags struct {
	environment string
	production  boolFlag
	strict      bool
}

func (r *runner) defineLayerFlags(fs *flag.FlagSet) *layerFlags {
	lf := &layerFlags{}
	r.environmentFlag(fs, &lf.environment)
	fs.Var(&lf.production, "production", "treat the environment as production whatever its name; --production=false treats it as not production\n(default: the service's config.Options.Production for --environment)")
	fs.BoolVar(&lf.strict, "strict", false, "make warnings (unknown names, secret-policy findings) errors (default: the service's config.Options.Strict)")
	return lf
}

// environmentFlag defines --environment.
func (r *runner) environmentFlag(fs *flag.FlagSet, v *string) {
	fs.StringVar(v, "environment", r.opts.Environment, "the environment `name` given to the service's setup, which chooses its layers and\nwhether it is production (such as prod, prd, production, prod-eu, eu-prod)")
}

// setup runs the service's Setup for an environment.
func (r *runner) setup(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
	opts, layers, err := r.opts.Setup(ctx, environment)
	if err != nil {
		if environment == "" {
			return nil, nil, usageError{fmt.Errorf("the service's setup failed: %w", err)}
		}
		return nil, nil, usageError{fmt.Errorf("the service's setup for environment %q failed: %w", environment, err)}
	}
	if opts == nil {
		opts = &config.Options{}
	}
	for i, l := range layers {
		if l == nil {
			return nil, nil, usageError{fmt.Errorf("the service's setup returned a nil layer at position %d", i+1)}
		}
	}
	return opts, layers, nil
}

// policy returns the severity rules of the environment checked: --production
// when given, otherwise the service's Production; --strict or the service's
// Strict.
func (lf *layerFlags) policy(opts *config.Options) policy {
	production := opts.Production
	if lf.production.set {
		production = lf.production.value
	}
	return policy{strict: lf.strict || opts.Strict, production: production}
}

// loaded is the outcome of reading every layer.
type loaded struct {
	// opts are the service's options for the environment checked.
	opts   *config.Options
	schema *config.Schema
	layers []readLayer
	// merged holds the value of each key set by a default or a layer, with its
	// source, after the later layers overrode the earlier ones.
	merged config.Values
	// problems are every problem the service's load would report, including
	// the warnings it would log (unknown names, secret-policy findings).
	problems []error
}

// readLayer is one layer with what it returned.
type readLayer struct {
	layer  config.Layer
	values config.Values
	err    error
}

// Name, Sensitive and Load replay what the layer returned, so the service's
// own load can check the values without reading any source twice.
func (l *readLayer) Name() string    { return l.layer.Name() }
func (l *readLayer) Sensitive() bool { return l.layer.Sensitive() }
func (l *readLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return l.values, l.err
}

var _ config.Layer = (*readLayer)(nil)

// usageError is a problem with the command line or its environment, before
// any layer is read: it ends the command with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// schemaFor returns the schema of the configuration type under prefix.
func (r *runner) schemaFor(prefix string) (*config.Schema, error) {
	s, err := r.schema(prefix)
	if err != nil {
		return nil, fmt.Errorf("the configuration type is invalid: %w", err)
	}
	return s, nil
}

// load reads every layer as the service would and checks the result with the
// service's own load. A returned error is a usage error or a broken schema.
func (r *runner) load(ctx context.Context, lf *layerFlags) (*loaded, error) {
	opts, layers, err := r.setup(ctx, lf.environment)
	if err != nil {
		return nil, err
	}
	schema, err := r.schemaFor(opts.EnvPrefix)
	if err != nil {
		return nil, err
	}

	l := &loaded{opts: opts, schema: schema, merged: config.Values{}}
	for k, v := range schema.Defaults() {
		l.merged[k] = v
	}
	l.layers = make([]readLayer, len(layers))
	replay := make([]config.Layer, len(layers))
	for i, layer := range layers {
		vals, err := layer.Load(ctx, schema)
		l.layers[i] = readLayer{layer: layer, values: vals, err: err}
		replay[i] = &l.layers[i]
		for k, v := range vals {
			if schema.Field(k) != nil {
				l.merged[k] = v
			}
		}
	}
	// Strict and Production make every warning an error, so that the one
	// load reports them all; findings sorts them back by the flags.
	l.problems = flatten(nil, r.check(ctx, checkOptions(opts, true), replay))
	return l, nil
}

// checkOptions returns the service's options for a load that only checks:
// no log, no refresh, and with all set, every warning an error.
func checkOptions(opts *config.Options, all bool) *config.Options {
	o := *opts
	o.Logger = slog.New(slog.DiscardHandler)
	if all {
		o.Strict, o.Production = true, true
	}
	return &o
}

// files returns the files the layers read, as FileLister reports them, each
// once.
func (l *loaded) files() []string {
	var out []string
	seen := map[string]bool{}
	for _, rl := range l.layers {
		fl, ok := rl.layer.(FileLister)
		if !ok {
			continue
		}
		for _, f := range fl.Files() {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// privateFiles returns the files of files() but those of layers that share
// them (SharedFiler): the files lint checks for their mode and for git.
func (l *loaded) privateFiles() []string {
	shared := map[string]bool{}
	for _, rl := range l.layers {
		if sf, ok := rl.layer.(SharedFiler); ok && sf.SharedFiles() {
			for _, f := range sf.Files() {
				shared[f] = true
			}
		}
	}
	var out []string
	for _, f := range l.files() {
		if !shared[f] {
			out = append(out, f)
		}
	}
	return out
}

// flatten spreads joined and aggregated errors into one list.
func flatten(dst []error, err error) []error {
	if err == nil {
		return dst
	}
	switch e := err.(type) {
	case *config.FieldError, *config.SourceError, *config.UnknownNameError:
		return append(dst, err)
	case *config.AggregateError:
		for _, x := range e.Errs {
			dst = flatten(dst, x)
		}
		return dst
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			dst = flatten(dst, x)
		}
		return dst
	}
	return append(dst, err)
}
