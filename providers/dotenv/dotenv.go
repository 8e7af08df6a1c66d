package dotenv

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/strata-go/strata/config"
)

// layerName is the Layer of every Source and SourceError of this package.
const layerName = "dotenv"

// Options tune a layer made by File. The zero value (and nil) is valid; each
// field's default is given in its comment.
type Options struct {
	// Optional makes a missing file count as an empty one, so the same
	// program runs with a .env file on a laptop and without one in
	// production. Other read errors, such as a file that may not be read, are
	// still reported. Defaults to false: a missing file is an error matching
	// config.ErrNotFound.
	Optional bool
}

// File returns a layer that reads the .env file at path each time it is loaded.
// Sources name the file as path is written here, with the line of the entry:
// ".env:12". opts may be nil.
func File(path string, opts *Options) config.Layer {
	l := &layer{path: path}
	if opts != nil {
		l.optional = opts.Optional
	}
	return l
}

type layer struct {
	path     string
	optional bool
}

// Name returns "dotenv".
func (l *layer) Name() string { return layerName }

// Sensitive returns false: a .env file is a plain file on disk, so secrets
// set by it break the secret policy.
func (l *layer) Sensitive() bool { return false }

// Load reads and parses the file and maps its names onto schema.
func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	content, err := os.ReadFile(l.path)
	if err != nil {
		if l.optional && errors.Is(err, fs.ErrNotExist) {
			return config.Values{}, nil
		}
		return nil, l.readError(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return decode(l.path, content, schema)
}

func (l *layer) readError(err error) error {
	e := &config.SourceError{Layer: layerName, Source: l.path, Err: err}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Code = config.ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		e.Code = config.ErrAccessDenied
	default:
		e.Code = config.ErrMalformed
		e.Message = "cannot read the file"
	}
	return e
}

// decode parses content, read from path, and maps its names onto schema. No
// error holds any text of a value: each malformed statement is a
// *config.SourceError naming its line, and warnings are *Warning values.
func decode(path string, content []byte, schema *config.Schema) (config.Values, error) {
	p := parse(path, normalize(content), schema)
	if len(p.errs) > 0 {
		return nil, errors.Join(append(p.errs, p.warns...)...)
	}

	// A name set twice takes its last value: walk the statements from the end
	// and keep the first value seen for each field.
	prefix := schema.EnvPrefix()
	out := make(config.Values, len(p.stmts))
	var unknown []error
	for i := len(p.stmts) - 1; i >= 0; i-- {
		st := &p.stmts[i]
		if st.failed {
			continue
		}
		f := schema.FieldByEnv(st.name)
		if f == nil {
			if prefix != "" && strings.HasPrefix(st.name, prefix) && !reported(unknown, st.name) {
				unknown = append(unknown, schema.UnknownEnv(st.name, source(path, st.line)))
			}
			continue
		}
		if _, done := out[f.Key]; done {
			continue
		}
		out[f.Key] = config.Value{Raw: st.value, Source: source(path, st.line), Secret: st.secret}
	}
	slices.Reverse(unknown)
	return out, errors.Join(append(unknown, p.warns...)...)
}

func source(path string, line int) config.Source {
	return config.Source{Layer: layerName, Location: path, Line: line}
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
