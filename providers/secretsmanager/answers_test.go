package secretsmanager_test

// Tests of how the layer reads the answers of a real SDK client: an endpoint
// (httptest) scripts each answer, so the SDK's deserializers, error mapping
// and retryer run exactly as against AWS.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
)

const answerCanary = "CANARY-51c0e2-never-print"

type answersConfig struct {
	Payments struct {
		StripeKey config.Secret
	}
	TLS struct {
		Key []byte
	}
	Database struct {
		Password config.Secret
	}
	Other struct {
		Token config.Secret
	}
}

// scripted is a Secrets Manager endpoint whose answers a test writes. answer
// is called for every request with the operation, its 1-based count for that
// operation and the request body.
type scripted struct {
	mu     sync.Mutex
	calls  map[string]int
	answer func(w http.ResponseWriter, op string, n int, body map[string]any) // nil: hold every request until the client gives up
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[op]++
	n := s.calls[op]
	s.mu.Unlock()
	if s.answer == nil {
		<-r.Context().Done()
		return
	}
	s.answer(w, op, n, body)
}

func (s *scripted) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func writeAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// value is a GetSecretValue answer; text or bin may be absent (nil).
func value(id, version string, text *string, bin []byte) map[string]any {
	v := map[string]any{
		"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + id + "-AbCdEf", "Name": id,
		"VersionId": version, "VersionStages": []string{"AWSCURRENT"},
	}
	if text != nil {
		v["SecretString"] = *text
	}
	if bin != nil {
		v["SecretBinary"] = bin // encoding/json writes base64, as the API does
	}
	return v
}

func describe(id, version string) map[string]any {
	return map[string]any{"Name": id, "VersionIdsToStages": map[string][]string{version: {"AWSCURRENT"}}}
}

func newScripted(t *testing.T, answer func(w http.ResponseWriter, op string, n int, body map[string]any)) (*scripted, aws.Config) {
	t.Helper()
	s := &scripted{answer: answer}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, credsAWSConfig(srv.URL, credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
}

func answersSchema(t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[answersConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustNoCanary(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, answerCanary) {
			t.Fatalf("secret value in output: %s", s)
		}
	}
}

// TestAnswerWithoutValueIsNeverAValue: an answer with neither SecretString nor
// SecretBinary is ErrMalformed, at the first read and at a refresh, for every
// kind of source; the source keeps its previous value and version, and the
// next refresh reads it again.
func TestAnswerWithoutValueIsNeverAValue(t *testing.T) {
	t.Parallel()
	good := answerCanary + "-v2"
	goodJSON := `{"password":"` + answerCanary + `-v2"}`
	cases := []struct {
		name   string
		source func(id string) secretsmanager.Spec
		key    string
		v1, v2 map[string]any
		want   any // the raw value read from v2
	}{
		{"string", func(id string) secretsmanager.Spec { return secretsmanager.String(id, "payments.stripe_key", nil) }, "payments.stripe_key",
			value("app/x", "v1", aws.String("old"), nil), value("app/x", "v2", aws.String(good), nil), good},
		{"binary", func(id string) secretsmanager.Spec { return secretsmanager.Binary(id, "tls.key", nil) }, "tls.key",
			value("app/x", "v1", nil, []byte("old")), value("app/x", "v2", nil, []byte(good)), []byte(good)},
		{"json", func(id string) secretsmanager.Spec { return secretsmanager.JSON(id, "database", nil) }, "database.password",
			value("app/x", "v1", aws.String(`{"password":"old"}`), nil), value("app/x", "v2", aws.String(goodJSON), nil), good},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			empty := value("app/x", "v2", nil, nil)
			srv, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) {
				switch {
				case op == "DescribeSecret":
					writeAnswer(w, describe("app/x", "v2"))
				case op == "GetSecretValue" && n == 1:
					writeAnswer(w, tc.v1)
				case op == "GetSecretValue" && n == 2:
					writeAnswer(w, empty)
				default:
					writeAnswer(w, tc.v2)
				}
			})
			l := secretsmanager.New(cfg, nil, tc.source("app/x"))
			schema := answersSchema(t)
			first, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			// Rotation to v2, whose first answer carries no value.
			u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: first.State})
			if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "neither SecretString nor SecretBinary") {
				t.Fatalf("err = %v, want ErrMalformed naming the missing value", err)
			}
			if config.IsTransient(err) {
				t.Errorf("IsTransient(%v) = true", err)
			}
			if u.Changed || u.State != nil {
				t.Fatalf("a value-less answer was published: %+v", u.Versions)
			}
			// Refreshed again from the same Prev, v2 is read again and whole.
			u, err = l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: first.State})
			if err != nil || !u.Changed {
				t.Fatalf("second refresh = %v, %v", u.Changed, err)
			}
			if got := u.Values[tc.key].Raw; fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s = %q, want v2's value", tc.key, got)
			}
			if u.Versions["app/x"] != "v2" {
				t.Errorf("versions = %v", u.Versions)
			}
			if n := srv.count("GetSecretValue"); n != 3 {
				t.Errorf("GetSecretValue calls = %d, want 3", n)
			}
		})
	}
}

