package awscall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-go/strata/config"
)

const secret = "s3cr3t-value-in-an-sdk-message"

// responseError is an SDK error as the SDK builds it: an API error inside a
// response error with its HTTP status, wrapped with the operation.
func responseError(code string, status int, cause error) error {
	var inner error = &smithy.GenericAPIError{Code: code, Message: "the body was " + secret}
	if cause != nil {
		inner = fmt.Errorf("%w: %w", inner, cause)
	}
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status}}
	return &smithy.OperationError{ServiceID: "SSM", OperationName: "GetParameters",
		Err: &smithyhttp.ResponseError{Response: resp, Err: inner}}
}

func TestCleanCauseKeepsOnlyWhatIsSafe(t *testing.T) {
	cases := []struct {
		name, want string
		err        error
		code       string
		ctxErr     error
	}{
		{"api error with status", "GetParameters: ThrottlingException (HTTP 400)", responseError("ThrottlingException", 400, nil), "ThrottlingException", nil},
		{"no code: the Go type", "ListSecrets: *errors.errorString", errors.New("dial tcp: " + secret), "", nil},
		{"response without http answer", "DescribeSecret: *http.ResponseError",
			&smithyhttp.ResponseError{Response: &smithyhttp.Response{}, Err: errors.New(secret)}, "", nil},
		{"canceled", "GetSecretValue: InternalFailure (HTTP 500)", responseError("InternalFailure", 500, context.Canceled), "InternalFailure", context.Canceled},
		{"deadline", "GetSecretValue: *fmt.wrapError", fmt.Errorf("%s: %w", secret, context.DeadlineExceeded), "", context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, _, _ := strings.Cut(c.want, ":")
			got := CleanCause(op, c.err)
			if got.Error() != c.want {
				t.Errorf("Error() = %q, want %q", got.Error(), c.want)
			}
			coded, ok := got.(interface{ ErrorCode() string })
			if !ok {
				t.Fatalf("clean cause %T has no ErrorCode method", got)
			}
			if coded.ErrorCode() != c.code || ErrorCode(c.err) != c.code {
				t.Errorf("clean cause %T: ErrorCode() = %q (ErrorCode of the SDK error %q), want %q", got, coded.ErrorCode(), ErrorCode(c.err), c.code)
			}
			if u := errors.Unwrap(got); u != c.ctxErr {
				t.Errorf("Unwrap() = %v, want %v", u, c.ctxErr)
			}
			for _, s := range []string{got.Error(), fmt.Sprintf("%+v", got), fmt.Sprintf("%#v", got)} {
				if strings.Contains(s, secret) {
					t.Errorf("the clean cause shows the SDK message: %s", s)
				}
			}
		})
	}
}

func TestCountersCountByOperation(t *testing.T) {
	var c Counters
	if got := c.Snapshot("A", "B"); len(got) != 2 || got["A"] != (config.CallCount{}) || got["B"] != (config.CallCount{}) {
		t.Fatalf("zero Counters: Snapshot = %v, want A and B at zero", got)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%5 == 0 {
				err = errors.New("failed")
			}
			c.Add("A", err)
			c.Add("C", nil)
		}()
	}
	wg.Wait()
	want := map[string]config.CallCount{"A": {OK: 40, Error: 10}, "B": {}, "C": {OK: 50}}
	got := c.Snapshot("A", "B")
	if len(got) != len(want) {
		t.Fatalf("Snapshot = %v, want %v", got, want)
	}
	for op, n := range want {
		if got[op] != n {
			t.Errorf("Snapshot[%s] = %+v, want %+v", op, got[op], n)
		}
	}
}

