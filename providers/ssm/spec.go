package ssm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-go/strata/config"
)

type kind uint8

const (
	kindPath kind = iota + 1
	kindNames
	kindParameter
)

func (k kind) String() string {
	switch k {
	case kindPath:
		return "Path"
	case kindNames:
		return "Names"
	case kindParameter:
		return "Parameter"
	}
	return "unknown"
}

// A Spec names the parameters to read (a path, a list of names, or one
// parameter) and the configuration key their values go to. Build one with
// Path, Names or Parameter. The zero Spec is not valid.
//
// It is called a Spec, not a Source, because config.Source is the provenance
// of one value ("ssm /my-app/production/server/read_timeout (version 7)").
type Spec struct {
	kind     kind
	root     string   // the path of Path, the root of Names, the name of Parameter
	key      string   // the key the parameters are mounted under
	names    []string // the names of Names, as given
	optional bool
}

// SpecOptions tune a Spec. The zero value (and nil) is valid.
type SpecOptions struct {
	// Optional makes a parameter that does not exist, or a path under which
	// no parameter exists, set nothing instead of failing the load. Access,
	// decryption and other failures are reported as for any spec. Defaults to
	// false: a missing parameter, or an empty path, is an error matching
	// config.ErrNotFound.
	Optional bool
}

// Path reads every parameter under path, recursively (GetParametersByPath,
// ten a page), and maps the rest of each name to a key under key, one key
// segment per path segment: under "/my-app/production" with key "", the
// parameter /my-app/production/server/read_timeout sets server.read_timeout;
// with key "database", /my-app/production/db/host sets database.db.host. A
// segment that is not a key as written is read the way Strata derives keys
// from Go names: hyphens become underscores and CamelCase becomes snake_case,
// so read-timeout, ReadTimeout and READ_TIMEOUT all name read_timeout. A
// parameter whose name maps to no field is reported as an unknown name with
// the closest parameter name that would map to one. opts may be nil.
func Path(path, key string, opts *SpecOptions) Spec {
	return newSpec(kindPath, trimRoot(path), key, nil, opts)
}

// Names reads the named parameters (GetParameters, ten a call, the calls in
// parallel) and maps each to a key under key by its path under root, as Path
// does: Names("/my-app/production", "", []string{"server/read_timeout"}, nil)
// reads /my-app/production/server/read_timeout into server.read_timeout. A
// name is relative to root, or absolute (starting with "/") and under root.
// Unlike Path, Names needs no GetParametersByPath permission and reads only
// the parameters it names. opts may be nil.
func Names(root, key string, names []string, opts *SpecOptions) Spec {
	return newSpec(kindNames, trimRoot(root), key, append([]string(nil), names...), opts)
}

// Parameter reads one parameter, by its full name, into the field key, such
// as Parameter("/shared/payments/stripe-key", "payments.stripe_key", nil).
// opts may be nil.
func Parameter(name, key string, opts *SpecOptions) Spec {
	return newSpec(kindParameter, name, key, nil, opts)
}

func newSpec(k kind, root, key string, names []string, opts *SpecOptions) Spec {
	s := Spec{kind: k, root: root, key: key, names: names}
	if opts != nil {
		s.optional = opts.Optional
	}
	return s
}

// trimRoot drops the trailing slashes of a path, keeping "/" itself.
func trimRoot(p string) string {
	t := strings.TrimRight(p, "/")
	if t == "" && p != "" {
		return "/"
	}
	return t
}

