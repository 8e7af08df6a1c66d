package configtest

import (
	"strings"
	"testing"
)

type cyclic struct {
	next  *cyclic
	items []any
	byKey map[string]any
	arr   [2]int
	n     float64
}

// TestSnapshotSeesEveryChange checks that a change anywhere in a State, in
// unexported fields, maps, slices, arrays and through cycles, is seen and
// named by its path, and that no path shows a secret map key.
func TestSnapshotSeesEveryChange(t *testing.T) {
	build := func() *cyclic {
		c := &cyclic{byKey: map[string]any{}, n: 1}
		c.next = c
		c.items = []any{c, map[int]string{1: "one"}}
		c.byKey["self"] = c.byKey
		c.byKey[Canary] = "secret"
		return c
	}
	cases := []struct {
		name   string
		modify func(*cyclic)
		path   string
	}{
		{"array", func(c *cyclic) { c.arr[1] = 7 }, "Prev.(*configtest.cyclic).arr[1]"},
		{"float", func(c *cyclic) { c.n = 2 }, "Prev.(*configtest.cyclic).n"},
		{"map in a slice", func(c *cyclic) { c.items[1].(map[int]string)[1] = "uno" }, "Prev.(*configtest.cyclic).items[1].(map[int]string)[1]"},
		{"secret key", func(c *cyclic) { c.byKey[Canary] = "other" }, "Prev.(*configtest.cyclic).byKey[key #1 of 2]"},
		{"new key", func(c *cyclic) { c.byKey["x"] = 1 }, "Prev.(*configtest.cyclic).byKey"},
		{"pointer", func(c *cyclic) { c.next = &cyclic{} }, "Prev.(*configtest.cyclic).next"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := build()
			before := snapshotOf(c)
			if got := before.changes(snapshotOf(c)); len(got) != 0 {
				t.Fatalf("nothing changed, yet the snapshots differ at %v", got)
			}
			tc.modify(c)
			got := before.changes(snapshotOf(c))
			if len(got) == 0 || !strings.Contains(strings.Join(got, " "), tc.path) {
				t.Errorf("changes = %v, want %s among them", got, tc.path)
			}
			for _, p := range got {
				if strings.Contains(p, Canary) || strings.Contains(p, "secret") {
					t.Errorf("path %q shows a map key or value holding secret text", p)
				}
			}
		})
	}
}
