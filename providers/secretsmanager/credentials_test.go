package secretsmanager_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
)

type credsConfig struct {
	Database struct {
		Password config.Secret
	}
}

// authRecorder is an endpoint that records the Authorization header of every
// request and answers each one with ResourceNotFoundException.
type authRecorder struct {
	mu    sync.Mutex
	auths []string
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.auths = append(a.auths, r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`))
}

func (a *authRecorder) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.auths...)
}

func credsAWSConfig(url string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds}
}

// TestCredentialsHint: without credentials, the error says how the default
// chain finds them, carries *CredentialsError, and no request is sent.
func TestCredentialsHint(t *testing.T) {
	t.Parallel()
	rec := &authRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	chainErr := errors.New("no EC2 IMDS role found")
	failing := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, chainErr
	}))
	layer := secretsmanager.New(credsAWSConfig(srv.URL, failing), nil, secretsmanager.JSON("my-app/db", "database", nil))
	_, err := config.Load[credsConfig](context.Background(), nil, layer)
	if err == nil {
		t.Fatal("Load without credentials succeeded")
	}
	var ce *secretsmanager.CredentialsError
	var se *config.SourceError
	if !errors.As(err, &ce) || !errors.As(err, &se) || !errors.Is(err, chainErr) {
		t.Fatalf("error %v: want a *config.SourceError with a *secretsmanager.CredentialsError wrapping the chain's error", err)
	}
	for _, want := range []string{"my-app/db", "no AWS credentials", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "IAM role", "dummy keys", "no EC2 IMDS role found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests reached Secrets Manager without credentials", n)
	}
	if errors.Is(err, config.ErrNotFound) || config.IsTransient(err) {
		t.Errorf("a credentials failure is reported as not found or transient: %v", err)
	}
}

// TestCredentialsHintKeepsSigning: the wrapper passes working credentials
// through (requests are signed with them), leaves anonymous clients unsigned,
// and a failure of Secrets Manager itself is not a credentials failure.
func TestCredentialsHintKeepsSigning(t *testing.T) {
	t.Parallel()
	rec := &authRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	static := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local", Source: "test"}, nil
	}))
	_, err := config.Load[credsConfig](context.Background(), nil,
		secretsmanager.New(credsAWSConfig(srv.URL, static), nil, secretsmanager.JSON("my-app/db", "database", nil)))
	var ce *secretsmanager.CredentialsError
	if !errors.Is(err, config.ErrNotFound) || errors.As(err, &ce) || strings.Contains(err.Error(), "no AWS credentials") {
		t.Errorf("a secret that does not exist: %v", err)
	}
	auths := rec.requests()
	if len(auths) == 0 || !strings.Contains(auths[0], "Credential=AKIDLOCAL/") {
		t.Errorf("requests were not signed with the credentials: %q", auths)
	}

	client := sm.NewFromConfig(credsAWSConfig(srv.URL, aws.AnonymousCredentials{}), secretsmanager.WithCredentialsHint)
	before := len(rec.requests())
	_, err = config.Load[credsConfig](context.Background(), nil, secretsmanager.NewWithClient(client, nil, secretsmanager.JSON("my-app/db", "database", nil)))
	if !errors.Is(err, config.ErrNotFound) {
		t.Errorf("anonymous client: %v", err)
	}
	if auths := rec.requests(); len(auths) <= before || auths[before] != "" {
		t.Errorf("anonymous client: requests %q, want unsigned ones", auths[before:])
	}
}

// TestCredentialsHintCanceled: a retrieval given up because the caller
// canceled is not reported as missing credentials.
func TestCredentialsHintCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	blocking := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		cancel()
		<-ctx.Done()
		return aws.Credentials{}, ctx.Err()
	}))
	_, err := config.Load[credsConfig](ctx, nil,
		secretsmanager.New(credsAWSConfig("http://127.0.0.1:1", blocking), nil, secretsmanager.JSON("my-app/db", "database", nil)))
	var ce *secretsmanager.CredentialsError
	if err == nil || errors.As(err, &ce) || strings.Contains(err.Error(), "no AWS credentials") {
		t.Errorf("canceled load: %v", err)
	}
}
