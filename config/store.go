package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"
)

// Options tunes Load. The zero value is valid; each field's comment gives its
// default.
type Options struct {
	// EnvPrefix is put before every environment name derived from the schema:
	// with "APP_", server.read_timeout is APP_SERVER_READ_TIMEOUT. Default: none.
	EnvPrefix string
	// Strict makes unknown names (a typo such as APP_DATABSE_HOST, or a JSON
	// secret key that maps to no field) errors instead of warnings.
	Strict bool
	// Production makes a secret field set by a layer that is not sensitive (a
	// default, .env or a plain environment variable) an error instead of a warning.
	Production bool
	// Logger receives warnings and refresh events. Values of secret fields are
	// never logged. Default: slog.Default().
	Logger *slog.Logger
	// FingerprintKey keys the fingerprints of secrets shown by Explain, Keys
	// and Masked (see FingerprintWithKey). Give every environment you compare
	// the same key and keep it secret, so that a fingerprint in a log cannot be
	// checked against guesses of a weak secret. Default: a fixed public key,
	// with which fingerprints still compare across processes.
	FingerprintKey []byte
	// Validator checks the validate tags; pass one to use custom rules
	// registered with RegisterValidation, preferably made by NewValidator.
	// Load never modifies it, so stores may share it; register every custom
	// rule before the first Load. Default: NewValidator().
	Validator *validator.Validate

	// RefreshInterval is the TTL of refreshable layers such as Secrets Manager:
	// each is checked this often, jittered by ±10 % so a fleet does not call in
	// lockstep. Default: 5 minutes (or an explicit MinRefreshInterval above
	// that). It is unused when no layer is refreshable.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between the starts of two reads
	// of the refreshable layers, whoever asks (the schedule, lazy mode,
	// Refresh): it protects the provider from Refresh storms. A Refresh within
	// it of the last read waits until it has passed. Default: 5 seconds or
	// RefreshInterval, whichever is shorter; set above an explicit
	// RefreshInterval, Load fails with ErrOptions.
	MinRefreshInterval time.Duration
	// WatchInterval replaces RefreshInterval while every layer that watches
	// its sources (see Watcher) reports itself connected: the poll is then a
	// safety net behind the events, and rare. Default: 1 hour.
	WatchInterval time.Duration
	// RetryBackoff is the first wait after a transient refresh failure; each
	// further failure in a row doubles it (±10 %) until it reaches
	// RefreshInterval, after which retries come at the TTL ±10 %: a long
	// outage costs about as many attempts as health. Default: 1 second.
	RetryBackoff time.Duration
	// RefreshTimeout bounds one refresh of all layers: the context given to
	// each layer's Refresh ends then. A layer that has not returned 100 ms
	// (real time) after its context ended, at Load or in a refresh, is
	// abandoned: the attempt fails with a transient error naming the layer and
	// the deadline, counted in Status().Failures and retried with backoff;
	// Status is unhealthy, and the store does not call that layer again
	// (each attempt reports it as still not returned) until the abandoned call
	// returns, so a store never runs two calls of one layer at once. The
	// abandoned call keeps its goroutine until it returns. Default: 30 seconds.
	RefreshTimeout time.Duration
	// MaxStaleness, when set, makes Status unhealthy once the last successful
	// refresh is older than this. Default: 0 (no limit).
	MaxStaleness time.Duration
	// Lazy runs no background goroutine: a Get that finds a read due by the
	// schedule (RefreshInterval ±10 % after the last, or a retry after a
	// transient failure) starts one read in the background and returns the
	// current snapshot at once (stale-while-revalidate). Use it on AWS Lambda,
	// where the runtime freezes goroutines between invocations.
	Lazy bool
	// abandonGrace replaces abandonGrace for the tests of this package that
	// check what a layer returned after its context ended: on a busy machine
	// the layer's goroutine may take longer than 100 ms to run at all.
	abandonGrace time.Duration

	// Clock supplies time to the refresh schedule; tests inject a fake one
	// (configtest.Clock). A Clock that also has a method
	// At(time.Time) <-chan time.Time is given each timer's deadline instead
	// of a duration, so that a fake clock advanced while the store sets a
	// timer cannot make it fire late; one with Stop(<-chan time.Time) bool is
	// told of each timer the store stops waiting on. Default: the system clock.
	Clock Clock
}

// Clock is the source of time of a store's refresh schedule.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// atClock is a Clock that fires at a deadline, as configtest.Clock does.
type atClock interface {
	At(t time.Time) <-chan time.Time
}

