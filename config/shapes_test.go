package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/strata-go/strata/config"
)

// shapeCase is one field type: it either decodes a sample or is a schema
// error naming the field. It never panics.
type shapeCase struct {
	name string
	run  func(t *testing.T)
}

// works checks that struct{ F T } loads raw into F as want.
func works[T any](name string, raw any, want T) shapeCase {
	return shapeCase{name, func(t *testing.T) {
		st, err := config.Load[struct{ F T }](context.Background(), &config.Options{Logger: discard()},
			&fakeLayer{name: "sm", sensitive: true, vals: map[string]any{"f": raw}})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if got := st.Get().F; !reflect.DeepEqual(got, want) {
			t.Fatalf("F = %#v, want %#v", got, want)
		}
	}}
}

// rejected checks that struct{ F T } is a schema error naming F and saying
// mention.
func rejected[T any](name, mention string) shapeCase {
	return shapeCase{name, func(t *testing.T) {
		_, err := config.SchemaFor[struct{ F T }]("APP_")
		if !errors.Is(err, config.ErrSchema) {
			t.Fatalf("err = %v, want ErrSchema", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "field F") || !strings.Contains(msg, mention) {
			t.Fatalf("error %q does not name field F or say %q", msg, mention)
		}
	}}
}

// rejectedCfg is rejected for a whole configuration type C.
func rejectedCfg[C any](name, mention string) shapeCase {
	return shapeCase{name, func(t *testing.T) {
		_, err := config.SchemaFor[C]("APP_")
		if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), mention) {
			t.Fatalf("err = %v, want ErrSchema saying %q", err, mention)
		}
	}}
}

type (
	valueRecvText struct{ v string }
	ptrRecvText   struct{ v string }
	onlyHidden    struct{ a, b int }
	derivedSecret config.Secret
	level         string
	tree          map[string]tree
	list          []list
	node          struct {
		Name string
		Next *node
	}
	kids struct {
		Name     string
		Children []kids
	}
	byName struct {
		Sub map[string]byName
	}
	ping    struct{ P *pong }
	pong    struct{ Q []ping }
	ptrTree map[string]*ptrTree
	// textList contains itself but decodes from text, so it is a fine field.
	textList []textList
	hostPart struct {
		Host string `validate:"required"`
	}
	embedsPtr struct {
		*hostPart
		Port int
	}
	embedsHidden struct {
		hostPart
		Port int
	}
	embedsExportedPtr struct {
		*Embedded
	}
)

func (valueRecvText) UnmarshalText([]byte) error    { return nil }
func (p *ptrRecvText) UnmarshalText(b []byte) error { p.v = string(b); return nil }
func (l *textList) UnmarshalText(b []byte) error {
	*l = make(textList, len(b))
	return nil
}

