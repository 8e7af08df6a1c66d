package secretsmanager

import (
	"context"
	"errors"

	"github.com/knadh/koanf/v2"
)

// KoanfProvider reads a layer's sources as a koanf.Provider, for programs
// that use koanf directly:
//
//	k := koanf.New(".")
//	err := k.Load(layer.Provider(ctx), nil)
//
// Without a schema there is no field to check keys against: a JSON secret
// (or a binary secret holding JSON) is mounted as a nested map under its key,
// a string secret is a string, other binary secrets are []byte, and a secret
// found under a prefix is mounted under its path (as a map when it holds a
// JSON object, as text otherwise). JSON numbers are json.Number, exactly as
// written (koanf's Int64 and Float64 parse them), and an object that repeats
// a key is an error.
type KoanfProvider struct {
	l   *Layer
	ctx context.Context
}

var _ koanf.Provider = (*KoanfProvider)(nil)

// Provider returns a koanf.Provider over the layer's sources. Its reads use
// ctx, and count in Calls, but do not change the versions Refresh compares
// against.
func (l *Layer) Provider(ctx context.Context) *KoanfProvider {
	return &KoanfProvider{l: l, ctx: ctx}
}

// ReadBytes is not supported: there is no single document to parse. It
// returns an error; use Read.
func (p *KoanfProvider) ReadBytes() ([]byte, error) {
	return nil, errors.New("secretsmanager: ReadBytes is not supported; use Read, which returns the parsed map")
}

// Read fetches every source and returns the values as a nested map. Any
// error (a secret that cannot be read or parsed) fails the whole read.
func (p *KoanfProvider) Read() (map[string]any, error) {
	r, err := p.l.read(p.ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := joinErrs(r.errs, r.m.errs); err != nil {
		return nil, err
	}
	return r.m.tree, nil
}
