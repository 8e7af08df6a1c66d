package configtest

import (
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// firstState does the first read, which must succeed, and returns its State.
func (e *env) firstState(t *testing.T) config.State {
	t.Helper()
	vals, state, err := e.firstRead(t, t.Context())
	if err != nil {
		t.Fatalf("the first Refresh (Prev nil) of valid sources failed: %v", err)
	}
	e.wantValues(t, "the first Refresh (Prev nil)", vals, e.want)
	return state
}

// wantUnchanged checks that a refresh from prev reports no change.
func (e *env) wantUnchanged(t *testing.T, what string, prev config.State) {
	t.Helper()
	u, err := e.refresh(t, t.Context(), prev)
	if err != nil {
		t.Errorf("%s: Refresh with nothing changed failed: %v", what, err)
	}
	if u.Changed {
		t.Errorf("%s: Refresh with nothing changed since Prev returned Changed true; it must return Changed false, "+
			"or the store rebuilds and re-validates its snapshot on every refresh", what)
	}
	if len(u.Values) != 0 {
		t.Errorf("%s: Refresh with nothing changed returned %d values; it must return none", what, len(u.Values))
	}
}

// wantChanged checks that a refresh from prev returns want in full.
func (e *env) wantChanged(t *testing.T, what string, prev config.State, want map[string]string) config.State {
	t.Helper()
	u, err := e.refresh(t, t.Context(), prev)
	if err != nil {
		t.Errorf("%s: Refresh failed: %v", what, err)
	}
	if !u.Changed {
		t.Fatalf("%s: Refresh after a source changed returned Changed false", what)
	}
	if u.State == nil {
		t.Errorf("%s: Refresh returned Changed true with a nil State", what)
	}
	e.wantValues(t, what+" (Refresh must return the complete set of values, not only the changed ones)", u.Values, want)
	return u.State
}

func testRefreshNoChange(t *testing.T, e *env) {
	e.seed("r1")
	state := e.firstState(t)
	before := 0
	if e.f.Reads != nil {
		before = e.f.Reads()
	}
	e.wantUnchanged(t, "first refresh", state)
	e.wantUnchanged(t, "second refresh from the same Prev", state)
	if e.f.Reads != nil {
		if n := e.f.Reads() - before; n != 0 {
			t.Errorf("two refreshes with nothing changed read the sources' values %d times; a refresh with no change must be cheap "+
				"(check versions, not values)", n)
		}
	}
}

func testRefreshAfterChange(t *testing.T, e *env) {
	e.seed("r1")
	first, err := e.refresh(t, t.Context(), nil)
	if err != nil || !first.Changed {
		t.Fatalf("the first Refresh (Prev nil) of valid sources gave Changed %v, error %v; want Changed true and no error", first.Changed, err)
	}
	s1 := first.State
	e.set("alpha.host", "alpha-r2.internal")
	u, err := e.refresh(t, t.Context(), s1)
	if err == nil && u.Changed && first.Versions != nil && maps.Equal(first.Versions, u.Versions) {
		t.Errorf("Update.Versions is %v both before and after alpha.host changed; it must give the versions the Values hold, "+
			"for Status (nil for an unversioned layer)", u.Versions)
	}
	s2 := e.wantChanged(t, "after alpha.host changed", s1, e.want)
	e.wantUnchanged(t, "from the State of the change", s2)
	e.set("beta.token", Canary+"-rotated")
	e.wantChanged(t, "after beta.token changed", s2, e.want)
}

func testRefreshKeepsPrev(t *testing.T, e *env) {
	e.seed("r1")
	s1 := e.firstState(t)
	want1 := maps.Clone(e.want)
	e.wantUnchanged(t, "before the change", s1)
	e.set("alpha.host", "alpha-r2.internal")
	s2 := e.wantChanged(t, "after alpha.host changed", s1, e.want)
	// The store passes the same Prev again when it rejected the change: the
	// first Refresh must not have advanced it.
	e.wantChanged(t, "again from the same Prev (a Refresh modified its req.Prev)", s1, e.want)
	e.wantUnchanged(t, "from the State of the change", s2)
	e.set("alpha.host", want1["alpha.host"])
	// Back at the values of s1: a refresh from s1 may see no change or the
	// same values again, but never the values of s2.
	u, err := e.refresh(t, t.Context(), s1)
	if err != nil {
		t.Fatalf("Refresh from the first State, after the value went back: %v", err)
	}
	if u.Changed {
		e.wantValues(t, "from the first State after the value went back", u.Values, want1)
	}
}

func testRefreshPartialFailure(t *testing.T, e *env) {
	if e.f.Fail == nil {
		t.Skip("the fixture's sources cannot fail")
	}
	for _, f := range []Failure{Transient, Permanent, Malformed} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, e.h)
			e.seed("r1")
			s1 := e.firstState(t)
			old := maps.Clone(e.want)
			e.set("alpha.host", "alpha-r2.internal")
			e.set("beta.host", "beta-r2.internal")
			if !e.f.Fail("beta", f, "{"+Canary) {
				t.Skipf("the fixture cannot make the source of beta fail (%s) on its own", f)
			}
			u, err := e.refresh(t, t.Context(), s1)
			checkFailure(t, err, f, 0)
			noCanaryInError(t, "a refresh with a failing source", err)
			if !u.Changed {
				t.Fatalf("alpha changed while beta failed (%s), and Refresh returned Changed false: "+
					"a failing source must not hide the others' changes", f)
			}
			want := maps.Clone(e.want)
			for k, v := range old {
				if strings.HasPrefix(k, "beta.") {
					want[k] = v
				}
			}
			e.wantValues(t, "a refresh where alpha changed and beta failed (beta keeps its values of Prev)", u.Values, want)
			e.f.Fail("beta", Healthy, "")
			e.wantChanged(t, "after beta recovered", u.State, e.want)
		})
	}
}

