package configtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// Canary is the secret text TestLayer stores in secret fields, in unknown
// names and in malformed content. It must never appear in an error, a log
// line or a Source.
const Canary = "CANARY-layertest-5e17c0"

// EnvPrefix is the environment prefix of the schema TestLayer uses: the field
// "alpha.host" is CT_ALPHA_HOST.
const EnvPrefix = "CT_"

// Sections are the sections of TestLayer's schema. Each has the fields host
// (a string), port (an int) and token (a config.Secret), so the keys are
// "alpha.host", "alpha.port", "alpha.token", "beta.host" and so on. A layer
// that reads several sources (secrets, files) should keep each section in a
// source of its own, so that TestLayer can make one fail and check the other.
var Sections = []string{"alpha", "beta"}

// Harness tells TestLayer how to build the layer under test over sources the
// suite controls.
type Harness struct {
	// New returns a Fixture over new, empty sources; TestLayer calls it once
	// per rule, from the rule's subtest, which runs in parallel with the
	// other rules (so New must not use t.Setenv or change the process's
	// environment or working directory). Required.
	New func(t *testing.T, s Setup) Fixture
	// Refresher says the layer is a config.Refresher. TestLayer then checks
	// the refresh rules too, and fails if the layer is not one. TestLayer
	// also fails a layer that is a Refresher while this is false, so that a
	// harness cannot skip the refresh rules by accident.
	Refresher bool
	// Skip names rules (subtest names, such as "DoneContext") the layer is
	// known to break, each with the reason. TestLayer skips them and logs
	// the reason, so the break stays visible in the test output.
	Skip map[string]string
}

// Setup is what TestLayer gives Harness.New.
type Setup struct {
	// Schema is the schema every read uses: the fields of Sections, with
	// EnvPrefix.
	Schema *config.Schema
	// Logger is where the layer should log, if it logs: TestLayer searches
	// it for Canary.
	Logger *slog.Logger
}

// Fixture is one layer under test and the sources behind it.
type Fixture struct {
	// Set stores value under the field key in the source that holds the
	// key's section, such as "alpha.host" = "db.internal" (for an
	// environment layer, CT_ALPHA_HOST). The key may be a name that is no
	// field, such as "alpha.hots": TestLayer uses that to check unknown
	// names. Calls before the first Layer give the initial values; calls
	// after it change the sources, which only the refresh rules do. Set may
	// run while the layer reads, but not concurrently with itself. Required.
	Set func(key, value string)
	// Layer returns the layer over the sources. TestLayer calls it after the
	// initial Sets, and may call it again: it must return the same layer
	// each time. Required.
	Layer func() config.Layer
	// Fail changes how the source that holds section answers from now on,
	// until the next Fail of that section; section "" stands for every
	// source. With Malformed, the source answers content that contains
	// text and that the layer cannot parse; with Healthy, it answers again
	// what Set last stored. Fail reports false when the
	// fixture cannot do that, or cannot do it to the section's source
	// without also failing the other sections; TestLayer then skips what
	// needs it. Nil when the sources cannot fail.
	Fail func(section string, f Failure, text string) bool
	// Reads, when set, returns how many times so far the sources were asked
	// for their values, not counting cheaper checks such as a version
	// lookup. TestLayer uses it to check that a refresh with no change reads
	// no values.
	Reads func() int
}

// Failure is a way a source fails; see Fixture.Fail.
type Failure int

// The failures of Fixture.Fail.
const (
	// Healthy makes the source answer normally again.
	Healthy Failure = iota
	// Transient makes the source fail for now, like a timeout or a 5xx; the
	// layer's error must then match config.IsTransient.
	Transient
	// Permanent makes the source fail for good, like a denied or deleted
	// secret; the layer's error must not match config.IsTransient.
	Permanent
	// Malformed makes the source answer content the layer cannot parse.
	Malformed
)

func (f Failure) String() string {
	switch f {
	case Healthy:
		return "healthy"
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Malformed:
		return "malformed"
	}
	return fmt.Sprintf("Failure(%d)", int(f))
}

// suiteConfig is the configuration type of TestLayer's schema.
type suiteConfig struct {
	Alpha suiteSection
	Beta  suiteSection
}

type suiteSection struct {
	Host  string
	Port  int
	Token config.Secret
}

// timeout bounds each read of the layer, so that a layer that hangs fails
// its rule instead of the whole test binary.
const timeout = 30 * time.Second

