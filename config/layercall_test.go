package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// stubbornLayer ignores the context of its calls: after the first read, each
// Refresh (and, with blockLoad, Load) blocks until release is closed. It
// records how many of its calls ran at once.
type stubbornLayer struct {
	release   chan struct{}
	entered   chan struct{} // receives once per blocking call, when it starts
	blockLoad bool
	freeOnce  sync.Once

	mu             sync.Mutex
	calls, running int
	maxRunning     int
}

func newStubborn() *stubbornLayer {
	return &stubbornLayer{release: make(chan struct{}), entered: make(chan struct{}, 16)}
}

// free lets every call, blocked or to come, return.
func (l *stubbornLayer) free() { l.freeOnce.Do(func() { close(l.release) }) }

func (l *stubbornLayer) Name() string    { return "stubborn" }
func (l *stubbornLayer) Sensitive() bool { return true }

func (l *stubbornLayer) vals() config.Values {
	return toValues("stubborn", map[string]any{"database.host": "db.internal", "database.password": "correct-horse-battery"})
}

func (l *stubbornLayer) block() {
	l.mu.Lock()
	l.calls++
	l.running++
	l.maxRunning = max(l.maxRunning, l.running)
	l.mu.Unlock()
	l.entered <- struct{}{}
	<-l.release // ctx is ignored
	l.mu.Lock()
	l.running--
	l.mu.Unlock()
}

func (l *stubbornLayer) Load(ctx context.Context, _ *config.Schema) (config.Values, error) {
	if l.blockLoad {
		l.block()
	}
	return l.vals(), nil
}

func (l *stubbornLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev == nil {
		return config.Update{Changed: true, Values: l.vals(), State: 1}, nil
	}
	l.block()
	return config.Update{}, nil
}

func (l *stubbornLayer) counts() (calls, maxRunning int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls, l.maxRunning
}

// bounded is a context that ends long after any expected wait, so that a
// regression fails the test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRefreshAbandonsLayerIgnoringContext checks that a layer that ignores
// the context of Refresh does not stop refreshing silently: the attempt fails
// naming the layer and Options.RefreshTimeout, Status counts it and is
// unhealthy, the layer is not called again while its call runs, and once it
// returns the store reads it again.
func TestRefreshAbandonsLayerIgnoringContext(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(time.Unix(0, 0))
	l := newStubborn()
	defer l.free()
	s, err := config.Load[appCfg](t.Context(), &config.Options{Logger: discard(), Clock: clock, Lazy: true,
		RefreshTimeout: time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := bounded(t)

	clock.Advance(time.Minute)
	err = s.Refresh(ctx)
	want := "layer 1 (stubborn) did not return within Options.RefreshTimeout (1ms)"
	if err == nil || !strings.Contains(err.Error(), want) || !config.IsTransient(err) {
		t.Fatalf("Refresh = %v, want a transient error containing %q", err, want)
	}
	if st := s.Status(); st.Healthy || st.Failures != 1 || st.LastError == nil {
		t.Errorf("Status: Healthy %v, Failures %d, LastError %v; want unhealthy, 1 failure, the error",
			st.Healthy, st.Failures, st.LastError)
	}

	clock.Advance(time.Minute)
	err = s.Refresh(ctx)
	if err == nil || !strings.Contains(err.Error(), "layer 1 (stubborn) has still not returned from the call of Refresh") {
		t.Fatalf("second Refresh = %v, want the layer reported as still not returned", err)
	}
	if calls, _ := l.counts(); calls != 1 {
		t.Errorf("the layer was called %d times while its abandoned call ran, want 1", calls)
	}
	if st := s.Status(); st.Healthy || st.Failures != 2 {
		t.Errorf("Status: Healthy %v, Failures %d; want unhealthy, 2 failures", st.Healthy, st.Failures)
	}

	l.free()
	<-config.AbandonedReturned(s, 0)
	clock.Advance(time.Minute)
	if err := s.Refresh(ctx); err != nil {
		t.Fatalf("Refresh after the layer returned = %v", err)
	}
	if calls, most := l.counts(); calls != 2 || most != 1 {
		t.Errorf("calls %d, at most %d at once; want 2 calls, never two at once", calls, most)
	}
	if st := s.Status(); !st.Healthy || st.LastError != nil {
		t.Errorf("Status after recovery: Healthy %v, LastError %v", st.Healthy, st.LastError)
	}
}

// TestCloseDoesNotWaitForAbandonedLayer checks that Close returns while a
// layer that ignores its context is still inside Refresh, and that the
// Refresh waiting for that read gets ErrClosed.
func TestCloseDoesNotWaitForAbandonedLayer(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(time.Unix(0, 0))
	l := newStubborn()
	defer l.free()
	s, err := config.Load[appCfg](t.Context(), &config.Options{Logger: discard(), Clock: clock, Lazy: true,
		RefreshTimeout: time.Hour}, l)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	refreshed := make(chan error, 1)
	go func() { refreshed <- s.Refresh(bounded(t)) }()
	<-l.entered
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-bounded(t).Done():
		t.Fatal("Close waits for a layer that ignores its context")
	}
	if err := <-refreshed; !errors.Is(err, config.ErrClosed) {
		t.Errorf("Refresh = %v, want ErrClosed", err)
	}
}

// TestLoadAbandonsLayerIgnoringContext checks that Load returns when its
// context ends while a layer ignores it, with an error naming the layer.
func TestLoadAbandonsLayerIgnoringContext(t *testing.T) {
	t.Parallel()
	l := newStubborn()
	l.blockLoad = true
	defer l.free()
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-l.entered; cancel() }()
	type plain struct{ Database struct{ Host string } }
	_, err := config.Load[plain](ctx, &config.Options{Logger: discard()}, loadOnly{l})
	want := "layer 1 (stubborn) did not return after the context given to Load ended"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Load = %v, want an error containing %q that is context.Canceled", err, want)
	}
}

