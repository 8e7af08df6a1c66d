package secretsmanager

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// evEnv is a reader of two String secrets on a fake API, read once.
type evEnv struct {
	f      *fakeAPI
	api    *laggingAPI
	l      *Reader
	schema *config.Schema
	u      config.Update // the last update that changed
}

// laggingAPI answers GetSecretValue by stage with the version stale, for as
// long as lag > 0 (decremented by each call): a read that lags behind a
// move of the label, as Secrets Manager's may right after it.
type laggingAPI struct {
	*fakeAPI
	stale string
	lag   atomic.Int32
}

func (a *laggingAPI) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, o ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	if a.lag.Add(-1) >= 0 && in.VersionId == nil {
		in = &sm.GetSecretValueInput{SecretId: in.SecretId, VersionId: aws.String(a.stale)}
	}
	return a.fakeAPI.GetSecretValue(ctx, in, o...)
}

func newEvEnv(t *testing.T, specs ...Spec) *evEnv {
	t.Helper()
	f := newFake()
	f.putString("app/stripe", "sk-1")
	f.putString("app/user", "u-1")
	if len(specs) == 0 {
		specs = []Spec{String("app/stripe", "payments.stripe_key", nil), String("app/user", "database.user", nil)}
	}
	e := &evEnv{f: f, api: &laggingAPI{fakeAPI: f}, schema: testSchema(t)}
	e.l = NewWithClient(e.api, nil, specs...)
	u, err := e.l.Refresh(t.Context(), config.RefreshRequest{Schema: e.schema})
	if err != nil || !u.Changed {
		t.Fatalf("first read: %v, %v", u.Changed, err)
	}
	e.u = u
	return e
}

// refresh makes a read caused by events; a change becomes the served state.
func (e *evEnv) refresh(t *testing.T, events ...config.Event) (config.Update, error) {
	t.Helper()
	u, err := e.l.Refresh(t.Context(), config.RefreshRequest{Schema: e.schema, Prev: e.u.State, Events: events})
	if u.Changed {
		e.u = u
	}
	return u, err
}

func (e *evEnv) calls() int {
	return e.f.count("GetSecretValue") + e.f.count("BatchGetSecretValue") + e.f.count("DescribeSecret") + e.f.count("ListSecrets")
}

func (e *evEnv) want(t *testing.T, key, value string) {
	t.Helper()
	v, ok := e.u.Values[key]
	if !ok {
		t.Fatalf("no value for %s", key)
	}
	got := v.Raw
	if s, ok := got.(config.Secret); ok {
		got = s.Reveal()
	}
	if got != value {
		t.Fatalf("%s = %v, want %s", key, got, value)
	}
}

func TestRefreshEventsReadOnlyTheirSource(t *testing.T) {
	e := newEvEnv(t)
	v2 := e.f.putString("app/stripe", "sk-2")
	e.f.putString("app/user", "u-2") // rotated too, but no event says so
	before := e.calls()
	u, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v2, At: time.Now()})
	if err != nil || !u.Changed {
		t.Fatalf("Refresh = %v, %v; want the change", u.Changed, err)
	}
	if n := e.calls() - before; n != 1 || e.f.count("DescribeSecret") != 0 {
		t.Fatalf("%d calls (%d DescribeSecret); want one GetSecretValue of the secret the event names", n, e.f.count("DescribeSecret"))
	}
	e.want(t, "payments.stripe_key", "sk-2")
	e.want(t, "database.user", "u-1") // kept from Prev, value and version
	if u.Versions["app/stripe"] != v2 || u.Versions["app/user"] == "" {
		t.Fatalf("Versions = %v", u.Versions)
	}
}

// TestRefreshEventsNeverRegress sends duplicate, late and out-of-order
// events: none costs a call or brings back an older version.
func TestRefreshEventsNeverRegress(t *testing.T) {
	e := newEvEnv(t)
	v1 := e.u.Versions["app/stripe"]
	t0 := time.Now().Add(-time.Minute)
	v2 := e.f.putString("app/stripe", "sk-2")
	if _, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v2, At: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	v3 := e.f.putString("app/stripe", "sk-3")
	if _, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v3, At: t0.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "payments.stripe_key", "sk-3")
	before := e.calls()
	for name, ev := range map[string]config.Event{
		"duplicate of the last":        {Source: "app/stripe", Version: v3, At: t0.Add(2 * time.Second)},
		"late event of the one before": {Source: "app/stripe", Version: v2, At: t0.Add(time.Second)},
		"late event of the first":      {Source: "app/stripe", Version: v1, At: t0},
		"late event without a time":    {Source: "app/stripe", Version: v2},
	} {
		u, err := e.refresh(t, ev)
		if err != nil || u.Changed {
			t.Errorf("%s: Refresh = %v, %v; want no change", name, u.Changed, err)
		}
	}
	// Several in one read, out of order: the latest says v3, the one served.
	u, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v3, At: t0.Add(2 * time.Second)},
		config.Event{Source: "app/stripe", Version: v1, At: t0})
	if err != nil || u.Changed {
		t.Errorf("out-of-order batch: Refresh = %v, %v; want no change", u.Changed, err)
	}
	if n := e.calls() - before; n != 0 {
		t.Fatalf("%d API calls for events of versions served or left; want none", n)
	}
	e.want(t, "payments.stripe_key", "sk-3")
}

