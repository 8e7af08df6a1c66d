package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

const inputCanary = "CANARYinput7e1"

// quoting is a TextUnmarshaler whose errors and panics quote their input, as
// many do.
type quoting struct{}

func (*quoting) UnmarshalText(b []byte) error {
	if strings.HasPrefix(string(b), "panic") {
		panic("cannot parse " + string(b))
	}
	return fmt.Errorf("cannot parse %q", b)
}

// everyKind has a secret field of every decoder kind.
type everyKind struct {
	S    string            `secret:"true"`
	B    bool              `secret:"true"`
	I    int               `secret:"true"`
	I8   int8              `secret:"true"`
	U    uint              `secret:"true"`
	F    float64           `secret:"true"`
	C    complex128        `secret:"true"`
	D    time.Duration     `secret:"true"`
	T    time.Time         `secret:"true"`
	URL  url.URL           `secret:"true"`
	Addr netip.Addr        `secret:"true"`
	Q    quoting           `secret:"true"`
	N    json.Number       `secret:"true"`
	Sec  config.Secret     // secret by type
	P    *int              `secret:"true"`
	L    []int             `secret:"true"`
	A    [2]int            `secret:"true"`
	Raw  []byte            `secret:"true"`
	M    map[string]int    `secret:"true"`
	MS   map[string]string `secret:"true"`
	LL   [][]string        `secret:"true"`
}

// errorTexts returns the text of err and of every error it wraps, and its
// fmt forms.
func errorTexts(err error) []string {
	out := []string{fmt.Sprintf("%v %+v %#v %s %q", err, err, err, err, err)}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e.Error(), fmt.Sprintf("%#v", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// No part of a secret field's input appears in a decode error: not the text,
// not a map key, not an item, in text or JSON form.
func TestDecodeErrorsNeverQuoteSecretInput(t *testing.T) {
	t.Parallel()
	c := inputCanary
	cases := map[string][]any{
		"s":    {[]any{c}, map[string]any{c: c}},
		"b":    {c, json.Number("1"), []any{c}},
		"i":    {c, "1" + c, "99999999999999999999999", json.Number("1.5"), []any{c}},
		"i8":   {c, "300"},
		"u":    {"-" + c, c},
		"f":    {c, "NaN", "Inf"},
		"c":    {c},
		"d":    {c, json.Number("5")},
		"t":    {c},
		"url":  {"http://[::1" + c, []any{c}},
		"addr": {c},
		"q":    {c, "panic" + c},
		"n":    {c, true},
		"sec":  {[]any{c}, map[string]any{c: c}},
		"p":    {c},
		"l":    {"1," + c, []any{json.Number("1"), c}, map[string]any{c: 1.0}},
		"a":    {"1,2," + c, "1," + c},
		"raw":  {[]any{c}, map[string]any{c: c}},
		"m":    {c + "=x", "k=" + c, c, "=" + c, c + "=1," + c + "=2", map[string]any{c: c}, map[string]any{"": c}, []any{c}},
		"ms":   {c, c + "=1," + c + "=2", map[string]any{c: []any{c}}},
		"ll":   {c + "," + c, []any{[]any{[]any{c}}}, []any{map[string]any{c: c}}},
	}
	for key, inputs := range cases {
		for i, raw := range inputs {
			t.Run(fmt.Sprintf("%s/%d", key, i), func(t *testing.T) {
				t.Parallel()
				for _, sensitive := range []bool{false, true} {
					_, err := config.Load[everyKind](context.Background(), &config.Options{Logger: discard()},
						&fakeLayer{name: "layer", sensitive: sensitive, vals: map[string]any{key: raw}})
					if !errors.Is(err, config.ErrInvalidValue) {
						t.Fatalf("%#v: err = %v, want ErrInvalidValue", raw, err)
					}
					for _, text := range errorTexts(err) {
						if strings.Contains(text, c) {
							t.Fatalf("%#v: the error shows secret input: %s", raw, text)
						}
					}
					if !strings.Contains(err.Error(), key+" has an invalid value: ") {
						t.Errorf("%#v: err = %v", raw, err)
					}
				}
			})
		}
	}
}

// A decoder never quotes its input even for a plain field: the store alone
// decides to show the value (quoted, for a plain field from a plain layer).
func TestDecoderCausesCarryNoInput(t *testing.T) {
	t.Parallel()
	type plain struct {
		M map[string]int
		Q quoting
	}
	for key, raw := range map[string]string{"m": "zzkey=zzval", "q": "zzval"} {
		_, err := loadText[plain](t, map[string]any{key: raw})
		var fe *config.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: err = %v", key, err)
		}
		if !strings.Contains(fe.Message, fmt.Sprintf("%q", raw)) {
			t.Errorf("%s: the store does not show the plain value: %s", key, fe.Message)
		}
		for _, text := range errorTexts(errors.Unwrap(fe)) {
			if strings.Contains(text, "zzkey") || strings.Contains(text, "zzval") {
				t.Errorf("%s: the decoder's error quotes its input: %s", key, text)
			}
		}
	}
}

type emptyValues struct {
	Tags  []string          `validate:"required"`
	Label map[string]string `validate:"required"`
	Opt   []int
	Port  *int `default:"5"`
	Name  *string
	Raw   []byte
}

// An empty value is "no items" for a list or map (nil, so required fails)
// and "unset" for a pointer (nil, even over a default).
func TestEmptyValuesAreUnset(t *testing.T) {
	t.Parallel()
	for _, vals := range []map[string]any{
		{"tags": "", "label": " "},
		{"tags": []any{}, "label": map[string]any{}},
		{"tags": nil, "label": nil},
	} {
		_, err := loadText[emptyValues](t, vals)
		if err == nil || !strings.Contains(err.Error(), "tags is required") || !strings.Contains(err.Error(), "label is required") {
			t.Errorf("%v: err = %v, want tags and label required", vals, err)
		}
	}
	st, err := loadText[emptyValues](t, map[string]any{"tags": "a", "label": "k=v", "opt": "", "port": "", "name": "", "raw": ""})
	if err != nil {
		t.Fatal(err)
	}
	c := st.Get()
	if c.Opt != nil || c.Port != nil || c.Name != nil || c.Raw != nil {
		t.Errorf("empty values are not nil: %+v", c)
	}
}

func TestMapEntriesMustHaveUniqueKeys(t *testing.T) {
	t.Parallel()
	type maps struct{ M map[string]int }
	for raw, want := range map[string]string{
		"=1":           "has an invalid value \"=1\": the key is empty",
		"a=1, =2":      "entry 2: the key is empty",
		"a=1,a=2":      "entry 2: the key repeats",
		" a=1, a =2":   "entry 2: the key repeats",
		"a=1,b=2,a=3 ": "entry 3: the key repeats",
	} {
		_, err := loadText[maps](t, map[string]any{"m": raw})
		if !errors.Is(err, config.ErrInvalidValue) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", raw, err, want)
		}
	}
	if _, err := loadText[maps](t, map[string]any{"m": map[string]any{"": 1.0}}); !errors.Is(err, config.ErrInvalidValue) {
		t.Errorf("JSON empty key: err = %v", err)
	}
}

