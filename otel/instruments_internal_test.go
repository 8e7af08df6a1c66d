package strataotel

import (
	"reflect"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// Layers of one name become one, their calls summed, so that one collection
// never observes an attribute set twice (which OpenTelemetry leaves
// undefined, whatever one SDK does with it).
func TestByNameMergesLayersOfOneName(t *testing.T) {
	t.Parallel()
	in := []config.LayerStatus{
		{Name: "secretsmanager", Calls: map[string]config.CallCount{"DescribeSecret": {OK: 2, Error: 1}}},
		{Name: "file", Versions: map[string]string{"config.yaml": "1"}},
		{Name: "secretsmanager", Calls: map[string]config.CallCount{"DescribeSecret": {OK: 3}, "GetSecretValue": {Error: 4}}},
	}
	want := []config.LayerStatus{
		{Name: "secretsmanager", Calls: map[string]config.CallCount{"DescribeSecret": {OK: 5, Error: 1}, "GetSecretValue": {Error: 4}}},
		{Name: "file", Calls: map[string]config.CallCount{}},
	}
	if got := byName(in); !reflect.DeepEqual(got, want) {
		t.Errorf("byName = %+v, want %+v", got, want)
	}
	if in[0].Calls["DescribeSecret"].OK != 2 {
		t.Error("byName modified the Status it was given")
	}
}

// The watches of layers of one name merge: connected only if all are, counts
// summed, the longest lag, the latest event.
func TestByNameMergesWatches(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	a := &config.WatchStatus{WatchReport: config.WatchReport{Connected: true, LastEvent: t0, Handled: 1, Ignored: 2, Malformed: 3},
		Events: 4, Lag: time.Second}
	b := &config.WatchStatus{WatchReport: config.WatchReport{Connected: false, LastEvent: t0.Add(time.Minute), Handled: 10},
		Events: 1, Lag: 300 * time.Millisecond}
	got := byName([]config.LayerStatus{{Name: "sm", Watch: a}, {Name: "other"}, {Name: "sm", Watch: b}})
	want := &config.WatchStatus{WatchReport: config.WatchReport{Connected: false, LastEvent: t0.Add(time.Minute), Handled: 11, Ignored: 2, Malformed: 3},
		Events: 5, Lag: time.Second}
	if len(got) != 2 || !reflect.DeepEqual(got[0].Watch, want) || got[1].Watch != nil {
		t.Errorf("byName = %+v (watch %+v), want the merged watch %+v", got, got[0].Watch, want)
	}
	if a.Handled != 1 || !a.Connected || b.Handled != 10 {
		t.Error("byName modified a watch it was given")
	}
	if one := byName([]config.LayerStatus{{Name: "sm", Watch: a}}); one[0].Watch == a {
		t.Error("byName returned the caller's watch, not a copy")
	}
}