// TestBatchEntryWithoutValue: a BatchGetSecretValue entry with no value fails
// its source alone at the first read; the State does not record it, so the
// next refresh reads it.
func TestBatchEntryWithoutValue(t *testing.T) {
	t.Parallel()
	srv, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) {
		switch op {
		case "BatchGetSecretValue":
			writeAnswer(w, map[string]any{"SecretValues": []any{
				value("app/a", "a1", aws.String(answerCanary), nil),
				value("app/b", "b1", nil, nil),
			}})
		case "DescribeSecret":
			writeAnswer(w, describe("app/a", "a1"))
		case "GetSecretValue":
			writeAnswer(w, value("app/b", "b1", aws.String("token-b"), nil))
		}
	})
	l := secretsmanager.New(cfg, nil, secretsmanager.String("app/a", "payments.stripe_key", nil), secretsmanager.String("app/b", "other.token", nil))
	schema := answersSchema(t)
	first, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema})
	var se *config.SourceError
	if !errors.Is(err, config.ErrMalformed) || !errors.As(err, &se) || se.Source != "app/b" {
		t.Fatalf("err = %v, want ErrMalformed for app/b", err)
	}
	mustNoCanary(t, err)
	if _, ok := first.Values["other.token"]; ok {
		t.Errorf("other.token set from an answer without a value: %q", first.Values["other.token"].Raw)
	}
	if _, ok := first.Versions["app/b"]; ok || first.Versions["app/a"] != "a1" {
		t.Errorf("versions = %v", first.Versions)
	}
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: first.State})
	if err != nil || !u.Changed || u.Values["other.token"].Raw != "token-b" || u.Versions["app/b"] != "b1" {
		t.Fatalf("refresh = %v %v %v", u.Changed, u.Versions, err)
	}
	if n := srv.count("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", n)
	}
}

// TestCutShortAnswersAreTransient: a 200 whose body is truncated (it does not
// deserialize) and one whose body is shorter than its Content-Length are the
// same transient failure, and neither message quotes the body.
func TestCutShortAnswersAreTransient(t *testing.T) {
	t.Parallel()
	full, _ := json.Marshal(value("app/x", "v1", aws.String(answerCanary), nil))
	cases := map[string]func(w http.ResponseWriter){
		"truncated body": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = w.Write(full[:len(full)-10])
		},
		"short content length": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("Content-Length", strconv.Itoa(len(full)+100))
			_, _ = w.Write(full)
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) { answer(w) })
			l := secretsmanager.New(cfg, nil, secretsmanager.String("app/x", "payments.stripe_key", nil))
			_, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: answersSchema(t)})
			if !errors.Is(err, config.ErrTransient) || !config.IsTransient(err) {
				t.Fatalf("err = %v, want ErrTransient", err)
			}
			if !strings.Contains(err.Error(), "the answer was cut short or could not be parsed") {
				t.Errorf("message = %v", err)
			}
			mustNoCanary(t, err)
		})
	}
}

