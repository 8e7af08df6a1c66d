package ssm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
)

// Each AWS failure maps to a sentinel, with a message that says what to do:
// the missing IAM action, the KMS key, the quota.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		err     error
		code    error
		message string
	}{
		{"iam", apiErr("AccessDeniedException", "User: arn:aws:iam::1:role/app is not authorized to perform: ssm:GetParametersByPath on resource: arn:aws:ssm:us-east-1:1:parameter/my-app/production"),
			config.ErrAccessDenied, "missing IAM permission ssm:GetParametersByPath on \"/my-app/production\" (arn:aws:ssm:REGION:ACCOUNT:parameter/my-app/production)"},
		{"kms denied", apiErr("AccessDeniedException", "User: arn:aws:iam::1:role/app is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/k"),
			config.ErrDecryption, "allow kms:Decrypt"},
		{"kms ciphertext", apiErr("AccessDeniedException", "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access."),
			config.ErrDecryption, "allow kms:Decrypt"},
		{"kms key id", apiErr("InvalidKeyId", "disabled"), config.ErrDecryption, "is not valid"},
		{"throttled", apiErr("ThrottlingException", "Rate exceeded"), config.ErrThrottled, "40 a second"},
		{"internal", apiErr("InternalServerError", "boom"), config.ErrTransient, "internal error"},
		{"expired", apiErr("ExpiredTokenException", "expired"), config.ErrCredentials, "renew them"},
		{"refused request", apiErr("ValidationException", "1 validation error detected"), config.ErrLayer, "refused GetParametersByPath for /my-app/production as invalid (ValidationException)"},
		{"bad filter", apiErr("InvalidFilterKey", "bad key"), config.ErrLayer, "fix the spec"},
		{"stale token", apiErr("InvalidNextToken", "The specified token isn't valid"), config.ErrTransient, "InvalidNextToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := newFake()
			api.put(root+"/database/host", types.ParameterTypeSecureString, canary)
			api.fail[root] = c.err
			l, _, err := first(t, api, nil, Path(root, "", nil))
			if !errors.Is(err, c.code) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want %v with %q", err, c.code, c.message)
			}
			if n := l.Calls()[OpGetParametersByPath]; n.Error != 1 || n.OK != 0 || l.LayerStatus().Calls[OpGetParametersByPath] != n {
				t.Errorf("calls = %v, want the failed call counted once", n)
			}
			if config.IsTransient(err) != (c.code == config.ErrTransient || c.code == config.ErrThrottled) {
				t.Errorf("IsTransient = %v for %v", config.IsTransient(err), err)
			}
			noCanary(t, err)
		})
	}
}

// By name, a missing parameter is ErrNotFound unless Optional; an empty path
// too. A denied DescribeParameters names its action.
func TestMissingAndOptional(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/host", types.ParameterTypeString, "db")
	_, _, err := first(t, api, nil, Parameter("/nope", "database.port", nil), Path("/empty", "", nil))
	if !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), `no parameter "/nope"`) || !strings.Contains(err.Error(), "no parameter under /empty") {
		t.Errorf("err = %v", err)
	}
	opt := &SpecOptions{Optional: true}
	l, u, err := first(t, api, nil, Parameter("/nope", "database.port", opt), Path("/empty", "", opt), Path(root, "", nil))
	if err != nil {
		t.Fatalf("optional: %v", err)
	}
	api.fail[root] = apiErr("AccessDeniedException", "not authorized to perform: ssm:DescribeParameters")
	_, err = l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !errors.Is(err, config.ErrAccessDenied) || !strings.Contains(err.Error(), "ssm:DescribeParameters") {
		t.Errorf("refresh: %v", err)
	}
}