// newStore loads the fixture's layer into a store that refreshes only when
// asked.
func (e *env) newStore(t *testing.T, clock *Clock) *config.Store[suiteConfig] {
	t.Helper()
	opts := &config.Options{
		EnvPrefix:          EnvPrefix,
		Logger:             slog.New(slog.NewTextHandler(e.logs, nil)),
		Clock:              clock,
		RefreshInterval:    24 * time.Hour,
		MinRefreshInterval: time.Second,
	}
	s, err := config.Load[suiteConfig](t.Context(), opts, e.layer(t))
	if err != nil {
		t.Fatalf("config.Load with the layer: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testSharedByStores(t *testing.T, e *env) {
	e.seed("r1")
	clock := NewClock(time.Unix(0, 0))
	a, b := e.newStore(t, clock), e.newStore(t, clock)
	check := func(step string, s *config.Store[suiteConfig], name string) {
		t.Helper()
		clock.Advance(time.Second) // past MinRefreshInterval
		if err := s.Refresh(t.Context()); err != nil {
			t.Fatalf("%s: store %s: Refresh: %v", step, name, err)
		}
		if got, want := s.Get().Alpha.Host, e.want["alpha.host"]; got != want {
			t.Errorf("%s: store %s serves alpha.host %q, want %q: one layer value must serve every store "+
				"(keep what was read in the State, not in the layer)", step, name, got, want)
		}
	}
	e.set("alpha.host", "alpha-r2.internal")
	check("change 1, a first", a, "a")
	check("change 1, b after a", b, "b")
	e.set("alpha.host", "alpha-r3.internal")
	check("change 2, b first", b, "b")
	check("change 2, a after b", a, "a")
	check("no change", a, "a")
}

func testConcurrentRefresh(t *testing.T, e *env) {
	e.seed("r1")
	const workers, rounds = 4, 3
	r := e.refresher(t)
	states := make([]config.State, workers)
	last := make([]config.Values, workers) // the values of states[i]
	for i := range states {
		vals, state, err := e.firstRead(t, t.Context())
		if err != nil {
			t.Fatalf("the first Refresh (Prev nil) of valid sources failed: %v", err)
		}
		states[i], last[i] = state, vals
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				u, err := r.Refresh(t.Context(), config.RefreshRequest{Schema: e.schema, Prev: states[i]})
				if err != nil {
					t.Errorf("worker %d: Refresh while the sources change: %v", i, err)
					return
				}
				if u.Changed {
					states[i], last[i] = u.State, u.Values
				}
			}
		}()
	}
	for n := range rounds {
		e.set("alpha.host", fmt.Sprintf("alpha-c%d.internal", n))
	}
	wg.Wait()
	for i, s := range states {
		what := fmt.Sprintf("worker %d, after every change", i)
		u, err := e.refresh(t, t.Context(), s)
		if err != nil {
			t.Errorf("%s: Refresh: %v", what, err)
			continue
		}
		if u.Changed {
			last[i] = u.Values
		}
		e.wantValues(t, what, last[i], e.want)
	}
}