// TestRejectedCredentialsHaveACode: the codes AWS gives for expired or
// unknown credentials are ErrCredentials, with a hint how to renew them.
func TestRejectedCredentialsHaveACode(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			_, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) {
				writeAPIError(w, http.StatusBadRequest, code, "The security token included in the request is expired")
			})
			l := secretsmanager.New(cfg, nil, secretsmanager.String("app/x", "payments.stripe_key", nil))
			_, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: answersSchema(t)})
			var se *config.SourceError
			if !errors.As(err, &se) || se.Code != config.ErrCredentials || !errors.Is(err, config.ErrCredentials) {
				t.Fatalf("err = %v, want ErrCredentials", err)
			}
			if config.IsTransient(err) {
				t.Errorf("IsTransient = true")
			}
			for _, w := range []string{code, "aws sso login", "GetSecretValue"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
		})
	}
}

// TestMissingCredentialsHaveACode: no credentials from the chain is
// ErrCredentials too.
func TestMissingCredentialsHaveACode(t *testing.T) {
	t.Parallel()
	_, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) {
		writeAnswer(w, value("app/x", "v1", aws.String("x"), nil))
	})
	cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no credentials in the chain")
	}))
	l := secretsmanager.New(cfg, nil, secretsmanager.String("app/x", "payments.stripe_key", nil))
	_, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: answersSchema(t)})
	var ce *secretsmanager.CredentialsError
	if !errors.Is(err, config.ErrCredentials) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want ErrCredentials with a *CredentialsError", err)
	}
}

// TestAWSMessages: the distinctions only an AWS error's message carries, one
// case per message Secrets Manager sends, plus the messages that must not be
// taken for them.
func TestAWSMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code, msg string
		want      error
	}{
		{"AccessDeniedException", "Access to KMS is not allowed", config.ErrDecryption},
		{"AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd because no identity-based policy allows the kms:Decrypt action", config.ErrDecryption},
		{"AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/KMSReader/i-0abc is not authorized to perform: secretsmanager:GetSecretValue on resource: app/x because no identity-based policy allows the secretsmanager:GetSecretValue action", config.ErrAccessDenied},
		{"InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.", config.ErrDeleted},
		{"InvalidRequestException", "You tried to perform the operation on a secret that's currently marked deleted.", config.ErrDeleted},
		{"DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.", config.ErrDecryption},
		{"InvalidRequestException", "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.", nil},
	}
	for _, tc := range cases {
		t.Run(tc.msg[:min(len(tc.msg), 40)], func(t *testing.T) {
			t.Parallel()
			_, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, _ map[string]any) {
				writeAPIError(w, http.StatusBadRequest, tc.code, tc.msg)
			})
			l := secretsmanager.New(cfg, nil, secretsmanager.String("app/x", "payments.stripe_key", nil))
			_, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: answersSchema(t)})
			var se *config.SourceError
			if !errors.As(err, &se) || se.Code != tc.want {
				t.Fatalf("code = %v, want %v: %v", se.Code, tc.want, err)
			}
		})
	}
}

// TestDeadlineMessageNamesTheDeadline: a call cut short by the caller's
// deadline says so, rather than blaming Options.Timeout (5s by default).
func TestDeadlineMessageNamesTheDeadline(t *testing.T) {
	t.Parallel()
	_, cfg := newScripted(t, nil)
	l := secretsmanager.New(cfg, nil, secretsmanager.String("app/x", "payments.stripe_key", nil))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := l.Refresh(ctx, config.RefreshRequest{Schema: answersSchema(t)})
	if !errors.Is(err, config.ErrTransient) || !strings.Contains(err.Error(), "the caller's context deadline") {
		t.Fatalf("err = %v, want the caller's deadline named", err)
	}
	if strings.Contains(err.Error(), "5s") {
		t.Errorf("message blames Options.Timeout: %v", err)
	}
}

