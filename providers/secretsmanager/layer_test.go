package secretsmanager

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aws/smithy-go"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	kjson "github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"

	"github.com/strata-go/strata/config"
)

// canary is a secret value that must never appear in any error or log.
const canary = "CANARY-7f3a9c-do-not-print"

type testConfig struct {
	Database struct {
		Host     string
		Port     int
		User     string
		Password config.Secret
		Replica  struct {
			Host string
		}
		Labels map[string]string
	}
	DatabasePrevious struct {
		Password config.Secret
	}
	Payments struct {
		StripeKey config.Secret
	}
	TLS struct {
		Key  []byte
		Cert []byte
	}
	Hosts []string
}

func testSchema(t testing.TB) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[testConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const dbJSON = `{"host":"db.internal","port":5432,"password":"` + canary + `","replica":{"host":"replica.internal"}}`

func rawOf(t *testing.T, vals config.Values, key string) any {
	t.Helper()
	v, ok := vals[key]
	if !ok {
		t.Fatalf("no value for %s; have %v", key, keysOf(vals))
	}
	return v.Raw
}

func keysOf(vals config.Values) []string {
	var ks []string
	for k := range vals {
		ks = append(ks, k)
	}
	return ks
}

// noCanary fails when the canary appears in any text.
func noCanary(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, canary) || strings.Contains(s, canary[:10]) {
			t.Fatalf("secret value leaked: %s", s)
		}
	}
}

func TestLoadJSONNestedAndProvenance(t *testing.T) {
	t.Parallel()
	f := newFake()
	vid := f.putString("my-app/production/database", dbJSON)
	l := NewWithClient(f, nil, JSON("my-app/production/database", "database", nil))
	vals, err := l.testLoad(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := rawOf(t, vals, "database.host"); got != "db.internal" {
		t.Errorf("host = %v", got)
	}
	if got := rawOf(t, vals, "database.port"); got != json.Number("5432") {
		t.Errorf("port = %v", got)
	}
	if got := rawOf(t, vals, "database.replica.host"); got != "replica.internal" {
		t.Errorf("replica.host = %v", got)
	}
	src := vals["database.replica.host"].Source
	want := config.Source{Layer: "secretsmanager", Location: "my-app/production/database#replica.host", Version: vid, Stage: "AWSCURRENT"}
	if src != want {
		t.Errorf("source = %+v, want %+v", src, want)
	}
	if got := l.testVersions(); got["my-app/production/database"] != vid {
		t.Errorf("Versions = %v", got)
	}
	if n := f.count(OpGetSecretValue); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", n)
	}
	if l.Name() != "secretsmanager" || !l.Sensitive() {
		t.Error("Name/Sensitive")
	}
}