// loadOnly hides Refresh, so the store calls Load.
type loadOnly struct{ l *stubbornLayer }

func (o loadOnly) Name() string    { return o.l.Name() }
func (o loadOnly) Sensitive() bool { return o.l.Sensitive() }
func (o loadOnly) Load(ctx context.Context, s *config.Schema) (config.Values, error) {
	return o.l.Load(ctx, s)
}

// keyedLayer fails its source with the context's error once ctx ends, naming
// the keys the source would have set, as a well-behaved layer does.
type keyedLayer struct{}

func (keyedLayer) Name() string    { return "vault" }
func (keyedLayer) Sensitive() bool { return true }
func (keyedLayer) Load(ctx context.Context, _ *config.Schema) (config.Values, error) {
	return nil, errors.New("unused")
}

func (keyedLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev == nil {
		vals := toValues("vault", map[string]any{"database.host": "db.internal", "database.password": "correct-horse-battery"})
		return config.Update{Changed: true, Values: vals, State: 1}, nil
	}
	<-ctx.Done()
	return config.Update{}, &config.SourceError{Layer: "vault", Source: "db", Err: ctx.Err(), Keys: []string{"database"}}
}

// TestInterruptionNamesDeadline checks that a refresh cut by
// Options.RefreshTimeout says so, and keeps the keys the layer left unset:
// the layer's own error wins over abandoning it.
func TestInterruptionNamesDeadline(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(time.Unix(0, 0))
	// The layer returns as soon as its context ends; a busy machine may
	// take longer than the default grace to run it.
	s, err := config.Load[appCfg](t.Context(), config.WithAbandonGrace(config.Options{Logger: discard(), Clock: clock, Lazy: true,
		RefreshTimeout: time.Millisecond}, 10*time.Second), keyedLayer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(time.Minute)
	err = s.Refresh(bounded(t))
	want := "vault: transient failure: interrupted (Options.RefreshTimeout, 1ms): context deadline exceeded"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "did not return") {
		t.Fatalf("Refresh = %v, want %q", err, want)
	}
	var se *config.SourceError
	if !errors.As(err, &se) || len(se.Keys) != 1 || se.Keys[0] != "database" {
		t.Errorf("the interruption lost the keys left unset: %#v", se)
	}
}

// TestLoadInterruptionNamesContext checks that a Load cut by its context says
// which context it was.
func TestLoadInterruptionNamesContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithDeadline(t.Context(), time.Unix(1, 0))
	defer cancel()
	_, err := config.Load[appCfg](ctx, &config.Options{Logger: discard()}, perSourceLayer{})
	want := "vault: transient failure: interrupted (the context given to Load): context deadline exceeded"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load = %v, want %q", err, want)
	}
}

