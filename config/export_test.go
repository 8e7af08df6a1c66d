package config

import (
	"context"
	"time"
)

// WaitRefreshCallers waits until at least n calls of Refresh wait for the read
// that has not started yet, so a test knows callers have arrived without
// looking at stacks or sleeping.
func WaitRefreshCallers[T any](ctx context.Context, s *Store[T], n int) error {
	for {
		s.mu.Lock()
		got, joined := 0, s.joined
		if s.pending != nil {
			got = s.pending.callers
		}
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-joined:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WithAbandonGrace returns o with the time a store waits for a layer call
// after its context ended set to d, for tests that check what the layer
// returned then, which a busy machine may delay past the default.
func WithAbandonGrace(o Options, d time.Duration) *Options {
	o.abandonGrace = d
	return &o
}
