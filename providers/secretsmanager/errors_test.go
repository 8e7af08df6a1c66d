package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

func assertCleanChain(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, e := range configtest.ErrorTree(err) {
		for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			if strings.Contains(text, canary) {
				t.Errorf("%T in the chain of %q holds the canary: %s", e, err, text)
			}
		}
	}
}

// TestErrorChainsCarryNoInput feeds errors that quote their input (an SDK
// error whose message and deserialization cause hold the secret, a value that
// is not JSON) and walks the whole Unwrap chain of what Load returns.
func TestErrorChainsCarryNoInput(t *testing.T) {
	t.Parallel()
	quoting := &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: "GetSecretValue",
		Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 200}},
			Err: &smithy.DeserializationError{Err: fmt.Errorf("invalid character near %q", canary)}}}
	tests := map[string]func(f *fakeAPI){
		"sdk error quoting the response": func(f *fakeAPI) { f.getErr["app/db"] = quoting },
		"api error quoting the request": func(f *fakeAPI) {
			f.getErr["app/db"] = &smithy.GenericAPIError{Code: "ValidationException", Message: "bad value " + canary}
		},
		"not json":   func(f *fakeAPI) { f.putString("app/db", `{"password": `+canary) },
		"not object": func(f *fakeAPI) { f.putString("app/db", `"`+canary+`"`) },
		"wrong type": func(f *fakeAPI) { f.putString("app/db", `{"port": "`+canary+`"}`) },
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			setup(f)
			l := NewWithClient(f, nil, JSON("app/db", "database", nil))
			_, err := l.Load(t.Context(), testSchema(t))
			if name == "wrong type" {
				// The layer passes the raw value on; the store's decode error
				// must not quote it either.
				_, err = config.Load[testConfig](t.Context(), &config.Options{Logger: discard()}, l)
			}
			assertCleanChain(t, err)
		})
	}
}

// TestSourceErrorKeys checks that a failed source says which keys it would
// have set, and that the store then reports it once instead of each field.
func TestSourceErrorKeys(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.getErr["app/db"] = apiErr("AccessDeniedException")
	f.getErr["app/stripe"] = apiErr("AccessDeniedException")
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil))
	_, err := l.Load(t.Context(), testSchema(t))
	got := map[string][]string{}
	for _, e := range configtest.ErrorTree(err) {
		var se *config.SourceError
		if errors.As(e, &se) {
			got[se.Source] = se.Keys
		}
	}
	if fmt.Sprint(got["app/db"]) != "[database]" || fmt.Sprint(got["app/stripe"]) != "[payments.stripe_key]" {
		t.Fatalf("keys of the failed sources = %v", got)
	}

	type required struct {
		Database struct {
			Host     string        `validate:"required"`
			Password config.Secret `validate:"required"`
		}
		Payments struct {
			StripeKey config.Secret `validate:"required"`
		}
	}
	_, err = config.Load[required](t.Context(), &config.Options{Logger: discard()}, l)
	var agg *config.AggregateError
	if !errors.As(err, &agg) || len(agg.Errs) != 2 {
		t.Fatalf("err = %v, want two problems, one a source", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "is required") || !strings.Contains(msg, "so database.host, database.password are unset") ||
		!strings.Contains(msg, "so payments.stripe_key is unset") {
		t.Errorf("err = %v, want each failed source once, naming the fields it left unset", err)
	}
	if !errors.Is(err, config.ErrAccessDenied) {
		t.Errorf("err = %v, want ErrAccessDenied", err)
	}
}

// TestCanceledOnce checks that a load cut short by its context says once
// which layer was interrupted, not "context canceled" per source.
func TestCanceledOnce(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"host": "db"}`)
	f.putString("app/stripe", "sk")
	// As the SDK does, every call fails with the context's error once it ends.
	f.hook = func(ctx context.Context, op string) error {
		if err := ctx.Err(); err != nil {
			return &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: op, Err: err}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil))
	type required struct {
		Database struct {
			Host string `validate:"required"`
		}
		Payments struct {
			StripeKey config.Secret `validate:"required"`
		}
	}
	_, err := config.Load[required](ctx, &config.Options{Logger: discard()}, l)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Count(msg, "context canceled") != 1 || !strings.Contains(msg, "secretsmanager: interrupted (the context given to Load): context canceled") ||
		strings.Contains(msg, "is required") {
		t.Errorf("err = %v, want one interruption of the secretsmanager layer", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestSlowSecretsOneProblem checks that secrets that all time out are one
// problem naming them, not one per secret plus one per field left unset.
func TestSlowSecretsOneProblem(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.hook = func(ctx context.Context, op string) error {
		return &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: op, Err: context.DeadlineExceeded}
	}
	type required struct {
		A struct {
			Key config.Secret `validate:"required"`
		}
		B struct {
			Key config.Secret `validate:"required"`
		}
		C struct {
			Key config.Secret `validate:"required"`
		}
	}
	l := NewWithClient(f, nil, String("app/a", "a.key", nil), String("app/b", "b.key", nil), String("app/c", "c.key", nil))
	_, err := config.Load[required](t.Context(), &config.Options{Logger: discard()}, l)
	var agg *config.AggregateError
	if !errors.As(err, &agg) || len(agg.Errs) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "secretsmanager app/a, app/b, app/c: transient failure") ||
		!strings.Contains(msg, "so a.key, b.key, c.key are unset") || !config.IsTransient(err) {
		t.Errorf("err = %v, want the three secrets named in one transient problem", err)
	}
}
