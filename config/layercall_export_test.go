package config

// AbandonedReturned returns a channel closed once the abandoned call of the
// layer at index i has returned (at once when there is none), so a test knows
// the layer is free without polling or sleeping.
func AbandonedReturned[T any](s *Store[T], i int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.stuck[i]; a != nil {
		return a.returned
	}
	done := make(chan struct{})
	close(done)
	return done
}