// TestRefreshEventsLaggingRead: a read right after the event still gives a
// version the source moved away from; it is not taken, and the read is made
// again within about 2 seconds.
func TestRefreshEventsLaggingRead(t *testing.T) {
	saved := announcedRetries
	announcedRetries = []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}
	t.Cleanup(func() { announcedRetries = saved })

	e := newEvEnv(t)
	v1 := e.u.Versions["app/stripe"]
	v2 := e.f.putString("app/stripe", "sk-2")
	if _, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v2, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v3 := e.f.putString("app/stripe", "sk-3")

	// Two stale reads (of v1, which the store left), then the new version.
	e.api.stale = v1
	e.api.lag.Store(2)
	before := e.f.count("GetSecretValue")
	u, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v3, At: time.Now()})
	if err != nil || !u.Changed || u.Versions["app/stripe"] != v3 {
		t.Fatalf("Refresh = %v, %v, %v; want v3", u.Changed, err, u.Versions)
	}
	if n := e.f.count("GetSecretValue") - before; n != 3 {
		t.Fatalf("%d reads; want 3 (two stale, one good)", n)
	}

	// Reads that stay stale: 4 tries, nothing taken, a transient error.
	v4 := e.f.putString("app/stripe", "sk-4")
	e.api.stale = v2
	e.api.lag.Store(100)
	before = e.f.count("GetSecretValue")
	u, err = e.refresh(t, config.Event{Source: "app/stripe", Version: v4, At: time.Now()})
	if u.Changed || !errors.Is(err, config.ErrTransient) {
		t.Fatalf("Refresh = %v, %v; want no change and a transient error", u.Changed, err)
	}
	if n := e.f.count("GetSecretValue") - before; n != 4 {
		t.Fatalf("%d reads; want 4", n)
	}
	e.want(t, "payments.stripe_key", "sk-3")
	noCanary(t, err.Error())
}

// TestRefreshEventsRollback: an event after the move that announces a
// version the source left (a rotation rolled back) is followed.
func TestRefreshEventsRollback(t *testing.T) {
	e := newEvEnv(t)
	v1 := e.u.Versions["app/stripe"]
	moved := time.Now().Add(-time.Minute)
	v2 := e.f.putString("app/stripe", "sk-2")
	if _, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v2, At: moved}); err != nil {
		t.Fatal(err)
	}
	// Move AWSCURRENT back to v1, as UpdateSecretVersionStage would.
	e.f.mu.Lock()
	s := e.f.secrets["app/stripe"]
	s.versions[v1].stages, s.versions[v2].stages = []string{StageCurrent}, []string{StagePrevious}
	e.f.mu.Unlock()
	u, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v1, At: moved.Add(30 * time.Second)})
	if err != nil || !u.Changed || u.Versions["app/stripe"] != v1 {
		t.Fatalf("Refresh = %v, %v, %v; want back at v1", u.Changed, err, u.Versions)
	}
	e.want(t, "payments.stripe_key", "sk-1")
}

func TestRefreshEventsUnknownAndAll(t *testing.T) {
	e := newEvEnv(t)
	before := e.calls()
	u, err := e.refresh(t, config.Event{Source: "other/secret", Version: "v9", At: time.Now()})
	if err != nil || u.Changed || e.calls() != before {
		t.Fatalf("unknown source: Refresh = %v, %v, %d calls; want nothing", u.Changed, err, e.calls()-before)
	}
	e.f.putString("app/user", "u-2")
	u, err = e.refresh(t, config.Event{At: time.Now()})
	if err != nil || !u.Changed || e.f.count("DescribeSecret") != 2 {
		t.Fatalf("event for every source: Refresh = %v, %v, %d DescribeSecret; want a complete read", u.Changed, err, e.f.count("DescribeSecret"))
	}
	e.want(t, "database.user", "u-2")
}

