package secretdir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strata-go/strata/config"
)

// layerName is the Layer of every Source and SourceError of this package.
const layerName = "secretdir"

// Naming is the rule that maps a file name to a field key.
type Naming int

const (
	// ByEnv names each file by the field's environment name, with the
	// schema's prefix: APP_DATABASE_PASSWORD is database.password. It is
	// the default, and the form Kubernetes Secrets made from env files take.
	ByEnv Naming = iota
	// ByKey names each file by the field key: database.password.
	ByKey
)

// Options tune a layer made by Dir. The zero value (and nil) is valid.
type Options struct {
	// Optional makes a missing directory count as an empty one. Other
	// errors are still reported. Defaults to false: a missing directory is
	// an error matching config.ErrNotFound.
	Optional bool
	// Naming is the rule for file names that Names does not list. Defaults
	// to ByEnv.
	Naming Naming
	// Names maps file names to field keys ("db-password" to
	// "database.password"), for files whose names follow no rule, such as
	// the object names of the Secrets Store CSI driver. A name listed here
	// is never read by the Naming rule.
	Names map[string]string
}

// Dir returns a layer that reads one value per file from the directory dir,
// such as a Kubernetes Secret volume. opts may be nil. See the package doc
// for the rules.
func Dir(dir string, opts *Options) config.Refresher {
	l := &layer{dir: dir}
	if opts != nil {
		l.optional, l.naming = opts.Optional, opts.Naming
		if len(opts.Names) > 0 {
			l.names = make(map[string]string, len(opts.Names))
			for n, k := range opts.Names {
				l.names[n] = k
			}
		}
	}
	return l
}

type layer struct {
	dir      string
	optional bool
	naming   Naming
	names    map[string]string
	// readHook, when set by a test, is called after each file is read.
	readHook func(path string)
}

// Name returns "secretdir".
func (l *layer) Name() string { return layerName }

// Sensitive returns true: a secret volume is a proper home for secrets.
func (l *layer) Sensitive() bool { return true }

// Load reads every file of the directory.
func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if u.Values == nil && err == nil {
		return config.Values{}, nil
	}
	return u.Values, err
}

// Files returns the paths of the value files the directory holds now, for
// configcheck lint; it reads no content. It is nil when the directory cannot
// be listed.
func (l *layer) Files() []string {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !hidden(e.Name()) {
			out = append(out, filepath.Join(l.dir, e.Name()))
		}
	}
	return out
}

// Refresh reads what changed since req.Prev: it resolves ..data, lists and
// stats the files, and reads only the files whose size or modification time
// differ from Prev.
func (l *layer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if err := ctx.Err(); err != nil {
		return config.Update{}, err
	}
	if req.Schema == nil {
		return config.Update{}, errors.New("secretdir: Refresh without a schema")
	}
	prev, _ := req.Prev.(*state)
	if req.Prev != nil && prev == nil {
		return config.Update{}, &config.SourceError{Layer: layerName, Source: l.dir, Code: config.ErrLayer,
			Message: "the previous state is not one of this layer"}
	}
	next, err := l.scan(ctx, req.Schema, prev)
	if next == nil {
		return config.Update{}, err
	}
	if prev != nil && next.equal(prev) {
		return config.Update{}, err
	}
	return config.Update{Changed: true, Values: next.values(), State: next}, err
}

// hidden reports whether a directory entry is no value: a name starting
// with ".", such as the kubelet's ..data and ..2026_01_01_00_00_00.1 entries.
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// key returns the field key a file name maps to, or "" when it maps to none,
// with the error for it.
func (l *layer) key(schema *config.Schema, name, path string) (string, error) {
	src := config.Source{Layer: layerName, Location: path}
	if k, ok := l.names[name]; ok {
		if schema.Field(k) == nil {
			return "", schema.UnknownKey(k, src)
		}
		return k, nil
	}
	if l.naming == ByKey {
		if schema.Field(name) == nil {
			return "", schema.UnknownKey(name, src)
		}
		return name, nil
	}
	f := schema.FieldByEnv(name)
	if f == nil {
		return "", schema.UnknownEnv(name, src)
	}
	return f.Key, nil
}

// dirError is the error for a directory that cannot be read.
func (l *layer) dirError(err error) error {
	e := &config.SourceError{Layer: layerName, Source: l.dir, Err: err, Keys: []string{""}}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Code, e.Message = config.ErrNotFound, "the directory does not exist"
	case errors.Is(err, fs.ErrPermission):
		e.Code = config.ErrAccessDenied
	default:
		e.Code, e.Message = config.ErrMalformed, "cannot list the directory"
	}
	return e
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
