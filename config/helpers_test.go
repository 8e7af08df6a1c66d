package config_test

import (
	"context"
	"log/slog"
	"sync"

	"github.com/strata-go/strata/config"
)

// fakeLayer is a layer of fixed values keyed by field key, with an optional
// refresh sequence. It stands in for the real providers in unit tests.
type fakeLayer struct {
	name      string
	sensitive bool
	vals      map[string]any
	err       error

	mu        sync.Mutex
	refreshes []refreshStep // consumed one per Refresh; the last one repeats
	calls     int
	version   int            // of the source: the number of steps with values consumed
	current   map[string]any // the values of the last such step
}

type refreshStep struct {
	vals    map[string]any // nil: the source is unchanged; with err, a change together with a failure
	err     error
	blockOn chan struct{} // when set, Refresh waits for it
}

func (l *fakeLayer) Name() string    { return l.name }
func (l *fakeLayer) Sensitive() bool { return l.sensitive }

func (l *fakeLayer) Load(ctx context.Context, s *config.Schema) (config.Values, error) {
	return toValues(l.name, l.vals), l.err
}

func toValues(name string, m map[string]any) config.Values {
	out := config.Values{}
	for k, v := range m {
		out[k] = config.Value{Raw: v, Source: config.Source{Layer: name, Location: k}}
	}
	return out
}

// refreshingLayer adds Refresh to fakeLayer. Its steps are what its source
// holds over time: each Refresh consumes one, and a step with values is a new
// version of the source. Like a real layer it keeps no state of its own
// between calls: it compares the source's version with the request's Prev, so
// a change the store rejected (and did not commit) is read again.
type refreshingLayer struct{ *fakeLayer }

func (l refreshingLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	l.mu.Lock()
	if req.Prev == nil {
		vals, v := l.source()
		l.mu.Unlock()
		return config.Update{Changed: true, Values: vals, State: v}, l.err
	}
	l.calls++
	var step refreshStep
	if len(l.refreshes) > 0 {
		step = l.refreshes[0]
		if len(l.refreshes) > 1 {
			l.refreshes = l.refreshes[1:]
		}
	}
	if step.vals != nil {
		l.version++
		l.current = step.vals
	}
	vals, v := l.source()
	l.mu.Unlock()
	if step.blockOn != nil {
		select {
		case <-step.blockOn:
		case <-ctx.Done():
			return config.Update{}, ctx.Err()
		}
	}
	if req.Prev.(int) == v {
		return config.Update{}, step.err
	}
	// New values and an error: the layer changed and something of it failed.
	return config.Update{Changed: true, Values: vals, State: v}, step.err
}

// source returns what the source holds now and its version. l.mu must be held.
func (l refreshingLayer) source() (config.Values, int) {
	if l.version == 0 {
		return toValues(l.name, l.vals), 0
	}
	return toValues(l.name, l.current), l.version
}

func (l refreshingLayer) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func (l refreshingLayer) push(steps ...refreshStep) {
	l.mu.Lock()
	l.refreshes = append(l.refreshes, steps...)
	l.mu.Unlock()
}

// discard returns a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