func TestNonFiniteFloatsNeedTheOption(t *testing.T) {
	t.Parallel()
	type floats struct {
		F   float64
		F32 float32
		L   []float64
		OK  float64   `config:",nonfinite"`
		OKL []float64 `config:"okl,nonfinite"`
	}
	for _, raw := range []string{"NaN", "nan", "Inf", "+Inf", "-inf", "infinity"} {
		for _, key := range []string{"f", "f32", "l"} {
			_, err := loadText[floats](t, map[string]any{key: raw})
			if !errors.Is(err, config.ErrInvalidValue) || !strings.Contains(err.Error(), `config:",nonfinite"`) {
				t.Errorf("%s=%s: err = %v", key, raw, err)
			}
		}
	}
	st, err := loadText[floats](t, map[string]any{"ok": "NaN", "okl": "Inf,-Inf", "f": "1e308", "f32": "1.5"})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Get(); c.OK == c.OK || len(c.OKL) != 2 || c.F != 1e308 || c.F32 != 1.5 {
		t.Errorf("decoded %+v", c)
	}
	for name, err := range map[string]error{
		"on an int": schemaErr[struct {
			N int `config:",nonfinite"`
		}](),
		"unknown option": schemaErr[struct {
			N int `config:"n,omitempty"`
		}](),
		"dot in name": schemaErr[struct {
			N int `config:"a.b"`
		}](),
	} {
		if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), "field N") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func schemaErr[T any]() error {
	_, err := config.SchemaFor[T]("APP_")
	return err
}

