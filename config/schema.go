package config

import (
	"encoding"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

// Schema describes the fields of a configuration type: their keys, environment
// names, defaults, rules and whether they are secret. It is computed once per
// type and prefix from struct tags and never changes afterwards, so it is safe to
// share between goroutines and stores. A nil *Schema is a schema without
// fields: its methods do not panic, and it knows no key, name or section.
//
// Struct tags:
//
//	config:"name"     rename the key segment (config:"-" skips the field);
//	                  config:"name,nonfinite" (or ",nonfinite") lets a float
//	                  field accept NaN and infinities
//	env:"NAME"        use this exact environment name (no prefix is added);
//	                  [A-Za-z_][A-Za-z0-9_]*, no options
//	default:"value"   the value when no layer sets one
//	secret:"true"     treat the field, or every field of a nested struct, as
//	                  a secret (a type holding a config.Secret is secret by type)
//	desc:"text"       a description, for generated documentation
//	validate:"rules"  go-playground/validator rules, checked after decoding
//
// The type is an ErrSchema error, naming the field, when a field cannot be
// set from configuration (a chan, func, interface, recursive type, struct
// inside a pointer, list or map, type defined from Secret, map with keys that
// are not strings), when an env tag has options or is not a valid name, when
// a skipped field has validate rules, and when a nested struct has no
// exported field. Tags of other configuration libraries are not errors but
// warnings; see Warnings. docs/naming.md lists every supported type.
type Schema struct {
	typ       reflect.Type
	prefix    string
	fields    []*Field
	byKey     map[string]*Field
	byEnv     map[string]*Field
	byGoPath  map[string]*Field
	parents   map[string]bool // key prefixes of nested structs: "database", "server"
	defaults  Values          // the default tags, the first layer of every load
	slots     []slot          // the defaults by field position: where every merge starts
	validator *validator.Validate
	schemaErr error
	warnings  []error // struct tags of other libraries, see Warnings
}

// Field is one leaf setting of a schema.
type Field struct {
	// Key is the dotted path of snake_case segments: "server.read_timeout".
	Key string
	// Env is the environment name: prefix + key upper-cased with "_" for ".",
	// "APP_SERVER_READ_TIMEOUT", or the env tag as written.
	Env string
	// GoPath is the Go selector path from the root type: "Server.ReadTimeout".
	GoPath string
	// Type is the field's Go type.
	Type reflect.Type
	// Default is the default tag; HasDefault tells an empty default from none.
	Default    string
	HasDefault bool
	// Secret is true for fields whose type can hold a config.Secret anywhere
	// (Secret, *Secret, []Secret, a struct embedding Secret, a type with
	// UnmarshalText holding one in any field), for fields tagged
	// secret:"true" and for every field of a struct tagged secret:"true".
	Secret bool
	// Required is true when the validate rules include "required".
	Required bool
	// Desc is the desc tag.
	Desc string
	// Validate is the validate tag.
	Validate string

	index []int
	pos   int // position in Schema.fields
	dec   decodeFunc
	// depth is the number of embedded structs the field is promoted
	// through, and named tells a key named by a config tag: they decide
	// which of two fields with one key is kept, as in encoding/json.
	depth int
	named bool
}

// TypeName returns a short readable name of the field's type for documentation:
// "string", "int", "duration", "[]string", "secret".
func (f *Field) TypeName() string { return typeName(f.Type) }

func typeName(t reflect.Type) string { return typeNameDepth(t, 0) }

func typeNameDepth(t reflect.Type, depth int) string {
	switch t {
	case durationType:
		return "duration"
	case timeType:
		return "time (RFC 3339)"
	case secretType:
		return "secret"
	case urlType:
		return "url"
	}
	named := t.PkgPath() != "" && t.Name() != ""
	if named && (reflect.PointerTo(t).Implements(textType) || depth > 8) {
		return t.String()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeNameDepth(t.Elem(), depth+1)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + typeNameDepth(t.Elem(), depth+1)
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), typeNameDepth(t.Elem(), depth+1))
	case reflect.Map:
		return "map[" + typeNameDepth(t.Key(), depth+1) + "]" + typeNameDepth(t.Elem(), depth+1)
	}
	if named {
		return t.String()
	}
	return t.Kind().String()
}