// An answer that cannot be used is ErrMalformed and never a value: the
// parameter keeps the value it had.
func TestMalformedAnswers(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/host", types.ParameterTypeString, "db")
	api.put(root+"/database/port", types.ParameterTypeString, "5432")
	l, u, err := first(t, api, nil, Path(root, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db2")
	api.broken[root+"/database/host"] = canary
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !errors.Is(err, config.ErrMalformed) || u2.Changed {
		t.Errorf("broken type: changed %v, %v", u2.Changed, err)
	}
	noCanary(t, err)
	delete(api.broken, root+"/database/host")
	api.noVersion[root+"/database/port"] = true
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !errors.Is(err, config.ErrMalformed) || !u3.Changed || u3.Values["database.host"].Raw != "db2" || u3.Values["database.port"].Raw != "5432" {
		t.Errorf("no version: %v %v", u3.Values, err)
	}
}

type panicAPI struct{ API }

func (panicAPI) GetParametersByPath(context.Context, *awsssm.GetParametersByPathInput, ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error) {
	panic(canary)
}

// A nil client, a client that panics, a foreign State and a zero Spec are
// ErrLayer errors; a done ctx sends nothing.
func TestUnusable(t *testing.T) {
	t.Parallel()
	s := schemaOf(t)
	if _, err := NewWithClient(nil, nil, Path(root, "", nil)).Load(t.Context(), s); !errors.Is(err, config.ErrLayer) {
		t.Errorf("nil client: %v", err)
	}
	var nilClient *awsssm.Client
	if _, err := NewWithClient(nilClient, nil, Path(root, "", nil)).Load(t.Context(), s); !errors.Is(err, config.ErrLayer) {
		t.Errorf("nil pointer client: %v", err)
	}
	_, err := NewWithClient(panicAPI{newFake()}, nil, Path(root, "", nil)).Load(t.Context(), s)
	if !errors.Is(err, config.ErrLayer) || strings.Contains(err.Error(), canary) {
		t.Errorf("panic: %v", err)
	}
	l := NewWithClient(newFake(), nil, Path(root, "", nil))
	if _, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: "x"}); !errors.Is(err, config.ErrLayer) {
		t.Errorf("foreign state: %v", err)
	}
	for _, bad := range []Spec{{}, Path("relative", "", nil), Parameter("/x", "", nil), Names(root, "", []string{"/other/x"}, nil)} {
		if _, err := NewWithClient(newFake(), nil, bad).Load(t.Context(), s); !errors.Is(err, config.ErrLayer) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	api := newFake()
	if _, err := NewWithClient(api, nil, Path(root, "", nil)).Load(ctx, s); !errors.Is(err, context.Canceled) || api.count(OpGetParametersByPath) != 0 {
		t.Errorf("done ctx: %v, %d calls", err, api.count(OpGetParametersByPath))
	}
}

// A path that never could be read, and still cannot, is no change: the
// store does not rebuild at each failing refresh.
func TestFailingPathIsNoChange(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put("/a/database/host", types.ParameterTypeString, "db.internal")
	api.put("/b/database/port", types.ParameterTypeString, "5432")
	api.fail["/b"] = apiErr("InternalServerError", "boom")
	l, u, err := first(t, api, nil, Path("/a", "", nil), Path("/b", "", nil))
	if !config.IsTransient(err) || u.Values["database.host"].Raw != "db.internal" {
		t.Fatalf("first read: %v", err)
	}
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if u2.Changed || !config.IsTransient(err) {
		t.Errorf("still failing: changed %v, %v", u2.Changed, err)
	}
	delete(api.fail, "/b")
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if err != nil || !u3.Changed || u3.Values["database.port"].Raw != "5432" {
		t.Errorf("recovered: changed %v, %v", u3.Changed, err)
	}
}

// A call whose credentials cannot be retrieved is ErrCredentials, with the
// provider's reason and where the default chain looks; nothing is sent.
func TestNoCredentials(t *testing.T) {
	t.Parallel()
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no EC2 IMDS role found")
		})}
	l := New(cfg, nil, Path(root, "", nil))
	_, err := l.Load(t.Context(), schemaOf(t))
	if !errors.Is(err, config.ErrCredentials) || !strings.Contains(err.Error(), "no EC2 IMDS role found") || !strings.Contains(err.Error(), "AWS_PROFILE") {
		t.Errorf("err = %v", err)
	}
	if config.IsTransient(err) {
		t.Errorf("missing credentials are not transient: %v", err)
	}
}

// A name Parameter Store would refuse is an ErrLayer error before any call.
func TestInvalidNames(t *testing.T) {
	t.Parallel()
	for _, s := range []Spec{Parameter("/my app/x", "database.host", nil), Path("/a b", "", nil), Names("/a", "", []string{"b c"}, nil)} {
		api := newFake()
		_, err := NewWithClient(api, nil, s).Load(t.Context(), schemaOf(t))
		if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "only letters, digits and _.-/") || api.count(OpGetParameters)+api.count(OpGetParametersByPath) != 0 {
			t.Errorf("%s: %v", s, err)
		}
	}
}
