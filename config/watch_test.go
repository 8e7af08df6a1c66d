package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// watchLayer is a refreshing layer that watches: its Watch is the test's
// function, and it passes every request after the first to reqs.
type watchLayer struct {
	refreshingLayer
	watch func(ctx context.Context, w config.Watch) error
	reqs  chan config.RefreshRequest
}

func (l watchLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev != nil {
		l.reqs <- req
	}
	return l.refreshingLayer.Refresh(ctx, req)
}

func (l watchLayer) Watch(ctx context.Context, w config.Watch) error { return l.watch(ctx, w) }

// watchFixture is a store over a plain refreshing layer (the host) and a
// watching one (port and password), on a fake clock.
type watchFixture struct {
	ctx     context.Context
	clock   *configtest.Clock
	plain   enteringLayer
	watched watchLayer
	w       chan config.Watch // receives the Watch of each call of Watch
	store   *config.Store[rfConfig]
}

// newWatchFixture loads the store; watch is the watching layer's Watch, nil
// for one that sends its Watch to f.w and runs until its context ends.
func newWatchFixture(t *testing.T, opts config.Options, watch func(ctx context.Context, w config.Watch) error) *watchFixture {
	t.Helper()
	return newWatchFixtureOf(t, opts, watch, true)
}

// newWatchFixtureOf is newWatchFixture, with the plain layer loaded only
// when withPlain is set.
func newWatchFixtureOf(t *testing.T, opts config.Options, watch func(ctx context.Context, w config.Watch) error, withPlain bool) *watchFixture {
	t.Helper()
	f := &watchFixture{ctx: rfCtx(t), clock: configtest.NewClock(rfEpoch), w: make(chan config.Watch, 10)}
	f.plain = enteringLayer{refreshingLayer{&fakeLayer{name: "plain", vals: map[string]any{"host": "db1"}}},
		make(chan struct{}, 1000)}
	f.watched = watchLayer{refreshingLayer: refreshingLayer{&fakeLayer{name: "watched", sensitive: true,
		vals: map[string]any{"port": "5432", "password": rfSecret1}}}, reqs: make(chan config.RefreshRequest, 1000)}
	f.watched.watch = watch
	if watch == nil {
		f.watched.watch = func(ctx context.Context, w config.Watch) error {
			f.w <- w
			<-ctx.Done()
			return nil
		}
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = 5 * time.Minute
	}
	opts.Clock, opts.Logger = f.clock, slog.New(slog.DiscardHandler)
	layers := []config.Layer{f.watched}
	if withPlain {
		layers = []config.Layer{f.plain, f.watched}
	}
	s, err := config.Load[rfConfig](context.Background(), &opts, layers...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f.store = s
	t.Cleanup(func() { s.Close() })
	return f
}

// watch returns the Watch the store gave the layer's current call of Watch.
func (f *watchFixture) watch(t *testing.T) config.Watch {
	t.Helper()
	select {
	case w := <-f.w:
		return w
	case <-f.ctx.Done():
		t.Fatal("the store did not call Watch")
		return config.Watch{}
	}
}

// request returns the next request the watched layer received.
func (f *watchFixture) request(t *testing.T) config.RefreshRequest {
	t.Helper()
	select {
	case r := <-f.watched.reqs:
		return r
	case <-f.ctx.Done():
		t.Fatal("the watched layer was not read")
		return config.RefreshRequest{}
	}
}

// loopWaits returns how long the refresh loop waits for its next read, once
// it waits (with the watch's own waits, if any, n waiters in all).
func (f *watchFixture) loopWaits(t *testing.T, n int) time.Duration {
	t.Helper()
	if err := f.clock.BlockUntilWaiters(f.ctx, n); err != nil {
		t.Fatalf("the store does not wait on the clock: %v", err)
	}
	next, _ := f.clock.Next()
	return next.Sub(f.clock.Now())
}

func (f *watchFixture) watchStatus(t *testing.T) *config.WatchStatus {
	t.Helper()
	for _, ls := range f.store.Status().Layers {
		if ls.Name == "watched" {
			return ls.Watch
		}
	}
	t.Fatal("no status of the watched layer")
	return nil
}

// An event makes the store read the watching layer alone, at once (within
// MinRefreshInterval of the last read), with the events in the request; a
// burst shares one read; the lag from the event's time is in Status.
func TestWatchEventReadsThatLayerAlone(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: 5 * time.Second}, nil)
	w := f.watch(t)
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(5 * time.Second) // MinRefreshInterval holds back the full read of a watch that connected
	if r := f.request(t); r.Events != nil || r.OnDemand {
		t.Errorf("the read after the first connection: %+v, want no events, not on demand (Load just read it all)", r)
	}
	<-f.plain.ch

	changes := make(chan config.Change[rfConfig], 10)
	defer f.store.Subscribe(func(c config.Change[rfConfig]) { changes <- c })()
	f.watched.push(refreshStep{vals: map[string]any{"port": "6432", "password": rfSecret2}})
	at := f.clock.Now().Add(-400 * time.Millisecond)
	for range 3 { // one message and its duplicates
		w.Notify(config.Event{Source: "db", Version: "v2", At: at})
	}
	w.Notify(config.Event{Source: "api", Version: "v7"})
	f.clock.Advance(20 * time.Millisecond) // the coalescing window
	r := f.request(t)
	if len(r.Events) != 4 || r.Events[0].Source != "db" || r.Events[3].Source != "api" || r.OnDemand {
		t.Errorf("request = %+v, want the four events, not on demand", r)
	}
	ch := <-changes
	if strings.Join(ch.Keys, ",") != "port,password" || ch.Err != nil {
		t.Errorf("change = %v", ch)
	}
	select {
	case <-f.plain.ch:
		t.Error("the read an event caused read the layer that does not watch")
	case r := <-f.watched.reqs:
		t.Errorf("a burst of events gave a second read: %+v", r)
	default:
	}
	ws := f.watchStatus(t)
	if ws == nil || ws.Events != 4 || !ws.Connected || ws.Lag != 420*time.Millisecond {
		t.Errorf("watch status = %+v, want 4 events, connected, lag 420ms", ws)
	}
}