// TestRefreshContextNamed checks that a Refresh whose own context ends says
// that context ended, and still matches the context's error.
func TestRefreshContextNamed(t *testing.T) {
	t.Parallel()
	s, _, _ := subStore(t, discard())
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Refresh(done); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "the context given to Refresh") {
		t.Errorf("Refresh on a done context = %v", err)
	}
	// The clock does not move, so the read waits for MinRefreshInterval.
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Refresh(ctx) }()
	if err := config.WaitRefreshCallers(bounded(t), s, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "the context given to Refresh ended") {
		t.Errorf("Refresh whose context ended while waiting = %v", err)
	}
}

// unprintable is an error whose Error method panics, quoting what it holds.
type unprintable struct{ text string }

func (e *unprintable) Error() string { panic("cannot print " + e.text) }

// unprintableLayer loads well, and each later read returns an error that
// joins a printable one and err.
type unprintableLayer struct{ err error }

func (unprintableLayer) Name() string    { return "odd" }
func (unprintableLayer) Sensitive() bool { return true }
func (l unprintableLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return nil, errors.Join(errors.New("plain"), l.err)
}
func (l unprintableLayer) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev == nil {
		return config.Update{Changed: true, State: 1,
			Values: toValues("odd", map[string]any{"database.host": "db", "database.password": "correct-horse-battery"})}, nil
	}
	return config.Update{}, errors.Join(errors.New("plain"), l.err)
}

// unprintableLoader is unprintableLayer without its Refresh.
type unprintableLoader struct{ l unprintableLayer }

func (o unprintableLoader) Name() string    { return o.l.Name() }
func (o unprintableLoader) Sensitive() bool { return o.l.Sensitive() }
func (o unprintableLoader) Load(ctx context.Context, s *config.Schema) (config.Values, error) {
	return o.l.Load(ctx, s)
}

// TestLayerErrorThatCannotBePrinted: a layer's error whose Error method
// panics (here a nil pointer's, and one quoting a value) is replaced by an
// ErrLayer error naming the layer, at Load and at refresh, instead of
// ending the process when the store logs it; the panic's text is not shown.
func TestLayerErrorThatCannotBePrinted(t *testing.T) {
	for _, bad := range []error{(*unprintable)(nil), &unprintable{"CANARY-unprintable"}} {
		_, err := config.Load[appCfg](context.Background(), &config.Options{Logger: discard()}, unprintableLoader{unprintableLayer{bad}})
		if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "layer 1 (odd) returned from Load an error that cannot be printed") {
			t.Errorf("Load: %v", err)
		}
		logs := &configtest.LogBuffer{}
		s, err := config.Load[appCfg](context.Background(), &config.Options{MinRefreshInterval: time.Nanosecond,
			Logger: slog.New(slog.NewTextHandler(logs, nil))}, unprintableLayer{bad})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		err = s.Refresh(context.Background())
		st := s.Status()
		s.Close()
		if !errors.Is(err, config.ErrLayer) || !strings.Contains(fmt.Sprint(st.LastError), "returned from Refresh an error that cannot be printed") {
			t.Errorf("Refresh: %v; Status: %v", err, st.LastError)
		}
		if out := logs.String() + fmt.Sprintf("%+v", st); strings.Contains(out, "CANARY") || !strings.Contains(logs.String(), "cannot be printed") {
			t.Errorf("logs and status: %s", out)
		}
	}
}

// reportingLayer is a refreshing layer whose LayerStatus panics.
type reportingLayer struct{ unprintableLayer }

func (reportingLayer) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	return config.Update{Changed: req.Prev == nil, State: 1,
		Values: toValues("odd", map[string]any{"database.host": "db", "database.password": "correct-horse-battery"})}, nil
}
func (reportingLayer) LayerStatus() config.LayerStatus { panic("CANARY-layer-status") }

// TestLayerStatusThatPanics: Status, which probes and metric readers call,
// does not panic when a layer's LayerStatus does: the layer is listed by
// name, and the panic is logged by its type only.
func TestLayerStatusThatPanics(t *testing.T) {
	logs := &configtest.LogBuffer{}
	s, err := config.Load[appCfg](context.Background(), &config.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))},
		reportingLayer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Status()
	if len(st.Layers) != 1 || st.Layers[0].Name != "odd" || st.Layers[0].Calls != nil {
		t.Errorf("layers = %+v", st.Layers)
	}
	if out := logs.String(); !strings.Contains(out, "layer 1 (odd) panicked in LayerStatus (a panic of type string)") || strings.Contains(out, "CANARY") {
		t.Errorf("logs: %s", out)
	}
}