func TestFieldTypeShapes(t *testing.T) {
	t.Parallel()
	one, two := 1, 2
	pone := &one
	u, _ := url.Parse("https://example.com/a?b=c")
	cases := []shapeCase{
		rejected[chan int]("chan", "chan"),
		rejected[func()]("func", "func"),
		rejected[unsafe.Pointer]("unsafe.Pointer", "unsafe.Pointer"),
		rejected[uintptr]("uintptr", "uintptr"),
		rejected[error]("interface", "interface"),
		rejected[any]("any", "interface"),
		rejected[[]any]("slice of any", "interface"),
		rejected[map[string]any]("map of any", "interface"),
		rejected[map[int]string]("map with int keys", "map keys must be strings"),
		rejected[map[netip.Addr]string]("map with struct keys", "map keys must be strings"),
		rejected[[16]byte]("byte array", "use []byte"),
		rejected[onlyHidden]("struct with only unexported fields", "no exported fields"),
		rejected[struct{}]("empty struct", "no exported fields"),
		// An unnamed struct has no name to declare UnmarshalText on.
		rejected[struct{}]("empty struct, its advice", "declare a named type for it with UnmarshalText on its pointer"),
		rejected[map[string]struct{ A int }]("map of unnamed structs", "declare a named type for it with UnmarshalText on its pointer"),
		rejected[onlyHidden]("struct with only unexported fields, its advice", "declare UnmarshalText on *onlyHidden"),
		rejected[[]Embedded]("list of named structs, its advice", "declare UnmarshalText on *Embedded"),
		rejected[derivedSecret]("derived Secret", "embed it"),
		rejected[*derivedSecret]("pointer to derived Secret", "embed it"),
		rejected[[]derivedSecret]("list of derived Secret", "embed it"),
		rejected[valueRecvText]("UnmarshalText on a value receiver", "value receiver"),
		rejected[*time.Location]("*time.Location", "struct inside a pointer"),
		rejected[*Embedded]("pointer to a section struct", "struct inside a pointer"),
		rejected[[]Embedded]("list of structs", "struct inside a pointer, list or map"),
		rejected[tree]("recursive map", "recursive type"),
		rejected[list]("recursive slice", "recursive type"),
		rejected[ptrTree]("recursive map of pointers", "recursive type"),
		rejected[node]("struct reaching itself through a pointer", "recursive type"),
		rejected[kids]("struct reaching itself through a slice", "recursive type"),
		rejected[byName]("struct reaching itself through a map", "recursive type"),
		rejected[ping]("structs reaching each other", "recursive type"),
		rejectedCfg[embedsPtr]("embedded pointer to an unexported struct", "embedded pointer"),
		rejectedCfg[embedsExportedPtr]("embedded pointer to a struct", "embedded pointer"),

		works[complex128]("complex128", "1+2i", complex(1, 2)),
		works[complex64]("complex64 from a JSON number", json.Number("3"), complex64(3)),
		works[[3]int]("array", "1,2,3", [3]int{1, 2, 3}),
		works[[2]string]("array from JSON", []any{"a", "b"}, [2]string{"a", "b"}),
		works[**int]("pointer to pointer", "1", &pone),
		works[*[]string]("pointer to list", "a,b", &[]string{"a", "b"}),
		works[map[string][]int]("map of lists from JSON", map[string]any{"a": []any{json.Number("1"), json.Number("2")}}, map[string][]int{"a": {1, 2}}),
		works[[]map[string]string]("list of maps from JSON", []any{map[string]any{"k": "v"}}, []map[string]string{{"k": "v"}}),
		works[[][]int]("list of lists from JSON", []any{[]any{1.0}, []any{2.0}}, [][]int{{1}, {2}}),
		works[map[level]int]("map with a named string key", "debug=1", map[level]int{"debug": 1}),
		works[level]("named string", "info", level("info")),
		works[time.Duration]("duration", "1m", time.Minute),
		works[*time.Duration]("pointer to duration", "2s", ptr(2*time.Second)),
		works[time.Time]("time", "2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)),
		works[time.Month]("time.Month", "3", time.March),
		works[*url.URL]("*url.URL", "https://example.com/a?b=c", u),
		works[net.IP]("net.IP", "10.0.0.1", net.ParseIP("10.0.0.1")),
		works[netip.Prefix]("netip.Prefix", "10.0.0.0/8", netip.MustParsePrefix("10.0.0.0/8")),
		works[slog.Level]("slog.Level", "WARN", slog.LevelWarn),
		works[ptrRecvText]("UnmarshalText on a pointer receiver", "x", ptrRecvText{v: "x"}),
		works[textList]("recursive type with UnmarshalText", "abc", make(textList, 3)),
		works[json.Number]("json.Number", json.Number("9007199254740993"), json.Number("9007199254740993")),
		works[json.Number]("json.Number from text", "12.5", json.Number("12.5")),
		works[[]byte]("bytes", "raw", []byte("raw")),
		works[int64]("int64 above 2^53 from JSON", json.Number("9007199254740993"), int64(9007199254740993)),
		works[uint64]("uint64 max from JSON", json.Number("18446744073709551615"), uint64(18446744073709551615)),
		works[int]("int from a YAML int", 7, 7),
		works[int]("int from JSON 1e3", json.Number("1e3"), 1000),
		works[float64]("float from JSON", json.Number("1.5"), 1.5),
		works[*config.Secret]("pointer to Secret", "s", ptr(config.NewSecret("s"))),
		works[*int]("pointer to int", "2", &two),
	}
	if len(cases) < 30 {
		t.Fatalf("only %d shapes", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// An embedded unexported struct is promoted, as in encoding/json: its fields
// get keys, and its validate rules name them.
func TestEmbeddedUnexportedStructIsPromoted(t *testing.T) {
	t.Parallel()
	s, err := config.SchemaFor[embedsHidden]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Field("host"); f == nil || f.Env != "APP_HOST" || f.GoPath != "hostPart.Host" {
		t.Fatalf("host field = %+v", f)
	}
	_, err = loadText[embedsHidden](t, map[string]any{"port": "1"})
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Key != "host" || fe.Env != "APP_HOST" || fe.Rule != "required" {
		t.Fatalf("err = %v, want host is required (APP_HOST)", err)
	}
	st, err := loadText[embedsHidden](t, map[string]any{"host": "db", "port": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Get().Host != "db" {
		t.Errorf("Host = %q", st.Get().Host)
	}
}

// A type whose value contains a Secret anywhere is secret: masked
// everywhere and held to the secret policy.
type (
	wrapped    struct{ config.Secret }
	credential struct {
		user string
		pass config.Secret
	}
	deepSecret struct {
		Inner struct {
			List [2]map[string]*[]wrapped
		}
	}
)

func (c *credential) UnmarshalText(b []byte) error {
	u, p, _ := strings.Cut(string(b), ":")
	c.user, c.pass = u, config.NewSecret(p)
	return nil
}

func (d *deepSecret) UnmarshalText(b []byte) error { return nil }

type containsSecretCfg struct {
	W     wrapped
	PW    *wrapped
	Cred  credential
	Deep  deepSecret
	Many  map[string][]*wrapped
	Plain string
	DB    struct {
		User string
		Pass string
	} `secret:"true"`
}

func TestTypesContainingSecretAreSecret(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-wrapped-6d2c"
	s, err := config.SchemaFor[containsSecretCfg]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Fields() {
		if want := f.Key != "plain"; f.Secret != want {
			t.Errorf("%s: Secret = %v, want %v", f.Key, f.Secret, want)
		}
	}
	vals := map[string]any{"w": canary, "pw": canary, "cred": "u:" + canary, "many": map[string]any{"k": []any{canary}},
		"db.user": canary, "db.pass": canary, "plain": "ok"}
	_, err = config.Load[containsSecretCfg](context.Background(), &config.Options{Production: true, Logger: discard()},
		&fakeLayer{name: "env", vals: vals})
	if !errors.Is(err, config.ErrSecretPolicy) || strings.Count(err.Error(), "is a secret") != 6 || strings.Contains(err.Error(), canary) {
		t.Fatalf("err = %v, want six secret-policy errors", err)
	}
	st, err := config.Load[containsSecretCfg](context.Background(), &config.Options{Logger: discard()},
		&fakeLayer{name: "sm", sensitive: true, vals: vals})
	if err != nil {
		t.Fatal(err)
	}
	if st.Get().W.Reveal() != canary || st.Get().Cred.pass.Reveal() != canary {
		t.Fatal("values not decoded")
	}
	ki, _ := st.Explain("w")
	out := fmt.Sprint(st.Masked(), st.Keys(), ki)
	js, _ := json.Marshal(st.Masked())
	if strings.Contains(out+string(js), canary) || !strings.Contains(out, "many") {
		t.Errorf("a secret is shown:\n%s\n%s", out, js)
	}
}

func TestSecretTagMustBeTrueOrFalse(t *testing.T) {
	t.Parallel()
	_, err := config.SchemaFor[struct {
		Token string `secret:"yes"`
	}]("")
	if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), `secret:"true"`) {
		t.Errorf("err = %v", err)
	}
}

// A type that embeds Secret is validated as the secret's text, like Secret.
func TestWrappedSecretIsValidatedAsText(t *testing.T) {
	t.Parallel()
	type C struct {
		W wrapped `validate:"required,min=12"`
	}
	_, err := loadText[C](t, map[string]any{"w": "short"})
	if !errors.Is(err, config.ErrValidation) || !strings.Contains(err.Error(), "w must have at least 12 characters") {
		t.Fatalf("err = %v", err)
	}
	if _, err := loadText[C](t, map[string]any{"w": "long enough secret"}); err != nil {
		t.Fatal(err)
	}
}
