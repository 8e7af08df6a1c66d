package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

type commitCfg struct {
	Host string
	Port int
}

// commitSnap is a snapshot of commitCfg whose merged values are host and port.
func commitSnap(host string, port int) *snapshot[commitCfg] {
	return &snapshot[commitCfg]{cfg: commitCfg{host, port}, values: []slot{
		{Value: Value{Raw: host}, set: true}, {Value: Value{Raw: port}, set: true}}}
}

func TestCommit(t *testing.T) {
	schema, err := schemaOf(reflect.TypeFor[commitCfg](), "")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	cur, next := commitSnap("db1", 1), commitSnap("db2", 1)
	rejection := &AggregateError{Errs: []error{&FieldError{Key: "port", Err: ErrValidation}}}
	transientErr := &SourceError{Layer: "sm", Source: "db", Code: ErrTransient}
	permanentErr := &SourceError{Layer: "sm", Source: "db", Code: ErrAccessDenied}
	update := Update{Changed: true, Values: Values{"host": {Raw: "db2"}}, State: 2, Versions: map[string]string{"db": "v2"}}
	changed := readResult{updates: map[int]Update{0: update}, changed: []int{0}}
	base := func() refreshState {
		return refreshState{cache: []Values{{"host": {Raw: "db1"}}}, cacheWarn: make([][]error, 1), states: []State{1},
			versions: []map[string]string{{"db": "v1"}}, rejectedBy: map[int]error{}, rejectedVals: map[int]Values{},
			status: Status{Healthy: true, LastSuccess: t0}}
	}
	withRejection := base()
	withRejection.rejectedBy[0], withRejection.rejectedVals[0] = rejection, Values{"port": {Raw: "x"}}
	withRejection.status.Healthy = false

	tests := []struct {
		name    string
		prev    refreshState
		read    readResult
		built   buildResult[commitCfg]
		publish bool
		keys    []string // of the one event; nil: no event
		eventErr,
		err error // errors.Is targets; nil: none
		outcome   outcome
		healthy   bool
		state     State
		counts    [3]int // Changes, Rejected, Failures
		succeeded bool   // LastSuccess moved to now
	}{
		{name: "nothing new", prev: base(), read: readResult{}, outcome: readOK, healthy: true, state: 1, succeeded: true},
		{name: "accepted change", prev: base(), read: changed,
			built:   buildResult[commitCfg]{snap: next, accepted: []int{0}, cache: []Values{update.Values}, cacheWarn: make([][]error, 1)},
			publish: true, keys: []string{"host"}, outcome: readOK, healthy: true, state: 2, counts: [3]int{1, 0, 0}, succeeded: true},
		{name: "rejected change", prev: base(), read: changed,
			built: buildResult[commitCfg]{rejections: map[int]error{0: rejection}},
			keys:  []string{}, eventErr: ErrValidation, err: ErrValidation, outcome: readOK, healthy: false, state: 1,
			counts: [3]int{0, 1, 0}, succeeded: true},
		{name: "transient failure", prev: base(), read: readResult{errs: []error{transientErr}},
			keys: []string{}, eventErr: ErrTransient, err: ErrTransient, outcome: readTransient, healthy: true, state: 1,
			counts: [3]int{0, 0, 1}},
		{name: "permanent failure", prev: base(), read: readResult{errs: []error{transientErr, permanentErr}},
			keys: []string{}, eventErr: ErrAccessDenied, err: ErrAccessDenied, outcome: readPermanent, healthy: false, state: 1,
			counts: [3]int{0, 0, 1}},
		{name: "change and failure", prev: base(),
			read:    readResult{updates: changed.updates, changed: changed.changed, errs: []error{transientErr}},
			built:   buildResult[commitCfg]{snap: next, accepted: []int{0}, cache: []Values{update.Values}, cacheWarn: make([][]error, 1)},
			publish: true, keys: []string{"host"}, eventErr: ErrTransient, err: ErrTransient, outcome: readTransient,
			healthy: true, state: 2, counts: [3]int{1, 0, 1}},
		{name: "rejection outstanding", prev: withRejection, read: readResult{},
			err: ErrValidation, outcome: readOK, healthy: false, state: 1, succeeded: true},
		{name: "rejected layer settled", prev: withRejection, read: readResult{settled: []int{0}},
			outcome: readOK, healthy: true, state: 1, succeeded: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fmt.Sprint(tc.prev.rejectedBy, tc.prev.states, tc.prev.versions)
			res := commit(schema, tc.prev, cur, tc.read, tc.built, now)
			if after := fmt.Sprint(tc.prev.rejectedBy, tc.prev.states, tc.prev.versions); after != before {
				t.Errorf("commit modified its input: %s -> %s", before, after)
			}
			if (res.publish != nil) != tc.publish || (tc.publish && res.publish != next) {
				t.Errorf("publish = %v, want %v", res.publish != nil, tc.publish)
			}
			switch {
			case tc.keys == nil && len(res.events) != 0:
				t.Errorf("events = %+v, want none", res.events)
			case tc.keys != nil && len(res.events) != 1:
				t.Errorf("%d events, want one", len(res.events))
			case tc.keys != nil:
				ev := res.events[0]
				if !slices.Equal(ev.Keys, tc.keys) && len(ev.Keys)+len(tc.keys) > 0 {
					t.Errorf("event Keys = %v, want %v", ev.Keys, tc.keys)
				}
				if (tc.eventErr == nil) != (ev.Err == nil) || (tc.eventErr != nil && !errors.Is(ev.Err, tc.eventErr)) {
					t.Errorf("event Err = %v, want %v", ev.Err, tc.eventErr)
				}
				if !ev.At.Equal(now) || ev.old != cur {
					t.Errorf("event At %v old %p, want %v and the served snapshot", ev.At, ev.old, now)
				}
			}
			if (tc.err == nil) != (res.err == nil) || (tc.err != nil && !errors.Is(res.err, tc.err)) {
				t.Errorf("err = %v, want %v", res.err, tc.err)
			}
			st := res.state
			if res.outcome != tc.outcome || st.status.Healthy != tc.healthy || st.states[0] != tc.state {
				t.Errorf("outcome %v healthy %v state %v, want %v %v %v", res.outcome, st.status.Healthy, st.states[0],
					tc.outcome, tc.healthy, tc.state)
			}
			if got := [3]int{st.status.Changes, st.status.Rejected, st.status.Failures}; got != tc.counts {
				t.Errorf("Changes, Rejected, Failures = %v, want %v", got, tc.counts)
			}
			if st.status.LastSuccess.Equal(now) != tc.succeeded {
				t.Errorf("LastSuccess = %v, want moved to now: %v", st.status.LastSuccess, tc.succeeded)
			}
			if st.status.LastError != res.err {
				t.Errorf("Status.LastError %v differs from what Refresh returns %v", st.status.LastError, res.err)
			}
		})
	}
}

func TestScheduleRetries(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sc := newSchedule(Options{RefreshInterval: time.Minute, MinRefreshInterval: 5 * time.Second, RetryBackoff: time.Second}, start)
	within := func(d, want time.Duration) bool { return d >= want-want/10 && d <= want+want/10 }
	if d := sc.next.Sub(start); !within(d, time.Minute) || !sc.earliest().Equal(start.Add(5*time.Second)) {
		t.Fatalf("first check after %v, earliest %v", d, sc.earliest())
	}
	now := start
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60} {
		sc.finished(now, readTransient)
		if d := sc.next.Sub(now); !within(d, want*time.Second) {
			t.Errorf("retry %d after %v, want %vs ±10 %%", i+1, d, want)
		}
	}
	sc.finished(now, readClosed)
	if sc.failures != 9 {
		t.Errorf("a closed read changed the failure count to %d", sc.failures)
	}
	sc.finished(now, readPermanent)
	if d := sc.next.Sub(now); !within(d, time.Minute) || sc.failures != 0 {
		t.Errorf("after a permanent failure the next check is after %v (failures %d), want the TTL", d, sc.failures)
	}
}
