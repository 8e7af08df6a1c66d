package secretsmanager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// lagAPI is the fake whose ListSecrets can be frozen at an earlier answer, as
// AWS's listing may lag a rotation by minutes; it records the name filters
// each listing was sent with.
type lagAPI struct {
	*fakeAPI
	mu      sync.Mutex
	frozen  []*sm.ListSecretsOutput // answers served in place of the fake's, page by page
	filters [][]string
}

func (a *lagAPI) ListSecrets(ctx context.Context, in *sm.ListSecretsInput, optFns ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	a.mu.Lock()
	for _, f := range in.Filters {
		a.filters = append(a.filters, append([]string(nil), f.Values...))
	}
	frozen := a.frozen
	a.mu.Unlock()
	out, err := a.fakeAPI.ListSecrets(ctx, in, optFns...)
	if err != nil || frozen == nil {
		return out, err
	}
	page := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		fmt.Sscan(tok, &page)
	}
	return frozen[min(page, len(frozen)-1)], nil
}

// freeze makes later listings answer what the listing answers now.
func (a *lagAPI) freeze(t *testing.T) {
	t.Helper()
	var pages []*sm.ListSecretsOutput
	in := &sm.ListSecretsInput{MaxResults: aws.Int32(listPageSize)}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		out, err := a.fakeAPI.ListSecrets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, out)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	a.mu.Lock()
	a.frozen = pages
	a.mu.Unlock()
}

func (a *lagAPI) thaw() {
	a.mu.Lock()
	a.frozen = nil
	a.mu.Unlock()
}

// gateConfig has a field for each secret of gateFixture.
type gateConfig struct {
	S00     string
	S01     string
	S02     string
	S03     string
	S04     string
	S05     string
	S06     string
	S07     string
	S08     string
	S09     string
	S10     string
	S11     string
	S12     string
	S13     string
	S14     string
	S15     string
	S16     string
	S17     string
	S18     string
	S19     string
	S20     string
	S21     string
	S22     string
	S23     string
	S24     string
	A, B, C string
}

func gateSchema(t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[gateConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gateFixture is a reader of n string secrets named app/sNN into
// sNN, loaded once.
func gateFixture(t *testing.T, n int, gate ListGate) (*lagAPI, *Reader) {
	t.Helper()
	return gateFixtureOf(t, n, Options{ListGate: gate})
}

// gateFixtureOf is gateFixture with the reader's options.
func gateFixtureOf(t *testing.T, n int, opts Options) (*lagAPI, *Reader) {
	t.Helper()
	api := &lagAPI{fakeAPI: newFake()}
	var specs []Spec
	for i := range n {
		name := fmt.Sprintf("app/s%02d", i)
		api.putString(name, "value-1-"+name)
		specs = append(specs, String(name, fmt.Sprintf("s%02d", i), nil))
	}
	l := NewWithClient(api, &opts, specs...)
	if _, err := l.testLoad(t.Context(), gateSchema(t)); err != nil {
		t.Fatalf("load: %v", err)
	}
	return api, l
}

func TestListGateCheckSecretsWithFewerCalls(t *testing.T) {
	t.Parallel()
	api, l := gateFixture(t, 25, ListGateAuto)
	schema := gateSchema(t)

	start := l.Calls()
	if _, changed, err := l.testRefresh(t.Context(), schema); err != nil || changed {
		t.Fatalf("refresh without a change = %v, %v", changed, err)
	}
	// The fake ignores filters, like kumo: the first listing shows all 25
	// secrets, so the other two groups need no call.
	if d := diff(start, l.Calls()); d[OpListSecrets] != 1 || d[OpDescribeSecret] != 0 || d[OpGetSecretValue] != 0 {
		t.Errorf("calls without a change = %v, want 1 ListSecrets only", d)
	}
	api.mu.Lock()
	for _, f := range api.filters {
		if len(f) == 0 || len(f) > maxFilterValues {
			t.Errorf("a listing was sent with %d name filter values, want 1 to %d", len(f), maxFilterValues)
		}
	}
	api.mu.Unlock()

	v := api.putString("app/s07", "value-2")
	start = l.Calls()
	vals, changed, err := l.testRefresh(t.Context(), schema)
	if err != nil || !changed {
		t.Fatalf("refresh after a rotation = %v, %v", changed, err)
	}
	// Only the secret the listing shows moved is confirmed and read.
	if d := diff(start, l.Calls()); d[OpListSecrets] != 1 || d[OpDescribeSecret] != 1 || d[OpGetSecretValue] != 1 {
		t.Errorf("calls after one rotation = %v, want 1 ListSecrets, 1 DescribeSecret, 1 GetSecretValue", d)
	}
	if rawOf(t, vals, "s07") != "value-2" || l.testVersions()["app/s07"] != v {
		t.Errorf("the rotation was not picked up: versions %v", l.testVersions())
	}
}

func TestListGateOffAndOneSecretUseDescribeSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    int
		gate ListGate
	}{{"off", 25, ListGateOff}, {"one secret", 1, ListGateAuto}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, l := gateFixture(t, tc.n, tc.gate)
			start := l.Calls()
			if _, _, err := l.testRefresh(t.Context(), gateSchema(t)); err != nil {
				t.Fatal(err)
			}
			if d := diff(start, l.Calls()); d[OpListSecrets] != 0 || d[OpDescribeSecret] != int64(tc.n) {
				t.Errorf("calls = %v, want %d DescribeSecret and no ListSecrets", d, tc.n)
			}
		})
	}
}