var (
	durationType   = reflect.TypeFor[time.Duration]()
	timeType       = reflect.TypeFor[time.Time]()
	secretType     = reflect.TypeFor[Secret]()
	urlType        = reflect.TypeFor[url.URL]()
	textType       = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonNumberType = reflect.TypeFor[json.Number]()
)

// schemaCache holds one immutable *Schema per (type, prefix), like the field
// cache of encoding/json. Entries are never changed after they are stored.
var schemaCache sync.Map

type schemaKey struct {
	typ    reflect.Type
	prefix string
}

// SchemaFor returns the schema of T with environment names under prefix.
// The error, if any, lists every problem of the type (an unsupported field type,
// two fields with one environment name).
func SchemaFor[T any](prefix string) (*Schema, error) {
	return schemaOf(reflect.TypeFor[T](), prefix)
}

func schemaOf(t reflect.Type, prefix string) (*Schema, error) {
	k := schemaKey{t, prefix}
	if s, ok := schemaCache.Load(k); ok {
		s := s.(*Schema)
		return s, s.schemaErr
	}
	s := buildSchema(t, prefix)
	actual, _ := schemaCache.LoadOrStore(k, s)
	s = actual.(*Schema)
	return s, s.schemaErr
}

func buildSchema(t reflect.Type, prefix string) *Schema {
	s := &Schema{
		typ:      t,
		prefix:   prefix,
		byKey:    map[string]*Field{},
		byEnv:    map[string]*Field{},
		byGoPath: map[string]*Field{},
		parents:  map[string]bool{},
		defaults: Values{},
	}
	if t.Kind() != reflect.Struct {
		s.schemaErr = fmt.Errorf("%w: %s is not a struct", ErrSchema, t)
		return s
	}
	b := &builder{s: s}
	if prefix != "" && !validEnvName(prefix) {
		b.prefixBad = true
		b.errs = append(b.errs, fmt.Errorf("%w: the environment prefix %q is not valid: use letters, digits and _, not starting with a digit (such as APP_)", ErrSchema, prefix))
	}
	b.walk(t, nil, "", "", false)
	b.dominant()
	errs := b.errs
	for _, f := range s.fields {
		if other, dup := s.byEnv[f.Env]; dup {
			errs = append(errs, fmt.Errorf("%w: fields %s and %s both map to the environment name %s; rename one with a config or env tag",
				ErrSchema, other.GoPath, f.GoPath, f.Env))
			continue
		}
		s.byEnv[f.Env] = f
		if other, dup := s.byKey[f.Key]; dup {
			errs = append(errs, fmt.Errorf("%w: fields %s and %s both have the key %s", ErrSchema, other.GoPath, f.GoPath, f.Key))
			continue
		}
		s.byKey[f.Key] = f
		s.byGoPath[f.GoPath] = f
		if f.HasDefault {
			if err := f.dec(reflect.New(f.Type).Elem(), f.Default); err != nil {
				errs = append(errs, fmt.Errorf("%w: default of %s: %v", ErrSchema, f.Key, err))
			}
			s.defaults[f.Key] = Value{Raw: f.Default, Source: Source{Layer: "default"}}
		}
	}
	if len(errs) > 0 {
		s.schemaErr = &AggregateError{Errs: errs}
	}
	s.warnings = b.warns
	s.slots = make([]slot, len(s.fields))
	for i, f := range s.fields {
		f.pos = i
		if v, ok := s.defaults[f.Key]; ok {
			s.slots[i] = slot{Value: v, set: true, exposed: f.Secret}
		}
	}
	s.validator = newValidator()
	s.registerWrappers(s.validator)
	return s
}

