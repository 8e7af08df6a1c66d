package configcheck

import (
	"fmt"
	"strings"

	"github.com/strata-go/strata/providers/secretsmanager"
)

// secretSpecHelp describes the syntax of --secret.
const secretSpecHelp = "a Secrets Manager `source`, repeatable: json:ID=KEY (a JSON object mounted\n" +
	"under KEY; json:ID for the root), string:ID=KEY, binary:ID=KEY or prefix:NAME/;\n" +
	"append ,stage=AWSPREVIOUS or ,version=VERSIONID to read another version,\n" +
	"and ,optional for a source that may not exist yet.\n" +
	"Replaces the service's built-in sources"

// secretSource is a Secrets Manager source as configcheck reasons about it:
// for explaining where a secret comes from, costing and IAM.
type secretSource struct {
	kind      string // "json", "string", "binary", "prefix"
	id        string // secret name or ARN; the name prefix for "prefix"
	key       string // configuration key; "" for a JSON root and for "prefix"
	stage     string // "" for AWSCURRENT
	versionID string
	optional  bool
}

// parseSecretSpec parses the value of a --secret flag.
func parseSecretSpec(spec string) (secretSource, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return secretSource{}, fmt.Errorf("%q: expected KIND:ID=KEY, such as json:my-app/production/database=database", spec)
	}
	kind = strings.ToLower(kind)
	// Neither a secret name, an ARN nor a key holds a comma, so options follow
	// the first one.
	parts := strings.Split(rest, ",")
	s := secretSource{kind: kind}
	for _, opt := range parts[1:] {
		name, val, _ := strings.Cut(opt, "=")
		switch {
		case name == "stage" && val != "":
			s.stage = val
		case name == "version" && val != "":
			s.versionID = val
		case name == "optional" && val == "":
			s.optional = true
		default:
			return secretSource{}, fmt.Errorf("%q: unknown option %q; expected stage=LABEL, version=ID or optional", spec, opt)
		}
	}
	target := parts[0]
	switch kind {
	case "prefix":
		s.id = target
	case "json", "string", "binary":
		// A secret name may hold '=' but a key may not, so the key follows
		// the last one.
		i := strings.LastIndexByte(target, '=')
		if i < 0 {
			if kind != "json" {
				return secretSource{}, fmt.Errorf("%q: expected %s:ID=KEY naming the field the value goes to", spec, kind)
			}
			s.id = target
		} else {
			s.id, s.key = target[:i], target[i+1:]
		}
	default:
		return secretSource{}, fmt.Errorf("%q: unknown kind %q; expected json, string, binary or prefix", spec, kind)
	}
	if strings.TrimSpace(s.id) == "" {
		return secretSource{}, fmt.Errorf("%q: empty secret name", spec)
	}
	if s.stage == secretsmanager.StageCurrent {
		s.stage = ""
	}
	if s.stage != "" && s.versionID != "" {
		return secretSource{}, fmt.Errorf("%q: give stage or version, not both", spec)
	}
	if s.kind == "prefix" && s.versionID != "" {
		return secretSource{}, fmt.Errorf("%q: version does not apply to a prefix", spec)
	}
	return s, nil
}

// String renders the source in the syntax of --secret.
func (s secretSource) String() string {
	var b strings.Builder
	b.WriteString(s.kind)
	b.WriteByte(':')
	b.WriteString(s.id)
	if s.kind != "prefix" && (s.key != "" || s.kind != "json") {
		b.WriteByte('=')
		b.WriteString(s.key)
	}
	if s.stage != "" {
		b.WriteString(",stage=" + s.stage)
	}
	if s.versionID != "" {
		b.WriteString(",version=" + s.versionID)
	}
	if s.optional {
		b.WriteString(",optional")
	}
	return b.String()
}

// provider returns the source for the secretsmanager layer.
func (s secretSource) provider() secretsmanager.Source {
	var opts []secretsmanager.SourceOption
	if s.stage != "" {
		opts = append(opts, secretsmanager.Stage(s.stage))
	}
	if s.versionID != "" {
		opts = append(opts, secretsmanager.VersionID(s.versionID))
	}
	if s.optional {
		opts = append(opts, secretsmanager.Optional())
	}
	switch s.kind {
	case "json":
		return secretsmanager.JSON(s.id, s.key, opts...)
	case "string":
		return secretsmanager.String(s.id, s.key, opts...)
	case "binary":
		return secretsmanager.Binary(s.id, s.key, opts...)
	}
	return secretsmanager.Prefix(s.id, opts...)
}

// pinned reports whether the source reads a version other than AWSCURRENT,
// which the layer reads with GetSecretValue rather than in a batch.
func (s secretSource) pinned() bool { return s.stage != "" || s.versionID != "" }

// covers returns where the field key is expected to come from under this
// source, such as "my-app/production/database#password", or "" when the
// source does not set it.
func (s secretSource) covers(key string) string {
	switch s.kind {
	case "string":
		if key == s.key {
			return s.id
		}
	case "json", "binary":
		if key == s.key {
			return s.id
		}
		if s.key == "" {
			return s.id + "#" + key
		}
		if rel, ok := strings.CutPrefix(key, s.key+"."); ok {
			return s.id + "#" + rel
		}
	case "prefix":
		p := strings.TrimSuffix(s.id, "/") + "/"
		path := strings.ReplaceAll(key, ".", "/")
		section, leaf := "", path
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			section, leaf = path[:i], path[i+1:]
		}
		if section == "" {
			return p + path + " or " + strings.TrimSuffix(p, "/") + "#" + leaf
		}
		return p + path + " or " + p + section + "#" + leaf
	}
	return ""
}

// expectedSource returns where a secret field is expected to come from under
// sources: the last source naming the field's secret wins, as in the layer;
// a prefix, which may or may not hold a secret for the field, comes last.
func expectedSource(sources []secretSource, key string) string {
	named, listed := "", ""
	for _, s := range sources {
		w := s.covers(key)
		switch {
		case w == "":
		case s.kind == "prefix":
			listed = w
		default:
			named = w
		}
	}
	if named == "" {
		named = listed
	}
	if named == "" {
		return ""
	}
	return "secretsmanager " + named
}

// describeSource reads a secretsmanager.Source back into a secretSource.
func describeSource(src secretsmanager.Source) secretSource {
	return secretSource{kind: src.Kind(), id: src.ID(), key: src.Key(), stage: src.Stage(), versionID: src.VersionID(), optional: src.IsOptional()}
}
