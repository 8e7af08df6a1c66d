package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/strata-go/strata/config"
)

const fixCanary = "CANARY-5e1d0c9b"

// rawLayer returns fixed values, with Source as given (possibly empty).
type rawLayer struct {
	name      string
	sensitive bool
	vals      config.Values
}

func (l rawLayer) Name() string    { return l.name }
func (l rawLayer) Sensitive() bool { return l.sensitive }
func (l rawLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return l.vals, nil
}

func loadErr[T any](t *testing.T, opts *config.Options, layers ...config.Layer) error {
	t.Helper()
	if opts == nil {
		opts = &config.Options{}
	}
	opts.Logger = discard()
	st, err := config.Load[T](context.Background(), opts, layers...)
	if st != nil {
		_ = st.Close()
	}
	return err
}

// TestSecretMapItemHidesKey: a rule failing on an entry of a secret map, or
// of a map from a sensitive layer, names the field, never the entry's key;
// list indexes stay, and so do keys of a plain map from a plain layer.
func TestSecretMapItemHidesKey(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Keys   map[string]config.Secret   `validate:"dive,min=12"`
		Names  map[string]string          `secret:"true" validate:"dive,keys,min=40,endkeys"`
		Nested map[string][]config.Secret `validate:"dive,dive,min=12"`
		List   []config.Secret            `validate:"dive,min=12"`
		Plain  map[string]string          `validate:"dive,min=12"`
		Shared map[string]string          `validate:"dive,min=12"`
	}
	err := loadErr[cfg](t, nil, config.StaticSecrets("vault", map[string]string{
		"keys":   fixCanary + "=short",
		"names":  fixCanary + "=x",
		"nested": "",
		"list":   "short",
		"shared": fixCanary + "=short",
	}), rawLayer{"vault2", true, config.Values{"nested": {Raw: map[string]any{fixCanary: []any{"short"}}}}},
		config.Static("plain", map[string]string{"plain": "visible=short"}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, fixCanary) {
		t.Errorf("the message holds a secret map key:\n%s", msg)
	}
	for _, want := range []string{
		"keys has an entry that must have at least 12 characters",
		"names has an entry that must have at least 40 characters",
		"nested has an entry that must have at least 12 characters",
		"list[0] must have at least 12 characters",
		"plain[visible] must have at least 12 characters",
		"shared has an entry that must have at least 12 characters",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	var agg *config.AggregateError
	if !errors.As(err, &agg) {
		t.Fatal(err)
	}
	for _, e := range agg.Errs {
		var fe *config.FieldError
		if errors.As(e, &fe) && strings.Contains(fe.Key, fixCanary) {
			t.Errorf("FieldError.Key = %q", fe.Key)
		}
	}
}

// TestExplainRedactsUndecodable: config.Explain shows a value that does not
// decode as [REDACTED]: it may be shifted secret text.
func TestExplainRedactsUndecodable(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Port int
		Host string
	}
	schema, err := config.SchemaFor[cfg]("")
	if err != nil {
		t.Fatal(err)
	}
	src := config.Source{Layer: "secretsmanager", Location: "app/db#port"}
	infos := config.Explain(schema, config.Values{
		"port": {Raw: fixCanary, Source: src},
		"host": {Raw: "db.internal", Source: src},
	}, nil)
	b, _ := json.Marshal(infos)
	if strings.Contains(string(b), fixCanary) {
		t.Errorf("Explain shows the undecodable value: %s", b)
	}
	for _, ki := range infos {
		switch ki.Key {
		case "port":
			if ki.Value != config.Redacted || !ki.Set || ki.Display() != config.Redacted {
				t.Errorf("port: %+v", ki)
			}
		case "host":
			if ki.Value != "db.internal" {
				t.Errorf("host: %+v", ki)
			}
		}
	}
}

// TestSensitiveLayerNoFieldKey: a sensitive layer returning a key that is no
// field is reported without the key; a plain layer's key is quoted.
func TestSensitiveLayerNoFieldKey(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Database struct{ Password config.Secret }
	}
	err := loadErr[cfg](t, nil, rawLayer{"vault", true, config.Values{
		"database.password":     {Raw: "pw-long-enough"},
		"database." + fixCanary: {Raw: "x"},
	}})
	if err == nil || strings.Contains(err.Error(), fixCanary) || !strings.Contains(err.Error(), "layer 1 (vault) returned a key that is no field") {
		t.Errorf("err = %v", err)
	}
	err = loadErr[cfg](t, nil, rawLayer{"plain", false, config.Values{"database.pasword": {Raw: "x"}}})
	if err == nil || !strings.Contains(err.Error(), `returned the key "database.pasword"`) {
		t.Errorf("err = %v", err)
	}
}