// registerWrappers lets v validate a type that embeds Secret (type W
// struct{ config.Secret }) as the secret's string, as it does Secret, so
// min=12 counts characters.
func (s *Schema) registerWrappers(v *validator.Validate) {
	seen := map[reflect.Type]bool{}
	for _, f := range s.fields {
		t := f.Type
		for range 32 { // a recursive leaf type (type L []L with UnmarshalText) ends the loop
			if k := t.Kind(); k != reflect.Pointer && k != reflect.Slice && k != reflect.Array && k != reflect.Map {
				break
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == secretType || seen[t] {
			continue
		}
		seen[t] = true
		if sf, ok := t.FieldByName("Secret"); ok && sf.Anonymous && sf.Type == secretType {
			index := sf.Index
			v.RegisterCustomTypeFunc(func(f reflect.Value) any {
				return f.FieldByIndex(index).Interface().(Secret).Reveal()
			}, reflect.Zero(t).Interface())
		}
	}
}

// builder walks a configuration type once, collecting its fields, the
// problems that make it unusable and the warnings that do not.
type builder struct {
	s         *Schema
	errs      []error
	warns     []error
	stack     []reflect.Type // the struct types being walked, outermost first
	prefixBad bool           // the prefix is reported once, not for every field
	depth     int            // embedded structs around the fields being walked
}

// dominant keeps, of fields that share a key, the one encoding/json would
// keep: the shallowest (promoted through the fewest embedded structs), or
// at equal depth the only one named by a config tag. Fields of equal depth
// that neither rule separates stay, and are reported as a collision. A field
// that is hidden so is never set, so validate rules on it are an error.
func (b *builder) dominant() {
	byKey := map[string][]*Field{}
	for _, f := range b.s.fields {
		byKey[f.Key] = append(byKey[f.Key], f)
	}
	hidden := map[*Field]*Field{}
	for _, group := range byKey {
		if len(group) < 2 {
			continue
		}
		win := group[0]
		tie := false
		for _, f := range group[1:] {
			switch {
			case f.depth < win.depth, f.depth == win.depth && f.named && !win.named:
				win, tie = f, false
			case f.depth == win.depth && f.named == win.named:
				tie = true
			}
		}
		if tie {
			continue // a collision, reported by buildSchema
		}
		for _, f := range group {
			if f != win {
				hidden[f] = win
			}
		}
	}
	if len(hidden) == 0 {
		return
	}
	kept := b.s.fields[:0:0]
	for _, f := range b.s.fields {
		win, ok := hidden[f]
		if !ok {
			kept = append(kept, f)
			continue
		}
		if f.Validate != "" && f.Validate != "-" {
			b.fail("field %s is hidden by %s, which has the same key %s and is shallower (or named by a config tag), so no layer can set it, yet it has the validate rules %q; remove the rules or rename one field",
				f.GoPath, win.GoPath, f.Key, f.Validate)
		}
	}
	b.s.fields = kept
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%w: "+format, append([]any{ErrSchema}, args...)...))
}

// walk adds the fields of struct t and returns how many it added or skipped
// on purpose, so that a section no value can reach is reported.
func (b *builder) walk(t reflect.Type, index []int, keyPrefix, goPrefix string, secret bool) int {
	b.stack = append(b.stack, t)
	defer func() { b.stack = b.stack[:len(b.stack)-1] }()
	n := 0
	for i := range t.NumField() {
		n += b.field(t.Field(i), append(slices.Clip(index), i), keyPrefix, goPrefix, secret)
	}
	return n
}

// field adds one struct field: a leaf, a nested section, or the promoted
// fields of an embedded struct. It returns the number of fields it added, or
// 1 for a field skipped with config:"-".
func (b *builder) field(sf reflect.StructField, idx []int, keyPrefix, goPrefix string, inSecret bool) int {
	goPath := goPrefix + sf.Name
	ft := sf.Type
	tag := sf.Tag.Get("config")
	if tag == "-" {
		b.checkSkipped(sf, goPath, `skipped with config:"-"`)
		return 1
	}
	name, opts, ok := b.configTag(tag, goPath)
	secret, ok2 := b.secretTag(sf, goPath)
	if !ok || !ok2 {
		return 1
	}
	secret = secret || inSecret
	if sf.Anonymous && name == "" && ft.Kind() == reflect.Pointer && isSection(ft.Elem()) {
		// encoding/json would allocate it, or (unexported) drop it silently.
		b.fail("field %s: an embedded pointer to a struct is not supported; embed the struct itself (%s, not *%s)", goPath, ft.Elem().Name(), ft.Elem().Name())
		return 1
	}
	if !sf.IsExported() {
		if sf.Anonymous && name == "" && isSection(ft) {
			// As in encoding/json, the exported fields of an embedded
			// unexported struct are promoted; the validator checks them too.
			b.depth++
			defer func() { b.depth-- }()
			return b.walk(ft, idx, keyPrefix, goPath+".", secret)
		}
		b.checkSkipped(sf, goPath, "not exported")
		return 0
	}
	seg := name
	if seg == "" {
		seg = SnakeCase(sf.Name)
	}
	key := keyPrefix + seg
	b.foreignTags(sf, goPath, key, seg, tag != "", secret || containsSecret(ft))
	if isSection(ft) {
		if sf.Anonymous && name == "" {
			// Embedded structs are flattened into their parent, as in
			// encoding/json; the validator still names them, so they stay in
			// the Go path.
			key, seg = strings.TrimSuffix(keyPrefix, "."), ""
			b.depth++
			defer func() { b.depth-- }()
		} else {
			b.s.parents[key] = true
		}
		if n := b.walk(ft, idx, key+dotIf(key), goPath+".", secret); n > 0 {
			return n
		}
		b.fail("field %s: type %s has no exported fields, so no value can set it; give it exported fields, %s, or skip it with config:\"-\"", goPath, ft, unmarshalTextAdvice(ft))
		return 1
	}
	return b.leaf(sf, idx, goPath, key, name != "", opts, secret)
}

func dotIf(key string) string {
	if key == "" {
		return ""
	}
	return "."
}

// leaf adds a field decoded as one value.
func (b *builder) leaf(sf reflect.StructField, idx []int, goPath, key string, named bool, opts decodeOpts, secret bool) int {
	ft := sf.Type
	d := decoders{opts: opts, stack: slices.Clone(b.stack)}
	dec, err := d.build(ft)
	if err != nil {
		b.fail("field %s: %v", goPath, err)
		return 1
	}
	if opts.nonFinite && !holdsFloat(ft) {
		b.fail("field %s: the config tag option nonfinite applies to float and complex fields only, not %s", goPath, ft)
		return 1
	}
	f := &Field{
		Key:      key,
		GoPath:   goPath,
		Type:     ft,
		Secret:   secret || containsSecret(ft),
		Desc:     sf.Tag.Get("desc"),
		Validate: sf.Tag.Get("validate"),
		index:    idx,
		dec:      dec,
		depth:    b.depth,
		named:    named,
	}
	f.Default, f.HasDefault = sf.Tag.Lookup("default")
	f.Required = slices.Contains(strings.Split(f.Validate, ","), "required")
	env, ok := b.envName(sf, goPath, key, f.Secret)
	if !ok {
		return 1
	}
	f.Env = env
	b.s.fields = append(b.s.fields, f)
	return 1
}

// configTag parses config:"name,option": the name (empty for the derived
// one) and the options. It reports problems and returns false.
func (b *builder) configTag(tag, goPath string) (string, decodeOpts, bool) {
	name, rest, _ := strings.Cut(tag, ",")
	var opts decodeOpts
	ok := true
	if strings.Contains(name, ".") {
		b.fail("field %s: the config tag name %q contains a dot; a key segment is one name, and nesting comes from nested structs", goPath, name)
		ok = false
	}
	for o := range strings.SplitSeq(rest, ",") {
		switch strings.TrimSpace(o) {
		case "":
		case "nonfinite":
			opts.nonFinite = true
		default:
			b.fail("field %s: unknown option %q in the config tag (the only option is nonfinite)", goPath, o)
			ok = false
		}
	}
	return name, opts, ok
}

func (b *builder) secretTag(sf reflect.StructField, goPath string) (bool, bool) {
	switch v := sf.Tag.Get("secret"); v {
	case "", "false":
		return false, true
	case "true":
		return true, true
	default:
		b.fail("field %s: secret tag %q: write secret:\"true\" or leave the tag out", goPath, v)
		return false, false
	}
}

// checkSkipped reports validate rules on a field that no value can reach: the
// validator would check them against the zero value, so a load could fail
// with an error nothing can fix.
func (b *builder) checkSkipped(sf reflect.StructField, goPath, why string) {
	if v := sf.Tag.Get("validate"); v != "" && v != "-" {
		b.fail("field %s is %s, so no layer can set it, yet it has the validate rules %q; remove the rules or stop skipping the field", goPath, why, v)
		return
	}
	if tags := settingTags(sf); len(tags) > 0 {
		// Tag values are not shown: a default of a secret is secret text.
		fix := "remove the tag"
		if len(tags) > 1 {
			fix = "remove the tags"
		}
		b.fail("field %s is %s, so no layer can set it, yet it is tagged %s; %s or %s",
			goPath, why, strings.Join(tags, " and "), fix, unskipAdvice(sf))
		return
	}
	if !sf.IsExported() && !sf.Anonymous {
		return // the validator does not look inside it
	}
	if inner := validatedInside(sf.Type, 0); inner != "" {
		b.fail("field %s is %s, so no layer can set it, yet its field %s has validate rules; remove the rules or stop skipping the field", goPath, why, goPath+"."+inner)
	}
}

// settingTags returns the names of the tags of sf that say how a layer sets
// it (a default, an environment name, secrecy, a key), in a fixed order.
func settingTags(sf reflect.StructField) []string {
	var tags []string
	for _, name := range []string{"default", "env", "secret", "config"} {
		v, ok := sf.Tag.Lookup(name)
		if ok && !(name == "config" && (v == "-" || v == "")) {
			tags = append(tags, name)
		}
	}
	return tags
}

// unskipAdvice says how to let layers set the skipped field sf.
func unskipAdvice(sf reflect.StructField) string {
	if sf.IsExported() {
		return `remove config:"-"`
	}
	r, n := utf8.DecodeRuneInString(sf.Name)
	if unicode.IsLower(r) {
		return "export it (" + string(unicode.ToUpper(r)) + sf.Name[n:] + ")"
	}
	return "export it"
}

// validatedInside returns the Go path of a field inside struct t that has
// validate rules the validator would check, or "".
func validatedInside(t reflect.Type, depth int) string {
	if t.Kind() != reflect.Struct || isLeaf(t) || depth > 32 {
		return ""
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		if v := sf.Tag.Get("validate"); v != "" && v != "-" {
			return sf.Name
		}
		if inner := validatedInside(sf.Type, depth+1); inner != "" {
			return sf.Name + "." + inner
		}
	}
	return ""
}

// isSection reports whether a field of type t is walked as a nested struct of
// keys rather than decoded as one value.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !isLeaf(t) && !isDerivedSecret(t)
}

// containsSecret reports whether a value of type t can hold a Secret anywhere:
// Secret itself, or a pointer, slice, array, map or struct (by any field,
// exported or not, embedded or not) that holds one. Such fields are secret by
// type.
func containsSecret(t reflect.Type) bool {
	return holdsSecret(t, map[reflect.Type]bool{})
}

func holdsSecret(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == secretType || isDerivedSecret(t) {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		return holdsSecret(t.Elem(), seen)
	case reflect.Map:
		return holdsSecret(t.Key(), seen) || holdsSecret(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsSecret(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// holdsFloat reports whether t is, or is a container of, floats or complex
// numbers.
func holdsFloat(t reflect.Type) bool {
	for range 16 {
		switch t.Kind() {
		case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return true
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return false
		}
	}
	return false
}

// isLeaf reports whether a struct type is decoded as one value rather than
// walked as a nested section.
func isLeaf(t reflect.Type) bool {
	return t == secretType || t == urlType || t == timeType || reflect.PointerTo(t).Implements(textType)
}

// Warnings returns the problems of the type that do not stop a load: struct
// tags of other configuration libraries that Strata does not read (envDefault,
// required, envconfig, ...), each a *TagWarning matched by ErrForeignTag. Load
// adds them to every snapshot's warnings and logs them.
func (s *Schema) Warnings() []error {
	if s == nil {
		return nil
	}
	return slices.Clone(s.warnings)
}

// Fields returns the schema's fields in declaration order. The slice and the
// fields must not be modified.
func (s *Schema) Fields() []*Field {
	if s == nil {
		return nil
	}
	return s.fields
}

// Field returns the field with the given key, or nil.
func (s *Schema) Field(key string) *Field {
	if s == nil {
		return nil
	}
	return s.byKey[key]
}

// FieldByEnv returns the field with the given environment name, or nil.
func (s *Schema) FieldByEnv(name string) *Field {
	if s == nil {
		return nil
	}
	return s.byEnv[name]
}

// Defaults returns the values of the default tags, keyed by field key. The map
// must not be modified.
func (s *Schema) Defaults() Values {
	if s == nil {
		return nil
	}
	return s.defaults
}

// EnvPrefix returns the environment prefix, such as "APP_".
func (s *Schema) EnvPrefix() string {
	if s == nil {
		return ""
	}
	return s.prefix
}

// IsSection reports whether key names a nested struct ("database") rather than a
// field.
func (s *Schema) IsSection(key string) bool { return s != nil && s.parents[key] }

// UnknownEnv returns the error for an environment name that maps to no field,
// with the closest known name as a suggestion.
func (s *Schema) UnknownEnv(name string, src Source) *UnknownNameError {
	if s == nil {
		return &UnknownNameError{Name: name, Source: src}
	}
	return &UnknownNameError{Name: name, Source: src, Suggestion: closest(name, s.byEnv)}
}

// UnknownKey returns the error for a key (from a structured source such as a
// JSON secret) that maps to no field, with the closest known key as a suggestion,
// or the closest section when no key is close (a mount such as "databse"). A
// key that is a section, given one value, is reported with the names under it.
func (s *Schema) UnknownKey(key string, src Source) *UnknownNameError {
	if s == nil {
		return &UnknownNameError{Name: key, Source: src}
	}
	if s.parents[key] {
		// A section given one value: name the fields it holds.
		return &UnknownNameError{Name: key, Source: src, Mount: key, Known: s.namesUnder(key)}
	}
	suggestion := closest(key, s.byKey)
	if suggestion == "" {
		// A key meant as a section, such as the mount of a JSON secret.
		suggestion = closest(key, s.parents)
	}
	return &UnknownNameError{Name: key, Source: src, Suggestion: suggestion}
}

// UnknownSecretKey returns the error for a key of a sensitive source (a JSON
// secret, a secret store's document) that maps to no field. The key is part of
// the secret's content, so the error never holds it: it names src (which must
// not hold the key either, such as the secret's name) and the closest known
// key as a suggestion.
func (s *Schema) UnknownSecretKey(key string, src Source) *UnknownNameError {
	if s == nil {
		return &UnknownNameError{Source: src}
	}
	return &UnknownNameError{Source: src, Suggestion: closest(key, s.byKey)}
}

// UnknownSecretKeyUnder is UnknownSecretKey for a key of a document mounted
// under mount ("database"; "" for the root), such as a JSON secret: the error
// also lists, in Known, the names the schema has directly under mount. Those
// are the program's names, not the secret's, so the user can tell which key
// is wrong without the key being shown. Known is empty when mount is neither
// "" nor a section.
func (s *Schema) UnknownSecretKeyUnder(mount, key string, src Source) *UnknownNameError {
	u := s.UnknownSecretKey(key, src)
	u.Mount, u.Known = mount, s.namesUnder(mount)
	return u
}

// namesUnder returns the names directly under mount, sorted: a field's last
// segment ("host"), a section's followed by ".*" ("replica.*").
func (s *Schema) namesUnder(mount string) []string {
	if s == nil {
		return nil
	}
	prefix := ""
	if mount != "" {
		if !s.parents[mount] {
			return nil
		}
		prefix = mount + "."
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range s.fields {
		rel, ok := strings.CutPrefix(f.Key, prefix)
		if !ok || rel == "" {
			continue
		}
		name := rel
		if head, _, nested := strings.Cut(rel, "."); nested {
			name = head + ".*"
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Flatten maps a nested structure, such as a parsed JSON document, onto the
// schema's keys under mount ("database"; "" for the root). A value at the key of
// a field is taken whole (so a JSON object can fill a map field and an array a
// slice field); objects under a section are walked; anything else is reported
// through unknown with its full key. source gives the Source of each key.
func (s *Schema) Flatten(mount string, doc map[string]any, source func(key string) Source, unknown func(key string)) Values {
	out := Values{}
	if s == nil {
		s = &Schema{}
	}
	s.flatten(out, mount, doc, source, unknown)
	return out
}

func (s *Schema) flatten(out Values, prefix string, doc map[string]any, source func(string) Source, unknown func(string)) {
	for k, v := range doc {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if _, ok := s.byKey[key]; ok {
			out[key] = Value{Raw: v, Source: source(key)}
			continue
		}
		if m, ok := v.(map[string]any); ok && s.parents[key] {
			s.flatten(out, key, m, source, unknown)
			continue
		}
		if unknown != nil {
			unknown(key)
		}
	}
}

// SnakeCase converts a Go field name to a key segment: ReadTimeout → read_timeout,
// APIKey → api_key, UserID → user_id, HTTP2Port → http2_port. An initialism's
// plural stays one word: AllowedIPs → allowed_ips, UserIDsByRole →
// user_ids_by_role.
func SnakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	b.Grow(len(name) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && startsWord(rs, i) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// startsWord reports whether the upper-case rs[i] begins a word: after a
// lower-case letter or a digit, or as the last capital of an initialism
// that a lower-case word follows (HTTPServer), unless that is only the
// initialism's plural s (IPs, IDsByRole).
func startsWord(rs []rune, i int) bool {
	prev := rs[i-1]
	if unicode.IsLower(prev) || unicode.IsDigit(prev) {
		return true
	}
	if !unicode.IsUpper(prev) || i+1 >= len(rs) || !unicode.IsLower(rs[i+1]) {
		return false
	}
	plural := rs[i+1] == 's' && (i+2 == len(rs) || !unicode.IsLower(rs[i+2]))
	return !plural
}

// EnvName converts a key to its environment name without prefix:
// server.read_timeout → SERVER_READ_TIMEOUT.
func EnvName(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// closest returns the known name nearest to name by edit distance, if it is
// near enough to be a plausible typo.
func closest[V any](name string, known map[string]V) string {
	best, bestD := "", -1
	for k := range known {
		d := EditDistance(name, k)
		if bestD < 0 || d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(2, len(name)/4) {
		return ""
	}
	return best
}

// EditDistance is the optimal string alignment distance of a and b, counted
// in runes: the fewest insertions, deletions, substitutions and swaps of two
// neighbouring letters that turn a into b, so DATABSE is one edit from
// DATABASE. Strata's suggestions ("did you mean ...?") are the known names
// nearest by it.
func EditDistance(a, b string) int {
	if a == b {
		return 0
	}
	x, y := []rune(a), []rune(b)
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}