// timerAt returns a channel that receives once the clock reaches at; now is
// the time of the clock at was computed from. With a Clock that has At the
// deadline is exact, since the clock may have moved on since now.
func (s *Store[T]) timerAt(at, now time.Time) <-chan time.Time {
	if c, ok := s.clock.(atClock); ok {
		return c.At(at)
	}
	return s.clock.After(at.Sub(now))
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Store holds the current configuration snapshot of type T and, when a layer is
// refreshable, keeps it up to date. All methods are safe for concurrent use.
type Store[T any] struct {
	snap atomic.Pointer[snapshot[T]]
	// direct is set by Load for a store that is not lazy: Get then only
	// loads snap.
	direct bool
	lazy   bool

	schema    *Schema
	layers    []Layer
	opts      Options
	validator *validator.Validate
	foreign   bool // validator is Options.Validator, which Strata's types are not registered on
	log       *slog.Logger
	clock     Clock

	meta []layerMeta // what each layer said of itself at Load
	// stuck holds, for each layer, the call the store abandoned and that has
	// not returned yet (see callLayer); guarded by mu.
	stuck []*abandoned
	stop  <-chan struct{} // closed by Close: abandon layer calls at once

	// refresh state, see refresh.go
	nextCheck     atomic.Int64 // lazy mode: unix nanoseconds when Get starts the next read
	mu            sync.Mutex
	st            refreshState     // what the published snapshot was built from, and Status
	sched         schedule         // when the next read is due
	pending       *refreshCall     // the next read, waited on and not started yet
	inflight      *refreshCall     // the read running
	pendingWatch  *refreshCall     // the next read a watch caused, of the layers it names; see watch.go
	lastWatchRead time.Time        // when the last read a watch caused started
	arm           *armed           // the timer that starts a pending read once it may; see armLocked
	loopAt        time.Time        // when the loop's timer fires; zero when it does not wait on one
	loopTimer     <-chan time.Time // the loop's timer while loopAt is set
	resched       chan struct{}    // wakes the loop when the next read moved earlier than its timer
	joined        chan struct{}    // closed and replaced when a Refresh joins a read
	watches       []*watchState    // for each layer that is a Watcher, its watch; see watch.go
	subs          map[int]*subscriber[T]
	live          map[*subscriber[T]]bool // subscribers whose goroutine has not exited
	nextSub       int
	closed        bool
	ctx           context.Context
	cancel        context.CancelFunc
	wg            sync.WaitGroup // the loop and the reads; not subscribers
}

// snapshot is one published configuration. It is never modified after it is
// stored in Store.snap.
type snapshot[T any] struct {
	cfg      T      // first, so Get returns its address without an offset
	values   []slot // the merged value of each field, by position in the schema
	warnings []error
}

// Load reads every layer in order after the defaults from struct tags, merges
// them key by key (a later layer wins), decodes the result strictly into a new
// T, validates it and returns a store holding it.
//
// The error lists every problem at once (see AggregateError): values that do
// not decode, rules that fail, unknown names (with Options.Strict), secrets set
// by non-sensitive layers (with Options.Production), and layers that could not
// be read. It never contains the value of a secret field. A nil ctx is an
// ErrOptions error, as it is for Store.Refresh.
//
// When a layer is refreshable (see Refresher), the store refreshes it in the
// background until Close; see Options.RefreshInterval and Options.Lazy.
func Load[T any](ctx context.Context, opts *Options, layers ...Layer) (*Store[T], error) {
	if ctx == nil {
		return nil, &AggregateError{Errs: []error{errNilContext}}
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.setDefaults(); err != nil {
		return nil, &AggregateError{Errs: []error{err}}
	}
	schema, err := schemaOf(reflect.TypeFor[T](), o.EnvPrefix)
	if err != nil {
		return nil, &AggregateError{Errs: flattenErrors(nil, err)}
	}
	s := &Store[T]{schema: schema, layers: layers, opts: o, validator: schema.validator, log: o.Logger, clock: o.Clock,
		resched: make(chan struct{}, 1), joined: make(chan struct{})}
	if o.Validator != nil {
		// The caller's validator is never modified: it may be shared with
		// other stores, and the validator is not safe to change while in use.
		s.validator, s.foreign = o.Validator, true
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	start := s.clock.Now()
	st, unusable := s.readAll(ctx)
	snap, err := s.build(st.cache, slices.Concat(append([][]error{unusable}, st.cacheWarn...)...))
	if err != nil {
		if agg, ok := err.(*AggregateError); ok {
			s.logWarnings(ctx, agg.Warnings)
		}
		return nil, err
	}
	s.logWarnings(ctx, snap.warnings)
	s.snap.Store(snap)
	now := s.clock.Now()
	st.status = Status{Healthy: true, LastSuccess: now, LastAttempt: start, LastChange: now,
		Warnings: slices.Clone(snap.warnings)}
	s.st = st
	s.sched = newSchedule(s.opts, start)
	s.nextCheck.Store(s.sched.next.UnixNano())
	s.start()
	return s, nil
}

// readAll reads every layer for the first time. It returns the state of the
// values read and the layers that cannot be used.
func (s *Store[T]) readAll(ctx context.Context) (refreshState, []error) {
	n := len(s.layers)
	st := refreshState{cache: make([]Values, n), cacheWarn: make([][]error, n), states: make([]State, n),
		versions: make([]map[string]string, n), rejectedBy: map[int]error{}, rejectedVals: map[int]Values{}}
	s.meta = make([]layerMeta, n)
	s.stuck = make([]*abandoned, n)
	var unusable []error
	for i, l := range s.layers {
		m, err := inspectLayer(i, l)
		s.meta[i] = m
		if err != nil {
			unusable = append(unusable, err)
			continue
		}
		u, err := s.loadLayer(ctx, i, callerDeadline("Load"))
		st.cache[i], st.states[i], st.versions[i] = u.Values, u.State, u.Versions
		st.cacheWarn[i] = flattenErrors(nil, err)
	}
	return st, unusable
}

func (s *Store[T]) logWarnings(ctx context.Context, warnings []error) {
	if len(warnings) == 0 || !s.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	for _, w := range warnings {
		s.log.Warn("config: "+w.Error(), "problem", warningKind(w))
	}
}

// errNotLoaded is what a Store that Load did not return (a nil pointer, or a
// zero Store) answers: it holds no configuration and behaves as closed.
var errNotLoaded = fmt.Errorf("%w: the store was not returned by Load", ErrClosed)

// errNilContext is the error of Load and Refresh given a nil context.
var errNilContext = fmt.Errorf("%w: nil context; use context.Background() or context.TODO()", ErrOptions)

// current returns the published snapshot, or nil when s was not returned by
// Load (a nil pointer or a zero Store).
func (s *Store[T]) current() *snapshot[T] {
	if s == nil || s.schema == nil { // Load always sets the schema
		return nil
	}
	return s.snap.Load()
}

// Get returns the current configuration. It is one atomic load, never nil, and
// the value it points to is never modified: treat it as read-only. Call Get
// each time a value is needed rather than keeping the pointer, to see refreshes.
//
// A Store that Load did not return holds no configuration: on a zero Store
// Get returns a zero T (on a nil *Store it panics, as a method that reads its
// receiver does: the check would keep Get from being inlined), Status is
// unhealthy with an error that matches ErrClosed, Refresh returns it, and
// every other method describes an empty configuration.
func (s *Store[T]) Get() *T {
	if !s.direct {
		s.prepareGet()
	}
	return &s.snap.Load().cfg // small enough to be inlined at the caller
}

// prepareGet runs before Get's load on a store that Load did not make
// direct: in lazy mode it starts a read when one is due; on a Store that
// Load did not return it publishes a zero configuration for Get to return.
func (s *Store[T]) prepareGet() {
	if s.lazy {
		s.revalidate()
		return
	}
	if s.current() == nil {
		s.snap.CompareAndSwap(nil, new(snapshot[T]))
	}
}

// Schema returns the schema the store was built with (nil for a Store that
// Load did not return).
func (s *Store[T]) Schema() *Schema {
	if s.current() == nil {
		return nil
	}
	return s.schema
}

// Warnings returns the problems of the current snapshot that did not stop it:
// unknown names and secret-policy findings (unless Options made them errors).
func (s *Store[T]) Warnings() []error {
	snap := s.current()
	if snap == nil {
		return nil
	}
	return append([]error(nil), snap.warnings...)
}

// build merges layer values over the defaults, decodes and validates a new
// snapshot. layerErrs are the problems the layers reported while reading.
func (s *Store[T]) build(layers []Values, layerErrs []error) (*snapshot[T], error) {
	schema := s.schema
	var problems []error
	warnings := schema.Warnings() // struct tags of other libraries
	for _, err := range layerErrs {
		if isLayerWarning(err) && !s.opts.Strict {
			warnings = append(warnings, err)
			continue
		}
		problems = append(problems, err)
	}
	problems = groupSourceErrors(problems)
	merged, mergeProblems := s.merge(layers)
	problems = append(problems, mergeProblems...)
	for i, f := range schema.fields {
		if !merged[i].exposed {
			continue
		}
		e := &FieldError{Key: f.Key, Env: f.Env, Source: merged[i].Source, secret: true,
			Message: "is a secret but was set by a layer that is not sensitive; move it to a secret store", Err: ErrSecretPolicy}
		if s.opts.Production {
			problems = append(problems, e)
		} else {
			warnings = append(warnings, e)
		}
	}

	snap := &snapshot[T]{values: merged}
	root := reflect.ValueOf(&snap.cfg).Elem()
	failed := map[string]bool{} // keys that did not decode; their rules are not checked
	for i, f := range schema.fields {
		v := merged[i]
		if !v.set {
			continue
		}
		if err := decodeField(f, root.FieldByIndex(f.index), v.Raw); err != nil {
			failed[f.Key] = true
			problems = append(problems, decodeError(f, v, err))
		}
	}
	sources := failedSources(problems)
	for _, err := range schema.validateWith(s.validator, s.foreign, &snap.cfg, merged) {
		fe, ok := err.(*FieldError)
		if ok && (failed[fe.Key] || sources.explain(schema, merged, fe)) {
			continue
		}
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		linkTypos(problems, warnings)
		return nil, &AggregateError{Errs: problems, Warnings: warnings}
	}
	snap.warnings = warnings
	return snap, nil
}

// merge copies the defaults, then writes each layer's values over them key by
// key, into one slot per field.
func (s *Store[T]) merge(layers []Values) ([]slot, []error) {
	schema := s.schema
	var problems []error
	merged := slices.Clone(schema.slots)
	for i, vals := range layers {
		sensitive := s.meta[i].sensitive
		for k, v := range vals {
			f := schema.byKey[k]
			if f == nil {
				problems = append(problems, s.noFieldError(i, k))
				continue
			}
			if v.Source.Layer == "" {
				// The layer gave no source: the value is still set, by it.
				v.Source.Layer = s.meta[i].name
			}
			home := sensitive || v.Sensitive // a proper home for a secret: the layer or this value
			merged[f.pos] = slot{Value: v, set: true, sensitive: home, exposed: f.Secret && !home}
		}
	}
	return merged, problems
}

// noFieldError is the problem of a layer that returned a key that is no field.
// The key of a sensitive layer may be secret text, so it is not shown.
func (s *Store[T]) noFieldError(i int, key string) error {
	m := s.meta[i]
	if !m.sensitive {
		return fmt.Errorf("%s returned the key %q, which is no field", m.label, key)
	}
	msg := m.label + " returned a key that is no field (the layer is sensitive, so the key is not shown)"
	if u := s.schema.UnknownSecretKey(key, Source{Layer: m.name}); u.Suggestion != "" {
		msg += "; did you mean " + u.Suggestion + "?"
	}
	return errors.New(msg)
}

// linkTypos adds to each unset required field the unknown name that is
// probably its misspelling, such as APP_DATABSE_HOST for database.host.
func linkTypos(problems, warnings []error) {
	for _, p := range problems {
		fe, ok := p.(*FieldError)
		if !ok || !strings.HasPrefix(fe.Rule, "required") || fe.Source.Layer != "" {
			continue
		}
		for _, w := range warnings {
			var u *UnknownNameError
			if errors.As(w, &u) && u.Suggestion != "" && (u.Suggestion == fe.Env || u.Suggestion == fe.Key) {
				name := u.Name
				if name == "" { // a key of a secret, which is never shown
					name = "a key of " + u.Source.String()
				}
				fe.Message += fmt.Sprintf("; %s is set, which may be a misspelling of %s", name, u.Suggestion)
			}
		}
	}
}

// groupSourceErrors reports sources of one layer that failed the same way
// (25 secrets that timed out, every secret of an expired token) as one
// *SourceError naming them all, in the place of the first.
func groupSourceErrors(problems []error) []error {
	type sig struct{ layer, code, msg, cause string }
	groups := map[sig][]*SourceError{}
	var order []sig
	for _, p := range problems {
		if se, ok := p.(*SourceError); ok && se.Source != "" {
			k := sig{se.Layer, errText(se.Code), se.Message, errText(se.Err)}
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], se)
		}
	}
	if !slices.ContainsFunc(order, func(k sig) bool { return len(groups[k]) > 1 }) {
		return problems
	}
	out := make([]error, 0, len(problems))
	for _, p := range problems {
		se, ok := p.(*SourceError)
		if !ok || se.Source == "" {
			out = append(out, p)
			continue
		}
		k := sig{se.Layer, errText(se.Code), se.Message, errText(se.Err)}
		g := groups[k]
		switch {
		case len(g) == 1:
			out = append(out, se)
		case g[0] == se:
			out = append(out, mergeSourceErrors(g))
		}
	}
	return out
}

// mergeSourceErrors is one *SourceError for sources that failed alike: it
// names up to five of them and covers the keys of all.
func mergeSourceErrors(g []*SourceError) *SourceError {
	m := *g[0]
	names := make([]string, 0, len(g))
	for _, se := range g {
		names = append(names, se.Source)
		for _, k := range se.Keys {
			if !slices.Contains(m.Keys, k) {
				m.Keys = append(slices.Clip(m.Keys), k)
			}
		}
	}
	const shown = 5
	m.Source = strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		m.Source += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return &m
}

// sourceFailures are the sources that could not be read, with the keys they
// would have set.
type sourceFailures []*SourceError

// failedSources replaces each *SourceError of problems that knows its keys by
// a copy that can list the fields it left unset, and returns the copies.
func failedSources(problems []error) sourceFailures {
	var out sourceFailures
	for i, p := range problems {
		if se, ok := p.(*SourceError); ok && len(se.Keys) > 0 {
			c := *se
			c.unset = nil
			problems[i] = &c
			out = append(out, &c)
		}
	}
	return out
}

// explain reports whether a failed rule of an unset field is explained by a
// source that failed and would have set it; it then records the field on that
// source's error, so the failure is said once.
func (fs sourceFailures) explain(schema *Schema, merged []slot, fe *FieldError) bool {
	f := schema.byKey[fe.Key]
	if f == nil || merged[f.pos].set {
		return false
	}
	for _, se := range fs {
		if se.covers(f.Key) {
			if !slices.Contains(se.unset, f.Key) {
				se.unset = append(se.unset, f.Key)
			}
			return true
		}
	}
	return false
}

// slot is the merged value of one field. set is false when neither a default
// nor a layer gave one; exposed marks a secret whose value came from a layer
// that is not sensitive.
type slot struct {
	Value
	set, exposed bool
	sensitive    bool // set by a sensitive layer, or a value its layer marked Sensitive
}

// decodeError describes a value that did not decode. It shows the offending
// value, quoted and shortened, only for a field that is not secret and a value
// that did not come from a sensitive layer (a JSON secret whose keys are
// shifted would otherwise put secret text in the message).
func decodeError(f *Field, v slot, cause error) *FieldError {
	msg := "has an invalid value"
	if !f.Secret && !v.sensitive && !v.Secret {
		if s, ok := v.Raw.(string); ok {
			if len(s) > 40 {
				s = s[:37] + "..."
			}
			msg = fmt.Sprintf("has an invalid value %q", s)
		}
	}
	return &FieldError{Key: f.Key, Env: f.Env, Source: v.Source, Message: msg + ": " + cause.Error(),
		Err: fmt.Errorf("%w: %w", ErrInvalidValue, cause), secret: f.Secret}
}

// decodeField decodes raw into dst, turning a panic of a user type's decoder
// (an UnmarshalText that panics) into an error that names its type only.
func decodeField(f *Field, dst reflect.Value, raw any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the decoder of %s panicked (a panic of type %T)", f.Type, r)
		}
	}()
	return f.dec(dst, raw)
}