// While the watch of the only refreshable layer is connected the store
// polls at WatchInterval; when it disconnects the next poll comes at
// RefreshInterval again.
func TestWatchIntervalWhileConnected(t *testing.T) {
	f := newWatchFixtureOf(t, config.Options{RefreshInterval: 5 * time.Minute, WatchInterval: time.Hour}, nil, false)
	w := f.watch(t)
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(5 * time.Second) // the read the connection caused, after MinRefreshInterval
	f.request(t)
	// The loop's timer was set for the first interval; once it fires, the
	// loop waits for the read due an hour after the last one.
	f.clock.Advance(f.loopWaits(t, 1))
	if d := f.loopWaits(t, 1); d < 45*time.Minute || d > 70*time.Minute {
		t.Fatalf("connected: the loop waits %v, want about an hour after the last read", d)
	}
	w.Report(config.WatchReport{Err: errors.New("queue gone")})
	if d := f.loopWaits(t, 1); d > 6*time.Minute {
		t.Errorf("disconnected: the loop waits %v, want about 5 minutes", d)
	}
	ws := f.watchStatus(t)
	if ws.Connected || ws.Err == nil || ws.Err.Error() != "queue gone" {
		t.Errorf("watch status = %+v", ws)
	}
}

// A layer that does not watch keeps its RefreshInterval beside a connected
// watching layer, which those polls read only once every WatchInterval.
func TestLayersBesideAWatchKeepTheirInterval(t *testing.T) {
	f := newWatchFixture(t, config.Options{RefreshInterval: 5 * time.Minute, WatchInterval: time.Hour}, nil)
	w := f.watch(t)
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(5 * time.Second) // the read the connection caused
	f.request(t)
	<-f.plain.ch
	plainReads, watchedReads := 0, 0
	for f.clock.Now().Before(rfEpoch.Add(125 * time.Minute)) {
		d := f.loopWaits(t, 1) // once the loop waits again, the read it made (if any) is over
		if d > 6*time.Minute {
			t.Fatalf("the loop waits %v; the plain layer's interval is 5 minutes", d)
		}
		f.clock.Advance(d)
		f.loopWaits(t, 1)
		plainReads += len(f.plain.ch)
		watchedReads += len(f.watched.reqs)
		for len(f.plain.ch) > 0 {
			<-f.plain.ch
		}
		for len(f.watched.reqs) > 0 {
			<-f.watched.reqs
		}
	}
	if plainReads < 20 || watchedReads != 2 {
		t.Errorf("over two hours of polls the plain layer was read %d times, the watched one %d; "+
			"want about 24 (every 5 minutes) and 2 (once an hour)", plainReads, watchedReads)
	}
}