func TestLoadStringBinaryAndMapField(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/stripe", "sk_live_"+canary)
	f.putBinary("app/tls-key", []byte{0x30, 0x82, 0x01, 0xff, 0x00})
	f.putBinary("app/tls-json", []byte(`{"cert":"PEM"}`))
	f.putString("app/labels", `{"team":"core","tier":"1"}`)
	l := NewWithClient(f, nil,
		String("app/stripe", "payments.stripe_key", nil),
		Binary("app/tls-key", "tls.key", nil),
		Binary("app/tls-json", "tls", nil),
		JSON("app/labels", "database.labels", nil))
	vals, err := l.testLoad(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := rawOf(t, vals, "payments.stripe_key"); got != "sk_live_"+canary {
		t.Errorf("stripe_key wrong")
	}
	if got, ok := rawOf(t, vals, "tls.key").([]byte); !ok || !bytes.Equal(got, []byte{0x30, 0x82, 0x01, 0xff, 0x00}) {
		t.Errorf("tls.key = %T", rawOf(t, vals, "tls.key"))
	}
	if got := rawOf(t, vals, "tls.cert"); got != "PEM" {
		t.Errorf("tls.cert = %v", got)
	}
	if loc := vals["tls.key"].Source.Location; loc != "app/tls-key" {
		t.Errorf("binary location = %q", loc)
	}
	labels, ok := rawOf(t, vals, "database.labels").(map[string]any)
	if !ok || labels["team"] != "core" {
		t.Errorf("labels = %v", labels)
	}
	// Four secrets read AWSCURRENT: one batch call.
	if n := f.count(OpBatchGetSecretValue); n != 1 {
		t.Errorf("BatchGetSecretValue calls = %d, want 1", n)
	}
}

func TestBatching(t *testing.T) {
	t.Parallel()
	f := newFake()
	var sources []Spec
	for i := range 45 {
		name := fmt.Sprintf("app/s%02d", i)
		f.putString(name, fmt.Sprintf(`{"port":%d}`, i))
		sources = append(sources, JSON(name, "database", nil))
	}
	// Each batch call waits until three are in flight, so the test passes
	// only if the batches run in parallel.
	var calls peakMeter
	all := make(chan struct{})
	var once sync.Once
	f.hook = func(ctx context.Context, op string) error {
		if op != OpBatchGetSecretValue {
			return nil
		}
		n, leave := calls.enter()
		defer leave()
		if n == 3 {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(2 * time.Second):
		}
		return nil
	}
	l := NewWithClient(f, nil, sources...)
	vals, err := l.testLoad(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count(OpBatchGetSecretValue); got != 3 {
		t.Fatalf("BatchGetSecretValue calls = %d, want 3", got)
	}
	if f.count(OpGetSecretValue) != 0 {
		t.Errorf("unexpected GetSecretValue calls: %d", f.count(OpGetSecretValue))
	}
	if p := calls.peak.Load(); p != 3 {
		t.Errorf("peak parallel batch calls = %d, want 3", p)
	}
	var sizes []int
	for _, b := range f.batches {
		sizes = append(sizes, len(b))
	}
	if fmt.Sprint(sortedInts(sizes)) != "[5 20 20]" {
		t.Errorf("batch sizes = %v", sizes)
	}
	// The last source wins.
	if got := rawOf(t, vals, "database.port"); got != json.Number("44") {
		t.Errorf("port = %v, want 44", got)
	}
	if c := l.Calls()[OpBatchGetSecretValue]; c.OK != 3 || c.Error != 0 {
		t.Errorf("Calls = %+v", c)
	}
	if len(l.testVersions()) != 45 {
		t.Errorf("Versions has %d entries", len(l.testVersions()))
	}
}

func sortedInts(s []int) []int {
	out := append([]int(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestBatchFallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      string
		permanent bool
	}{
		{"InvalidAction", true},
		{"UnknownOperation", true},
		{"AccessDeniedException", true},
		{"ThrottlingException", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.batchErr = apiErr(tc.code)
			var sources []Spec
			for i := range 25 {
				name := fmt.Sprintf("app/s%02d", i)
				f.putString(name, fmt.Sprintf(`{"port":%d}`, i))
				sources = append(sources, JSON(name, "database", nil))
			}
			l := NewWithClient(f, nil, sources...)
			if _, err := l.testLoad(t.Context(), testSchema(t)); err != nil {
				t.Fatal(err)
			}
			// 20 + 5: one refused batch, then 20 GetSecretValue; the
			// batch of 5 is refused too unless the first refusal was
			// remembered before it started.
			if got := f.count(OpGetSecretValue); got != 25 {
				t.Errorf("GetSecretValue calls = %d, want 25", got)
			}
			if len(l.testVersions()) != 25 {
				t.Errorf("Versions has %d entries", len(l.testVersions()))
			}
			before := f.count(OpBatchGetSecretValue)
			if _, err := l.testLoad(t.Context(), testSchema(t)); err != nil {
				t.Fatal(err)
			}
			again := f.count(OpBatchGetSecretValue) - before
			if tc.permanent && again != 0 {
				t.Errorf("batch tried again after a permanent refusal: %d calls", again)
			}
			if !tc.permanent && again == 0 {
				t.Error("batch not tried again after throttling")
			}
		})
	}
}

func TestPinnedAndDedup(t *testing.T) {
	t.Parallel()
	f := newFake()
	v1 := f.putString("app/db", `{"password":"old-password-1"}`)
	v2 := f.putString("app/db", `{"password":"new-password-2","host":"h"}`)
	f.putString("app/other", `{"user":"u"}`)
	l := NewWithClient(f, nil,
		JSON("app/db", "database", nil),
		String("app/db", "payments.stripe_key", nil), // same secret, second source
		JSON("app/db", "database_previous", &SpecOptions{Stage: StagePrevious}),
		JSON("app/db", "database_previous", &SpecOptions{VersionID: v1}),
		JSON("app/other", "database", nil),
		JSON(fakeARN("app/other"), "database", nil), // same secret by ARN: its own ref
	)
	vals, err := l.testLoad(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	// Unpinned: app/db, app/other, ARN of app/other -> one batch of 3.
	// Pinned: AWSPREVIOUS and v1 -> two GetSecretValue.
	if got := f.count(OpBatchGetSecretValue); got != 1 {
		t.Errorf("BatchGetSecretValue calls = %d, want 1", got)
	}
	if got := f.count(OpGetSecretValue); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2", got)
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 3 {
		t.Errorf("batches = %v", f.batches)
	}
	prev := vals["database_previous.password"]
	if prev.Raw != "old-password-1" || prev.Source.Version != v1 {
		t.Errorf("previous = %+v", prev)
	}
	if cur := vals["database.password"]; cur.Raw != "new-password-2" || cur.Source.Version != v2 || cur.Source.Stage != StageCurrent {
		t.Errorf("current = %+v", cur)
	}
	vs := l.testVersions()
	if vs["app/db"] != v2 || vs["app/db@AWSPREVIOUS"] != v1 || vs["app/db@"+v1] != v1 {
		t.Errorf("Versions = %v", vs)
	}
}

func TestPartialARNInBatch(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/a", `{"host":"a"}`)
	f.putString("app/b", `{"user":"b"}`)
	full := fakeARN("app/a")
	partial := strings.TrimSuffix(fakeARN("app/b"), "-AbCdEf")
	l := NewWithClient(f, nil, JSON(full, "database", nil), JSON(partial, "database", nil))
	vals, err := l.testLoad(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if rawOf(t, vals, "database.host") != "a" || rawOf(t, vals, "database.user") != "b" {
		t.Errorf("values = %v", vals)
	}
	if f.count(OpBatchGetSecretValue) != 1 || f.count(OpGetSecretValue) != 0 {
		t.Errorf("calls = %v", f.calls)
	}
	if loc := vals["database.user"].Source.Location; loc != partial+"#user" {
		t.Errorf("location = %q", loc)
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error // nil: the secret does not exist
		code   error
		wants  []string
		noWant string
	}{
		{"not found", nil, config.ErrNotFound, []string{`"app/x"`, "region us-east-1"}, ""},
		{"access denied", apiErr("AccessDeniedException"), config.ErrAccessDenied, []string{"secretsmanager:GetSecretValue", "app/x", "arn:aws:secretsmanager:us-east-1:"}, ""},
		{"decryption", &types.DecryptionFailure{Message: aws.String("can't decrypt")}, config.ErrDecryption, []string{"kms:Decrypt"}, ""},
		{"deleted", &types.InvalidRequestException{Message: aws.String("You can't perform this operation on the secret because it was marked for deletion.")}, config.ErrDeleted, []string{"scheduled for deletion"}, ""},
		{"throttled", apiErr("ThrottlingException"), config.ErrThrottled, []string{"throttled"}, ""},
		{"internal", &types.InternalServiceError{Message: aws.String("boom")}, config.ErrTransient, []string{"internal error"}, ""},
		{"5xx", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: httpResponse(503)}, Err: errors.New("unavailable")}, config.ErrTransient, []string{"HTTP 503"}, ""},
		{"reset", &smithyhttp.RequestSendError{Err: syscall.ECONNRESET}, config.ErrTransient, []string{"connection failed"}, ""},
		{"timeout", fmt.Errorf("operation error: %w", context.DeadlineExceeded), config.ErrTransient, []string{"no answer within"}, ""},
		{"other invalid request", &types.InvalidRequestException{Message: aws.String("something else")}, nil, []string{"InvalidRequestException"}, "deletion"},
	}
	for _, path := range []string{"get", "batch"} {
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFake()
				f.putString("app/ok", `{"host":"ok"}`)
				if tc.err != nil {
					f.putString("app/x", `{"password":"`+canary+`"}`)
					f.getErr["app/x"] = tc.err
				}
				sources := []Spec{JSON("app/x", "database", nil)}
				if path == "batch" {
					sources = append(sources, JSON("app/ok", "database", nil))
				}
				l := NewWithClient(f, nil, sources...)
				l.region, l.where = "us-east-1", "region us-east-1"
				vals, err := l.testLoad(t.Context(), testSchema(t))
				if err == nil {
					t.Fatal("no error")
				}
				var se *config.SourceError
				if !errors.As(err, &se) {
					t.Fatalf("not a SourceError: %T %v", err, err)
				}
				if se.Layer != "secretsmanager" || se.Source != "app/x" {
					t.Errorf("SourceError = %+v", se)
				}
				if tc.code != nil && !errors.Is(err, tc.code) {
					t.Errorf("errors.Is(%v) false: %v", tc.code, err)
				}
				if tc.code == nil && se.Code != nil {
					t.Errorf("code = %v, want none", se.Code)
				}
				msg := err.Error()
				for _, w := range tc.wants {
					// In a batch, the per-secret error carries only a code.
					if path == "batch" && (w == "HTTP 503" || w == "connection failed" || w == "no answer within") {
						continue
					}
					if !strings.Contains(msg, w) {
						t.Errorf("message lacks %q: %s", w, msg)
					}
				}
				if tc.noWant != "" && strings.Contains(msg, tc.noWant) {
					t.Errorf("message has %q: %s", tc.noWant, msg)
				}
				noCanary(t, msg, fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", se))
				if path == "batch" {
					if rawOf(t, vals, "database.host") != "ok" {
						t.Error("the good secret was not returned beside the error")
					}
					if f.count(OpBatchGetSecretValue) != 1 || f.count(OpGetSecretValue) != 0 {
						t.Errorf("calls = %v", f.calls)
					}
				}
			})
		}
	}
}