// TestLayer checks that the layer h builds keeps the contract of config.Layer
// and, when h.Refresher is set, of config.Refresher. Each rule is a subtest:
//
//   - FirstRead: the first read (Load, or Refresh with no Prev for a
//     Refresher) returns every value set, with a Source naming the layer;
//     the Load of a Refresher returns the same;
//   - DoneContext: a read (and for a Refresher, a refresh) with a done ctx
//     returns promptly, with an error matching context.Canceled or naming
//     the interruption;
//   - UnknownNames: a name that is no field is an *config.UnknownNameError,
//     and the known values are still read;
//   - FailingSourceKeepsOthers: a failing source does not hide the values of
//     the others, and its error is joined with the other problems;
//   - NoSecretInOutput: Canary never appears in an error (its whole Unwrap
//     tree, printed with every verb and through slog), in a Source, or in
//     the logs of the layer and of a store that loads it;
//
// and for a Refresher:
//
//   - RefreshNoChange: a refresh with nothing changed is Changed false, with
//     no values and no error, and reads no values;
//   - RefreshAfterChange: a refresh after a change returns the full set with
//     the new value, a new State and, for a versioned layer, new Versions;
//   - RefreshKeepsPrev: the Prev of a request is never modified: nothing
//     reachable from it (unexported fields, map entries, slice elements
//     included) differs after any Refresh the suite makes, and the same
//     request gives the same answer;
//   - RefreshPartialFailure: a source that fails keeps its previous values,
//     the others' changes are returned, and the error says what failed;
//   - SharedByStores: one layer value serves two stores through a change,
//     whichever refreshes first;
//   - ConcurrentRefresh: several goroutines refreshing their own States while
//     the sources change (meant to run under -race);
//   - RefreshWithEvents: an event for a source the layer does not have
//     changes and fails nothing; an event for every source (Source "") and
//     an on-demand read find a change as a scheduled read does;
//   - WatchEndsWithContext: a config.Watcher's Watch returns soon after its
//     context ends (skipped for layers that do not watch).
func TestLayer(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("configtest.TestLayer: Harness.New is nil")
	}
	rules := []struct {
		name    string
		refresh bool
		run     func(*testing.T, *env)
	}{
		{"FirstRead", false, testFirstRead},
		{"DoneContext", false, testDoneContext},
		{"UnknownNames", false, testUnknownNames},
		{"FailingSourceKeepsOthers", false, testFailingSourceKeepsOthers},
		{"NoSecretInOutput", false, testNoSecretInOutput},
		{"RefreshNoChange", true, testRefreshNoChange},
		{"RefreshAfterChange", true, testRefreshAfterChange},
		{"RefreshKeepsPrev", true, testRefreshKeepsPrev},
		{"RefreshPartialFailure", true, testRefreshPartialFailure},
		{"SharedByStores", true, testSharedByStores},
		{"ConcurrentRefresh", true, testConcurrentRefresh},
		{"RefreshWithEvents", true, testRefreshWithEvents},
		{"WatchEndsWithContext", true, testWatchEndsWithContext},
	}
	for _, r := range rules {
		if r.refresh && !h.Refresher {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			if why, ok := h.Skip[r.name]; ok {
				t.Skipf("the harness lists this rule as known to fail: %s", why)
			}
			r.run(t, newEnv(t, h))
		})
	}
}

// env is one rule's fixture and what the suite knows of it.
type env struct {
	h      Harness
	f      Fixture
	schema *config.Schema
	logs   *LogBuffer
	want   map[string]string // the values set so far, by key
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	schema, err := config.SchemaFor[suiteConfig](EnvPrefix)
	if err != nil {
		t.Fatalf("configtest: the suite's schema: %v", err)
	}
	logs := &LogBuffer{}
	f := h.New(t, Setup{Schema: schema, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if f.Set == nil || f.Layer == nil {
		t.Fatal("configtest: the harness returned a Fixture without Set or Layer")
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), Canary) {
			t.Errorf("the layer logged a secret value (configtest.Canary) to the Logger of Setup:\n%s", logs.String())
		}
	})
	return &env{h: h, f: f, schema: schema, logs: logs, want: map[string]string{}}
}

// set sets key in the fixture and records it as expected.
func (e *env) set(key, value string) {
	e.f.Set(key, value)
	if e.schema.Field(key) != nil {
		e.want[key] = value
	}
}

// seed sets every field of every section, the tokens to secret text, each
// value tagged with round so that a change can be told apart.
func (e *env) seed(round string) {
	for _, s := range Sections {
		e.set(s+".host", s+"-"+round+".internal")
		e.set(s+".port", fmt.Sprint(5400+len(round)))
		e.set(s+".token", Canary+"-"+s)
	}
}

// layer returns the fixture's layer, checked against h.Refresher.
func (e *env) layer(t *testing.T) config.Layer {
	t.Helper()
	l := e.f.Layer()
	if l == nil {
		t.Fatal("configtest: the fixture's Layer returned nil")
	}
	_, isRefresher := l.(config.Refresher)
	switch {
	case e.h.Refresher && !isRefresher:
		t.Fatalf("Harness.Refresher is set but %T is not a config.Refresher", l)
	case !e.h.Refresher && isRefresher:
		t.Fatalf("%T is a config.Refresher: set Harness.Refresher so that TestLayer checks the refresh rules", l)
	}
	return l
}