// A Watch that fails is called again after a backoff, and the store polls
// at RefreshInterval meanwhile; one that returns nil watches nothing.
func TestWatchFailsAndIsCalledAgain(t *testing.T) {
	calls := make(chan int, 10)
	n := 0
	f := newWatchFixture(t, config.Options{RetryBackoff: 10 * time.Second, WatchInterval: time.Hour},
		func(ctx context.Context, w config.Watch) error {
			n++
			calls <- n
			switch n {
			case 1:
				return errors.New("access denied to the queue")
			case 2:
				panic("a broken watch")
			}
			return nil
		})
	<-calls
	if d := f.loopWaits(t, 2); d < 9*time.Second || d > 11*time.Second {
		t.Errorf("the first backoff is %v, want about 10s", d)
	}
	if ws := f.watchStatus(t); ws == nil || ws.Connected || ws.Err == nil || !strings.Contains(ws.Err.Error(), "access denied") {
		t.Errorf("watch status after a failure = %+v", ws)
	}
	f.clock.Advance(11 * time.Second)
	<-calls
	if d := f.loopWaits(t, 2); d < 18*time.Second || d > 22*time.Second {
		t.Errorf("the second backoff is %v, want about 20s", d)
	}
	if ws := f.watchStatus(t); ws == nil || !errors.Is(ws.Err, config.ErrLayer) || strings.Contains(ws.Err.Error(), "broken") {
		t.Errorf("a panicking watch: status = %+v, want ErrLayer without the panic's text", ws)
	}
	f.clock.Advance(22 * time.Second)
	<-calls
	f.store.Close() // waits for the watch's goroutine, which ended for good
	if ws := f.watchStatus(t); ws != nil {
		t.Errorf("a watch with nothing to watch still reports %+v", ws)
	}
}

// Store.Refresh marks its read OnDemand; a scheduled read is not.
func TestRefreshIsOnDemand(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: time.Millisecond}, nil)
	f.watch(t)
	f.clock.Advance(time.Second)
	if err := f.store.Refresh(f.ctx); err != nil {
		t.Fatal(err)
	}
	if r := f.request(t); !r.OnDemand || r.Events != nil {
		t.Errorf("Refresh's request = %+v, want OnDemand", r)
	}
	f.clock.Advance(6 * time.Minute)
	if r := f.request(t); r.OnDemand {
		t.Errorf("the scheduled read is on demand: %+v", r)
	}
}

// Close ends the watch's context, and a Watch that ignores it delays Close
// by a moment, not for ever.
func TestCloseEndsWatch(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	f := newWatchFixture(t, config.Options{}, func(ctx context.Context, w config.Watch) error {
		close(started)
		<-release // ignores ctx
		return nil
	})
	<-started
	done := make(chan struct{})
	go func() {
		f.store.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-f.ctx.Done():
		t.Fatal("Close waits for a Watch that ignores its context")
	}
}

// In lazy mode no goroutine runs, so nothing watches.
func TestLazyStoreDoesNotWatch(t *testing.T) {
	f := newWatchFixture(t, config.Options{Lazy: true}, func(ctx context.Context, w config.Watch) error {
		t.Error("Watch called in lazy mode")
		return nil
	})
	if ws := f.watchStatus(t); ws != nil {
		t.Errorf("lazy store reports a watch: %+v", ws)
	}
}

// Reads a watch causes and complete reads stay apart: an event that arrives
// while a Refresh waits for MinRefreshInterval is read at once, alone, and
// the Refresh's read that follows carries no events, so a layer that reads
// only the sources events name never narrows a complete read.
func TestWatchReadsAreApartFromCompleteReads(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: 5 * time.Second}, nil)
	w := f.watch(t)
	refreshed := make(chan error, 1)
	go func() { refreshed <- f.store.Refresh(f.ctx) }()
	if err := f.clock.BlockUntilWaiters(f.ctx, 2); err != nil { // the loop, and the Refresh held back
		t.Fatal(err)
	}
	w.Notify(config.Event{Source: "db", Version: "v2"})
	f.clock.Advance(20 * time.Millisecond)
	if r := f.request(t); len(r.Events) != 1 || r.OnDemand {
		t.Errorf("the read the event caused: %+v, want its event, not on demand", r)
	}
	select {
	case <-f.plain.ch:
		t.Error("the read the event caused read the layer that does not watch")
	default:
	}
	f.clock.Advance(5 * time.Second)
	if r := f.request(t); r.Events != nil || !r.OnDemand {
		t.Errorf("Refresh's read: %+v, want no events, on demand", r)
	}
	<-f.plain.ch
	if err := <-refreshed; err != nil {
		t.Errorf("Refresh: %v", err)
	}
}

