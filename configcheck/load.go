package configcheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/secretsmanager"
)

// layerFlags choose the layers, as the service would read them. validate,
// explain and lint share them.
type layerFlags struct {
	envFiles    listFlag
	prefix      string
	secrets     listFlag
	region      string
	endpoint    string
	environment string
	production  boolFlag
	strict      bool
}

func (r *runner) defineLayerFlags(fs *flag.FlagSet) *layerFlags {
	lf := &layerFlags{}
	fs.Var(&lf.envFiles, "env-file", "a .env `file` to read, repeatable, in order; replaces the service's default .env files"+
		r.defaultList(r.opts.EnvFiles))
	fs.StringVar(&lf.prefix, "prefix", r.opts.EnvPrefix, "the environment name `prefix`")
	fs.Var(&lf.secrets, "secret", secretSpecHelp+r.defaultSources())
	fs.StringVar(&lf.region, "region", "", "the AWS `region` of Secrets Manager (default: from the AWS configuration)")
	fs.Func("endpoint", "the Secrets Manager endpoint `URL`, such as a local emulator\n(default: AWS_ENDPOINT_URL_SECRETS_MANAGER, or the region's endpoint)", func(v string) error {
		// An empty value is a mistake (an unset shell variable), not a request
		// for the default: it would silently send the calls to AWS.
		if strings.TrimSpace(v) == "" {
			return errors.New("empty URL")
		}
		lf.endpoint = v
		return nil
	})
	fs.StringVar(&lf.environment, "environment", r.opts.Environment, "the environment `name`; a production one (by default: prod, prd, production, prod-eu,\neu-prod, ...) makes secret-policy findings errors")
	fs.Var(&lf.production, "production", "treat the environment as production whatever its name; --production=false treats it as not production")
	fs.BoolVar(&lf.strict, "strict", false, "make warnings (unknown names, secret-policy findings) errors")
	return lf
}

func (r *runner) defaultList(files []string) string {
	if len(files) == 0 {
		return ""
	}
	return " (default: " + strings.Join(files, ", ") + ", each optional)"
}

// ownSources returns the service's own sources in an environment.
func (r *runner) ownSources(environment string) []secretsmanager.Source {
	if r.opts.SecretsFor != nil {
		return r.opts.SecretsFor(environment)
	}
	return r.opts.SecretSources
}

func (r *runner) defaultSources() string {
	own := r.ownSources(r.opts.Environment)
	if len(own) == 0 {
		return ""
	}
	if r.opts.SecretsFor != nil {
		return "\n(default: the service's sources for --environment)"
	}
	specs := make([]string, 0, len(own))
	for _, s := range own {
		specs = append(specs, describeSource(s).String())
	}
	return "\n(default: " + strings.Join(specs, " ") + ")"
}

// production reports whether the environment checked is a production one:
// --production when given, otherwise Options.Production of --environment.
func (r *runner) production(lf *layerFlags) bool {
	if lf.production.set {
		return lf.production.value
	}
	return r.opts.Production(lf.environment)
}

// policy returns the severity rules of the environment checked.
func (r *runner) policy(lf *layerFlags) policy {
	return policy{strict: lf.strict, production: r.production(lf)}
}

// secretSources returns the sources named by --secret, or the service's own in
// the environment.
func (r *runner) secretSources(flags *listFlag, environment string) ([]secretSource, error) {
	if !flags.set {
		own := r.ownSources(environment)
		out := make([]secretSource, 0, len(own))
		for _, s := range own {
			out = append(out, describeSource(s))
		}
		return out, nil
	}
	out := make([]secretSource, 0, len(flags.values))
	var errs []error
	for _, spec := range flags.values {
		s, err := parseSecretSpec(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("--secret %w", err))
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// providerSources returns the sources for the Secrets Manager layer: the
// service's own, as it gave them, when --secret was not used.
func (r *runner) providerSources(flags *listFlag, sources []secretSource, environment string) []secretsmanager.Source {
	if !flags.set {
		return r.ownSources(environment)
	}
	out := make([]secretsmanager.Source, len(sources))
	for i, s := range sources {
		out[i] = s.provider()
	}
	return out
}

// loaded is the outcome of reading every layer.
type loaded struct {
	schema  *config.Schema
	sources []secretSource
	layers  []readLayer
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
	sources, err := r.secretSources(&lf.secrets, lf.environment)
	if err != nil {
		return nil, usageError{err}
	}
	schema, err := r.schemaFor(lf.prefix)
	if err != nil {
		return nil, err
	}
	layers, err := r.layers(ctx, lf, sources)
	if err != nil {
		return nil, err
	}

	l := &loaded{schema: schema, sources: sources, merged: config.Values{}}
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
	err = r.check(ctx, &config.Options{
		EnvPrefix:  lf.prefix,
		Strict:     true,
		Production: true,
		Logger:     slog.New(slog.DiscardHandler),
		Validator:  r.opts.Validator,
	}, replay)
	l.problems = flatten(nil, err)
	return l, nil
}

// layers builds the layers in the service's order: .env files, the
// environment, Secrets Manager.
func (r *runner) layers(ctx context.Context, lf *layerFlags, sources []secretSource) ([]config.Layer, error) {
	var out []config.Layer
	if lf.envFiles.set {
		for _, path := range lf.envFiles.values {
			out = append(out, dotenv.File(path))
		}
	} else {
		for _, path := range r.opts.EnvFiles {
			out = append(out, dotenv.File(path, dotenv.Optional()))
		}
	}
	out = append(out, env.New(env.WithEnviron(r.opts.Environ)))
	if len(sources) > 0 {
		awsCfg, err := r.opts.AWSConfig(ctx, lf.region)
		if err != nil {
			return nil, usageError{fmt.Errorf("cannot load the AWS configuration: %w", err)}
		}
		if awsCfg.Region == "" {
			return nil, usageError{errors.New("no AWS region for Secrets Manager: give --region or set AWS_REGION")}
		}
		ps := r.providerSources(&lf.secrets, sources, lf.environment)
		// The endpoint is set on the client: set on the aws.Config, it would
		// lose to AWS_ENDPOINT_URL_SECRETS_MANAGER.
		client := sm.NewFromConfig(awsCfg, secretsmanager.WithCredentialsHint, func(o *sm.Options) {
			if lf.endpoint != "" {
				o.BaseEndpoint = aws.String(lf.endpoint)
			}
		})
		out = append(out, secretsmanager.NewWithClient(client, ps...))
	}
	return out, nil
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
