package secretsmanager

import (
	"context"
	"sync"

	"github.com/strata-go/strata/config"
)

// tracked holds, for each layer under test, the last Update a store would
// have accepted: tests drive a layer through a load and refreshes the way a
// store does, committing the State of every change.
var tracked sync.Map // *Reader -> config.Update

// testLoad is a store's first read: Refresh with no previous State.
func (l *Reader) testLoad(ctx context.Context, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if u.State != nil {
		tracked.Store(l, u)
	}
	return u.Values, err
}

// testRefresh refreshes from the tracked State and commits a change.
func (l *Reader) testRefresh(ctx context.Context, schema *config.Schema) (config.Values, bool, error) {
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

// testVersions returns the versions of the tracked State.
func (l *Reader) testVersions() map[string]string {
	if u, ok := tracked.Load(l); ok {
		return u.(config.Update).Versions
	}
	return map[string]string{}
}