// TestRefreshSendsEachCallOnce: under a 503 outage, a refresh (Prev != nil)
// sends one request per secret, while the first read keeps the SDK's retries.
func TestRefreshSendsEachCallOnce(t *testing.T) {
	t.Parallel()
	var outage sync.Mutex
	down := false
	srv, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, body map[string]any) {
		outage.Lock()
		d := down
		outage.Unlock()
		if d {
			writeAPIError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "unavailable")
			return
		}
		if op == "BatchGetSecretValue" {
			writeAPIError(w, http.StatusBadRequest, "UnknownOperationException", "not here")
			return
		}
		id, _ := body["SecretId"].(string)
		writeAnswer(w, value(id, "v1", aws.String("x"), nil))
	})
	ids := []string{"app/a", "app/b", "app/c"}
	keys := []string{"payments.stripe_key", "other.token", "database.password"}
	var sources []secretsmanager.Spec
	for i, id := range ids {
		sources = append(sources, secretsmanager.String(id, keys[i], nil))
	}
	l := secretsmanager.New(cfg, nil, sources...)
	schema := answersSchema(t)
	// No batch endpoint here: the first read falls back to GetSecretValue.
	first, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	outage.Lock()
	down = true
	outage.Unlock()
	for attempt := 1; attempt <= 2; attempt++ {
		_, err = l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: first.State})
		if !errors.Is(err, config.ErrTransient) || !strings.Contains(err.Error(), "in 1 attempt") {
			t.Fatalf("err = %v", err)
		}
		if n := srv.count("DescribeSecret"); n != len(ids)*attempt {
			t.Fatalf("after %d refreshes: %d DescribeSecret requests, want %d (one per secret)", attempt, n, len(ids)*attempt)
		}
	}
	// The first read of a new layer keeps the SDK's retries: 3 attempts.
	before := srv.count("GetSecretValue")
	l2 := secretsmanager.New(cfg, nil, secretsmanager.String("app/a", "payments.stripe_key", nil))
	if _, err := l2.Refresh(t.Context(), config.RefreshRequest{Schema: schema}); !errors.Is(err, config.ErrTransient) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("first read err = %v", err)
	}
	if n := srv.count("GetSecretValue") - before; n != 3 {
		t.Errorf("first read sent %d requests, want 3", n)
	}
}

// TestValuelessEntryKeepsPrevious: when two secrets rotate and the answer for
// one carries no value, the other's rotation is published and the first keeps
// the value and version of Prev; the next refresh reads it again.
func TestValuelessEntryKeepsPrevious(t *testing.T) {
	t.Parallel()
	srv, cfg := newScripted(t, func(w http.ResponseWriter, op string, n int, body map[string]any) {
		id, _ := body["SecretId"].(string)
		switch {
		case op == "BatchGetSecretValue" && n == 1:
			writeAnswer(w, map[string]any{"SecretValues": []any{
				value("app/a", "a1", aws.String("a-one"), nil), value("app/b", "b1", aws.String("b-one"), nil)}})
		case op == "BatchGetSecretValue":
			writeAnswer(w, map[string]any{"SecretValues": []any{
				value("app/a", "a2", aws.String("a-two"), nil), value("app/b", "b2", nil, nil)}})
		case op == "DescribeSecret" && id == "app/a":
			writeAnswer(w, describe(id, "a2"))
		case op == "DescribeSecret":
			writeAnswer(w, describe(id, "b2"))
		case op == "GetSecretValue":
			writeAnswer(w, value("app/b", "b2", aws.String("b-two"), nil))
		}
	})
	l := secretsmanager.New(cfg, nil, secretsmanager.String("app/a", "payments.stripe_key", nil), secretsmanager.String("app/b", "other.token", nil))
	schema := answersSchema(t)
	first, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: first.State})
	if !errors.Is(err, config.ErrMalformed) || !u.Changed {
		t.Fatalf("refresh = %v, %v; want the change of app/a and ErrMalformed for app/b", u.Changed, err)
	}
	if u.Values["payments.stripe_key"].Raw != "a-two" || u.Values["other.token"].Raw != "b-one" {
		t.Errorf("values = %v, %v; want a-two and the previous b-one", u.Values["payments.stripe_key"].Raw, u.Values["other.token"].Raw)
	}
	if u.Versions["app/a"] != "a2" || u.Versions["app/b"] != "b1" {
		t.Errorf("versions = %v, want app/b kept at b1", u.Versions)
	}
	u, err = l.Refresh(t.Context(), config.RefreshRequest{Schema: schema, Prev: u.State})
	if err != nil || !u.Changed || u.Values["other.token"].Raw != "b-two" || u.Versions["app/b"] != "b2" {
		t.Fatalf("next refresh = %v, %v, %v", u.Changed, u.Versions, err)
	}
	if n := srv.count("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", n)
	}
}