// By default the gate is on with push, where the poll is the safety net, and
// off without, where the poll is how a rotation is seen; IAM follows.
func TestListGateDefaultFollowsPush(t *testing.T) {
	t.Parallel()
	// The feed is never started: only the reader's options are under test.
	feed := push.Queue(sqs.New(sqs.Options{Region: "eu-west-1"}), "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-q", nil)
	for _, tc := range []struct {
		name        string
		opts        Options
		list, descr int64
	}{
		{"push", Options{Push: feed}, 1, 0},
		{"no push", Options{}, 0, 25},
		{"push, gate off", Options{Push: feed, ListGate: ListGateOff}, 0, 25},
		{"no push, gate on", Options{ListGate: ListGateAuto}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, l := gateFixtureOf(t, 25, tc.opts)
			start := l.Calls()
			if _, _, err := l.testRefresh(t.Context(), gateSchema(t)); err != nil {
				t.Fatal(err)
			}
			if d := diff(start, l.Calls()); d[OpListSecrets] != tc.list || d[OpDescribeSecret] != tc.descr {
				t.Errorf("calls = %v, want %d ListSecrets and %d DescribeSecret", d, tc.list, tc.descr)
			}
			asks := false
			for _, p := range l.Permissions(config.PermissionScope{Account: "123456789012"}) {
				asks = asks || slices.Contains(p.Actions, "secretsmanager:ListSecrets")
			}
			if asks != (tc.list > 0) {
				t.Errorf("IAM asks for ListSecrets: %v, want %v", asks, tc.list > 0)
			}
		})
	}
}

// A listing that lags never brings back an older version: the version in use
// is newer than the listing's, and DescribeSecret settles it without a read.
func TestListGateLaggingListingNeverRegresses(t *testing.T) {
	t.Parallel()
	api, l := gateFixture(t, 12, ListGateAuto)
	schema := gateSchema(t)
	api.freeze(t) // the listing as it was before the rotation

	v := api.putString("app/s03", "value-2")
	// Missed by the lagging listing: the documented cost of the gate.
	if _, changed, err := l.testRefresh(t.Context(), schema); err != nil || changed {
		t.Fatalf("refresh with a lagging listing = %v, %v; want no change seen yet", changed, err)
	}
	api.thaw()
	if _, changed, err := l.testRefresh(t.Context(), schema); err != nil || !changed || l.testVersions()["app/s03"] != v {
		t.Fatalf("refresh once the listing caught up = %v, %v, versions %v", changed, err, l.testVersions())
	}

	// Now the listing lags behind the version in use.
	stale := &lagAPI{fakeAPI: newFake()}
	stale.seq = 1000 // versions the reader never saw
	for i := range 12 {
		stale.putString(fmt.Sprintf("app/s%02d", i), "old")
	}
	stale.freeze(t)
	api.mu.Lock()
	api.frozen = stale.frozen // every listed AWSCURRENT differs from the one in use
	api.mu.Unlock()
	start := l.Calls()
	if _, changed, err := l.testRefresh(t.Context(), schema); err != nil || changed {
		t.Fatalf("refresh with a listing older than the versions in use = %v, %v", changed, err)
	}
	if d := diff(start, l.Calls()); d[OpGetSecretValue] != 0 || d[OpDescribeSecret] != 12 {
		t.Errorf("calls = %v, want DescribeSecret to confirm each and no GetSecretValue", d)
	}
	if l.testVersions()["app/s03"] != v {
		t.Errorf("version of app/s03 went from %s to %s", v, l.testVersions()["app/s03"])
	}
}

func TestListGateFallsBackToDescribeSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      string
		listAgain bool // whether the next refresh lists again
	}{{"ThrottlingException", true}, {"InternalServiceError", true}, {"AccessDeniedException", false}} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			api, l := gateFixture(t, 15, ListGateAuto)
			schema := gateSchema(t)
			api.fakeAPI.mu.Lock()
			api.listErr = apiErr(tc.code)
			api.fakeAPI.mu.Unlock()
			v := api.putString("app/s11", "value-2")
			start := l.Calls()
			if _, changed, err := l.testRefresh(t.Context(), schema); err != nil || !changed || l.testVersions()["app/s11"] != v {
				t.Fatalf("refresh with ListSecrets failing = %v, %v; want the rotation read through DescribeSecret", changed, err)
			}
			if d := diff(start, l.Calls()); d[OpDescribeSecret] != 15 {
				t.Errorf("calls = %v, want 15 DescribeSecret", d)
			}
			api.fakeAPI.mu.Lock()
			api.listErr = nil
			api.fakeAPI.mu.Unlock()
			start = l.Calls()
			if _, _, err := l.testRefresh(t.Context(), schema); err != nil {
				t.Fatal(err)
			}
			if d := diff(start, l.Calls()); (d[OpListSecrets] > 0) != tc.listAgain {
				t.Errorf("calls after ListSecrets recovered = %v; listing again = %v, want %v", d, d[OpListSecrets] > 0, tc.listAgain)
			}
		})
	}
}