func warningKind(err error) string {
	switch {
	case errors.Is(err, ErrUnknownName):
		return "unknown_name"
	case errors.Is(err, ErrSecretPolicy):
		return "secret_policy"
	case errors.Is(err, ErrWarning):
		return "layer_warning"
	case errors.Is(err, ErrForeignTag):
		return "foreign_tag"
	}
	return "other"
}

// ErrOptions is matched by the error of Load for Options that contradict
// each other.
var ErrOptions = errors.New("invalid options")

// setDefaults fills in the defaults of unset intervals. An explicit
// MinRefreshInterval above an explicit RefreshInterval is an error; the
// default MinRefreshInterval never exceeds RefreshInterval, and the default
// RefreshInterval is raised to an explicit MinRefreshInterval above it.
func (o *Options) setDefaults() error {
	if o.RefreshInterval > 0 && o.MinRefreshInterval > o.RefreshInterval {
		return fmt.Errorf("%w: Options.MinRefreshInterval (%v) is longer than Options.RefreshInterval (%v): "+
			"a refresh could never run on schedule; shorten MinRefreshInterval or lengthen RefreshInterval",
			ErrOptions, o.MinRefreshInterval, o.RefreshInterval)
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = max(5*time.Minute, o.MinRefreshInterval)
	}
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = min(5*time.Second, o.RefreshInterval)
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = time.Hour
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = 30 * time.Second
	}
	return nil
}
