package strataotel

import (
	"reflect"
	"testing"

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
