package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-go/strata/config"
)

// layerName is the Layer of every Source and SourceError of this package.
const layerName = "file"

// Format is the syntax of a configuration file.
type Format string

// The formats a layer reads.
const (
	// Auto tells the format by the file's extension: .yaml and .yml are
	// YAML, .json is JSON, .toml is TOML (in any letter case).
	Auto Format = ""
	// YAML is YAML 1.2, one document.
	YAML Format = "yaml"
	// JSON is JSON (RFC 8259), one object.
	JSON Format = "json"
	// TOML is TOML 1.0.
	TOML Format = "toml"
)

// Options tune a layer made by New. The zero value (and nil) is valid; each
// field's default is given in its comment.
type Options struct {
	// Format is the syntax of the file. Defaults to Auto: the extension
	// decides, and a path with another extension is an error matching
	// config.ErrLayer at Load.
	Format Format
	// Optional makes a missing file count as an empty one, so that the same
	// program runs with and without it; a file that appears (or goes) later
	// is picked up at the next refresh. Other read errors are still
	// reported. Defaults to false: a missing file is an error matching
	// config.ErrNotFound.
	Optional bool
}

// New returns a layer that reads the configuration file at path: YAML, JSON
// or TOML. Sources name the file as path is written here, with the line of
// each key: "config.yaml:12". opts may be nil. See the package doc for the
// rules.
func New(path string, opts *Options) config.Refresher {
	l := &layer{path: path}
	if opts != nil {
		l.format, l.optional = opts.Format, opts.Optional
	}
	return l
}

type layer struct {
	path     string
	format   Format
	optional bool
	// readHook, when set by a test, is called each time the file's content
	// is read.
	readHook func()
	// now, when set by a test, replaces time.Now in the test of a racy read.
	now func() time.Time
}

// Name returns "file".
func (l *layer) Name() string { return layerName }

// Sensitive returns false: a configuration file is a plain file, often kept
// in git, so a secret field it sets breaks the secret policy.
func (l *layer) Sensitive() bool { return false }

// Load reads and parses the file. The store calls Refresh instead; Load is
// for programs that read the layer directly.
func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if u.Values == nil && err == nil {
		return config.Values{}, nil
	}
	return u.Values, err
}

// Refresh stats the file and reads and parses it only when it changed since
// req.Prev (see the package doc, "Refresh"). A file that cannot be read or
// parsed is an error with Changed false, so the store keeps the values it
// serves.
func (l *layer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if err := ctx.Err(); err != nil {
		return config.Update{}, err
	}
	if req.Schema == nil {
		return config.Update{}, l.sourceError(config.ErrLayer, "Refresh was called without a schema", nil)
	}
	prev, _ := req.Prev.(*state)
	if req.Prev != nil && prev == nil {
		return config.Update{}, l.sourceError(config.ErrLayer, "the previous state is not one of this layer", nil)
	}
	format, err := l.resolveFormat()
	if err != nil {
		return config.Update{}, err
	}
	info, err := statFile(l.path)
	switch {
	case err != nil && l.optional && errors.Is(err, fs.ErrNotExist):
		return absent(prev), nil
	case err != nil:
		return config.Update{}, l.readError(err)
	case prev != nil && !prev.missing && !prev.racy && prev.stat == info:
		return config.Update{}, nil // the cheap check: nothing changed
	}
	return l.read(ctx, req.Schema, format, prev)
}

