package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrForeignTag matches the warnings of Schema.Warnings: a struct tag of
// another configuration library, which Strata does not read. Unlike ErrSchema
// it never stops a load.
var ErrForeignTag = errors.New("struct tag not read by Strata")

// TagWarning is a struct tag of another library on a field: the field still
// loads, but not the way the tag asks.
type TagWarning struct {
	Field  string // Go path, "Server.Port"
	Key    string // "server.port"
	Tag    string // the tag as written: envDefault:"8080"
	Advice string // what to write instead: default:"8080"
}

func (w *TagWarning) Error() string {
	return fmt.Sprintf("field %s (%s): the tag %s is not read by Strata; %s", w.Field, w.Key, w.Tag, w.Advice)
}

func (w *TagWarning) Unwrap() error { return ErrForeignTag }

// validEnvName reports whether name is a portable environment name:
// [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// envSuggestion turns name into a valid environment name: every other
// character becomes _, and a leading digit gets a _ before it.
func envSuggestion(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteByte(c)
		} else if c < 0x80 || c >= 0xC0 { // one _ per character, not per byte
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// envName returns the field's environment name: the env tag as written, or
// the prefix and the key. A tag with options (another library's syntax) or a
// name the environment cannot hold is reported with what to write instead.
func (b *builder) envName(sf reflect.StructField, goPath, key string, secret bool) (string, bool) {
	tag := sf.Tag.Get("env")
	if strings.Contains(tag, ",") {
		shown, advice := tag, envAdvice(sf, tag, secret)
		if secret && strings.Contains(strings.ToLower(tag), "default=") {
			shown = "…" // a default of a secret field is secret text
		}
		b.fail("field %s: the env tag %q has options, which Strata does not read; write %s", goPath, shown, advice)
		return "", false
	}
	if tag == "-" {
		b.fail(`field %s: env:"-" is not how Strata skips a field; write config:"-"`, goPath)
		return "", false
	}
	if tag != "" {
		if !validEnvName(tag) {
			b.fail("field %s: the env tag %q is not a valid environment name (letters, digits and _, not starting with a digit); write env:%q", goPath, tag, envSuggestion(tag))
			return "", false
		}
		return tag, true
	}
	name := b.s.prefix + EnvName(key)
	if !b.prefixBad && !validEnvName(name) {
		b.fail("field %s: its environment name %q is not valid (letters, digits and _, not starting with a digit); rename its key with a config tag, or set env:%q",
			goPath, name, envSuggestion(name))
		return "", false
	}
	return name, true
}

// envAdvice rewrites an env tag with options into Strata's tags:
// env:"NAME,required" is env:"NAME" validate:"required".
// The default of a secret field is not repeated.
func envAdvice(sf reflect.StructField, tag string, secret bool) string {
	parts := strings.Split(tag, ",")
	name := strings.TrimSpace(parts[0])
	var out, unknown []string
	if name != "" {
		out = append(out, fmt.Sprintf("env:%q", name))
	}
	validate := sf.Tag.Get("validate")
	for _, o := range parts[1:] {
		o = strings.TrimSpace(o)
		switch low := strings.ToLower(o); {
		case low == "":
		case low == "required" || low == "notempty":
			if !strings.Contains(","+validate+",", ",required,") {
				validate = strings.TrimSuffix("required,"+validate, ",")
			}
		case strings.HasPrefix(low, "default=") && secret:
			out = append(out, `default:"..."`)
		case strings.HasPrefix(low, "default="):
			out = append(out, fmt.Sprintf("default:%q", o[len("default="):]))
		default:
			unknown = append(unknown, o)
		}
	}
	if validate != "" {
		out = append(out, fmt.Sprintf("validate:%q", validate))
	}
	advice := strings.Join(out, " ")
	if advice == "" {
		advice = "no env tag (the name is derived from the key)"
	}
	if len(unknown) > 0 {
		advice += fmt.Sprintf(" (Strata has no option %s)", strings.Join(unknown, ", "))
	}
	return advice
}

// foreignAdvice says, for each tag of another library Strata recognises,
// what to write instead; value is the tag's value.
var foreignAdvice = map[string]func(value, env string) string{
	"envDefault":      func(v, _ string) string { return fmt.Sprintf("write default:%q", v) },
	"env-default":     func(v, _ string) string { return fmt.Sprintf("write default:%q", v) },
	"required":        func(string, string) string { return `write validate:"required"` },
	"env-required":    func(string, string) string { return `write validate:"required"` },
	"env-description": func(v, _ string) string { return fmt.Sprintf("write desc:%q", v) },
	"ignored":         func(string, string) string { return `write config:"-" to skip the field` },
	"envconfig": func(_, e string) string {
		return `the environment name is ` + e + `; env:"NAME" sets an exact name (no prefix is added)`
	},
	"split_words": func(_, e string) string { return "words are always split: the environment name is " + e },
	"envPrefix": func(string, string) string {
		return `the keys of a nested struct are prefixed by its key; rename it with config:"name"`
	},
	"env-prefix": func(string, string) string {
		return `the keys of a nested struct are prefixed by its key; rename it with config:"name"`
	},
	"envSeparator":       func(string, string) string { return "list items are separated by commas" },
	"env-separator":      func(string, string) string { return "list items are separated by commas" },
	"envKeyValSeparator": func(string, string) string { return "map entries are written key=value" },
}

// foreignTags warns about tags of other configuration libraries on a field.
// mapstructure and koanf tags (shared with viper or koanf) are reported only
// when they name another key than Strata's, and no config tag is present.
// The value of a default tag of a secret field is not shown.
func (b *builder) foreignTags(sf reflect.StructField, goPath, key, seg string, hasConfigTag, secret bool) {
	env := sf.Tag.Get("env")
	if env == "" || strings.Contains(env, ",") {
		env = b.s.prefix + EnvName(key)
	}
	warn := func(name, value, advice string) {
		b.warns = append(b.warns, &TagWarning{Field: goPath, Key: key, Tag: fmt.Sprintf("%s:%q", name, value), Advice: advice})
	}
	for _, name := range foreignTagNames {
		if v, ok := sf.Tag.Lookup(name); ok {
			if secret && strings.Contains(name, "efault") {
				v = "..."
			}
			warn(name, v, foreignAdvice[name](v, env))
		}
	}
	if hasConfigTag {
		return
	}
	for _, name := range []string{"mapstructure", "koanf"} {
		v, ok := sf.Tag.Lookup(name)
		n, _, _ := strings.Cut(v, ",")
		switch {
		case !ok || n == "" || n == seg || sf.Anonymous:
		case n == "-":
			warn(name, v, `write config:"-" to skip the field`)
		default:
			warn(name, v, fmt.Sprintf("the key is %s; write config:%q to use that name", key, n))
		}
	}
}

// foreignTagNames lists the keys of foreignAdvice in a fixed order.
var foreignTagNames = []string{
	"envDefault", "env-default", "required", "env-required", "env-description", "ignored", "envconfig",
	"split_words", "envPrefix", "env-prefix", "envSeparator", "env-separator", "envKeyValSeparator",
}
