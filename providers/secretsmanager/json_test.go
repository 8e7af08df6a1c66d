package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
)

type numbersConfig struct {
	DB struct {
		ID      int64
		Max     uint64
		Ratio   float64
		Account string
		Shards  []int64
		Weights map[string]int64
	}
}

// JSON numbers keep every digit: an integer above 2^53 is not rounded, a
// number into a string field is its text as written, and floats still work.
func TestJSONNumbersAreExact(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"id":9007199254740993,"max":18446744073709551615,"ratio":0.1,"account":12345678901234567890,`+
		`"shards":[9007199254740995],"weights":{"a":9007199254740997}}`)
	st, err := config.Load[numbersConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		NewWithClient(f, nil, JSON("app/db", "db", nil)))
	if err != nil {
		t.Fatal(err)
	}
	db := st.Get().DB
	if db.ID != 9007199254740993 || db.Max != 18446744073709551615 || db.Ratio != 0.1 || db.Account != "12345678901234567890" ||
		db.Shards[0] != 9007199254740995 || db.Weights["a"] != 9007199254740997 {
		t.Errorf("decoded %+v", db)
	}

	f.putString("app/db", `{"id":9223372036854775808}`)
	_, err = config.Load[numbersConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		NewWithClient(f, nil, JSON("app/db", "db", nil)))
	if !errors.Is(err, config.ErrInvalidValue) || !strings.Contains(err.Error(), "db.id has an invalid value: expected an integer from") {
		t.Errorf("out of range: err = %v", err)
	}

	// A discovered secret holding a JSON list is exact too.
	g := newFake()
	g.putString("disc/db/shards", `[9007199254740999]`)
	vals, err := NewWithClient(g, nil, Prefix("disc/", nil)).Load(t.Context(), mustSchema[numbersConfig](t))
	if err != nil {
		t.Fatal(err)
	}
	if arr, ok := vals["db.shards"].Raw.([]any); !ok || arr[0] != json.Number("9007199254740999") {
		t.Errorf("db.shards raw = %#v", vals["db.shards"].Raw)
	}
}

func mustSchema[T any](t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[T]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A JSON secret whose object repeats a key is malformed: which value is meant
// is not clear. The message gives an offset, never the key or a value.
func TestJSONRepeatedKeyIsMalformed(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"password":"` + canary + `","password":"x"}`,
		`{"replica":{"host":"a","host":"` + canary + `"}}`,
		`{"host":"a"} {"host":"` + canary + `"}`,
	} {
		f := newFake()
		f.putString("app/db", doc)
		_, err := NewWithClient(f, nil, JSON("app/db", "database", nil)).Load(t.Context(), testSchema(t))
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "byte offset") {
			t.Errorf("%s: err = %v, want ErrMalformed with an offset", doc, err)
		}
		noCanary(t, fmt.Sprint(err), fmt.Sprintf("%+v %#v", err, err))
		if strings.Contains(fmt.Sprint(err), "password") {
			t.Errorf("the key is named: %v", err)
		}
	}
}