// refresher returns the fixture's layer as a Refresher.
func (e *env) refresher(t *testing.T) config.Refresher {
	t.Helper()
	return e.layer(t).(config.Refresher)
}

// firstRead reads the layer as a store does the first time: Load, or Refresh
// with no Prev for a Refresher.
func (e *env) firstRead(t *testing.T, ctx context.Context) (config.Values, config.State, error) {
	t.Helper()
	l := e.layer(t)
	r, ok := l.(config.Refresher)
	if !ok {
		vals, err := bounded(t, "Load", func() (config.Values, error) { return l.Load(ctx, e.schema) })
		return vals, nil, err
	}
	var u config.Update
	_, err := bounded(t, "Refresh with no Prev", func() (config.Values, error) {
		var err error
		u, err = r.Refresh(ctx, config.RefreshRequest{Schema: e.schema})
		return u.Values, err
	})
	if !u.Changed && err == nil {
		t.Fatal("the first Refresh (Prev nil) returned Changed false; it must read every source like Load and return Changed true")
	}
	if u.State == nil && err == nil {
		t.Fatal("the first Refresh (Prev nil) returned a nil State; the store passes the State back as Prev, so it must stand for what was read")
	}
	return u.Values, u.State, err
}

// refresh calls Refresh with prev, bounded in time, and fails the test if
// the call modified prev (anything reachable from it, unexported fields
// included).
func (e *env) refresh(t *testing.T, ctx context.Context, prev config.State) (config.Update, error) {
	t.Helper()
	return e.refreshWith(t, ctx, config.RefreshRequest{Prev: prev})
}

// refreshWith calls Refresh with req (its Schema set to the suite's), checking
// that the call returns in time and leaves req.Prev as it was.
func (e *env) refreshWith(t *testing.T, ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	t.Helper()
	r := e.refresher(t)
	prev := req.Prev
	req.Schema = e.schema
	before := snapshotOf(prev)
	var u config.Update
	_, err := bounded(t, "Refresh", func() (config.Values, error) {
		var err error
		u, err = r.Refresh(ctx, req)
		return u.Values, err
	})
	if changed := before.changes(snapshotOf(prev)); len(changed) > 0 {
		t.Errorf("a Refresh modified its req.Prev (RefreshKeepsPrev): %s changed; the Prev is owned by the store, "+
			"which passes it again when it rejects a change: build a new State, never write into Prev", listPaths(changed))
	}
	return u, err
}

// listPaths names up to five paths and how many more there are.
func listPaths(paths []string) string {
	const most = 5
	if len(paths) <= most {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:most], ", "), len(paths)-most)
}

// bounded runs read and fails the test if it takes longer than timeout.
func bounded(t *testing.T, what string, read func() (config.Values, error)) (config.Values, error) {
	t.Helper()
	type result struct {
		vals config.Values
		err  error
	}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.vals, r.err
	case <-time.After(timeout):
		t.Fatalf("%s did not return within %v", what, timeout)
		return nil, nil
	}
}

// wantValues checks that vals holds exactly the values of want, as text,
// each with a Source naming the layer.
func (e *env) wantValues(t *testing.T, what string, vals config.Values, want map[string]string) {
	t.Helper()
	name := e.f.Layer().Name()
	for key, w := range want {
		v, ok := vals[key]
		switch {
		case !ok:
			t.Errorf("%s: no value for %q; the layer must return every value it could read", what, key)
		case fmt.Sprint(v.Raw) != w:
			t.Errorf("%s: %q = %s, want %s", what, key, shown(key, v.Raw), shown(key, w))
		case v.Source.Layer != name:
			t.Errorf("%s: %q has Source.Layer %q, want the layer's Name %q", what, key, v.Source.Layer, name)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		if _, ok := want[key]; !ok {
			t.Errorf("%s: a value for %q, which was not set (or belongs to a failed source)", what, key)
		}
	}
}

// shown prints a value for a failure message, hiding the canary.
func shown(key string, v any) string {
	s := fmt.Sprint(v)
	if strings.Contains(s, Canary) || strings.HasSuffix(key, ".token") {
		return fmt.Sprintf("(secret text of %d bytes)", len(s))
	}
	return fmt.Sprintf("%q", s)
}

// without returns want minus the keys of section.
func without(want map[string]string, section string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if !strings.HasPrefix(k, section+".") {
			out[k] = v
		}
	}
	return out
}

// unknownNames returns the *config.UnknownNameError in err's tree.
func unknownNames(err error) []*config.UnknownNameError {
	var out []*config.UnknownNameError
	for _, e := range ErrorTree(err) {
		if u, ok := e.(*config.UnknownNameError); ok {
			out = append(out, u)
		}
	}
	return out
}

// failures returns the errors of err's top level that are not unknown names.
func failures(err error) []error {
	var out []error
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var u *config.UnknownNameError
		if e != nil && !errors.As(e, &u) {
			out = append(out, e)
		}
	}
	return out
}
