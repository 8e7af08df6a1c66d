package secretsmanager

import (
	"fmt"
	"strings"
)

// Version stages Secrets Manager attaches to secret versions.
const (
	// StageCurrent labels the version in use. A spec without Stage or
	// VersionID reads it.
	StageCurrent = "AWSCURRENT"
	// StagePrevious labels the version that was current before the last
	// rotation.
	StagePrevious = "AWSPREVIOUS"
	// StagePending labels the version a rotation is about to make current.
	StagePending = "AWSPENDING"
)

type kind uint8

const (
	kindJSON kind = iota + 1
	kindString
	kindBinary
	kindPrefix
)

func (k kind) String() string {
	switch k {
	case kindJSON:
		return "JSON"
	case kindString:
		return "String"
	case kindBinary:
		return "Binary"
	case kindPrefix:
		return "Prefix"
	}
	return "unknown"
}

// A Spec names a secret (or a name prefix) to read and the configuration key
// its values go to. Build one with JSON, String, Binary or Prefix. The zero
// Spec is not valid.
//
// It is called a Spec, not a Source, because config.Source is the provenance
// of one value ("secretsmanager my-app/db#password"), and not a Secret,
// because config.Secret is a secret value.
type Spec struct {
	kind      kind
	id        string // secret name or ARN; the name prefix for Prefix
	key       string // configuration key the values are mounted under
	stage     string
	versionID string
	optional  bool
}

// SpecOptions choose which version of a secret a Spec reads, and whether it
// may be missing. The zero value (and nil) is valid; each field's default is
// given in its comment.
type SpecOptions struct {
	// Stage makes the spec read the version that carries this staging label,
	// for example StagePrevious to read the old password during a rotation
	// window. A spec with a stage other than AWSCURRENT is read with
	// GetSecretValue (BatchGetSecretValue reads AWSCURRENT only). Defaults to
	// StageCurrent. Give Stage or VersionID, not both.
	Stage string
	// VersionID pins the spec to one version of its secret. A pinned version
	// never changes, so Refresh never reads it again. It does not apply to
	// Prefix. Defaults to "": the version that carries Stage.
	VersionID string
	// Optional makes a spec that finds no secret, or no version with its
	// stage or VersionId, set nothing instead of failing the load. Use it for
	// the AWSPREVIOUS side of a rotation window, which does not exist until
	// the first rotation:
	//
	//	secretsmanager.JSON(id, "database_previous",
	//		&secretsmanager.SpecOptions{Stage: secretsmanager.StagePrevious, Optional: true})
	//
	// Until the version exists, each refresh tries it again with one
	// GetSecretValue. Access, decryption and other failures are reported as
	// for any spec. Defaults to false: a missing secret is an error matching
	// config.ErrNotFound.
	Optional bool
}

// JSON reads a secret whose value is a JSON object and mounts its keys under
// key: with key "database", the secret's "password" sets the field
// "database.password" and a nested object {"replica": {"host": ...}} sets
// "database.replica.host". One API call fills every field of the object. An
// empty key mounts the object at the root. When key is itself a field (a map,
// for example), the whole object is its value.
//
// id is the secret's name, its ARN, or its ARN without the 6-character random
// suffix (a partial ARN). opts may be nil.
func JSON(id, key string, opts *SpecOptions) Spec {
	return newSpec(kindJSON, id, key, opts)
}

// String reads a secret's text (SecretString) whole into the field key, such
// as "payments.stripe_key". A secret that holds only SecretBinary gives its
// bytes as text. opts may be nil.
func String(id, key string, opts *SpecOptions) Spec {
	return newSpec(kindString, id, key, opts)
}

// Binary reads a secret's bytes (SecretBinary, or SecretString as bytes). When
// key names a field (a []byte, string or config.Secret), the bytes are its
// value; otherwise the bytes must be a JSON object, which is mounted under key
// as JSON does. opts may be nil.
func Binary(id, key string, opts *SpecOptions) Spec {
	return newSpec(kindBinary, id, key, opts)
}

// Prefix discovers every secret whose name starts with prefix (ListSecrets)
// and maps the rest of its name to a key path, "/" becoming ".": under
// "my-app/production/", the secret "my-app/production/database/password" sets
// "database.password". A discovered secret whose path names a field sets that
// field with its text; one whose path names a section of the configuration (or
// the root, for a secret named exactly prefix) must be a JSON object and is
// mounted there as JSON does. A secret whose path maps to nothing is reported
// as an unknown key and not read.
//
// The prefix is matched at a "/" boundary: "my-app/production" and
// "my-app/production/" find the same secrets, and neither finds
// "my-app/production-old/x". Secrets scheduled for deletion are skipped.
// opts.Stage applies to every discovered secret; opts.VersionID does not
// apply. opts may be nil.
func Prefix(prefix string, opts *SpecOptions) Spec {
	return newSpec(kindPrefix, prefix, "", opts)
}