// TestRefreshEventsPreviousStage: a spec reading AWSPREVIOUS is read along
// with a move of its secret's AWSCURRENT, and not for a duplicate.
func TestRefreshEventsPreviousStage(t *testing.T) {
	e := newEvEnv(t, String("app/stripe", "payments.stripe_key", nil),
		String("app/stripe", "database_previous.password", &SpecOptions{Stage: StagePrevious, Optional: true}))
	v2 := e.f.putString("app/stripe", "sk-2")
	events := e.l.resolve(push.Change{Name: "app/stripe", Label: push.CurrentLabel, VersionID: v2, At: time.Now()})
	if len(events) != 2 {
		t.Fatalf("resolve = %+v; want the AWSCURRENT and AWSPREVIOUS sources", events)
	}
	u, err := e.refresh(t, events...)
	if err != nil || !u.Changed {
		t.Fatalf("Refresh = %v, %v", u.Changed, err)
	}
	e.want(t, "payments.stripe_key", "sk-2")
	e.want(t, "database_previous.password", "sk-1")
	before := e.calls()
	if u, err := e.refresh(t, events...); err != nil || u.Changed || e.calls() != before {
		t.Fatalf("duplicate: Refresh = %v, %v, %d calls; want nothing", u.Changed, err, e.calls()-before)
	}
}

func TestStateRemembersBoundedHistory(t *testing.T) {
	e := newEvEnv(t)
	for range 10 {
		v := e.f.putString("app/stripe", "sk-n")
		if _, err := e.refresh(t, config.Event{Source: "app/stripe", Version: v, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	st := e.u.State.(*state)
	if n := len(st.left[ref{id: "app/stripe"}]); n != maxLeft {
		t.Fatalf("the state remembers %d left versions; want %d", n, maxLeft)
	}
}

func TestResolve(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf"
	l := NewWithClient(newFake(), nil,
		JSON("app/db", "database", nil),
		JSON(arn, "database", nil),
		JSON("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db", "database", nil), // partial ARN
		JSON("app/db", "database_previous", &SpecOptions{Stage: StagePrevious}),
		JSON("app/db", "database", &SpecOptions{VersionID: "pinned"}),
		Prefix("app/svc/", nil),
	)
	sources := func(c push.Change) []string {
		var out []string
		for _, e := range l.resolve(c) {
			out = append(out, e.Source+"="+e.Version)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"app/db=v2", "app/db@AWSPREVIOUS=", arn + "=v2", "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db=v2"}
	for name, c := range map[string]push.Change{
		"name and ARN": {Name: "app/db", ARN: arn, VersionID: "v2"},
		"name only":    {Name: "app/db", VersionID: "v2"},
		"ARN as name":  {Name: arn, VersionID: "v2"},
	} {
		if got := sources(c); !slices.Equal(got, want) {
			t.Errorf("%s: resolve = %v, want %v", name, got, want)
		}
	}
	if got := sources(push.Change{Name: "app/svc/api", VersionID: "v5"}); !slices.Equal(got, []string{"app/svc/api=v5"}) {
		t.Errorf("under a prefix: resolve = %v", got)
	}
	for _, n := range []string{"app/dbx", "app/svc-old/x", "other"} {
		if got := sources(push.Change{Name: n, VersionID: "v1"}); got != nil {
			t.Errorf("%s is not in use: resolve = %v", n, got)
		}
	}
	// The ARN specs are of account 000000000000 in us-east-1; once a read
	// by name taught the client's scope, the name specs are too.
	l.learnHome(arn)
	for _, other := range []string{
		"arn:aws:secretsmanager:us-east-1:999999999999:secret:app/db-AbCdEf",
		"arn:aws:secretsmanager:eu-west-1:000000000000:secret:app/db-AbCdEf",
		"arn:aws-cn:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf",
	} {
		if got := sources(push.Change{Name: "app/db", ARN: other, VersionID: "v2"}); got != nil {
			t.Errorf("%s is another account's, region's or partition's: resolve = %v", other, got)
		}
		if got := sources(push.Change{Name: "app/svc/api", ARN: other, VersionID: "v2"}); got != nil {
			t.Errorf("%s under a prefix is another account's: resolve = %v", other, got)
		}
	}
	if got := sources(push.Change{Name: "app/db", ARN: arn, VersionID: "v2"}); !slices.Equal(got, want) {
		t.Errorf("own ARN after learning the scope: resolve = %v, want %v", got, want)
	}
}

// TestRefreshEventsOnDemandReadsAll: events that join an on-demand read
// (Store.Refresh) do not narrow it: its caller wants every source read.
func TestRefreshEventsOnDemandReadsAll(t *testing.T) {
	e := newEvEnv(t)
	served := e.u.Versions["app/stripe"]
	e.f.putString("app/user", "u-2")
	u, err := e.l.Refresh(t.Context(), config.RefreshRequest{Schema: e.schema, Prev: e.u.State, OnDemand: true,
		Events: []config.Event{{Source: "app/stripe", Version: served, At: time.Now()}}})
	if err != nil || !u.Changed {
		t.Fatalf("Refresh = %v, %v; want the change of the secret no event names", u.Changed, err)
	}
	e.u = u
	e.want(t, "database.user", "u-2")
}