// TestExactIntegers: JSON numbers decode into integers exactly, or not at
// all.
func TestExactIntegers(t *testing.T) {
	t.Parallel()
	type cfg struct {
		N   int
		I8  int8
		U16 uint16
		I64 int64
	}
	load := func(key string, n json.Number) (*cfg, error) {
		st, err := config.Load[cfg](context.Background(), &config.Options{Logger: discard()},
			rawLayer{"json", false, config.Values{key: {Raw: n, Source: config.Source{Layer: "json"}}}})
		if err != nil {
			return nil, err
		}
		defer st.Close()
		c := *st.Get()
		return &c, nil
	}
	for _, tc := range []struct {
		key  string
		num  string
		want int64
	}{
		{"n", "1e16", 1e16}, {"n", "1.5e1", 15}, {"n", "9007199254740993.0", 9007199254740993},
		{"n", "-0", 0}, {"n", "0e999999999999999999999", 0}, {"n", "100E-2", 1}, {"i8", "-1.28e2", -128},
		{"i64", "9223372036854775807", 9223372036854775807}, {"u16", "6.5535e4", 65535},
	} {
		c, err := load(tc.key, json.Number(tc.num))
		if err != nil {
			t.Errorf("%s = %s: %v", tc.key, tc.num, err)
			continue
		}
		got := map[string]int64{"n": int64(c.N), "i8": int64(c.I8), "u16": int64(c.U16), "i64": c.I64}[tc.key]
		if got != tc.want {
			t.Errorf("%s = %s: got %d, want %d", tc.key, tc.num, got, tc.want)
		}
	}
	for _, tc := range []struct{ key, num, want string }{
		{"n", "1.0000000000000001", "expected an integer"},
		{"n", "4.9999999999999999", "expected an integer"},
		{"n", "1e-1", "expected an integer"},
		{"n", "1e19", "out of range"},
		{"n", "1e999999999999999999999", "out of range"},
		{"i8", "1.28e2", "expected an integer from -128 to 127"},
		{"i8", "0.5", "expected an integer from -128 to 127"},
		{"u16", "-1", "expected an integer from 0 to 65535"},
		{"i64", "9223372036854775808", "expected an integer from"},
	} {
		_, err := load(tc.key, json.Number(tc.num))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %s: err = %v, want %q", tc.key, tc.num, err, tc.want)
		}
	}
}

// TestSetFieldNamesItsSource: a problem of a field that a layer set says
// where from, even when the validator panicked or the layer gave no Source.
func TestSetFieldNamesItsSource(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Token config.Secret `validate:"boom"`
	}
	v := validator.New()
	if err := v.RegisterValidation("boom", func(validator.FieldLevel) bool { panic("x") }); err != nil {
		t.Fatal(err)
	}
	err := loadErr[cfg](t, &config.Options{Validator: v}, config.StaticSecrets("vault", map[string]string{"token": "t"}))
	if err == nil || strings.Contains(err.Error(), "none set it") || !strings.Contains(err.Error(), "from vault") {
		t.Errorf("panicking rule: err = %v", err)
	}
	type cfg2 struct {
		Port  int
		Token config.Secret
	}
	err = loadErr[cfg2](t, nil, rawLayer{"vault", true, config.Values{"port": {Raw: "x"}, "token": {Raw: []any{}}}})
	if err == nil || strings.Contains(err.Error(), "none set it") || !strings.Contains(err.Error(), "port has an invalid value") ||
		!strings.Contains(err.Error(), "(from vault)") {
		t.Errorf("no Source: err = %v", err)
	}
}

