package config

import (
	"strconv"
	"strings"
)

// Source tells where one value came from. It never holds the value itself, so it is
// always safe to print.
type Source struct {
	// Layer is the kind of layer that supplied the value: "default", "dotenv", "env",
	// "secretsmanager", or the name of a custom layer.
	Layer string
	// Location says where inside the layer: an environment variable name
	// ("APP_DATABASE_HOST"), a file and line (".env:12"), or a secret and JSON key
	// ("my-app/production/database#password"). Empty for defaults.
	Location string
	// Line is the line in the file named by Location, for file layers such as
	// .env; 0 otherwise. A source with a Line prints as "Location:Line".
	Line int
	// Version identifies the version of a versioned source, such as a Secrets
	// Manager VersionId. Empty when the source is not versioned.
	Version string
	// Stage is the version stage of a versioned source, such as "AWSCURRENT".
	Stage string
}

// String renders the source for people. A source with a Line is a place in
// a file and prints as "Location:Line" (".env:12", "config.yaml:12"), whatever
// the layer's name; any other prints as "Layer Location" ("env
// APP_DATABASE_HOST", "secretsmanager my-app/production/database#password"),
// or "Layer" alone when Location is empty ("default"). A version and stage
// follow in parentheses: "secretsmanager my-app/db#password (version 3f2a9c1e,
// AWSCURRENT)".
func (s Source) String() string {
	var b strings.Builder
	switch {
	case s.Location == "":
		b.WriteString(s.Layer)
	case s.Line > 0:
		b.WriteString(s.Location)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(s.Line))
	default:
		b.WriteString(s.Layer)
		b.WriteByte(' ')
		b.WriteString(s.Location)
	}
	if s.Version != "" || s.Stage != "" {
		b.WriteString(" (")
		if s.Version != "" {
			b.WriteString("version ")
			b.WriteString(shortVersion(s.Version))
			if s.Stage != "" {
				b.WriteString(", ")
			}
		}
		b.WriteString(s.Stage)
		b.WriteByte(')')
	}
	return b.String()
}

// shortVersion keeps a version id readable in one line: the first 8 characters.
func shortVersion(v string) string {
	if len(v) <= 8 {
		return v
	}
	return v[:8]
}

// Value is one raw value read by a layer, with its source. Raw is a string for
// text layers (environment, .env files, defaults), bytes for binary sources,
// and a JSON value for structured layers: string, json.Number (Secrets
// Manager decodes numbers exactly, so an integer above 2^53 keeps every
// digit), float64 (encoding/json without UseNumber), a Go integer (a YAML or
// TOML parser), bool, nil (JSON null: no value), []any or map[string]any.
// The store decodes Raw into the field's Go type.
type Value struct {
	Raw    any
	Source Source
	// Secret marks a value that holds secret text whatever its field, such as
	// a .env value expanded from a secret field (APP_URL=${APP_PASSWORD}): the
	// store treats it as the value of a secret field in every message, in
	// Explain and in Masked. Layers that are sensitive need not set it.
	Secret bool
	// Sensitive marks a value read from a proper home for secrets in a layer
	// that is not one as a whole, such as an SSM SecureString among String
	// parameters. The store treats it as a value of a sensitive layer: it may
	// set a secret field without breaking the secret policy, and no message
	// quotes it. Layers that are sensitive need not set it.
	Sensitive bool
}

// Values maps field keys ("database.host") to the values a layer read. A key of a
// map-typed field may hold a map[string]any or a "k=v,k2=v2" string.
type Values map[string]Value
