package ssm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
)

// LayerName is the layer's name in sources and messages.
const LayerName = "ssm"

// Defaults of Options.
const (
	DefaultConcurrency = 4
	DefaultTimeout     = 5 * time.Second
	DefaultMaxPages    = 100
)

// Throughput is the Parameter Store throughput setting of the account and
// Region, which decides the price and the request quota of the API calls in
// CostModel. It does not change what the layer sends.
type Throughput int

const (
	// StandardThroughput is the default setting: API calls are free, and
	// GetParameter, GetParameters and GetParametersByPath share a quota of
	// 40 requests a second.
	StandardThroughput Throughput = iota
	// HigherThroughput is the paid setting: $0.05 per 10,000 API
	// interactions, with higher quotas.
	HigherThroughput
)

// String returns "standard" or "higher".
func (t Throughput) String() string {
	if t == HigherThroughput {
		return "higher"
	}
	return "standard"
}

// Options tune a Reader. The zero value (and nil) is valid; each field's
// default is given in its comment.
type Options struct {
	// Concurrency is the most API calls the layer makes at once. Parameter
	// Store's default quota is 40 requests a second for the account and
	// Region, shared by every process: keep it low. Defaults to 4.
	Concurrency int
	// Timeout bounds each API call, the SDK's own retries included.
	// Defaults to 5 seconds.
	Timeout time.Duration
	// MaxPages bounds the pages the layer reads of one path: of
	// GetParametersByPath (10 parameters a page) at the first read, of
	// DescribeParameters (50 a page) at each refresh. A path with more is
	// an error matching config.ErrMalformed. Defaults to 100.
	MaxPages int
	// StrictKeys makes a parameter under a Path whose name maps to no field
	// an error matching config.ErrMalformed, which fails the load whatever
	// the store's options. By default it is a warning: a
	// *config.UnknownNameError joined to the error of Load.
	StrictKeys bool
	// Throughput is the account's Parameter Store throughput setting, for
	// CostModel only. Defaults to StandardThroughput.
	Throughput Throughput
	// Logger receives debug lines about API calls: operation, parameter or
	// path, duration, outcome. Values are never logged. Defaults to
	// discarding.
	Logger *slog.Logger
}

func (o Options) normalize() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Reader is a config.Refresher that reads AWS Systems Manager Parameter
// Store parameters. Create it with New or NewWithClient. A Reader is safe for
// concurrent use by any number of stores: it keeps no state of its own
// between calls beyond its API call counts; what it read is the config.State
// each store keeps.
//
// The layer as a whole is not sensitive (Parameter Store holds plain String
// parameters too): each SecureString value is marked Sensitive, so it may set
// a secret field, and Secret, so it is never shown. A String or StringList
// parameter that sets a secret field breaks the secret policy.
type Reader struct {
	client  API
	sources []Spec
	opts    Options
	log     *slog.Logger
	region  string // for messages and ARNs; may be ""
	where   string // "region eu-west-1" or "region eu-west-1 at http://127.0.0.1:4566"

	calls awscall.Counters
}

var (
	_ config.Layer          = (*Reader)(nil)
	_ config.Refresher      = (*Reader)(nil)
	_ config.StatusReporter = (*Reader)(nil)
)

// New returns a reader of specs with a client built from cfg, as
// awsconfig.LoadDefaultConfig returns it: credentials from the default chain,
// and the endpoint from AWS_ENDPOINT_URL_SSM when it is set. opts may be nil.
//
// A call that fails because no credentials could be retrieved is an error
// matching config.ErrCredentials that says where the SDK's default chain
// looks for them.
func New(cfg aws.Config, opts *Options, specs ...Spec) *Reader {
	return NewWithClient(awsssm.NewFromConfig(cfg, withCredentialsHint), opts, specs...)
}

// withCredentialsHint marks the errors of the client's credentials provider
// with *credentialsError, so that the layer can tell them from the
// service's answers. A client without credentials (anonymous) is left as it
// is.
func withCredentialsHint(o *awsssm.Options) {
	if o.Credentials == nil || aws.IsCredentialsProvider(o.Credentials, (*aws.AnonymousCredentials)(nil)) {
		return
	}
	o.Credentials = hintingCredentials{o.Credentials}
}

// hintingCredentials wraps the errors of a credentials provider in
// *credentialsError. A retrieval given up because the caller canceled is
// not wrapped: it says nothing about the credentials.
type hintingCredentials struct{ aws.CredentialsProvider }

func (p hintingCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		return c, &credentialsError{err: err}
	}
	return c, err
}