func TestListGateIDsAsARNs(t *testing.T) {
	t.Parallel()
	api := &lagAPI{fakeAPI: newFake()}
	api.putString("app/a", "1")
	api.putString("app/b", "2")
	api.putString("app/c-suffix", "3")
	l := NewWithClient(api, &Options{ListGate: ListGateAuto},
		String(fakeARN("app/a"), "a", nil),
		String(strings.TrimSuffix(fakeARN("app/b"), "-AbCdEf"), "b", nil),
		String("app/c-suffix", "c", nil))
	schema := gateSchema(t)
	if _, err := l.testLoad(t.Context(), schema); err != nil {
		t.Fatal(err)
	}
	start := l.Calls()
	if _, _, err := l.testRefresh(t.Context(), schema); err != nil {
		t.Fatal(err)
	}
	if d := diff(start, l.Calls()); d[OpListSecrets] != 1 || d[OpDescribeSecret] != 0 {
		t.Errorf("calls = %v: want a full ARN, a partial ARN and a name all found in one listing", d)
	}
	for id, want := range map[string]string{
		fakeARN("app/a"): "app/a",
		"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/b": "app/b",
		"app/c-suffix": "app/c-suffix",
	} {
		if got := filterName(id); got != want {
			t.Errorf("filterName(%q) = %q, want %q", id, got, want)
		}
	}
}

// The gate's listing needs secretsmanager:ListSecrets, and the cost model
// counts it: one page per 10 secrets named by id at each refresh, and a
// DescribeSecret only to confirm a change.
func TestListGatePermissionAndCost(t *testing.T) {
	t.Parallel()
	var specs []Spec
	for i := range 25 {
		specs = append(specs, String(fmt.Sprintf("app/s%02d", i), fmt.Sprintf("s%02d", i), nil))
	}
	for _, gate := range []ListGate{ListGateOff, ListGateAuto} {
		l := NewWithClient(newFake(), &Options{ListGate: gate}, specs...)
		listed := false
		for _, p := range l.Permissions(config.PermissionScope{Account: "1"}) {
			listed = listed || slices.Contains(p.Actions, "secretsmanager:ListSecrets")
		}
		if listed != (gate == ListGateAuto) {
			t.Errorf("gate %s: ListSecrets allowed = %v", gate, listed)
		}
		per := map[string]config.APICall{}
		for _, c := range l.CostModel(config.CostScope{}).Calls {
			per[c.Operation] = c
		}
		want := map[ListGate][2]float64{ListGateOff: {25, 0}, ListGateAuto: {0, 3}}[gate]
		if per[OpDescribeSecret].PerRefresh != want[0] || per[OpListSecrets].PerRefresh != want[1] {
			t.Errorf("gate %s: per refresh %v DescribeSecret and %v ListSecrets, want %v", gate,
				per[OpDescribeSecret].PerRefresh, per[OpListSecrets].PerRefresh, want)
		}
	}
}

// A read Store.Refresh asks for, or one that events caused, checks every
// secret with DescribeSecret: its caller has a reason to believe a secret
// changed, which a lagging listing could hide.
func TestListGateNotOnDemandNorForEvents(t *testing.T) {
	t.Parallel()
	api, l := gateFixture(t, 25, ListGateAuto)
	schema := gateSchema(t)
	u, _ := tracked.Load(l)
	prev := u.(config.Update).State
	for _, req := range []config.RefreshRequest{
		{Schema: schema, Prev: prev, OnDemand: true},
		{Schema: schema, Prev: prev, Events: []config.Event{{Source: ""}}},
	} {
		start := l.Calls()
		if _, err := l.Refresh(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if d := diff(start, l.Calls()); d[OpListSecrets] != 0 || d[OpDescribeSecret] != 25 {
			t.Errorf("OnDemand %v, %d events: calls = %v, want 25 DescribeSecret and no ListSecrets", req.OnDemand, len(req.Events), d)
		}
	}

	// Through a store: Store.Refresh is on demand.
	store, err := config.Load[gateConfig](t.Context(), &config.Options{RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	api.freeze(t) // a lagging listing would hide this rotation
	api.putString("app/s04", "value-2")
	start := l.Calls()
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := diff(start, l.Calls()); d[OpListSecrets] != 0 || d[OpDescribeSecret] != 25 {
		t.Errorf("Store.Refresh: calls = %v, want 25 DescribeSecret and no ListSecrets", d)
	}
	if got := store.Get().S04; got != "value-2" {
		t.Errorf("after Store.Refresh s04 = %q, want the rotated value", got)
	}
}

// TestConformanceListGate runs the layer contract with the listing gate on.
func TestConformanceListGate(t *testing.T) { runConformance(t, ListGateAuto) }