func newSpec(k kind, id, key string, opts *SpecOptions) Spec {
	s := Spec{kind: k, id: id, key: key}
	if opts != nil {
		s.stage, s.versionID, s.optional = opts.Stage, opts.VersionID, opts.Optional
	}
	return s
}

// String describes the spec for messages, without any value:
// `JSON("my-app/production/database" -> database, AWSPREVIOUS)`.
func (s Spec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s(%q", s.kind, s.id)
	if s.kind != kindPrefix {
		fmt.Fprintf(&b, " -> %q", s.key)
	}
	if s.stage != "" {
		b.WriteString(", stage ")
		b.WriteString(s.stage)
	}
	if s.versionID != "" {
		b.WriteString(", version ")
		b.WriteString(s.versionID)
	}
	if s.optional {
		b.WriteString(", optional")
	}
	b.WriteByte(')')
	return b.String()
}

// Kind returns the kind of spec: "json", "string", "binary" or "prefix".
func (s Spec) Kind() string {
	if s.kind == 0 {
		return ""
	}
	return strings.ToLower(s.kind.String())
}

// ID returns the secret's name or ARN, or the name prefix of a Prefix spec.
func (s Spec) ID() string { return s.id }

// Key returns the configuration key the spec's values are mounted under; ""
// for the root and for Prefix specs.
func (s Spec) Key() string { return s.key }

// Stage returns the version stage the spec reads; "" means AWSCURRENT.
func (s Spec) Stage() string {
	if s.stage == StageCurrent {
		return ""
	}
	return s.stage
}

// VersionID returns the pinned VersionId, or "".
func (s Spec) VersionID() string { return s.versionID }

// IsOptional reports whether the spec was built with SpecOptions.Optional.
func (s Spec) IsOptional() bool { return s.optional }

// check reports a spec that cannot be read, before any API call.
func (s Spec) check() error {
	switch {
	case s.kind == 0:
		return fmt.Errorf("secretsmanager: zero Spec; build specs with JSON, String, Binary or Prefix")
	case strings.TrimSpace(s.id) == "" && s.kind == kindPrefix:
		return fmt.Errorf("secretsmanager: %s: empty prefix", s)
	case strings.TrimSpace(s.id) == "":
		return fmt.Errorf("secretsmanager: %s: empty secret id", s)
	case (s.kind == kindString || s.kind == kindBinary) && s.key == "":
		return fmt.Errorf("secretsmanager: %s: empty key; name the field the value goes to", s)
	case s.kind == kindPrefix && s.versionID != "":
		return fmt.Errorf("secretsmanager: %s: VersionID does not apply to a Prefix spec", s)
	case s.stage != "" && s.versionID != "":
		return fmt.Errorf("secretsmanager: %s: give Stage or VersionID, not both", s)
	}
	return nil
}

// ref identifies one fetch: a secret and the version to read. Specs that
// share a ref share one API call.
type ref struct {
	id        string
	stage     string // "" for AWSCURRENT
	versionID string
}

func (s Spec) ref(id string) ref {
	r := ref{id: id, stage: s.stage, versionID: s.versionID}
	if r.stage == StageCurrent {
		r.stage = ""
	}
	return r
}

// pinned reports whether the ref needs GetSecretValue: BatchGetSecretValue
// reads AWSCURRENT only.
func (r ref) pinned() bool { return r.stage != "" || r.versionID != "" }

// wantStage is the stage whose version the ref follows on refresh.
func (r ref) wantStage() string {
	if r.stage == "" {
		return StageCurrent
	}
	return r.stage
}

// label names the ref in Versions and in messages: the id, with "@STAGE" or
// "@version" when it is not AWSCURRENT.
func (r ref) label() string {
	switch {
	case r.versionID != "":
		return r.id + "@" + r.versionID
	case r.stage != "":
		return r.id + "@" + r.stage
	}
	return r.id
}

// underPrefix reports whether a secret name lies under prefix at a "/"
// boundary, and returns the key path of the rest ("" for the prefix itself).
func underPrefix(name, prefix string) (path string, ok bool) {
	p := strings.TrimSuffix(prefix, "/")
	if name == p {
		return "", true
	}
	rest, ok := strings.CutPrefix(name, p+"/")
	if !ok {
		return "", false
	}
	rest = strings.Trim(rest, "/")
	return strings.ReplaceAll(rest, "/", "."), true
}