func TestErrorsAllAtOnce(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/bad-json", `{"password": "`+canary+`", oops}`)
	f.putString("app/denied", "x")
	f.getErr["app/denied"] = apiErr("AccessDeniedException")
	l := NewWithClient(f, nil,
		JSON("app/missing", "database", nil),
		JSON("app/bad-json", "database", nil),
		String("app/denied", "payments.stripe_key", nil))
	_, err := l.testLoad(t.Context(), testSchema(t))
	for _, code := range []error{config.ErrNotFound, config.ErrMalformed, config.ErrAccessDenied} {
		if !errors.Is(err, code) {
			t.Errorf("missing %v in %v", code, err)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Errorf("%d errors, want 3: %v", n, err)
	}
}

func httpResponse(status int) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}}
}

func TestMalformedValues(t *testing.T) {
	t.Parallel()
	bad := `{"user":"u","password":"` + canary + `",}`
	wantOffset := strings.Index(bad, ",}") + 2 // encoding/json reports the offset after the bad byte
	big := `{"password":"` + strings.Repeat("x", maxValueSize) + `"}`
	cases := []struct {
		name   string
		source func(id string) Spec
		value  string
		binary bool
		wants  []string
	}{
		{"invalid JSON", func(id string) Spec { return JSON(id, "database", nil) }, bad, false, []string{fmt.Sprintf("byte offset %d", wantOffset)}},
		{"truncated JSON", func(id string) Spec { return JSON(id, "database", nil) }, `{"password":"` + canary, false, []string{"byte offset"}},
		{"not an object", func(id string) Spec { return JSON(id, "database", nil) }, `["` + canary + `"]`, false, []string{"JSON array, expected a JSON object"}},
		{"binary not JSON on a section", func(id string) Spec { return Binary(id, "database", nil) }, canary + "\x00\x01", true, []string{"not valid JSON"}},
		{"over 64 KiB", func(id string) Spec { return JSON(id, "database", nil) }, big, false, []string{"over the Secrets Manager limit of 65536 bytes"}},
		{"over 64 KiB string", func(id string) Spec { return String(id, "payments.stripe_key", nil) }, strings.Repeat("y", maxValueSize+1), false, []string{"65537 bytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			if tc.binary {
				f.putBinary("app/x", []byte(tc.value))
			} else {
				f.putString("app/x", tc.value)
			}
			var logs bytes.Buffer
			l := NewWithClient(f, &Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, tc.source("app/x"))
			_, err := l.testLoad(t.Context(), testSchema(t))
			if !errors.Is(err, config.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var se *config.SourceError
			if !errors.As(err, &se) || se.Source != "app/x" {
				t.Fatalf("SourceError = %+v", se)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %s", w, err)
				}
			}
			noCanary(t, err.Error(), fmt.Sprintf("%+v", err), logs.String())
			if strings.Contains(err.Error(), "xxxxxxxx") || strings.Contains(err.Error(), "yyyyyyyy") {
				t.Error("value content in error")
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"host":"h","pasword":"`+canary+`"}`)
	t.Run("warning", func(t *testing.T) {
		l := NewWithClient(f, nil, JSON("app/db", "database", nil))
		vals, err := l.testLoad(t.Context(), testSchema(t))
		var u *config.UnknownNameError
		if !errors.As(err, &u) {
			t.Fatalf("err = %v, want an UnknownNameError", err)
		}
		// The key is part of the secret: it is shown nowhere, the secret's
		// name is.
		if u.Name != "" || u.Suggestion != "database.password" || u.Source.Location != "app/db" {
			t.Errorf("unknown = %+v", u)
		}
		// The keys the schema knows under the mount tell which key is wrong.
		if want := "(the keys under database are host, labels, password, port, replica.*, user)"; !strings.Contains(err.Error(), want) {
			t.Errorf("message = %s, want it to list %s", err, want)
		}
		if rawOf(t, vals, "database.host") != "h" {
			t.Error("known key not returned")
		}
		noCanary(t, err.Error())
		var logs strings.Builder
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		store, serr := config.Load[testConfig](t.Context(), &config.Options{Logger: logger}, NewWithClient(f, &Options{Logger: logger}, JSON("app/db", "database", nil)))
		if serr != nil {
			t.Fatalf("Load: %v", serr)
		}
		if !strings.Contains(logs.String(), "app/db") {
			t.Errorf("the warning does not name the secret: %s", logs.String())
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", u), logs.String(), fmt.Sprint(store.Status())} {
			if strings.Contains(text, "pasword") {
				t.Errorf("the unknown key of the secret is shown: %s", text)
			}
		}
	})
	t.Run("strict", func(t *testing.T) {
		l := NewWithClient(f, &Options{StrictKeys: true}, JSON("app/db", "database", nil))
		_, err := l.testLoad(t.Context(), testSchema(t))
		var u *config.UnknownNameError
		if !errors.Is(err, config.ErrMalformed) || errors.Is(err, config.ErrUnknownName) || errors.As(err, &u) {
			t.Fatalf("err = %v, want a SourceError matching ErrMalformed only", err)
		}
		if !strings.Contains(err.Error(), "did you mean database.password") || strings.Contains(err.Error(), "pasword") ||
			!strings.Contains(err.Error(), "(the keys under database are host, labels, password, port, replica.*, user)") ||
			!strings.Contains(err.Error(), "app/db") {
			t.Errorf("message = %s, want the secret named and its key not shown", err)
		}
	})
	t.Run("json to no section", func(t *testing.T) {
		// The mount is the program's own key: it is named, with the
		// section it was meant to be, and not hidden as a secret's keys are.
		l := NewWithClient(f, nil, JSON("app/db", "databse", nil))
		_, err := l.testLoad(t.Context(), testSchema(t))
		var u *config.UnknownNameError
		if !errors.As(err, &u) || u.Name != "databse" || u.Suggestion != "database" || u.Source.Location != "app/db" {
			t.Fatalf("err = %v, want one unknown name databse suggesting database", err)
		}
		if n := strings.Count(err.Error(), "maps to no field"); n != 0 {
			t.Errorf("the keys of the secret are reported too (%d): %v", n, err)
		}
		noCanary(t, err.Error(), fmt.Sprintf("%+v", err))
	})
	t.Run("string to no field", func(t *testing.T) {
		l := NewWithClient(f, nil, String("app/db", "payments.stripe_ky", nil))
		_, err := l.testLoad(t.Context(), testSchema(t))
		var u *config.UnknownNameError
		if !errors.As(err, &u) || u.Suggestion != "payments.stripe_key" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.pageSize = 2
	f.putString("my-app/production/database", `{"host":"h","port":1}`)
	f.putString("my-app/production/database/password", canary)
	f.putString("my-app/production/payments/stripe_key", "sk")
	f.putString("my-app/production/hosts", `["a","b"]`)
	f.putString("my-app/production/nothing/here", "x")
	f.putString("my-app/production-old/database", `{"host":"old"}`)
	f.putString("other/database", `{"host":"other"}`)
	l := NewWithClient(f, nil, Prefix("my-app/production/", nil), JSON("my-app/production/database", "database", nil))
	vals, err := l.testLoad(t.Context(), testSchema(t))
	var u *config.UnknownNameError
	if !errors.As(err, &u) || u.Name != "" || u.Source.Location != "my-app/production/nothing/here" {
		t.Fatalf("err = %v, want an unknown key naming the secret only", err)
	}
	if rawOf(t, vals, "database.host") != "h" || rawOf(t, vals, "database.password") != canary || rawOf(t, vals, "payments.stripe_key") != "sk" {
		t.Errorf("values = %v", keysOf(vals))
	}
	if hosts, ok := rawOf(t, vals, "hosts").([]any); !ok || len(hosts) != 2 {
		t.Errorf("hosts = %v", rawOf(t, vals, "hosts"))
	}
	if loc := vals["database.password"].Source.Location; loc != "my-app/production/database/password" {
		t.Errorf("location = %q", loc)
	}
	// 7 secrets, pages of 2: 4 ListSecrets calls. 4 secrets fetched (the
	// explicit JSON source shares its ref with the discovered one): one batch.
	if got := f.count(OpListSecrets); got != 4 {
		t.Errorf("ListSecrets calls = %d, want 4", got)
	}
	if f.count(OpBatchGetSecretValue) != 1 || f.count(OpGetSecretValue) != 0 || len(f.batches[0]) != 4 {
		t.Errorf("calls = %v, batches = %v", f.calls, f.batches)
	}

	// Refresh: no change costs the listing only (versions come with it).
	before := map[string]int{}
	for k, v := range f.calls {
		before[k] = v
	}
	_, changed, err := l.testRefresh(t.Context(), testSchema(t))
	if err != nil || changed {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if f.count(OpDescribeSecret) != 0 || f.count(OpGetSecretValue) != 0 || f.count(OpBatchGetSecretValue) != before[OpBatchGetSecretValue] {
		t.Errorf("calls after no-change refresh = %v", f.calls)
	}

	// A new secret under the prefix is a change.
	f.putString("my-app/production/database/user", "app")
	vals, changed, err = l.testRefresh(t.Context(), testSchema(t))
	if !onlyWarnings(err) || !changed {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if rawOf(t, vals, "database.user") != "app" || rawOf(t, vals, "database.host") != "h" {
		t.Errorf("values = %v", keysOf(vals))
	}
	if f.count(OpGetSecretValue) != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", f.count(OpGetSecretValue))
	}
	// A removed one is a change too.
	f.remove("my-app/production/database/user")
	vals, changed, err = l.testRefresh(t.Context(), testSchema(t))
	if !onlyWarnings(err) || !changed {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if _, ok := vals["database.user"]; ok {
		t.Error("removed secret still has a value")
	}
}

// onlyWarnings reports whether err is nil or holds only unknown-name
// warnings.
func onlyWarnings(err error) bool {
	if err == nil {
		return true
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var u *config.UnknownNameError
		if !errors.As(e, &u) {
			return false
		}
	}
	return true
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"host":"h","password":"one-one-one-1"}`)
	f.putString("app/stripe", "sk1")
	pinned := f.putString("app/pinned", `{"user":"u"}`)
	l := NewWithClient(f, nil,
		JSON("app/db", "database", nil),
		String("app/stripe", "payments.stripe_key", nil),
		JSON("app/db", "database_previous", &SpecOptions{Stage: StagePrevious}),
		JSON("app/pinned", "database", &SpecOptions{VersionID: pinned}))
	schema := testSchema(t)
	// app/db has one version, so AWSPREVIOUS does not exist yet.
	if _, err := l.testLoad(t.Context(), schema); !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), "labelled AWSPREVIOUS") {
		t.Fatalf("Load: %v", err)
	}
	f.putString("app/db", `{"host":"h","password":"two-two-two-2"}`)

	base := l.Calls()
	_, changed, err := l.testRefresh(t.Context(), schema)
	if !onlyWarnings(err) || !changed {
		t.Fatalf("first refresh after a missing version: %v %v", changed, err)
	}

	t.Run("no change", func(t *testing.T) {
		start := l.Calls()
		vals, changed, err := l.testRefresh(t.Context(), schema)
		if err != nil || changed || vals != nil {
			t.Fatalf("Refresh = %v, %v, %v", vals, changed, err)
		}
		d := diff(start, l.Calls())
		// One DescribeSecret per secret id read by id, none for the pinned one.
		if d[OpDescribeSecret] != 2 || d[OpGetSecretValue] != 0 || d[OpBatchGetSecretValue] != 0 || d[OpListSecrets] != 0 {
			t.Errorf("calls = %v, want 2 DescribeSecret only", d)
		}
	})
	t.Run("changed", func(t *testing.T) {
		v3 := f.putString("app/stripe", "sk2")
		start := l.Calls()
		vals, changed, err := l.testRefresh(t.Context(), schema)
		if !onlyWarnings(err) || !changed {
			t.Fatalf("Refresh = %v, %v", changed, err)
		}
		d := diff(start, l.Calls())
		if d[OpDescribeSecret] != 2 || d[OpGetSecretValue] != 1 || d[OpBatchGetSecretValue] != 0 {
			t.Errorf("calls = %v, want 2 DescribeSecret and 1 GetSecretValue", d)
		}
		// The full value set, not only the changed secret.
		if rawOf(t, vals, "payments.stripe_key") != "sk2" || rawOf(t, vals, "database.host") != "h" ||
			rawOf(t, vals, "database_previous.password") != "one-one-one-1" || rawOf(t, vals, "database.user") != "u" {
			t.Errorf("values = %v", keysOf(vals))
		}
		if l.testVersions()["app/stripe"] != v3 || l.testVersions()["app/pinned@"+pinned] != pinned {
			t.Errorf("Versions = %v", l.testVersions())
		}
	})
	t.Run("one failure holds back no other rotation", func(t *testing.T) {
		f.putString("app/stripe", "sk3")
		f.mu.Lock()
		f.describeErr["app/db"] = apiErr("ThrottlingException")
		f.mu.Unlock()
		dbVersion := l.testVersions()["app/db"]
		vals, changed, err := l.testRefresh(t.Context(), schema)
		if !errors.Is(err, config.ErrThrottled) || !changed {
			t.Fatalf("Refresh = %v, %v", changed, err)
		}
		if rawOf(t, vals, "payments.stripe_key") != "sk3" || rawOf(t, vals, "database.host") != "h" {
			t.Errorf("values = %v: want the rotated key and the last good database values", keysOf(vals))
		}
		if l.testVersions()["app/db"] != dbVersion {
			t.Error("the version of the secret that failed changed")
		}
		f.mu.Lock()
		delete(f.describeErr, "app/db")
		f.mu.Unlock()
		_, changed, err = l.testRefresh(t.Context(), schema)
		if !onlyWarnings(err) || changed {
			t.Fatalf("retry = %v, %v; want no change and no error", changed, err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		f.mu.Lock()
		f.secrets["app/stripe"].deleted = true
		f.mu.Unlock()
		_, _, err := l.testRefresh(t.Context(), schema)
		if !errors.Is(err, config.ErrDeleted) {
			t.Fatalf("err = %v", err)
		}
	})
	if c := l.Calls()[OpDescribeSecret]; c.OK < base[OpDescribeSecret].OK+6 || c.Error != 1 {
		t.Errorf("DescribeSecret counts = %+v", c)
	}
}

func diff(a, b map[string]config.CallCount) map[string]int64 {
	d := map[string]int64{}
	for op, c := range b {
		d[op] = c.Total() - a[op].Total()
	}
	return d
}

func TestRefreshBeforeLoad(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/stripe", "sk")
	l := NewWithClient(f, nil, String("app/stripe", "payments.stripe_key", nil))
	vals, changed, err := l.testRefresh(t.Context(), testSchema(t))
	if err != nil || !changed || rawOf(t, vals, "payments.stripe_key") != "sk" {
		t.Fatalf("Refresh = %v, %v, %v", vals, changed, err)
	}
}

func TestTimeoutAndCalls(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/slow", "x")
	f.putString("app/fast", "y")
	f.hook = func(ctx context.Context, op string) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		<-ctx.Done()
		return ctx.Err()
	}
	l := NewWithClient(f, &Options{Timeout: 20 * time.Millisecond}, String("app/slow", "payments.stripe_key", nil))
	start := time.Now()
	_, err := l.testLoad(t.Context(), testSchema(t))
	if !errors.Is(err, config.ErrTransient) || !strings.Contains(err.Error(), "no answer within 20ms") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("timeout not applied")
	}
	if c := l.Calls()[OpGetSecretValue]; c.OK != 0 || c.Error != 1 {
		t.Errorf("Calls = %+v", c)
	}
	if len(l.Calls()) != 4 {
		t.Errorf("Calls has %d operations", len(l.Calls()))
	}
}