// A watch that connects and fails at once, again and again (a queue it can
// read but not delete from), backs off more each time: only a watch that
// stayed connected for RefreshInterval starts the backoff again.
func TestWatchFlappingBacksOff(t *testing.T) {
	calls := make(chan int, 10)
	n := 0
	f := newWatchFixture(t, config.Options{RetryBackoff: 10 * time.Second, RefreshInterval: 5 * time.Minute,
		MinRefreshInterval: 5 * time.Minute, WatchInterval: time.Hour}, // the reads a connection causes wait
		func(ctx context.Context, w config.Watch) error {
			n++
			calls <- n
			w.Report(config.WatchReport{Connected: true})
			return errors.New("access denied to DeleteMessage")
		})
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		<-calls
		// The loop's next read (minutes away) and the watch's retry wait
		// on the clock; wait for the retry, the shorter.
		d := f.loopWaits(t, 2)
		for d >= 2*time.Minute && f.ctx.Err() == nil {
			runtime.Gosched()
			d = f.loopWaits(t, 2)
		}
		if d < want*9/10 || d > want*11/10 {
			t.Fatalf("backoff %d is %v, want about %v", i+1, d, want)
		}
		f.clock.Advance(want * 11 / 10)
	}
}

// Several watching layers whose Watch reports at once: each sees the
// others' state set up (the race detector would find a report that reads
// the watches while the store still fills them in), and Status shows every
// one connected.
func TestWatchesThatReportAtOnce(t *testing.T) {
	ctx := rfCtx(t)
	const n = 4
	reported := make(chan struct{}, n)
	var layers []config.Layer
	for i := range n {
		l := watchLayer{refreshingLayer: refreshingLayer{&fakeLayer{name: "watched", sensitive: true,
			vals: map[string]any{"password": rfSecret1}}}, reqs: make(chan config.RefreshRequest, 1000)}
		l.watch = func(ctx context.Context, w config.Watch) error {
			w.Report(config.WatchReport{Connected: true, Handled: i})
			reported <- struct{}{}
			<-ctx.Done()
			return nil
		}
		layers = append(layers, l)
	}
	s, err := config.Load[rfConfig](ctx, &config.Options{Clock: configtest.NewClock(rfEpoch),
		Logger: slog.New(slog.DiscardHandler)}, layers...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer s.Close()
	for range n {
		select {
		case <-reported:
		case <-ctx.Done():
			t.Fatal("a Watch was not called")
		}
	}
	for i, ls := range s.Status().Layers {
		if ls.Watch == nil || !ls.Watch.Connected || ls.Watch.Handled != i {
			t.Errorf("layer %d's watch is %+v; want connected, handled %d", i, ls.Watch, i)
		}
	}
}

// A watch's errors that cannot be printed (their Error method panics), in a
// WatchReport or returned by Watch, become ErrLayer errors naming the layer
// instead of ending the process when the store logs them or Status prints
// them.
func TestWatchErrorThatCannotBePrinted(t *testing.T) {
	reported := make(chan struct{}, 1)
	f := newWatchFixture(t, config.Options{RetryBackoff: 10 * time.Second},
		func(ctx context.Context, w config.Watch) error {
			w.Report(config.WatchReport{Err: &unprintable{"CANARY-watch"}})
			select {
			case reported <- struct{}{}:
			default:
			}
			return (*unprintable)(nil)
		})
	<-reported
	f.loopWaits(t, 2) // the loop, and the watch's backoff
	ws := f.watchStatus(t)
	if ws == nil || !errors.Is(ws.Err, config.ErrLayer) ||
		!strings.Contains(fmt.Sprintf("%v", ws.Err), "layer 2 (watched) returned from Watch an error that cannot be printed") {
		t.Fatalf("watch status = %+v", ws)
	}
	if s := fmt.Sprintf("%+v %v", f.store.Status(), ws); strings.Contains(s, "CANARY") {
		t.Errorf("the panic's text is shown: %s", s)
	}
}

// A report from a call of Watch that has returned (a goroutine it left
// behind) is ignored: the watch stays broken in Status, and the store polls
// at RefreshInterval until the next call reports itself connected.
func TestReportAfterWatchReturnedIgnored(t *testing.T) {
	reports := make(chan func(config.WatchReport), 2)
	n := 0
	f := newWatchFixture(t, config.Options{RefreshInterval: 5 * time.Minute, WatchInterval: time.Hour, RetryBackoff: time.Hour},
		func(ctx context.Context, w config.Watch) error {
			n++
			if n == 1 {
				reports <- w.Report
				return errors.New("the queue is gone")
			}
			<-ctx.Done()
			return nil
		})
	report := <-reports
	f.loopWaits(t, 2) // the loop, and the watch's backoff
	report(config.WatchReport{Connected: true})
	if ws := f.watchStatus(t); ws == nil || ws.Connected || ws.Err == nil || ws.Err.Error() != "the queue is gone" {
		t.Errorf("after a stale report: watch status = %+v; want broken, with the error Watch returned", ws)
	}
	if d := f.loopWaits(t, 2); d > 6*time.Minute {
		t.Errorf("after a stale report the loop waits %v; want RefreshInterval", d)
	}
}

// Events that join a read of every layer (here Store.Refresh, which the
// events' pending read became) do not narrow it: the watching layer gets no
// Events, so it checks every source, and the read is OnDemand.
func TestEventsJoiningFullReadDoNotNarrowIt(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: 5 * time.Second}, nil)
	w := f.watch(t)
	w.Notify(config.Event{Source: "db", Version: "v2"}) // waits 20ms to coalesce
	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(f.ctx) }()
	if err := config.WaitRefreshCallers(f.ctx, f.store, 1); err != nil { // Refresh joined the pending read, which now reads every layer
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Second)
	if r := f.request(t); r.Events != nil || !r.OnDemand {
		t.Errorf("the watching layer's request = %+v; want no events, on demand", r)
	}
	<-f.plain.ch
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Reads that watches cause start at least a second apart: a flood of events
// costs one read a second, and none is lost.
func TestWatchReadsAreSpaced(t *testing.T) {
	f := newWatchFixture(t, config.Options{}, nil)
	w := f.watch(t)
	w.Notify(config.Event{Source: "db", Version: "v2"})
	f.clock.Advance(20 * time.Millisecond)
	if r := f.request(t); len(r.Events) != 1 {
		t.Fatalf("first read: %+v", r)
	}
	for i := range 50 { // a flood, 100 ms after the first read started
		w.Notify(config.Event{Source: "db", Version: fmt.Sprintf("v%d", i+3)})
	}
	f.clock.Advance(100 * time.Millisecond)
	select {
	case r := <-f.watched.reqs:
		t.Fatalf("a second read %v after the first: %+v", 100*time.Millisecond, r)
	default:
	}
	f.clock.Advance(900 * time.Millisecond) // a second after the first read started
	if r := f.request(t); len(r.Events) != 50 {
		t.Errorf("the flood's read carries %d events, want all 50", len(r.Events))
	}
}