// TestListsOfContainersFromText: a list of lists or a map of lists is
// written as JSON in text.
func TestListsOfContainersFromText(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Grid  [][]string
		Multi map[string][]int
	}
	st, err := config.Load[cfg](context.Background(), &config.Options{Logger: discard()},
		config.Static("env", map[string]string{"grid": `[["a","b"],["c"]]`, "multi": `{"x":[1,2]}`}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := st.Get()
	if len(c.Grid) != 2 || c.Grid[0][1] != "b" || c.Grid[1][0] != "c" || len(c.Multi["x"]) != 2 || c.Multi["x"][1] != 2 {
		t.Errorf("got %+v", c)
	}
	err = loadErr[cfg](t, nil, config.Static("env", map[string]string{"grid": "a,b"}))
	if err == nil || !strings.Contains(err.Error(), "expected a JSON array") || strings.Contains(err.Error(), "cannot be written as text") {
		t.Errorf("err = %v", err)
	}
}

// TestEmptyListItems: a comma-separated list has no empty items, whatever
// the item type, and an empty list is not a required list.
func TestEmptyListItems(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Tags []string `validate:"required"`
		Nums []int
	}
	for _, tc := range []struct{ key, val, want string }{
		{"tags", ",", "item 1 is empty"},
		{"tags", "a,,b", "item 2 is empty"},
		{"tags", "a,", "item 2 is empty"},
		{"nums", "1,,3", "item 2 is empty"},
	} {
		vals := map[string]string{"tags": "x", tc.key: tc.val}
		err := loadErr[cfg](t, nil, config.Static("env", vals))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: err = %v, want %q", tc.key, tc.val, err, tc.want)
		}
	}
}

// TestShallowerFieldWins: as in encoding/json, of two fields with one key
// the shallower wins, and at equal depth the one named by a tag; otherwise it
// is a collision.
func TestShallowerFieldWins(t *testing.T) {
	t.Parallel()
	type Emb struct {
		X string
		Y string
	}
	type Other struct{ X string }
	type cfg struct {
		Emb
		X string
	}
	st, err := config.Load[cfg](context.Background(), &config.Options{Logger: discard()},
		config.Static("s", map[string]string{"x": "outer", "y": "inner"}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c := st.Get(); c.X != "outer" || c.Emb.X != "" || c.Y != "inner" {
		t.Errorf("got %+v", c)
	}
	type Tagged struct {
		Z string `config:"x"`
	}
	type tagged struct {
		Emb
		Tagged
	}
	if s, err := config.SchemaFor[tagged](""); err != nil || s.Field("x").GoPath != "Tagged.Z" {
		t.Errorf("tagged at equal depth: %v", err)
	}
	type tie struct {
		Emb
		Other
	}
	if _, err := config.SchemaFor[tie](""); err == nil || !strings.Contains(err.Error(), "both have the key x") &&
		!strings.Contains(err.Error(), "both map to the environment name X") {
		t.Errorf("equal depth: err = %v", err)
	}
	type Ruled struct {
		X string `validate:"required"`
	}
	type hidden struct {
		Ruled
		X string
	}
	if _, err := config.SchemaFor[hidden](""); err == nil || !strings.Contains(err.Error(), "Ruled.X is hidden by X") {
		t.Errorf("hidden with rules: err = %v", err)
	}
}

// TestUnknownEnvNamesItsLayer: an unknown environment name says which layer
// saw it.
func TestUnknownEnvNamesItsLayer(t *testing.T) {
	t.Parallel()
	type cfg struct{ Port int }
	s, _ := config.SchemaFor[cfg]("APP_")
	err := s.UnknownEnv("APP_PROT", config.Source{Layer: "env", Location: "APP_PROT"})
	if got := err.Error(); got != "APP_PROT: unknown, did you mean APP_PORT? (env)" {
		t.Errorf("got %q", got)
	}
	hidden := s.UnknownSecretKey(fixCanary, config.Source{})
	if got := hidden.Error(); strings.Contains(got, fixCanary) || !strings.Contains(got, "a key of a sensitive source maps to no field") {
		t.Errorf("got %q", got)
	}
}

// TestTypoLinkOfHiddenKey: a required field left unset next to an unknown
// key of a secret names the source, not an empty name.
func TestTypoLinkOfHiddenKey(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Database struct {
			Password config.Secret `validate:"required"`
		}
	}
	layer := errLayer{fn: func(s *config.Schema) error {
		return s.UnknownSecretKey("database.pasword", config.Source{Layer: "vault", Location: "kv/app"})
	}}
	err := loadErr[cfg](t, nil, layer)
	if err == nil || !strings.Contains(err.Error(), "; a key of vault kv/app is set, which may be a misspelling of database.password") {
		t.Errorf("err = %v", err)
	}
}

type errLayer struct{ fn func(*config.Schema) error }

func (errLayer) Name() string    { return "vault" }
func (errLayer) Sensitive() bool { return true }
func (l errLayer) Load(_ context.Context, s *config.Schema) (config.Values, error) {
	return config.Values{}, l.fn(s)
}
