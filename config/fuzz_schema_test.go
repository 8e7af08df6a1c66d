package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

type (
	fuzzWrapped   struct{ Secret }
	fuzzDerived   Secret
	fuzzTree      map[string]fuzzTree
	fuzzValueText struct{ s string }
	fuzzTextList  []fuzzTextList // recursive, but decoded from text
	fuzzNode      struct {
		Name string
		Next *fuzzNode
	}
)

func (fuzzValueText) UnmarshalText([]byte) error { return nil }

func (l *fuzzTextList) UnmarshalText(b []byte) error {
	*l = make(fuzzTextList, len(b)%4)
	return nil
}

// fuzzBases are the leaf types a fuzzed struct is built from: supported,
// unsupported and recursive ones.
var fuzzBases = []reflect.Type{
	reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[uint16](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](), reflect.TypeFor[bool](), reflect.TypeFor[complex128](),
	durationType, timeType, urlType, secretType, reflect.TypeFor[netip.Addr](), jsonNumberType,
	reflect.TypeFor[[]byte](), reflect.TypeFor[any](), reflect.TypeFor[func()](), reflect.TypeFor[unsafe.Pointer](),
	reflect.TypeFor[uintptr](), reflect.TypeFor[fuzzWrapped](), reflect.TypeFor[fuzzDerived](), reflect.TypeFor[fuzzTree](),
	reflect.TypeFor[fuzzValueText](), reflect.TypeFor[fuzzNode](), reflect.TypeFor[*url.URL](), reflect.TypeFor[struct{}](),
	reflect.TypeFor[fuzzTextList](),
}

var fuzzTags = []string{
	``, `config:"x"`, `config:"-"`, `config:",nonfinite"`, `config:"a.b"`, `config:"bad-name"`, `config:",bogus"`,
	`env:"X_1"`, `env:"X,required"`, `env:"1x"`, `validate:"required"`, `validate:"min=2"`, `default:"1"`, `default:""`,
	`secret:"true"`, `secret:"maybe"`, `envDefault:"x"`, `required:"true"`, `mapstructure:"other"`, `koanf:"-"`,
}

// fuzzBytes hands out the fuzz input one byte at a time, then zeros.
type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) next(n int) int {
	if len(r.b) == 0 {
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v % n
}

func fuzzType(r *fuzzBytes, depth int) reflect.Type {
	if depth > 3 {
		return fuzzBases[r.next(len(fuzzBases))]
	}
	switch r.next(10) {
	case 0:
		return reflect.PointerTo(fuzzType(r, depth+1))
	case 1:
		return reflect.SliceOf(fuzzType(r, depth+1))
	case 2:
		return reflect.ArrayOf(r.next(3)+1, fuzzType(r, depth+1))
	case 3:
		return reflect.MapOf(reflect.TypeFor[string](), fuzzType(r, depth+1))
	case 4:
		return reflect.MapOf(reflect.TypeFor[int](), fuzzType(r, depth+1))
	case 5:
		return fuzzStruct(r, depth+1)
	case 6:
		return reflect.ChanOf(reflect.BothDir, fuzzType(r, depth+1))
	}
	return fuzzBases[r.next(len(fuzzBases))]
}

func fuzzStruct(r *fuzzBytes, depth int) reflect.Type {
	n := r.next(5) + 1
	fields := make([]reflect.StructField, n)
	for i := range fields {
		tag := fuzzTags[r.next(len(fuzzTags))]
		if extra := fuzzTags[r.next(len(fuzzTags))]; extra != "" && !strings.HasPrefix(extra, strings.SplitN(tag, ":", 2)[0]+":") {
			tag += " " + extra
		}
		fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: fuzzType(r, depth), Tag: reflect.StructTag(tag)}
	}
	return reflect.StructOf(fields)
}

const fuzzCanary = "CANARYfuzz"

var fuzzSamples = []any{
	"", " ", fuzzCanary, "1", "-1", "1.5", "NaN", "a," + fuzzCanary, "k=" + fuzzCanary, fuzzCanary + "=1", "=1", "a=1,a=2",
	json.Number("9007199254740993"), json.Number("1e400"), 1.0, true, nil, int64(5), []byte(fuzzCanary),
	[]any{fuzzCanary, json.Number("2")}, map[string]any{fuzzCanary: fuzzCanary}, []any{[]any{fuzzCanary}},
}

// FuzzSchema builds struct types of random shapes and tags: building the
// schema never panics, a failure is ErrSchema, and a schema that builds has
// valid environment names, marks every field holding a Secret secret, and
// decodes any input without a panic or an error that quotes it.
func FuzzSchema(f *testing.F) {
	for _, seed := range [][]byte{{}, {1, 2, 3}, {5, 0, 9, 5, 1, 7}, {3, 21, 0, 0, 8}, {0, 19, 1, 10}, {9, 9, 9, 9, 9, 9, 9}, {9, 26}, {1, 9, 26}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		typ := fuzzStruct(&fuzzBytes{data}, 0)
		s := buildSchema(typ, "APP_")
		for _, w := range s.Warnings() {
			if !errors.Is(w, ErrForeignTag) {
				t.Fatalf("warning %v is not ErrForeignTag", w)
			}
		}
		if s.schemaErr != nil {
			if !errors.Is(s.schemaErr, ErrSchema) {
				t.Fatalf("%v: error %v is not ErrSchema", typ, s.schemaErr)
			}
			return
		}
		root := reflect.New(typ).Elem()
		for _, fd := range s.Fields() {
			if !validEnvName(fd.Env) {
				t.Fatalf("%v: field %s has the environment name %q", typ, fd.GoPath, fd.Env)
			}
			if containsSecret(fd.Type) && !fd.Secret {
				t.Fatalf("%v: field %s holds a Secret but is not secret", typ, fd.GoPath)
			}
			_ = fd.TypeName()
			for _, raw := range fuzzSamples {
				dst := reflect.New(fd.Type).Elem()
				if err := fd.dec(dst, raw); err != nil && strings.Contains(err.Error(), fuzzCanary) {
					t.Fatalf("%v: decoding %s: the error quotes the input: %v", typ, fd.GoPath, err)
				}
			}
			_ = fd.dec(root.FieldByIndex(fd.index), "1")
		}
		_ = s.validate(s.validator, root.Addr().Interface(), s.slots)
	})
}