// The read after a watch connects again, after it was away, reads every
// layer and trusts no lagging gate: events may have been missed meanwhile.
func TestReconnectionReadsOnDemand(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: time.Second}, nil)
	w := f.watch(t)
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(time.Second)
	if r := f.request(t); r.OnDemand {
		t.Errorf("first connection: %+v, want not on demand", r)
	}
	<-f.plain.ch
	w.Report(config.WatchReport{Err: errors.New("queue gone")})
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(time.Second)
	if r := f.request(t); !r.OnDemand || r.Events != nil {
		t.Errorf("connected again: %+v, want a complete read on demand", r)
	}
	<-f.plain.ch
}

// watchTransient is a transient failure of the watched layer.
var watchTransient = &config.SourceError{Layer: "watched", Source: "db", Code: config.ErrTransient, Err: errors.New("503")}

// A read a watch caused that fails is retried by the store's retry, which
// reads the watched layer even though its watch is connected and its
// safety-net poll is not due: the event's change is not left for
// WatchInterval.
func TestFailedWatchReadIsRetried(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: time.Second, RetryBackoff: time.Second}, nil)
	w := f.watch(t)
	w.Report(config.WatchReport{Connected: true})
	f.clock.Advance(time.Second)
	f.request(t) // the read after the first connection
	<-f.plain.ch
	f.watched.mu.Lock()
	f.watched.refreshes = []refreshStep{{err: watchTransient}, {vals: map[string]any{"port": "6543", "password": rfSecret1}}}
	f.watched.mu.Unlock()
	changes, _ := rfSubscribe(t, f.store)
	w.Notify(config.Event{Source: "db", Version: "v2"})
	f.clock.Advance(20 * time.Millisecond)
	if r := f.request(t); len(r.Events) != 1 {
		t.Fatalf("the read the event caused: %+v", r)
	}
	if c := rfNext(t, changes); !config.IsTransient(c.Err) {
		t.Fatalf("the failed read: %+v", c)
	}
	if wait := f.loopWaits(t, 1); wait > 1100*time.Millisecond {
		t.Fatalf("the retry waits %v, want RetryBackoff ±10 %%", wait)
	}
	f.clock.Advance(1100 * time.Millisecond)
	<-f.plain.ch
	if r := f.request(t); r.Events != nil {
		t.Errorf("the retry: %+v, want a read of every source", r)
	}
}