// read reads and parses the file. A racy Prev (see state.racy) whose content
// is unchanged gives its values again with a State that is not racy, so that
// the next refresh trusts the stat check.
func (l *layer) read(ctx context.Context, schema *config.Schema, format Format, prev *state) (config.Update, error) {
	content, info, err := readFile(l.path)
	if l.readHook != nil {
		l.readHook()
	}
	switch {
	case err != nil && l.optional && errors.Is(err, fs.ErrNotExist):
		return absent(prev), nil // removed since the stat
	case err != nil:
		return config.Update{}, l.readError(err)
	}
	if err := ctx.Err(); err != nil {
		return config.Update{}, err
	}
	now := time.Now
	if l.now != nil {
		now = l.now
	}
	next := newState(info, content, now())
	if prev != nil && !prev.missing && prev.sum == next.sum && next.racy {
		// The same content, and a stat not to be trusted yet. Once it can
		// be (a racy Prev read again later, a touched file), the same values
		// are returned below with the new State, so that the file is not
		// read at every refresh.
		return config.Update{}, nil
	}
	vals, err := decode(l.path, format, content, schema)
	if vals == nil {
		return config.Update{}, err
	}
	return config.Update{Changed: true, Values: vals, State: next, Versions: map[string]string{l.path: next.version()}}, err
}

// absent is the Update of an Optional file that does not exist: no values,
// or no change when Prev says it was absent already.
func absent(prev *state) config.Update {
	if prev != nil && prev.missing {
		return config.Update{}
	}
	return config.Update{Changed: true, Values: config.Values{}, State: &state{missing: true}}
}

// resolveFormat returns the layer's format: the one given, or the one the
// extension names.
func (l *layer) resolveFormat() (Format, error) {
	switch l.format {
	case YAML, JSON, TOML:
		return l.format, nil
	case Auto:
	default:
		return "", l.sourceError(config.ErrLayer, fmt.Sprintf("unknown Options.Format %q; use file.YAML, file.JSON or file.TOML", string(l.format)), nil)
	}
	switch strings.ToLower(filepath.Ext(l.path)) {
	case ".yaml", ".yml":
		return YAML, nil
	case ".json":
		return JSON, nil
	case ".toml":
		return TOML, nil
	}
	return "", l.sourceError(config.ErrLayer,
		"cannot tell the format from the extension (.yaml, .yml, .json or .toml); set Options.Format", nil)
}

// Files returns the file the layer reads, as it was given to New, for
// configcheck: it implements configcheck.FileLister, so that a problem with
// the file is placed on it.
func (l *layer) Files() []string { return []string{l.path} }

// SharedFiles returns true: a configuration file is meant to be shared
// (kept in git, readable by the service's users), so configcheck lint does
// not flag its mode or that git tracks it. A secret field it sets is still
// reported, as from every layer that is not sensitive.
func (l *layer) SharedFiles() bool { return true }

// Locate returns the file as the place the field key can be set, for
// configcheck env; it reads nothing. It locates no secret field: a file
// meant to be shared is no place for a secret, not even for local
// development.
func (l *layer) Locate(schema *config.Schema, key string) (config.Source, bool) {
	if schema == nil {
		return config.Source{}, false
	}
	if f := schema.Field(key); f == nil || f.Secret {
		return config.Source{}, false
	}
	return config.Source{Layer: layerName, Location: l.path}, true
}

func (l *layer) sourceError(code error, msg string, keys []string) *config.SourceError {
	return &config.SourceError{Layer: layerName, Source: l.path, Code: code, Message: msg, Keys: keys}
}

// readError is the error for a file that cannot be stat'ed or read. It keeps
// the *fs.PathError of the os package, whose text names the path and the
// system's reason, never content.
func (l *layer) readError(err error) error {
	e := &config.SourceError{Layer: layerName, Source: l.path, Err: err, Keys: []string{""}}
	var big *tooLargeError
	switch {
	case errors.As(err, &big):
		e.Code, e.Err, e.Message = config.ErrMalformed, nil, big.Error()
	case errors.Is(err, fs.ErrNotExist):
		e.Code = config.ErrNotFound
		e.Message = "the file does not exist (set Options.Optional if it may be absent)"
	case errors.Is(err, fs.ErrPermission):
		e.Code, e.Message = config.ErrAccessDenied, "the file may not be read by this process"
	default:
		e.Code, e.Message = config.ErrMalformed, "cannot read the file"
	}
	return e
}