func TestAttemptsAndTransportReason(t *testing.T) {
	cases := []struct {
		err              error
		attempts, reason string
	}{
		{&retry.MaxAttemptsError{Attempt: 1, Err: responseError("ThrottlingException", 400, nil)}, " in 1 attempt", ""},
		{&retry.MaxAttemptsError{Attempt: 3, Err: responseError("InternalFailure", 503, nil)}, " after 3 attempts", "the server answered HTTP 503"},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "", "the answer was cut short or could not be parsed"},
		{&smithy.DeserializationError{Err: errors.New(secret)}, "", "the answer was cut short or could not be parsed"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "", "the connection failed"},
		{&smithyhttp.RequestSendError{Err: errors.New(secret)}, "", "the request could not be sent"},
		{&smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "ssm.us-east-1.amazonaws.com", IsNotFound: true}}}, "",
			"the endpoint's host name ssm.us-east-1.amazonaws.com could not be resolved (check the region, any AWS_ENDPOINT_URL_* setting and the network)"},
		{responseError("ParameterNotFound", 400, nil), "", ""},
	}
	for _, c := range cases {
		if got := Attempts(c.err); got != c.attempts {
			t.Errorf("Attempts(%T) = %q, want %q", c.err, got, c.attempts)
		}
		if got := TransportReason(c.err); got != c.reason {
			t.Errorf("TransportReason(%v) = %q, want %q", c.err, got, c.reason)
		}
	}
}

func TestLogCallLogsOnlyTheCleanCause(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	LogCall(context.Background(), log, "ssm: API call", "GetParameters", slog.String("parameter", "/app/db"), time.Now(),
		responseError("AccessDeniedException", 400, nil))
	out := buf.String()
	for _, want := range []string{`msg="ssm: API call"`, "op=GetParameters", "parameter=/app/db", "elapsed=", `error="GetParameters: AccessDeniedException (HTTP 400)"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("log line shows the SDK message: %s", out)
	}
	buf.Reset()
	LogCall(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)), "ssm: API call", "GetParameters", slog.String("parameter", "/app/db"), time.Now(), nil)
	if buf.Len() != 0 {
		t.Errorf("a logger above debug got %q", buf.String())
	}
}

func TestRejectsCredentials(t *testing.T) {
	for _, code := range []string{"ExpiredTokenException", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure"} {
		if !RejectsCredentials(code) {
			t.Errorf("RejectsCredentials(%q) = false, want true", code)
		}
	}
	for _, code := range []string{"", "AccessDeniedException", "ThrottlingException", "expiredtoken"} {
		if RejectsCredentials(code) {
			t.Errorf("RejectsCredentials(%q) = true, want false", code)
		}
	}
}

func TestErrorCodeShowsOnlyCodes(t *testing.T) {
	for code, want := range map[string]string{
		"ThrottlingException":                     "ThrottlingException",
		"AWS.SimpleQueueService.NonExistentQueue": "AWS.SimpleQueueService.NonExistentQueue",
		"":                       "",
		secret:                   "",
		"Access Denied":          "",
		"9Lives":                 "",
		strings.Repeat("A", 129): "",
	} {
		if got := ErrorCode(responseError(code, 400, nil)); got != want {
			t.Errorf("ErrorCode of code %q = %q, want %q", code, got, want)
		}
		if got := CleanCause("GetSecretValue", responseError(code, 400, nil)).Error(); code != want && strings.Contains(got, code) {
			t.Errorf("CleanCause of code %q = %q", code, got)
		}
	}
}

func TestWhere(t *testing.T) {
	endpoint, empty := "http://127.0.0.1:4566", ""
	for _, c := range []struct {
		region   string
		endpoint *string
		want     string
	}{
		{"", nil, "the client's region"},
		{"eu-west-1", nil, "region eu-west-1"},
		{"eu-west-1", &empty, "region eu-west-1"},
		{"eu-west-1", &endpoint, "region eu-west-1 at http://127.0.0.1:4566"},
	} {
		if got := Where(c.region, c.endpoint); got != c.want {
			t.Errorf("Where(%q, %v) = %q, want %q", c.region, c.endpoint, got, c.want)
		}
	}
}
