package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
)

// brokenAPI passes calls on to a fake until broken is set; then the
// operation named by op panics (with the canary as its value) or answers
// (nil, nil), as a faulty client or wrapper might.
type brokenAPI struct {
	*fakeAPI
	broken atomic.Bool
	op     string
	panics bool // else answers (nil, nil)
}

func (b *brokenAPI) breaks(op string) bool {
	if !b.broken.Load() || b.op != op {
		return false
	}
	if b.panics {
		panic(fmt.Errorf("client bug holding %s", canary))
	}
	return true
}

func (b *brokenAPI) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, o ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	if b.breaks(OpGetSecretValue) {
		return nil, nil
	}
	return b.fakeAPI.GetSecretValue(ctx, in, o...)
}

func (b *brokenAPI) BatchGetSecretValue(ctx context.Context, in *sm.BatchGetSecretValueInput, o ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	if b.breaks(OpBatchGetSecretValue) {
		return nil, nil
	}
	return b.fakeAPI.BatchGetSecretValue(ctx, in, o...)
}

func (b *brokenAPI) DescribeSecret(ctx context.Context, in *sm.DescribeSecretInput, o ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	if b.breaks(OpDescribeSecret) {
		return nil, nil
	}
	return b.fakeAPI.DescribeSecret(ctx, in, o...)
}

func (b *brokenAPI) ListSecrets(ctx context.Context, in *sm.ListSecretsInput, o ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	if b.breaks(OpListSecrets) {
		return nil, nil
	}
	return b.fakeAPI.ListSecrets(ctx, in, o...)
}

// brokenRead reads, through a brokenAPI broken at op, specs that use op: a
// first read for the reading operations, and a refresh after a good first
// read for DescribeSecret. It returns the error of the broken read.
func brokenRead(t *testing.T, op string, panics bool) error {
	t.Helper()
	f := newFake()
	f.putString("app/db", `{"host":"h"}`)
	f.putString("app/stripe", "sk")
	f.putString("app/all/database/user", "u")
	b := &brokenAPI{fakeAPI: f, op: op, panics: panics}
	specs := []Spec{JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil)}
	switch op {
	case OpGetSecretValue:
		specs = specs[1:]
	case OpListSecrets:
		specs = append(specs, Prefix("app/all/", nil))
	}
	l := NewWithClient(b, nil, specs...)
	schema := testSchema(t)
	if op != OpDescribeSecret {
		b.broken.Store(true)
		_, err := l.Load(t.Context(), schema)
		return err
	}
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema})
	if err != nil {
		t.Fatalf("first read: %v", err)
	}
	b.broken.Store(true)
	_, err = l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: u.State})
	return err
}

var readingOps = []string{OpGetSecretValue, OpBatchGetSecretValue, OpDescribeSecret, OpListSecrets}

// TestClientPanics checks that a client that panics in any operation, in one
// of the layer's goroutines, is an ErrLayer error of the read, not a crash, and
// that the panic's value is not shown.
func TestClientPanics(t *testing.T) {
	t.Parallel()
	for _, op := range readingOps {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			err := brokenRead(t, op, true)
			if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "panicked in "+op) {
				t.Fatalf("err = %v, want ErrLayer naming the panic in %s", err, op)
			}
			var se *config.SourceError
			if !errors.As(err, &se) {
				t.Errorf("err = %v, want a *config.SourceError", err)
			}
			assertCleanChain(t, err)
		})
	}
}

// TestNilAnswers checks that a client answering (nil, nil) is a malformed
// answer of the secret (or prefix) concerned, not a crash.
func TestNilAnswers(t *testing.T) {
	t.Parallel()
	for _, op := range readingOps {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			err := brokenRead(t, op, false)
			if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), op+" returned no answer and no error") {
				t.Fatalf("err = %v, want ErrMalformed naming %s", err, op)
			}
		})
	}
}

// TestNilClient checks that a Reader made without a client (nil, or a typed
// nil) builds, and reports it at its first read as ErrLayer.
func TestNilClient(t *testing.T) {
	t.Parallel()
	clients := map[string]API{"nil": nil, "typed nil *sm.Client": (*sm.Client)(nil), "typed nil fake": (*fakeAPI)(nil)}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := NewWithClient(c, nil, JSON("app/db", "database", nil))
			_, err := l.Load(t.Context(), testSchema(t))
			if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "secretsmanager: no API client") {
				t.Errorf("Load: err = %v, want ErrLayer saying there is no API client", err)
			}
			_, err = config.Load[testConfig](t.Context(), &config.Options{Logger: discard()}, l)
			if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "no API client") {
				t.Errorf("config.Load: err = %v, want ErrLayer saying there is no API client", err)
			}
		})
	}
}

// cachingAPI answers GetSecretValue from a cache, whatever its ctx, as a
// caching wrapper may.
type cachingAPI struct {
	*fakeAPI
	calls atomic.Int32
}

func (c *cachingAPI) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, o ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	c.calls.Add(1)
	return &sm.GetSecretValueOutput{Name: in.SecretId, VersionId: aws.String("v1"), SecretString: aws.String(`{"host":"cached"}`)}, nil
}

func (c *cachingAPI) BatchGetSecretValue(ctx context.Context, in *sm.BatchGetSecretValueInput, o ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	c.calls.Add(1)
	return &sm.BatchGetSecretValueOutput{}, nil
}

// TestDoneContextSendsNothing checks that a read on a done ctx makes no API
// call even when the client would answer, and says so through the normal
// error mapping: an interruption, or the caller's deadline.
func TestDoneContextSendsNothing(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithTimeout(t.Context(), -1)
	defer cancel2()
	for name, tc := range map[string]struct {
		ctx  context.Context
		want error
		msg  string
	}{
		"canceled": {canceled, context.Canceled, "interrupted"},
		"expired":  {expired, context.DeadlineExceeded, "deadline had passed before the call was sent"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &cachingAPI{fakeAPI: newFake()}
			l := NewWithClient(c, nil, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil))
			vals, err := l.Load(tc.ctx, testSchema(t))
			if n := c.calls.Load(); n != 0 || len(vals) != 0 {
				t.Errorf("%d calls made, values %v, on a done ctx", n, keysOf(vals))
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v (%q)", err, tc.want, tc.msg)
			}
			for op, cc := range l.Calls() {
				if cc != (config.CallCount{}) {
					t.Errorf("%s counted %+v, though nothing was sent", op, cc)
				}
			}
		})
	}
}

// TestDebugLogClean checks that the debug line of a failed call gives the
// clean cause, never the SDK's message.
func TestDebugLogClean(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.getErr["app/stripe"] = &smithy.GenericAPIError{Code: "ValidationException", Message: "bad value " + canary}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := NewWithClient(f, &Options{Logger: logger}, String("app/stripe", "payments.stripe_key", nil))
	if _, err := l.Load(t.Context(), testSchema(t)); err == nil {
		t.Fatal("want an error")
	}
	out := logs.String()
	if !strings.Contains(out, "GetSecretValue: ValidationException") {
		t.Errorf("log lacks the clean cause: %s", out)
	}
	noCanary(t, out)
}
