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
}

type refreshStep struct {
	vals    map[string]any // nil: no change; with err, a change together with a failure
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

// refreshingLayer adds Refresh to fakeLayer.
type refreshingLayer struct{ *fakeLayer }

func (l refreshingLayer) Refresh(ctx context.Context, s *config.Schema) (config.Values, bool, error) {
	l.mu.Lock()
	l.calls++
	var step refreshStep
	if len(l.refreshes) > 0 {
		step = l.refreshes[0]
		if len(l.refreshes) > 1 {
			l.refreshes = l.refreshes[1:]
		}
	}
	l.mu.Unlock()
	if step.blockOn != nil {
		select {
		case <-step.blockOn:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if step.vals == nil {
		return nil, false, step.err
	}
	// New values and an error: the layer changed and something of it failed.
	return toValues(l.name, step.vals), true, step.err
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
