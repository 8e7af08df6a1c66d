package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/knadh/koanf/v2"
)

// DefaultKoanfTimeout is the default of KoanfOptions.Timeout.
const DefaultKoanfTimeout = 30 * time.Second

// KoanfOptions tune a KoanfProvider. The zero value (and nil) is valid; each
// field's default is given in its comment.
type KoanfOptions struct {
	// Timeout bounds one Read or ReadBytes whole: every API call it makes
	// (each also bounded by Options.Timeout) runs under one context with
	// this deadline, since koanf gives a provider no context of its own.
	// Zero or negative means the default, 30 seconds.
	Timeout time.Duration
}

// KoanfProvider reads a reader's specs as a koanf.Provider, for programs
// that use koanf directly:
//
//	k := koanf.New(".")
//	err := k.Load(reader.Provider(nil), nil)
//
// Without a schema there is no field to check keys against: a JSON secret
// (or a binary secret holding JSON) is mounted as a nested map under its key,
// a string secret is a string, other binary secrets are []byte, and a secret
// found under a prefix is mounted under its path (as a map when it holds a
// JSON object, as text otherwise). JSON numbers are json.Number, exactly as
// written (koanf's Int64 and Float64 parse them), and an object that repeats
// a key is an error.
//
// A program that has a schema does not need this provider: the Reader is
// itself a config.Layer. This one exists for koanf instances, which read
// providers without a schema.
type KoanfProvider struct {
	l       *Reader
	timeout time.Duration
}

var _ koanf.Provider = (*KoanfProvider)(nil)

// Provider returns a koanf.Provider over the reader's specs. Its reads count
// in Calls, but do not change the versions a store's Refresh compares
// against. opts may be nil.
func (l *Reader) Provider(opts *KoanfOptions) *KoanfProvider {
	p := &KoanfProvider{l: l, timeout: DefaultKoanfTimeout}
	if opts != nil && opts.Timeout > 0 {
		p.timeout = opts.Timeout
	}
	return p
}

// ReadBytes fetches every spec and returns the nested map Read returns as
// one JSON document, for koanf's JSON parser (or any that reads JSON). JSON
// numbers keep the digits they were written with; []byte values (binary
// secrets that do not hold JSON) are base64 strings, as encoding/json writes
// them. Any error fails the whole read, as for Read.
func (p *KoanfProvider) ReadBytes() ([]byte, error) {
	tree, err := p.Read()
	if err != nil {
		return nil, err
	}
	return json.Marshal(tree)
}

// Read fetches every spec and returns the values as a nested map. Any error
// (a secret that cannot be read or parsed) fails the whole read. The read is
// bounded by KoanfOptions.Timeout; when it runs out, the error matches
// context.DeadlineExceeded.
func (p *KoanfProvider) Read() (map[string]any, error) {
	if p == nil || p.l == nil {
		return nil, errors.New("secretsmanager: KoanfProvider of no Reader; make it with Reader.Provider")
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	r, err := p.l.read(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := joinErrs(r.errs, r.m.errs); err != nil {
		return nil, err
	}
	return r.m.tree, nil
}