// IsCredentialsProvider lets the SDK see through the wrapper.
func (p hintingCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, target)
}

// credentialsError is the error of a credentials provider. Its text is the
// provider's, which says which source failed and holds nothing read from
// Parameter Store.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// NewWithClient returns a reader of specs with client. opts may be nil.
func NewWithClient(client API, opts *Options, specs ...Spec) *Reader {
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.normalize()
	if awscall.IsNil(client) {
		client = nil // reported at the first read
	}
	l := &Reader{client: client, sources: append([]Spec(nil), specs...), opts: o, log: o.Logger, where: awscall.Where("", nil)}
	if c, ok := client.(interface{ Options() awsssm.Options }); ok {
		co := c.Options()
		l.region, l.where = co.Region, awscall.Where(co.Region, co.BaseEndpoint)
	}
	return l
}

// Name returns "ssm".
func (l *Reader) Name() string { return LayerName }

// Sensitive returns false: Parameter Store holds plain String parameters as
// well as SecureStrings. SecureString values are marked Sensitive one by one.
func (l *Reader) Sensitive() bool { return false }

// Specs returns the reader's specs.
func (l *Reader) Specs() []Spec { return append([]Spec(nil), l.sources...) }

// Calls returns the number of API calls made so far, by operation
// (OpGetParameters, OpGetParametersByPath, OpDescribeParameters) and outcome.
// Every operation is present, with zero counts if unused. The SDK's own
// retries inside a call are not counted separately.
func (l *Reader) Calls() map[string]config.CallCount { return l.calls.Snapshot(opNames...) }

// LayerStatus reports the API calls made, as Calls does, for the store's
// Status, which adds the versions it serves.
func (l *Reader) LayerStatus() config.LayerStatus {
	return config.LayerStatus{Name: LayerName, Calls: l.Calls()}
}

// Load reads every spec and returns the values for schema, as the first
// Refresh does. The error joins every problem found.
func (l *Reader) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if u.Values == nil && err == nil {
		return config.Values{}, nil
	}
	return u.Values, err
}

func (l *Reader) checkSources() error {
	var errs []error
	for _, s := range l.sources {
		if err := s.check(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", config.ErrLayer, err)
	}
	return nil
}

// call runs one API call under the per-call timeout, counts it and logs it.
// It is the one place the layer calls its client: a Reader without a client,
// or a ctx already done, fails the call before anything is sent, and a panic
// of the client becomes an error instead of ending the process.
func (l *Reader) call(ctx context.Context, o op, subject slog.Attr, fn func(context.Context, ...func(*awsssm.Options)) error) (err error) {
	if l.client == nil {
		return errNoClient
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	optFns := sdkOptions(ctx)
	cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = &clientPanic{op: o}
		}
		l.calls.Add(o.String(), err)
		awscall.LogCall(ctx, l.log, "ssm: API call", o.String(), subject, start, err)
	}()
	err = fn(cctx, optFns...)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = &timeoutError{budget: l.opts.Timeout, err: err}
	}
	return err
}

// errNoClient is the error of every call of a Reader made without a client.
var errNoClient = errors.New("no API client")

func noClientError() error {
	return fmt.Errorf("%w: ssm: no API client (NewWithClient was given a nil client)", config.ErrLayer)
}

// clientPanic is the error of an API call whose client panicked. The panic's
// value is not kept: it may hold anything the client had at hand.
type clientPanic struct{ op op }

func (e *clientPanic) Error() string {
	return fmt.Sprintf("the API client panicked in %s (panic value withheld)", e.op)
}

// timeoutError is a call cut short by Options.Timeout.
type timeoutError struct {
	budget time.Duration
	err    error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %v (Options.Timeout, the per-call deadline)", e.budget)
}
func (e *timeoutError) Unwrap() error { return e.err }

// singleAttemptKey marks a context whose calls make one request each.
type singleAttemptKey struct{}

// withSingleAttempt returns a context whose API calls are sent once, without
// the SDK's retries: a refresh of values a store serves is retried by the
// store with its own backoff, and SDK retries on top would multiply the
// requests sent during an outage. The first read keeps the SDK's retries, so
// a blip does not fail a service's start.
func withSingleAttempt(ctx context.Context) context.Context {
	return context.WithValue(ctx, singleAttemptKey{}, true)
}

func sdkOptions(ctx context.Context) []func(*awsssm.Options) {
	if ctx.Value(singleAttemptKey{}) == nil {
		return nil
	}
	return []func(*awsssm.Options){func(o *awsssm.Options) { o.RetryMaxAttempts = 1 }}
}
