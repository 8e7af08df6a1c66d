package config

import "context"

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
