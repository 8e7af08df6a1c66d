package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// LayerName is the layer's name in sources and messages.
const LayerName = "secretsmanager"

// Defaults of Options.
const (
	DefaultConcurrency = 8
	DefaultTimeout     = 5 * time.Second
)

// Options tune a Reader. The zero value (and nil) is valid; each field's
// default is given in its comment.
type Options struct {
	// Concurrency is the most GetSecretValue and DescribeSecret calls the layer
	// makes at once, and separately the most BatchGetSecretValue calls.
	// Defaults to 8.
	Concurrency int
	// Timeout bounds each API call, the SDK's own retries included. Every call
	// runs under a context with this deadline (or the caller's, if sooner).
	// Defaults to 5 seconds.
	Timeout time.Duration
	// StrictKeys makes a key of a JSON secret (or a secret under a Prefix) that
	// maps to no field an error matching config.ErrMalformed, which fails the
	// load whatever the store's options. By default it is a warning: a
	// *config.UnknownNameError joined to the error of Load, which the store
	// reports without failing (unless config.Options.Strict is set).
	StrictKeys bool
	// Logger receives debug lines about API calls: operation, secret name,
	// duration, outcome. Values are never logged. Defaults to discarding.
	Logger *slog.Logger
	// ListGate chooses how a scheduled refresh checks the versions of
	// secrets named by id: ListGateOff, one DescribeSecret per secret; or
	// ListGateAuto, ListSecrets pages filtered by name when that takes fewer
	// calls (see ListGateAuto for the lag it brings). The default is
	// ListGateAuto with Push (the hourly safety-net poll, 10 times fewer
	// calls for 50 secrets) and ListGateOff without. Any other value is
	// ListGateOff.
	ListGate ListGate
	// Push makes the reader a watching layer (see Reader.Watch): a feed of
	// the Secret Label Updated events of the secrets it reads, built with
	// push.Queue or push.FanOut. A rotation then reaches the store in about
	// a second, and the store polls only at config.Options.WatchInterval
	// (1 hour by default) while the feed is connected, at RefreshInterval
	// while it is not. Defaults to nil: no push, the store polls.
	Push *push.Feed
}

func (o Options) normalize() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Reader is a config.Layer (and config.Refresher) that reads values from AWS
// Secrets Manager. Create it with New or NewWithClient. A Reader is safe for
// concurrent use, by any number of stores: it keeps no state of its own
// between calls beyond its API call counts.
//
// It is called a Reader, not a Layer, because config.Layer is the interface
// it implements.
type Reader struct {
	client  API
	sources []Spec
	opts    Options
	log     *slog.Logger
	region  string // for messages; may be ""
	where   string // "region eu-west-1" or "region eu-west-1 at http://127.0.0.1:4566"

	calls   awscall.Counters
	noBatch atomic.Bool // BatchGetSecretValue was refused for good
	noList  atomic.Bool // ListSecrets was refused for good: the gate is off
	// home is the scope of the client's own secrets,
	// "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:", learned from
	// the ARN of a secret read by name (nil until one is): a fact of the
	// client, the same for every store, not state of one.
	home atomic.Pointer[string]
}

// state is what one read found: the config.State a store keeps for the
// layer. It is never modified once returned.
type state struct {
	secrets map[ref]*secret
	listed  map[string][]listEntry // by prefix
	// left holds, for each source, the last versions it moved away from,
	// newest first (at most maxLeft): a late event, or a read that lags
	// behind, must not bring one back.
	left map[ref][]leftVersion
}

var (
	_ config.Layer          = (*Reader)(nil)
	_ config.Refresher      = (*Reader)(nil)
	_ config.StatusReporter = (*Reader)(nil)
)

// New returns a reader of specs with a client built from cfg, as
// awsconfig.LoadDefaultConfig returns it: credentials from the default chain,
// and the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER when it is set. opts
// may be nil.
func New(cfg aws.Config, opts *Options, specs ...Spec) *Reader {
	return NewWithClient(sm.NewFromConfig(cfg, WithCredentialsHint), opts, specs...)
}

// NewWithClient returns a reader of specs with client. opts may be nil.
func NewWithClient(client API, opts *Options, specs ...Spec) *Reader {
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.normalize()
	if awscall.IsNil(client) {
		// Reported at the first read, as a Reader is built where no error
		// can be returned.
		client = nil
	}
	l := &Reader{
		client:  client,
		sources: append([]Spec(nil), specs...),
		opts:    o,
		log:     o.Logger,
		where:   awscall.Where("", nil),
	}
	if c, ok := client.(interface{ Options() sm.Options }); ok {
		co := c.Options()
		l.region, l.where = co.Region, awscall.Where(co.Region, co.BaseEndpoint)
	}
	return l
}

// Name returns "secretsmanager".
func (l *Reader) Name() string { return LayerName }

// Sensitive returns true: Secrets Manager is a proper home for secrets.
func (l *Reader) Sensitive() bool { return true }

// Specs returns the reader's specs.
func (l *Reader) Specs() []Spec { return append([]Spec(nil), l.sources...) }