// A flood of events whose reads fail transiently does not hold back the
// scheduled read of the other layers: each failure may move the next
// complete read earlier, never later.
func TestFailingWatchReadsDoNotStarveCompleteReads(t *testing.T) {
	f := newWatchFixture(t, config.Options{RefreshInterval: 5 * time.Minute, RetryBackoff: 5 * time.Minute}, nil)
	w := f.watch(t)
	f.watched.mu.Lock()
	f.watched.refreshes = []refreshStep{{err: watchTransient}}
	f.watched.mu.Unlock()
	changes, _ := rfSubscribe(t, f.store)
	for i := range 400 { // an event a second for 6 minutes and more
		select {
		case <-f.plain.ch:
			return // the complete read came
		default:
		}
		w.Notify(config.Event{Source: "db", Version: fmt.Sprintf("v%d", i)})
		f.clock.Advance(time.Second)
		f.request(t)
		rfNext(t, changes) // the read ended: the next one's timer is set at the next Notify
	}
	select {
	case <-f.plain.ch:
	case <-f.ctx.Done():
		t.Fatal("a flood of failing reads a watch caused held back the complete read for 400 s (RefreshInterval 5 min)")
	}
}

// A store whose loop reads at once (a tiny RefreshInterval, the real clock)
// while its watches start is free of data races (the race detector checks).
func TestWatchesStartBesideABusyLoop(t *testing.T) {
	for range 20 {
		watched := watchLayer{refreshingLayer: refreshingLayer{&fakeLayer{name: "watched",
			sensitive: true, vals: map[string]any{"port": "5432", "password": rfSecret1}}}}
		watched.watch = func(ctx context.Context, w config.Watch) error {
			w.Report(config.WatchReport{Connected: true})
			w.Notify(config.Event{Source: "db"})
			<-ctx.Done()
			return nil
		}
		s, err := config.Load[rfConfig](context.Background(), &config.Options{RefreshInterval: time.Nanosecond,
			Logger: slog.New(slog.DiscardHandler)}, busyLayer{watched})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		s.Status()
		s.Close()
	}
}

// busyLayer is a watchLayer that passes on no request.
type busyLayer struct{ watchLayer }

func (l busyLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	return l.refreshingLayer.Refresh(ctx, req)
}