// String describes the spec for messages, without any value:
// `Path("/my-app/production" -> "", optional)`.
func (s Spec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s(%q", s.kind, s.root)
	if s.kind == kindNames {
		fmt.Fprintf(&b, " %q", s.names)
	}
	fmt.Fprintf(&b, " -> %q", s.key)
	if s.optional {
		b.WriteString(", optional")
	}
	b.WriteByte(')')
	return b.String()
}

// Kind returns the kind of spec: "path", "names" or "parameter"; "" for the
// zero Spec.
func (s Spec) Kind() string {
	if s.kind == 0 {
		return ""
	}
	return strings.ToLower(s.kind.String())
}

// Root returns the path of a Path spec, the root of a Names spec, or the
// parameter's name for a Parameter spec.
func (s Spec) Root() string { return s.root }

// Key returns the key the spec's values are mounted under ("" for the root).
func (s Spec) Key() string { return s.key }

// ParameterNames returns the full names the spec reads by name: those of
// Names resolved under its root, the one of Parameter, none for Path.
func (s Spec) ParameterNames() []string {
	switch s.kind {
	case kindParameter:
		return []string{s.root}
	case kindNames:
		out := make([]string, 0, len(s.names))
		for _, n := range s.names {
			out = append(out, s.absolute(n))
		}
		return out
	}
	return nil
}

// IsOptional reports whether the spec was built with SpecOptions.Optional.
func (s Spec) IsOptional() bool { return s.optional }

// absolute resolves a name of a Names spec under its root.
func (s Spec) absolute(n string) string {
	if strings.HasPrefix(n, "/") {
		return n
	}
	if s.root == "/" {
		return "/" + n
	}
	return s.root + "/" + n
}

// check reports a spec that cannot be read, before any API call.
func (s Spec) check() error {
	switch {
	case s.kind == 0:
		return fmt.Errorf("ssm: zero Spec; build specs with Path, Names or Parameter")
	case s.kind == kindParameter && strings.TrimSpace(s.root) == "":
		return fmt.Errorf("ssm: %s: empty parameter name", s)
	case s.kind == kindParameter && s.key == "":
		return fmt.Errorf("ssm: %s: empty key; name the field the value goes to", s)
	case s.kind != kindParameter && !strings.HasPrefix(s.root, "/"):
		return fmt.Errorf("ssm: %s: a path must start with \"/\"", s)
	case s.kind == kindNames && len(s.names) == 0:
		return fmt.Errorf("ssm: %s: no names", s)
	}
	for _, n := range append(s.ParameterNames(), s.root) {
		if err := checkName(n); err != nil {
			return fmt.Errorf("ssm: %s: %w", s, err)
		}
	}
	if s.kind == kindNames {
		for _, n := range s.names {
			if _, ok := under(s.absolute(n), s.root); !ok || strings.Trim(n, "/") == "" {
				return fmt.Errorf("ssm: %s: the name %q is not under the root %q", s, n, s.root)
			}
		}
	}
	return nil
}

// maxNameLength is the longest parameter name Parameter Store accepts (the
// name, not its ARN).
const maxNameLength = 1011

// checkName reports a parameter name or path Parameter Store would refuse:
// it holds only letters, digits and _.-/ (so no spaces), and is at most 1011
// characters. The name is quoted, escaped and cut to its first 64 bytes:
// names are not secret, but one that holds a control character must not
// reach a log or a terminal as it is.
func checkName(n string) error {
	if len(n) > maxNameLength {
		return fmt.Errorf("the name %s is %d characters long, over %d", shortName(n), len(n), maxNameLength)
	}
	for _, r := range n {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.-/", r):
		default:
			return fmt.Errorf("the name %s holds %q: parameter names hold only letters, digits and _.-/", shortName(n), r)
		}
	}
	return nil
}

// shortName quotes a name for a message, its first 64 bytes only.
func shortName(n string) string {
	const keep = 64
	if len(n) <= keep {
		return strconv.Quote(n)
	}
	return strconv.Quote(n[:keep]) + "..."
}

// under reports whether name lies under root at a "/" boundary, and returns
// the rest of the name without leading or trailing slashes.
func under(name, root string) (rel string, ok bool) {
	if root == "/" {
		return strings.Trim(name, "/"), strings.HasPrefix(name, "/")
	}
	rest, ok := strings.CutPrefix(name, root+"/")
	if !ok {
		return "", false
	}
	return strings.Trim(rest, "/"), true
}

// keyOf returns the key the path rel (under the spec's root) maps to under
// mount, and whether schema knows it. The key as written wins; otherwise
// each segment is normalized: hyphens become underscores, CamelCase
// snake_case. With a nil schema the normalized key is returned.
func keyOf(schema *config.Schema, mount, rel string) (string, bool) {
	var segs []string
	for _, seg := range strings.Split(rel, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	exact := join(mount, strings.Join(segs, "."))
	if schema != nil && schema.Field(exact) != nil {
		return exact, true
	}
	for i, seg := range segs {
		segs[i] = normalize(seg)
	}
	norm := join(mount, strings.Join(segs, "."))
	return norm, schema == nil || schema.Field(norm) != nil
}

// normalize maps one path segment to a key segment: read-timeout,
// ReadTimeout and READ_TIMEOUT are read_timeout.
func normalize(seg string) string {
	return config.SnakeCase(strings.ReplaceAll(seg, "-", "_"))
}

func join(mount, rel string) string {
	switch {
	case mount == "":
		return rel
	case rel == "":
		return mount
	}
	return mount + "." + rel
}

// nameOf is the parameter name under root that key (under mount) maps to as
// written: the suggestion given for an unknown name.
func nameOf(root, mount, key string) (string, bool) {
	rel := key
	if mount != "" {
		var ok bool
		if rel, ok = strings.CutPrefix(key, mount+"."); !ok {
			return "", false
		}
	}
	rel = strings.ReplaceAll(rel, ".", "/")
	if root == "/" {
		return "/" + rel, true
	}
	return root + "/" + rel, true
}
