// Package koanf turns any koanf provider into a config.Layer, so the koanf
// ecosystem (files, Vault, Consul, S3, flags) can feed a store:
//
//	layer := koanf.New("settings", file.Provider("settings.json"), json.Parser(), nil)
//	store, err := config.Load[AppConfig](ctx, opts, layer, env.New(nil))
//
// The package config itself does not import koanf; only programs that use
// this package do.
//
// # config.Values and sources
//
// Each Load reads the provider afresh into a new koanf instance and maps the
// nested document onto the schema's keys ("database.host"). A value's source
// is {Layer: name, Location: key}. A key that matches no field is reported as
// a *config.UnknownNameError with the closest known key. With
// Options.Sensitive the keys are taken as part of the secret content the layer
// holds: an unknown key is never shown (Name is "", the Source names the
// layer only; see config.Schema.UnknownSecretKey), in no error, warning or
// log line. config.Values keep the
// types the parser produced (a JSON number is a float64), and the store
// decodes them into the fields' types.
//
// # Errors
//
// A failure to read is a *config.SourceError whose Code is config.ErrNotFound
// or config.ErrAccessDenied when the provider's error says so (including
// fs.ErrNotExist and fs.ErrPermission), and config.ErrTransient otherwise. A
// failure to parse is a *config.SourceError with Code config.ErrMalformed.
// Neither the provider's error nor the parser's is kept, in the text or in the
// Unwrap chain, because they may quote what was read or sent (a token, a
// response body, the input a parser rejects), and that may be a secret. The
// cause says only the error's Go type and, for a JSON syntax error, the byte
// offset; a provider's cause still matches, with errors.Is, context.Canceled,
// context.DeadlineExceeded, fs.ErrNotExist, fs.ErrPermission,
// config.ErrNotFound and config.ErrAccessDenied when its error did.
//
// # Context
//
// koanf providers take no context: Load checks ctx before and after reading,
// and a context that ends while the provider reads wins over its result, but
// Load cannot interrupt a provider that blocks.
package koanf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	kf "github.com/knadh/koanf/v2"

	"github.com/strata-go/strata/config"
)

// Options tune a layer made by New. The zero value (and nil) is valid; each
// field's default is given in its comment.
type Options struct {
	// Sensitive marks the layer as a proper home for secrets, such as a
	// provider that reads from a secret store. Defaults to false: the layer is
	// not sensitive, and a secret field it sets breaks the secret policy.
	Sensitive bool
}

// New turns a koanf provider into a layer. name is the layer's name in
// sources and messages. pa parses what the provider reads; when it is nil the
// provider's Read method supplies the nested map itself. opts may be nil.
func New(name string, p kf.Provider, pa kf.Parser, opts *Options) config.Layer {
	l := &layer{name: name, provider: p, parser: pa}
	if opts != nil {
		l.sensitive = opts.Sensitive
	}
	return l
}

type layer struct {
	name      string
	provider  kf.Provider
	parser    kf.Parser
	sensitive bool
}

func (l *layer) Name() string    { return l.name }
func (l *layer) Sensitive() bool { return l.sensitive }

func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.provider == nil {
		return nil, &config.SourceError{Layer: l.name, Code: config.ErrNotFound, Message: "no koanf provider given"}
	}
	var pa kf.Parser
	if l.parser != nil {
		pa = koanfParser{l.parser}
	}
	k := kf.New(".")
	err := k.Load(l.provider, pa)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err != nil {
		return nil, l.loadError(err)
	}

	source := func(key string) config.Source { return config.Source{Layer: l.name, Location: key} }
	var unknown []string
	vals := schema.Flatten("", k.Raw(), source, func(key string) { unknown = append(unknown, key) })
	if len(unknown) == 0 {
		return vals, nil
	}
	slices.Sort(unknown)
	return vals, errors.Join(l.unknownKeys(schema, unknown)...)
}

// unknownKeys reports the keys that map to no field. A sensitive layer's keys
// are part of what it holds (the keys of a secret document), so its errors
// never show them (see config.Schema.UnknownSecretKey): they name the layer
// and the closest known key, once per distinct suggestion.
func (l *layer) unknownKeys(schema *config.Schema, keys []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, key := range keys {
		if !l.sensitive {
			errs = append(errs, schema.UnknownKey(key, config.Source{Layer: l.name, Location: key}))
			continue
		}
		u := schema.UnknownSecretKeyUnder("", key, config.Source{Layer: l.name})
		if !seen[u.Suggestion] {
			seen[u.Suggestion] = true
			errs = append(errs, u)
		}
	}
	return errs
}

func (l *layer) loadError(err error) error {
	var perr *koanfParseError
	if errors.As(err, &perr) {
		return &config.SourceError{
			Layer:   l.name,
			Code:    config.ErrMalformed,
			Message: "cannot parse the content",
			Err:     perr,
		}
	}
	e := &config.SourceError{Layer: l.name, Message: "the provider could not read", Err: newProviderError(err)}
	switch {
	case errors.Is(err, config.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		e.Code = config.ErrNotFound
	case errors.Is(err, config.ErrAccessDenied) || errors.Is(err, fs.ErrPermission):
		e.Code = config.ErrAccessDenied
	default:
		e.Code = config.ErrTransient
	}
	return e
}

// koanfParser wraps a parser so that its errors can be told from the
// provider's once koanf returns them.
type koanfParser struct{ kf.Parser }

func (p koanfParser) Unmarshal(b []byte) (map[string]any, error) {
	m, err := p.Parser.Unmarshal(b)
	if err != nil {
		return nil, newKoanfParseError(err)
	}
	return m, nil
}

// koanfParseError stands for a parser's error without its message, which may
// quote the input. It keeps the error's type and, when the error has one, the
// byte offset.
type koanfParseError struct {
	typ    string
	offset int64 // -1 when unknown
}

func newKoanfParseError(err error) *koanfParseError {
	e := &koanfParseError{typ: fmt.Sprintf("%T", err), offset: -1}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		e.offset = syn.Offset
	}
	return e
}

func (e *koanfParseError) Error() string {
	if e.offset >= 0 {
		return fmt.Sprintf("parser error %s at byte offset %d (message withheld as it may quote a secret)", e.typ, e.offset)
	}
	return fmt.Sprintf("parser error %s (message withheld as it may quote a secret)", e.typ)
}

// providerError stands for a provider's error without its message, which may
// quote what the provider read or was given (a token, a response body). It
// keeps the error's Go type, and matches with errors.Is the sentinels the
// provider's error matched: context.Canceled, context.DeadlineExceeded,
// fs.ErrNotExist, fs.ErrPermission, config.ErrNotFound, config.ErrAccessDenied.
type providerError struct {
	typ     string
	matches []error
}

var providerSentinels = []error{context.Canceled, context.DeadlineExceeded, fs.ErrNotExist, fs.ErrPermission,
	config.ErrNotFound, config.ErrAccessDenied}

func newProviderError(err error) *providerError {
	e := &providerError{typ: fmt.Sprintf("%T", err)}
	for _, s := range providerSentinels {
		if errors.Is(err, s) {
			e.matches = append(e.matches, s)
		}
	}
	return e
}

func (e *providerError) Error() string {
	return fmt.Sprintf("provider error %s (message withheld as it may quote a secret)", e.typ)
}

func (e *providerError) Unwrap() []error { return e.matches }
