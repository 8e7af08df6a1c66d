package tests

import (
	"context"
	"sync"

	"github.com/strata-go/strata/config"
)

// tracked holds, for each layer driven directly by a test, the last Update a
// store would have accepted: the layer keeps no state, so the tests keep it
// the way a store does.
var tracked sync.Map // config.Refresher -> config.Update

// smLoad is a store's first read of l: Refresh with no previous State.
func smLoad(ctx context.Context, l config.Refresher, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if u.State != nil {
		tracked.Store(l, u)
	}
	return u.Values, err
}

// smRefresh refreshes l from its tracked State and commits a change.
func smRefresh(ctx context.Context, l config.Refresher, schema *config.Schema) (config.Values, bool, error) {
	var prev config.State
	if u, ok := tracked.Load(l); ok {
		prev = u.(config.Update).State
	}
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema, Prev: prev})
	if u.Changed {
		tracked.Store(l, u)
	}
	return u.Values, u.Changed, err
}

// smVersions returns the versions of l's tracked State.
func smVersions(l config.Refresher) map[string]string {
	if u, ok := tracked.Load(l); ok {
		return u.(config.Update).Versions
	}
	return map[string]string{}
}