// The lag Status shows for a watch is measured from its events only when
// the snapshot published serves a change of its layer: an event of a layer
// whose read found nothing new, read together with another layer's change,
// leaves its lag alone.
func TestWatchLagOnlyForItsLayersChange(t *testing.T) {
	ctx, clock := rfCtx(t), configtest.NewClock(rfEpoch)
	ws := make(chan config.Watch, 2)
	watch := func(ctx context.Context, w config.Watch) error {
		ws <- w
		<-ctx.Done()
		return nil
	}
	hostLayer := &fakeLayer{name: "hosts", vals: map[string]any{"host": "db1"}}
	dbLayer := &fakeLayer{name: "db", sensitive: true, vals: map[string]any{"port": "5432", "password": rfSecret1},
		refreshes: []refreshStep{{vals: map[string]any{"port": "6543", "password": rfSecret1}}}}
	hosts := busyLayer{watchLayer{refreshingLayer: refreshingLayer{hostLayer}, watch: watch}}
	db := busyLayer{watchLayer{refreshingLayer: refreshingLayer{dbLayer}, watch: watch}}
	s, err := config.Load[rfConfig](context.Background(), &config.Options{Clock: clock,
		Logger: slog.New(slog.DiscardHandler)}, hosts, db)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	changes, _ := rfSubscribe(t, s)
	for range 2 {
		select {
		case w := <-ws:
			w.Notify(config.Event{Source: "x", At: rfEpoch.Add(-time.Minute)})
		case <-ctx.Done():
			t.Fatal("the store did not call Watch")
		}
	}
	clock.Advance(20 * time.Millisecond)
	if c := rfNext(t, changes); len(c.Keys) != 1 || c.Keys[0] != "port" {
		t.Fatalf("change: %+v, want port", c)
	}
	lags := map[string]time.Duration{}
	for _, ls := range s.Status().Layers {
		lags[ls.Name] = ls.Watch.Lag
	}
	if want := time.Minute + 20*time.Millisecond; lags["db"] != want || lags["hosts"] != 0 {
		t.Errorf("lags %v, want db %v and hosts none", lags, want)
	}
}

// Close releases every timer the store set on its clock: the loop's, the
// one for a pending read a watch caused, a failed watch's backoff. A fake
// clock shared by the next store then counts none of them.
func TestCloseReleasesTimers(t *testing.T) {
	calls := 0
	f := newWatchFixture(t, config.Options{}, func(ctx context.Context, w config.Watch) error {
		calls++
		if calls == 1 {
			w.Notify(config.Event{Source: "db"})
			return errors.New("queue gone") // the store waits to call it again
		}
		<-ctx.Done()
		return nil
	})
	if err := f.clock.BlockUntilWaiters(f.ctx, 3); err != nil { // the loop, the event's read, the backoff
		t.Fatal(err)
	}
	f.store.Close()
	if n := f.clock.Waiters(); n != 0 {
		t.Errorf("after Close the clock has %d waiters, want none", n)
	}
}

// Many goroutines notifying, reporting, refreshing and reading Status while
// the clock moves and the store closes: no data race, and every Refresh
// returns (nil or ErrClosed) once Close has.
func TestWatchHammer(t *testing.T) {
	f := newWatchFixture(t, config.Options{MinRefreshInterval: time.Second}, nil)
	w := f.watch(t)
	go func() { // drain what the layers pass on
		for {
			select {
			case <-f.plain.ch:
			case <-f.watched.reqs:
			case <-f.ctx.Done():
				return
			}
		}
	}()
	errs := make(chan error, 1000)
	var refreshes atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch (g + i) % 4 {
				case 0:
					w.Notify(config.Event{Source: "db", Version: fmt.Sprint(i)})
				case 1:
					w.Report(config.WatchReport{Connected: i%3 != 0})
				case 2:
					f.store.Status()
				case 3:
					if i%16 == 3 {
						refreshes.Add(1)
						go func() { errs <- f.store.Refresh(f.ctx) }()
					}
					f.clock.Advance(300 * time.Millisecond)
				}
				if i == 200 {
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	close(stop)
	f.store.Close()
	for n := refreshes.Load(); n > 0; n-- {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, config.ErrClosed) {
				t.Errorf("Refresh: %v", err)
			}
		case <-f.ctx.Done():
			t.Fatalf("%d calls of Refresh did not return after Close", n)
		}
	}
}

// An event dated after the snapshot that served it (a source's clock ahead
// of the store's) shows no lag, never a negative one.
func TestWatchLagOfAnEventFromTheFuture(t *testing.T) {
	f := newWatchFixture(t, config.Options{}, nil)
	w := f.watch(t)
	f.watched.mu.Lock()
	f.watched.refreshes = []refreshStep{{vals: map[string]any{"port": "6543", "password": rfSecret1}}}
	f.watched.mu.Unlock()
	changes, _ := rfSubscribe(t, f.store)
	w.Notify(config.Event{Source: "db", At: rfEpoch.Add(time.Hour)})
	f.clock.Advance(20 * time.Millisecond)
	f.request(t)
	if c := rfNext(t, changes); len(c.Keys) == 0 {
		t.Fatalf("change: %+v", c)
	}
	if lag := f.watchStatus(t).Lag; lag != 0 {
		t.Errorf("Lag = %v, want 0", lag)
	}
}
