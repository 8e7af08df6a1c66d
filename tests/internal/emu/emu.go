// Package emu starts the kumo Secrets Manager emulator for tests and builds
// aws-sdk-go-v2 clients and secrets against it.
//
// Every kumo server in one process shares the same secrets, so tests must not
// reuse secret names: build them with [UniqueName].
package emu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/sivchari/kumo"
	"go.uber.org/goleak"
)

// Region is the AWS Region the helpers use.
const Region = "us-east-1"

// MaxBackoff is the longest wait between retries of clients built here, so
// that tests of retried faults stay fast.
const MaxBackoff = 20 * time.Millisecond

// callTimeout bounds each call the helpers make.
const callTimeout = 5 * time.Second

// startMu serializes kumo.NewServer: it wires package-level service state
// together without locking, so concurrent calls race.
var startMu sync.Mutex

// callMu serializes every request to kumo in the process. kumo v0.33.1
// updates a secret's LastAccessedDate in GetSecretValue while holding only a
// read lock, so two concurrent reads of one secret are a data race that
// fails tests run with -race. All kumo servers in a process share one store,
// hence one process-wide lock.
var callMu sync.Mutex

// Start starts an in-process kumo server and returns the base URL,
// "http://127.0.0.1:PORT", of a small front server that passes requests to
// it one at a time (see callMu; SQS calls pass at once). Both are closed when the test ends. Start is
// safe to call from parallel tests; all servers share their secrets.
func Start(tb testing.TB) (url string) {
	tb.Helper()
	startMu.Lock()
	routeDeliveries()
	srv := kumo.NewServer()
	startMu.Unlock()
	tb.Cleanup(srv.Close)
	tb.Cleanup(addLive(srv.URL))

	target, err := neturl.Parse(srv.URL)
	if err != nil {
		tb.Fatalf("emu: parse kumo URL: %v", err)
	}
	transport := &http.Transport{}
	tb.Cleanup(transport.CloseIdleConnections)
	front := httptest.NewServer(frontHandler(target, transport))
	tb.Cleanup(front.Close)
	return front.URL
}

// frontHandler is what stands before kumo: it serialises calls (but SQS's),
// and applies the SSM Path filters kumo ignores (see WithPathFilters).
func frontHandler(target *neturl.URL, transport http.RoundTripper) http.Handler {
	rp := WithPathFilters(&httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// SQS locks its own state, and a long poll held here would hold
		// every other call of the process for up to 20 seconds.
		if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") {
			callMu.Lock()
			defer callMu.Unlock()
		}
		rp.ServeHTTP(w, r)
	})
}

// LeakOptions returns the goleak options that ignore the goroutines kumo
// keeps for the life of the process (its DynamoDB TTL reaper, started when
// the package loads). Use them in a TestMain:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, emu.LeakOptions()...) }
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/sivchari/kumo/internal/service/dynamodb.(*MemoryStorage).ttlReaper"),
	}
}

// AWSConfig returns an aws.Config for the emulator or a proxy at endpoint:
// static credentials "test"/"test", Region us-east-1, BaseEndpoint set to
// endpoint, and the standard retryer (3 attempts) with backoff capped at
// MaxBackoff and no client-side retry quota.
//
// It is built by hand rather than with config.LoadDefaultConfig so that no
// environment variable or shared config file (AWS_PROFILE,
// AWS_ENDPOINT_URL_SECRETS_MANAGER, ...) can redirect or break a test.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = MaxBackoff
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// Client returns a Secrets Manager client for endpoint configured by
// AWSConfig.
func Client(endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(AWSConfig(endpoint))
}

var nameCounter atomic.Uint64

// maxTestPart bounds the part of a name taken from the test name, keeping the
// whole name below the 256-character limit.
const maxTestPart = 160

// UniqueName returns a secret name unique within the process, built from the
// test name and suffix, such as "TestLoad/with_secret/db_42". Characters
// that secret names do not allow are replaced with '-'. The name never ends
// in a hyphen followed by six characters, which Secrets Manager would confuse
// with an ARN suffix.
func UniqueName(tb testing.TB, suffix string) string {
	tb.Helper()
	name := sanitize(tb.Name())
	if len(name) > maxTestPart {
		name = name[:maxTestPart]
	}
	if s := sanitize(suffix); s != "" {
		if len(s) > 64 {
			s = s[:64]
		}
		name += "/" + s
	}
	return fmt.Sprintf("%s_%d", name, nameCounter.Add(1))
}

// sanitize keeps the characters allowed in a secret name (ASCII letters,
// digits and /_+=.@-) and replaces every other one with '-'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case strings.ContainsRune("/_+=.@-", r):
			return r
		default:
			return '-'
		}
	}, s)
}

// CreateString creates a secret with a string value and returns its ARN. It
// fails the test on error.
func CreateString(tb testing.TB, c *secretsmanager.Client, name, value string) (arn string) {
	tb.Helper()
	return create(tb, c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
}

// CreateBinary creates a secret with a binary value and returns its ARN. It
// fails the test on error.
func CreateBinary(tb testing.TB, c *secretsmanager.Client, name string, value []byte) (arn string) {
	tb.Helper()
	return create(tb, c, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretBinary: value})
}

func create(tb testing.TB, c *secretsmanager.Client, in *secretsmanager.CreateSecretInput) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := c.CreateSecret(ctx, in)
	if err != nil {
		tb.Fatalf("emu: CreateSecret %s: %v", aws.ToString(in.Name), err)
	}
	return aws.ToString(out.ARN)
}

// Rotate stores value as the new AWSCURRENT version of the secret name with
// PutSecretValue and returns the new version's id; the version it replaces
// becomes AWSPREVIOUS. It fails the test on error.
func Rotate(tb testing.TB, c *secretsmanager.Client, name, value string) (versionID string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatalf("emu: PutSecretValue %s: %v", name, err)
	}
	return aws.ToString(out.VersionId)
}