func TestSkippedFieldsWithRulesAreSchemaErrors(t *testing.T) {
	t.Parallel()
	type inner struct {
		Host string `validate:"required"`
	}
	for name, err := range map[string]error{
		"config:-": schemaErr[struct {
			Ignored string `config:"-" validate:"required"`
		}](),
		"unexported": schemaErr[struct {
			ignored string `validate:"min=1"`
		}](),
		"skipped struct": schemaErr[struct {
			Ignored inner `config:"-"`
		}](),
		"embedded skipped": schemaErr[struct {
			inner `config:"-"`
		}](),
	} {
		if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), "no layer can set it") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	err := schemaErr[struct {
		Ignored string `config:"-" validate:"required"`
	}]()
	if !strings.Contains(err.Error(), "field Ignored") {
		t.Errorf("err %v does not name the field", err)
	}
	if err := schemaErr[struct {
		Ignored string `config:"-" validate:"-"`
		mu      string
		other   string `desc:"not set by configuration"`
	}](); err != nil {
		t.Errorf("skipped fields without rules: %v", err)
	}
}

// A field no layer can set, yet tagged with how to set it (a default, an env
// name, secrecy, a key), is a mistake Go would not report: a schema error
// naming the field and the tags, never a tag's value.
func TestSkippedFieldsWithSettingTagsAreSchemaErrors(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-default-of-skipped"
	for want, err := range map[string]error{
		"field addr is not exported, so no layer can set it, yet it is tagged default and env; remove the tags or export it (Addr)": schemaErr[struct {
			addr string `default:"CANARY-default-of-skipped" env:"ADDR"`
		}](),
		"field token is not exported, so no layer can set it, yet it is tagged secret; remove the tag or export it (Token)": schemaErr[struct {
			token string `secret:"true"`
		}](),
		"field _x is not exported, so no layer can set it, yet it is tagged config; remove the tag or export it": schemaErr[struct {
			_x string `config:"x"`
		}](),
		`field Ignored is skipped with config:"-", so no layer can set it, yet it is tagged default; remove the tag or remove config:"-"`: schemaErr[struct {
			Ignored string `config:"-" default:"CANARY-default-of-skipped"`
		}](),
	} {
		if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want ErrSchema saying %q", err, want)
		}
		if err != nil && strings.Contains(fmt.Sprintf("%+v", err), canary) {
			t.Errorf("a tag's value is shown: %v", err)
		}
	}
}

func TestEnvTagsOfOtherLibrariesAreSchemaErrors(t *testing.T) {
	t.Parallel()
	for want, err := range map[string]error{
		`write env:"SERVICE_NAME" validate:"required"`: schemaErr[struct {
			Name string `env:"SERVICE_NAME,required"`
		}](),
		`write env:"PORT" default:"8080" validate:"required,min=1"`: schemaErr[struct {
			Port int `env:"PORT, default=8080, required" validate:"min=1"`
		}](),
		`write validate:"required" (Strata has no option file)`: schemaErr[struct {
			Key string `env:",required,file"`
		}](),
		`the env tag "my-var" is not a valid environment name`: schemaErr[struct {
			V string `env:"my-var"`
		}](),
		`write env:"_1ABC"`: schemaErr[struct {
			V string `env:"1ABC"`
		}](),
		`its environment name "APP_MY-NAME" is not valid`: schemaErr[struct {
			V string `config:"my-name"`
		}](),
		`its environment name "APP_GRÖßE" is not valid`: schemaErr[struct{ Größe int }](),
	} {
		if !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %s", err, want)
		}
	}
	if _, err := config.SchemaFor[struct{ V string }]("APP-"); !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), `prefix "APP-"`) {
		t.Errorf("bad prefix: err = %v", err)
	}
}

type foreignTagged struct {
	Port   int    `envDefault:"8080"`
	Name   string `required:"true" split_words:"true"`
	Host   string `mapstructure:"db_host"`
	Same   string `mapstructure:"same" koanf:"same"`
	Other  string `koanf:"another" config:"other"`
	Ignore string `ignored:"true"`
}

