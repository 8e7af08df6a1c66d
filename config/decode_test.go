package config_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/strata-go/strata/config"
)

type allTypes struct {
	S    string
	B    bool
	I    int
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	U    uint
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	F32  float32
	F64  float64
	D    time.Duration
	T    time.Time
	SS   []string
	SI   []int
	M    map[string]string
	P    *int
	PS   *string
	URL  url.URL
	Addr netip.Addr // an encoding.TextUnmarshaler
	Sec  config.Secret
	Raw  []byte
}

func loadText[T any](t *testing.T, vals map[string]any) (*config.Store[T], error) {
	t.Helper()
	return config.Load[T](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: discard()},
		&fakeLayer{name: "env", vals: vals})
}

func TestDecodeEveryType(t *testing.T) {
	t.Parallel()
	st, err := loadText[allTypes](t, map[string]any{
		"s": "text", "b": "true", "i": "-42", "i8": "-128", "i16": "32767", "i32": "7", "i64": "9223372036854775807",
		"u": "42", "u8": "255", "u16": "65535", "u32": "7", "u64": "18446744073709551615",
		"f32": "1.5", "f64": "-2.25", "d": "1m30s", "t": "2026-01-02T15:04:05Z",
		"ss": "a, b ,c", "si": "1,2,3", "m": "a=1, b=2", "p": "5", "url": "https://example.com/x?y=1",
		"addr": "10.0.0.1", "sec": "hunter2hunter2", "raw": "bytes",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := st.Get()
	five := 5
	want := allTypes{
		S: "text", B: true, I: -42, I8: -128, I16: 32767, I32: 7, I64: 9223372036854775807,
		U: 42, U8: 255, U16: 65535, U32: 7, U64: 18446744073709551615,
		F32: 1.5, F64: -2.25, D: 90 * time.Second, T: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		SS: []string{"a", "b", "c"}, SI: []int{1, 2, 3}, M: map[string]string{"a": "1", "b": "2"}, P: &five,
		URL:  url.URL{Scheme: "https", Host: "example.com", Path: "/x", RawQuery: "y=1"},
		Addr: netip.MustParseAddr("10.0.0.1"), Sec: config.NewSecret("hunter2hunter2"), Raw: []byte("bytes"),
	}
	if diff := cmp.Diff(want, *got, cmp.Comparer(func(a, b config.Secret) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("decoded config differs (-want +got):\n%s", diff)
	}
	if got.PS != nil {
		t.Error("unset pointer is not nil")
	}
}

func TestDecodeJSONValues(t *testing.T) {
	t.Parallel()
	st, err := loadText[allTypes](t, map[string]any{
		"s": 12.0, "b": true, "i": 42.0, "u8": 200.0, "f64": 0.5, "ss": []any{"x", "y"}, "si": []any{1.0, 2.0},
		"m": map[string]any{"k": "v"}, "sec": "from-json",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := st.Get()
	if c.S != "12" || !c.B || c.I != 42 || c.U8 != 200 || c.F64 != 0.5 || len(c.SS) != 2 || c.SI[1] != 2 || c.M["k"] != "v" || c.Sec.Reveal() != "from-json" {
		t.Errorf("JSON values decoded wrong: %+v", c)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key, raw string
		want     string
	}{
		{"i8", "128", `i8 has an invalid value "128": expected an integer from -128 to 127 (APP_I8 from env i8)`},
		{"u", "-1", "expected an integer of 0 or more"},
		{"b", "yes please", "expected a boolean"},
		{"f32", "one", "expected a number"},
		{"d", "30", "expected a duration such as 5s"},
		{"t", "yesterday", "expected an RFC 3339 time"},
		{"si", "1,x", "item 2: expected an integer"},
		{"m", "novalue", "expected key=value pairs"},
		{"addr", "not-an-ip", "expected a valid netip.Addr"},
		{"url", "http://[::1", "expected a URL"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			_, err := loadText[allTypes](t, map[string]any{tc.key: tc.raw})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, config.ErrInvalidValue) {
				t.Error("not ErrInvalidValue")
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key || fe.Env != "APP_"+strings.ToUpper(tc.key) || fe.Source.Layer != "env" {
				t.Errorf("FieldError = %+v", fe)
			}
		})
	}
}

func TestDecodeErrorsAreAggregated(t *testing.T) {
	t.Parallel()
	_, err := loadText[allTypes](t, map[string]any{"i": "x", "b": "x", "d": "x"})
	var agg *config.AggregateError
	if !errors.As(err, &agg) || len(agg.Errs) != 3 {
		t.Fatalf("want 3 problems at once, got %v", err)
	}
}

type secretDecode struct {
	Token config.Secret
	Pin   int    `secret:"true"`
	Note  string `secret:"true" validate:"max=3"`
}

func TestDecodeErrorOfSecretHidesValue(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-decode-5b4a"
	_, err := loadText[secretDecode](t, map[string]any{"pin": canary, "note": canary, "token": canary})
	if err == nil {
		t.Fatal("want errors")
	}
	if strings.Contains(err.Error(), canary) {
		t.Fatalf("error shows the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "pin has an invalid value: expected an integer") || !strings.Contains(err.Error(), "note must have at most 3 characters") {
		t.Errorf("error does not explain: %v", err)
	}
}

func TestDecodeJSONNumbersOutOfRange(t *testing.T) {
	t.Parallel()
	for key, raw := range map[string]float64{"i64": 9223372036854775808, "u64": 18446744073709551616, "f32": 1e300, "i8": 128, "u8": -1} {
		if _, err := loadText[allTypes](t, map[string]any{key: raw}); !errors.Is(err, config.ErrInvalidValue) {
			t.Errorf("%s = %g: err = %v, want ErrInvalidValue", key, raw, err)
		}
	}
}

type secretContainers struct {
	P *config.Secret
	L []config.Secret
	M map[string]config.Secret
}

// Pointers, slices and maps of Secret are secret by type: masked, and held to
// the secret policy.
func TestSecretContainersAreSecret(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-container-31f"
	_, err := config.Load[secretContainers](context.Background(), &config.Options{Production: true, Logger: discard()},
		&fakeLayer{name: "env", vals: map[string]any{"p": canary, "l": canary + ",x", "m": "k=" + canary}})
	if !errors.Is(err, config.ErrSecretPolicy) || strings.Count(err.Error(), "is a secret") != 3 {
		t.Fatalf("err = %v, want three secret-policy errors", err)
	}
	st, err := config.Load[secretContainers](context.Background(), &config.Options{Logger: discard()},
		&fakeLayer{name: "sm", sensitive: true, vals: map[string]any{"p": canary, "l": canary + ",x", "m": "k=" + canary}})
	if err != nil {
		t.Fatal(err)
	}
	if out := st.Masked().String(); strings.Contains(out, canary) {
		t.Errorf("masked config shows a secret:\n%s", out)
	}
	if st.Get().P.Reveal() != canary || st.Get().M["k"].Reveal() != canary {
		t.Error("values not decoded")
	}
}

// A value from a sensitive layer is not quoted in a decode error, even for a
// field that is not secret: a JSON secret with shifted keys must not leak.
func TestDecodeErrorHidesValuesFromSensitiveLayers(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-shifted-9a0"
	_, err := config.Load[allTypes](context.Background(), &config.Options{Logger: discard()},
		&fakeLayer{name: "secretsmanager", sensitive: true, vals: map[string]any{"i": canary}})
	if err == nil || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "i has an invalid value: expected an integer") {
		t.Errorf("err = %v", err)
	}
}
