package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/knadh/koanf/v2"
)

// A KoanfOption configures a layer made by FromKoanf.
type KoanfOption func(*koanfLayer)

// KoanfSensitive marks the layer as a proper home for secrets, such as a
// provider that reads from a secret store. Without it the layer is not
// sensitive, and a secret field it sets breaks the secret policy.
func KoanfSensitive() KoanfOption {
	return func(l *koanfLayer) { l.sensitive = true }
}

// FromKoanf turns a koanf provider into a layer, so any provider of the koanf
// ecosystem (files, Vault, Consul, S3, flags) can feed a store. name is the
// layer's name in sources and messages. pa parses what the provider reads;
// when it is nil the provider's Read method supplies the nested map itself.
//
// Each Load reads the provider afresh into a new koanf instance and maps the
// nested document onto the schema's keys ("database.host"). A value's source
// is {Layer: name, Location: key}. A key that matches no field is reported as
// an *UnknownNameError with the closest known key. Values keep the types the
// parser produced (a JSON number is a float64), and the store decodes them into
// the fields' types.
//
// koanf providers take no context: Load checks ctx before and after reading,
// but cannot interrupt a provider that blocks.
//
// A failure to read is a *SourceError whose Code is ErrNotFound or
// ErrAccessDenied when the provider's error says so, and ErrTransient
// otherwise. A failure to parse is a *SourceError with Code ErrMalformed. The
// parser's own error is not kept, neither in the text nor in the Unwrap chain,
// because parsers quote the input they reject and that input may hold a
// secret: the cause says only the parser error's type and, for a JSON syntax
// error, the byte offset.
func FromKoanf(name string, p koanf.Provider, pa koanf.Parser, opts ...KoanfOption) Layer {
	l := &koanfLayer{name: name, provider: p, parser: pa}
	for _, o := range opts {
		o(l)
	}
	return l
}

type koanfLayer struct {
	name      string
	provider  koanf.Provider
	parser    koanf.Parser
	sensitive bool
}

func (l *koanfLayer) Name() string    { return l.name }
func (l *koanfLayer) Sensitive() bool { return l.sensitive }

func (l *koanfLayer) Load(ctx context.Context, schema *Schema) (Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.provider == nil {
		return nil, &SourceError{Layer: l.name, Code: ErrNotFound, Message: "no koanf provider given"}
	}
	var pa koanf.Parser
	if l.parser != nil {
		pa = koanfParser{l.parser}
	}
	k := koanf.New(".")
	err := k.Load(l.provider, pa)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err != nil {
		return nil, l.loadError(err)
	}

	source := func(key string) Source { return Source{Layer: l.name, Location: key} }
	var unknown []string
	vals := schema.Flatten("", k.Raw(), source, func(key string) { unknown = append(unknown, key) })
	if len(unknown) == 0 {
		return vals, nil
	}
	slices.Sort(unknown)
	errs := make([]error, len(unknown))
	for i, key := range unknown {
		errs[i] = schema.UnknownKey(key, source(key))
	}
	return vals, errors.Join(errs...)
}

func (l *koanfLayer) loadError(err error) error {
	var perr *koanfParseError
	if errors.As(err, &perr) {
		return &SourceError{
			Layer:   l.name,
			Code:    ErrMalformed,
			Message: "cannot parse the content",
			Err:     perr,
		}
	}
	e := &SourceError{Layer: l.name, Err: err}
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		e.Code = ErrNotFound
	case errors.Is(err, ErrAccessDenied) || errors.Is(err, fs.ErrPermission):
		e.Code = ErrAccessDenied
	default:
		e.Code = ErrTransient
	}
	return e
}

// koanfParser wraps a parser so that its errors can be told from the
// provider's once koanf returns them.
type koanfParser struct{ koanf.Parser }

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