func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.batchErr = apiErr("InvalidAction")
	var sources []Spec
	for i := range 30 {
		name := fmt.Sprintf("app/s%02d", i)
		f.putString(name, "v")
		sources = append(sources, String(name, "payments.stripe_key", nil))
	}
	var calls peakMeter
	f.hook = func(ctx context.Context, op string) error {
		if op != OpGetSecretValue {
			return nil
		}
		_, leave := calls.enter()
		defer leave()
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	l := NewWithClient(f, &Options{Concurrency: 3}, sources...)
	if _, err := l.testLoad(t.Context(), testSchema(t)); err != nil {
		t.Fatal(err)
	}
	if p := calls.peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak GetSecretValue concurrency = %d, want at most 3", p)
	}
}

func TestLogsNeverHoldValues(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"password":"`+canary+`","pasword":"`+canary+`"}`)
	f.putString("app/stripe", canary)
	var logs bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := NewWithClient(f, &Options{Logger: lg}, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil))
	_, err := l.testLoad(t.Context(), testSchema(t))
	f.putString("app/stripe", canary+"2")
	_, changed, rerr := l.testRefresh(t.Context(), testSchema(t))
	var u *config.UnknownNameError
	if !changed || !errors.As(rerr, &u) || errors.Is(rerr, config.ErrMalformed) {
		t.Fatalf("Refresh = %v, %v; want changed with an unknown-key warning", changed, rerr)
	}
	if !strings.Contains(logs.String(), `"op":"BatchGetSecretValue"`) || !strings.Contains(logs.String(), `"op":"DescribeSecret"`) {
		t.Errorf("expected debug lines for each call, got %s", logs.String())
	}
	noCanary(t, logs.String(), fmt.Sprint(err), fmt.Sprint(rerr))
	st := l.LayerStatus()
	if st.Name != "secretsmanager" || st.Calls[OpBatchGetSecretValue] != (config.CallCount{OK: 1}) ||
		st.Calls[OpDescribeSecret] != (config.CallCount{OK: 2}) || st.Calls[OpGetSecretValue] != (config.CallCount{OK: 1}) ||
		len(st.Versions) != 0 || len(l.testVersions()) != 2 {
		t.Errorf("LayerStatus = %+v (the store adds the versions it serves), versions read %v", st, l.testVersions())
	}
	if !maps.Equal(st.Calls, l.Calls()) {
		t.Errorf("LayerStatus().Calls = %v, Calls() = %v: want one shape and the same counts", st.Calls, l.Calls())
	}
}

func TestKoanfProvider(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", dbJSON)
	f.putString("app/stripe", "sk")
	f.putBinary("app/key", []byte{1, 2, 3})
	f.putString("my-app/production/cache/ttl", "5s")
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil),
		Binary("app/key", "tls.key", nil), Prefix("my-app/production", nil))
	p := l.Provider(nil)
	m, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	db := m["database"].(map[string]any)
	if db["host"] != "db.internal" || db["replica"].(map[string]any)["host"] != "replica.internal" {
		t.Errorf("database = %v", db)
	}
	if m["payments"].(map[string]any)["stripe_key"] != "sk" {
		t.Errorf("payments = %v", m["payments"])
	}
	if !bytes.Equal(m["tls"].(map[string]any)["key"].([]byte), []byte{1, 2, 3}) {
		t.Errorf("tls = %v", m["tls"])
	}
	if m["cache"].(map[string]any)["ttl"] != "5s" {
		t.Errorf("cache = %v", m["cache"])
	}
	if len(l.testVersions()) != 0 {
		t.Error("Read changed the versions in use")
	}
	k := koanf.New(".")
	if err := k.Load(p, nil); err != nil {
		t.Fatal(err)
	}
	if k.String("database.replica.host") != "replica.internal" || k.String("cache.ttl") != "5s" {
		t.Errorf("koanf keys = %v", k.Keys())
	}

	// ReadBytes is the same tree as one JSON document, for koanf's parsers.
	doc, err := p.ReadBytes()
	if err != nil {
		t.Fatalf("ReadBytes: %v", err)
	}
	kb := koanf.New(".")
	if err := kb.Load(rawbytes.Provider(doc), kjson.Parser()); err != nil {
		t.Fatalf("parse ReadBytes: %v\n%s", err, doc)
	}
	for key, want := range map[string]string{
		"database.replica.host": "replica.internal", "database.host": "db.internal",
		"payments.stripe_key": "sk", "cache.ttl": "5s",
		"tls.key": base64.StdEncoding.EncodeToString([]byte{1, 2, 3}),
	} {
		if got := kb.String(key); got != want {
			t.Errorf("ReadBytes: %s = %q, want %q", key, got, want)
		}
	}
	if kb.Int64("database.port") != k.Int64("database.port") || kb.Int64("database.port") == 0 {
		t.Errorf("ReadBytes: database.port = %v, Read gives %v", kb.Get("database.port"), k.Get("database.port"))
	}

	f.getErr["app/stripe"] = apiErr("AccessDeniedException")
	if _, err := p.Read(); !errors.Is(err, config.ErrAccessDenied) {
		t.Errorf("Read err = %v", err)
	}
	if b, err := p.ReadBytes(); !errors.Is(err, config.ErrAccessDenied) || b != nil {
		t.Errorf("ReadBytes = %q, %v; want no document and the access error", b, err)
	}
}

// TestKoanfProviderTimeout checks that a koanf read, which gets no context
// from koanf, is bounded by its own timeout rather than by a context kept
// from when the provider was made.
func TestKoanfProviderTimeout(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/slow", "x")
	f.hook = func(ctx context.Context, op string) error {
		<-ctx.Done()
		return ctx.Err()
	}
	// The per-call timeout is long: only the provider's own bound can end
	// the read.
	l := NewWithClient(f, &Options{Timeout: time.Hour}, String("app/slow", "payments.stripe_key", nil))
	for _, read := range []func(p *KoanfProvider) error{
		func(p *KoanfProvider) error { _, err := p.Read(); return err },
		func(p *KoanfProvider) error { _, err := p.ReadBytes(); return err },
	} {
		start := time.Now()
		err := read(l.Provider(&KoanfOptions{Timeout: 30 * time.Millisecond}))
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want one that matches context.DeadlineExceeded", err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("the read took %v: the timeout was not applied", el)
		}
	}
	if p := l.Provider(nil); p.timeout != DefaultKoanfTimeout {
		t.Errorf("default timeout = %v, want %v", p.timeout, DefaultKoanfTimeout)
	}
}

func TestBadSources(t *testing.T) {
	t.Parallel()
	f := newFake()
	for _, s := range []Spec{{}, JSON("", "x", nil), String("a", "", nil), Prefix("p/", &SpecOptions{VersionID: "v"}), JSON("a", "b", &SpecOptions{Stage: "S", VersionID: "v"})} {
		l := NewWithClient(f, nil, s)
		if _, err := l.testLoad(t.Context(), testSchema(t)); err == nil {
			t.Errorf("%v: no error", s)
		}
	}
	if n := len(f.calls); n != 0 {
		t.Errorf("API called for bad sources: %v", f.calls)
	}
}

func TestClientOptionsInMessages(t *testing.T) {
	t.Parallel()
	c := sm.New(sm.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1")})
	l := NewWithClient(c, nil)
	if l.where != "region eu-west-1 at http://127.0.0.1:1" || l.region != "eu-west-1" {
		t.Errorf("where = %q", l.where)
	}
	l = New(aws.Config{Region: "us-west-2"}, nil)
	if l.where != "region us-west-2" {
		t.Errorf("where = %q", l.where)
	}
}

func TestUnderPrefixAndARNs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prefix, path string
		ok                 bool
	}{
		{"a/b/c/d", "a/b/", "c.d", true},
		{"a/b/c", "a/b", "c", true},
		{"a/b", "a/b/", "", true},
		{"a/bc", "a/b", "", false},
		{"x/a/b", "a/b", "", false},
	} {
		path, ok := underPrefix(tc.name, tc.prefix)
		if path != tc.path || ok != tc.ok {
			t.Errorf("underPrefix(%q, %q) = %q, %v", tc.name, tc.prefix, path, ok)
		}
	}
	arn := fakeARN("app/db")
	if !sameSecret(strings.TrimSuffix(arn, "-AbCdEf"), "app/db", arn) || sameSecret("arn:aws:secretsmanager:us-east-1:000000000000:secret:app", "app/db", arn) {
		t.Error("partial ARN matching")
	}
	if nameOfARN(arn) != "app/db" || nameOfARN("app/db") != "app/db" {
		t.Error("nameOfARN")
	}
}

// A KMS key policy that denies the caller comes back as AccessDenied that
// mentions KMS; it is reported as a decryption problem naming kms:Decrypt.
func TestKMSAccessDeniedIsDecryption(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("my-app/production/database", dbJSON)
	f.mu.Lock()
	f.getErr["my-app/production/database"] = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "Access to KMS is not allowed"}
	f.mu.Unlock()
	l := NewWithClient(f, nil, JSON("my-app/production/database", "database", nil))
	_, err := l.testLoad(t.Context(), testSchema(t))
	if !errors.Is(err, config.ErrDecryption) || errors.Is(err, config.ErrAccessDenied) || !strings.Contains(err.Error(), "kms:Decrypt") {
		t.Errorf("err = %v, want ErrDecryption naming kms:Decrypt", err)
	}
}

// A rotated secret whose new value does not parse is reported and its last
// good value keeps serving, without holding back another secret's rotation.
func TestRefreshMalformedRotationHoldsBackNothingElse(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", dbJSON)
	f.putString("app/stripe", "sk1")
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), String("app/stripe", "payments.stripe_key", nil))
	schema := testSchema(t)
	if _, err := l.testLoad(t.Context(), schema); !onlyWarnings(err) {
		t.Fatal(err)
	}
	dbVersion := l.testVersions()["app/db"]
	f.putString("app/db", `{"host": "db2", "password": CANARY-not-json}`)
	f.putString("app/stripe", "sk2")
	vals, changed, err := l.testRefresh(t.Context(), schema)
	if !changed || !errors.Is(err, config.ErrMalformed) || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("Refresh = %v, %v; want the stripe change and the malformed database secret, no value", changed, err)
	}
	if rawOf(t, vals, "payments.stripe_key") != "sk2" || rawOf(t, vals, "database.host") != "db.internal" {
		t.Errorf("values = %v; want the new stripe key and the last good database values", keysOf(vals))
	}
	if l.testVersions()["app/db"] != dbVersion {
		t.Error("the malformed version was adopted")
	}
	f.putString("app/db", strings.Replace(dbJSON, "db.internal", "db3.internal", 1))
	vals, changed, err = l.testRefresh(t.Context(), schema)
	if !changed || !onlyWarnings(err) || rawOf(t, vals, "database.host") != "db3.internal" {
		t.Errorf("after the fix: changed %v, err %v, host %v", changed, err, rawOf(t, vals, "database.host"))
	}
}

// An optional AWSPREVIOUS source sets nothing until the first rotation, then
// appears on refresh; a required one fails the load.
func TestOptionalPreviousVersion(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"password":"first-password-1"}`)
	schema := testSchema(t)
	required := NewWithClient(f, nil, JSON("app/db", "database", nil), JSON("app/db", "database_previous", &SpecOptions{Stage: StagePrevious}))
	if _, err := required.testLoad(t.Context(), schema); !errors.Is(err, config.ErrNotFound) {
		t.Fatalf("required previous version: err = %v, want not found", err)
	}
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), JSON("app/db", "database_previous", &SpecOptions{Stage: StagePrevious, Optional: true}))
	vals, err := l.testLoad(t.Context(), schema)
	if !onlyWarnings(err) {
		t.Fatalf("optional previous version: err = %v", err)
	}
	if _, ok := vals["database_previous.password"]; ok || rawOf(t, vals, "database.password") != "first-password-1" {
		t.Fatalf("values = %v", keysOf(vals))
	}
	f.putString("app/db", `{"password":"second-password-2"}`)
	vals, changed, err := l.testRefresh(t.Context(), schema)
	if !changed || !onlyWarnings(err) {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if rawOf(t, vals, "database_previous.password") != "first-password-1" || rawOf(t, vals, "database.password") != "second-password-2" {
		t.Errorf("after the rotation: values = %v", keysOf(vals))
	}
	if !strings.Contains(JSON("x", "y", &SpecOptions{Optional: true}).String(), "optional") {
		t.Error("String does not show Optional")
	}
}