// Calls returns the number of API calls made so far, by operation
// (OpBatchGetSecretValue, OpGetSecretValue, OpDescribeSecret, OpListSecrets)
// and outcome. Every operation is present, with zero counts if unused. A
// call is one request as the layer sees it; the SDK's own retries inside it
// are not counted separately.
func (l *Reader) Calls() map[string]config.CallCount { return l.calls.Snapshot(opNames...) }

// versions returns the VersionId read for each secret, keyed by the secret's
// id as the source gave it (or its name, for a secret found under a prefix),
// with "@STAGE" or "@VERSIONID" appended for a source that reads another
// version than AWSCURRENT. A store reports them in Status().Layers.
func (st *state) versions() map[string]string {
	m := make(map[string]string, len(st.secrets))
	for r, s := range st.secrets {
		m[r.label()] = s.versionID
	}
	return m
}

// LayerStatus reports the API calls made, as Calls does, for the store's
// Status, which adds the versions it serves.
func (l *Reader) LayerStatus() config.LayerStatus {
	return config.LayerStatus{Name: LayerName, Calls: l.Calls()}
}

// Load reads every spec and returns the values for schema. The error joins
// every problem found: a *config.SourceError for each secret that could not
// be read or used, and a *config.UnknownNameError warning for each key that
// maps to no field (an error instead with Options.StrictKeys); a key of a
// secret's content is never shown, the warning names the secret. Values that
// could be read are returned even when there are errors. A Reader without a
// client fails with config.ErrLayer, and nothing is sent on a done ctx.
func (l *Reader) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	r, err := l.read(ctx, schema)
	if err != nil {
		return nil, err
	}
	return r.m.values, joinErrs(l.withKeys(r.errs), l.withKeys(r.m.errs), r.m.warns)
}

// readResult is the outcome of reading every spec.
type readResult struct {
	state *state
	m     *mapper
	errs  []error // listing and fetch errors
}

// read lists prefixes, fetches every secret once and maps the values. The
// error is for specs that cannot be read at all (a zero Spec).
func (l *Reader) read(ctx context.Context, schema *config.Schema) (*readResult, error) {
	if err := l.checkSources(); err != nil {
		return nil, err
	}
	if l.client == nil {
		return nil, noClientError()
	}
	m := newMapper(schema, l.opts.StrictKeys)
	listed, errs := l.listAll(ctx)
	bindings := l.bind(schema, listed, m)
	got, ferrs := l.fetch(ctx, uniqueRefs(bindings))
	errs = append(errs, ferrs...)
	for _, b := range bindings {
		if s, ok := got[b.ref]; ok {
			m.bind(b, s)
		}
	}
	return &readResult{state: &state{secrets: got, listed: listed}, m: m, errs: errs}, nil
}

func (l *Reader) checkSources() error {
	var errs []error
	for _, s := range l.sources {
		if err := s.check(); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrs(errs)
}

// bind lists where each secret's values go, in source order. A secret found
// under a prefix whose path maps to no field or section is reported through m
// and not fetched.
func (l *Reader) bind(schema *config.Schema, listed map[string][]listEntry, m *mapper) []binding {
	var out []binding
	for _, src := range l.sources {
		if src.kind != kindPrefix {
			out = append(out, binding{kind: src.kind, ref: src.ref(src.id), key: src.key})
			continue
		}
		for _, e := range listed[src.id] {
			path, ok := underPrefix(e.name, src.id)
			if !ok {
				continue
			}
			if schema != nil && path != "" && schema.Field(path) == nil && !schema.IsSection(path) {
				m.unknownSecret("", path, config.Source{Layer: LayerName, Location: e.name})
				continue
			}
			out = append(out, binding{kind: kindPrefix, ref: src.ref(e.name), key: path})
		}
	}
	return out
}

// uniqueRefs returns each ref of bindings once, in order.
func uniqueRefs(bs []binding) []ref {
	seen := map[ref]bool{}
	var out []ref
	for _, b := range bs {
		if !seen[b.ref] {
			seen[b.ref] = true
			out = append(out, b.ref)
		}
	}
	return out
}

// call runs one API call under the per-call timeout, counts it and logs it.
// It is the one place the layer calls its client, so it holds the checks every
// call needs: a Reader without a client, or a ctx already done, fails the call
// before anything is sent (ctx's error then goes through the normal error
// mapping, as a call the SDK cut short would), and a panic of the client
// becomes an error (see clientPanic) instead of ending the process from one of
// the layer's goroutines.
func (l *Reader) call(ctx context.Context, o op, subject slog.Attr, fn func(context.Context) error) (err error) {
	if l.client == nil {
		return errNoClient
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = &clientPanic{op: o}
		}
		l.calls.Add(o.String(), err)
		awscall.LogCall(ctx, l.log, "secretsmanager: API call", o.String(), subject, start, err)
	}()
	return fn(cctx)
}

// errNoClient is the error of every call of a Reader made without a client.
var errNoClient = errors.New("no API client")

// noClientError is the error of a read by a Reader made without a client.
func noClientError() error {
	return fmt.Errorf("%w: secretsmanager: no API client (NewWithClient was given a nil client)", config.ErrLayer)
}

// clientPanic is the error of an API call whose client panicked. The panic's
// value is not kept: it may hold anything the client had at hand, a secret
// included.
type clientPanic struct{ op op }

func (e *clientPanic) Error() string {
	return fmt.Sprintf("the API client panicked in %s (panic value withheld)", e.op)
}