func TestForeignTagsAreWarnings(t *testing.T) {
	t.Parallel()
	s, err := config.SchemaFor[foreignTagged]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	warns := s.Warnings()
	var texts []string
	for _, w := range warns {
		var tw *config.TagWarning
		if !errors.Is(w, config.ErrForeignTag) || !errors.As(w, &tw) || errors.Is(w, config.ErrSchema) {
			t.Errorf("warning %v is not a *TagWarning matching ErrForeignTag only", w)
		}
		texts = append(texts, w.Error())
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		`field Port (port): the tag envDefault:"8080" is not read by Strata; write default:"8080"`,
		`tag required:"true" is not read by Strata; write validate:"required"`,
		`split_words:"true"`,
		`tag mapstructure:"db_host" is not read by Strata; the key is host; write config:"db_host"`,
		`ignored:"true" is not read by Strata; write config:"-"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if len(warns) != 5 {
		t.Errorf("want 5 warnings (same-named and config-tagged fields are quiet), got:\n%s", all)
	}

	logs := &configtest.LogBuffer{}
	st, err := config.Load[foreignTagged](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: slogText(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Warnings(); len(got) != 5 || !errors.Is(got[0], config.ErrForeignTag) {
		t.Errorf("store warnings = %v", got)
	}
	if !strings.Contains(logs.String(), "envDefault") || !strings.Contains(logs.String(), "problem=foreign_tag") {
		t.Errorf("warnings not logged:\n%s", logs)
	}
}

func TestDecodeMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		raw  any
		want string
		not  string
	}{
		{"i", "x", "i has an invalid value \"x\": expected an integer (APP_I", "9223372036854775807"},
		{"i", "99999999999999999999", "expected an integer (the value is out of range)", "922337"},
		{"i8", "x", "expected an integer from -128 to 127", ""},
		{"u", "x", "expected an integer of 0 or more", "18446744073709551615"},
		{"s", []any{"x"}, "expected a string, got a JSON array", ""},
		{"s", map[string]any{}, "expected a string, got a JSON object", ""},
		{"d", json.Number("30"), "expected a duration such as 5s, 250ms or 1m30s, got a JSON number", ""},
		{"b", json.Number("1"), "expected a boolean (true, false, 1, 0), got a JSON number", ""},
		{"i", true, "expected an integer, got a JSON boolean", ""},
		{"ss", map[string]any{"a": "b"}, "got a JSON object", ""},
		{"i64", json.Number("9223372036854775808"), "expected an integer from", ""},
		{"u8", json.Number("256.0"), "expected an integer from 0 to 255", ""},
		{"i", json.Number("1.5"), "expected an integer", ""},
		{"si", "1,x", "item 2: expected an integer", ""},
	} {
		_, err := loadText[allTypes](t, map[string]any{tc.key: tc.raw})
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.not != "" && strings.Contains(err.Error(), tc.not)) {
			t.Errorf("%s=%#v: err = %v, want %q", tc.key, tc.raw, err, tc.want)
		}
	}
	st, err := loadText[allTypes](t, map[string]any{"i64": json.Number("9007199254740993"), "u64": json.Number("18446744073709551615"),
		"f64": json.Number("0.1"), "s": json.Number("12345678901234567890")})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Get(); c.I64 != 9007199254740993 || c.U64 != 18446744073709551615 || c.F64 != 0.1 || c.S != "12345678901234567890" {
		t.Errorf("JSON numbers decoded inexactly: %+v", c)
	}
}

func slogText(w *configtest.LogBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// The default of a secret field written in another library's syntax is not
// repeated in the error or warning about it.
func TestForeignDefaultsOfSecretsAreNotShown(t *testing.T) {
	t.Parallel()
	const canary = "CANARYdefault42"
	s, err := config.SchemaFor[struct {
		Password config.Secret `envDefault:"CANARYdefault42"`
		Token    string        `secret:"true" env-default:"CANARYdefault42"`
	}]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	if w := fmt.Sprint(s.Warnings()); strings.Contains(w, canary) || !strings.Contains(w, `write default:"..."`) {
		t.Errorf("warnings = %s", w)
	}
	err = schemaErr[struct {
		Password config.Secret `env:"DB_PASSWORD,default=CANARYdefault42"`
	}]()
	if !errors.Is(err, config.ErrSchema) || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), `write env:"DB_PASSWORD" default:"..."`) {
		t.Errorf("err = %v", err)
	}
	if err := schemaErr[struct {
		V string `env:"-"`
	}](); !errors.Is(err, config.ErrSchema) || !strings.Contains(err.Error(), `write config:"-"`) {
		t.Errorf(`env:"-": err = %v`, err)
	}
}