// A secret new under a prefix whose value does not parse is reported and sets
// nothing; a rotation elsewhere in the same refresh still comes through.
func TestRefreshNewMalformedSecretUnderPrefix(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("other/stripe", "sk1")
	l := NewWithClient(f, nil, Prefix("app/", nil), String("other/stripe", "payments.stripe_key", nil))
	schema := testSchema(t)
	if _, err := l.testLoad(t.Context(), schema); !onlyWarnings(err) {
		t.Fatal(err)
	}
	f.putString("app/database", `{"host": CANARY-broken`)
	f.putString("other/stripe", "sk2")
	vals, changed, err := l.testRefresh(t.Context(), schema)
	if !changed || !errors.Is(err, config.ErrMalformed) || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("Refresh = %v, %v; want the stripe rotation and the malformed secret reported", changed, err)
	}
	if rawOf(t, vals, "payments.stripe_key") != "sk2" {
		t.Errorf("values = %v", keysOf(vals))
	}
	if _, ok := vals["database.host"]; ok {
		t.Error("a value of the malformed secret was set")
	}
}

// An optional secret deleted after the load sets nothing from then on, as a
// fresh load would, and is no error.
func TestRefreshOptionalSecretDeleted(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.putString("app/db", `{"password":"first-password-1"}`)
	f.putString("app/extra", "sk1")
	l := NewWithClient(f, nil, JSON("app/db", "database", nil), String("app/extra", "payments.stripe_key", &SpecOptions{Optional: true}))
	schema := testSchema(t)
	if _, err := l.testLoad(t.Context(), schema); !onlyWarnings(err) {
		t.Fatal(err)
	}
	f.mu.Lock()
	delete(f.secrets, "app/extra")
	f.mu.Unlock()
	vals, changed, err := l.testRefresh(t.Context(), schema)
	if !changed || !onlyWarnings(err) {
		t.Fatalf("Refresh = %v, %v; want a change (the optional value is gone) and no error", changed, err)
	}
	if _, ok := vals["payments.stripe_key"]; ok || rawOf(t, vals, "database.password") != "first-password-1" {
		t.Errorf("values = %v", keysOf(vals))
	}
}

// peakMeter records the most calls in flight at once.
type peakMeter struct{ inflight, peak atomic.Int32 }

// enter counts a call in; it returns how many are in flight and the function
// that counts it out.
func (m *peakMeter) enter() (int32, func()) {
	n := m.inflight.Add(1)
	for p := m.peak.Load(); n > p && !m.peak.CompareAndSwap(p, n); p = m.peak.Load() {
	}
	return n, func() { m.inflight.Add(-1) }
}

// TestKoanfProviderZero checks that a provider not made by Reader.Provider
// reports an error instead of panicking.
func TestKoanfProviderZero(t *testing.T) {
	t.Parallel()
	for _, p := range []*KoanfProvider{nil, {}, (*Reader)(nil).Provider(nil)} {
		if m, err := p.Read(); err == nil || m != nil {
			t.Errorf("Read = %v, %v; want an error", m, err)
		}
		if b, err := p.ReadBytes(); err == nil || b != nil {
			t.Errorf("ReadBytes = %q, %v; want an error", b, err)
		}
	}
}
