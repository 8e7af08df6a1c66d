package configtest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config/configtest"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestClockFiresInDeadlineOrder(t *testing.T) {
	t.Parallel()
	c := configtest.NewClock(epoch)
	c3 := c.After(3 * time.Second)
	c1 := c.After(1 * time.Second)
	c2 := c.After(2 * time.Second)
	if n := c.Waiters(); n != 3 {
		t.Fatalf("Waiters() = %d, want 3", n)
	}
	if next, ok := c.Next(); !ok || !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Next() = %v, %v; want %v, true", next, ok, epoch.Add(time.Second))
	}

	c.Advance(time.Second - time.Nanosecond)
	for _, ch := range []<-chan time.Time{c1, c2, c3} {
		select {
		case at := <-ch:
			t.Fatalf("a waiter fired early, at %v", at)
		default:
		}
	}
	c.Advance(time.Nanosecond)
	if got := <-c1; !got.Equal(epoch.Add(time.Second)) {
		t.Errorf("c1 received %v, want %v", got, epoch.Add(time.Second))
	}
	if n := c.Waiters(); n != 2 {
		t.Errorf("Waiters() = %d after the first fired, want 2", n)
	}

	c.Advance(time.Minute)
	want := epoch.Add(time.Minute + time.Second)
	for i, ch := range []<-chan time.Time{c2, c3} {
		select {
		case got := <-ch:
			if !got.Equal(want) {
				t.Errorf("waiter %d received %v, want %v", i+2, got, want)
			}
		default:
			t.Errorf("waiter %d did not fire", i+2)
		}
	}
	if n := c.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d, want 0", n)
	}
	if _, ok := c.Next(); ok {
		t.Error("Next() reported a deadline with no waiters")
	}
	if got := c.Now(); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

func TestClockNonPositiveDurationFiresAtOnce(t *testing.T) {
	t.Parallel()
	c := configtest.NewClock(epoch)
	for _, d := range []time.Duration{0, -time.Second} {
		select {
		case got := <-c.After(d):
			if !got.Equal(epoch) {
				t.Errorf("After(%v) sent %v, want %v", d, got, epoch)
			}
		default:
			t.Errorf("After(%v) did not fire at once", d)
		}
	}
	if n := c.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d, want 0", n)
	}
	c.Advance(-time.Hour)
	if got := c.Now(); !got.Equal(epoch) {
		t.Errorf("Advance(-1h) moved the clock to %v", got)
	}
}

func TestClockBlockUntilWaiters(t *testing.T) {
	t.Parallel()
	c := configtest.NewClock(epoch)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.BlockUntilWaiters(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilWaiters with no waiter = %v, want DeadlineExceeded", err)
	}

	const n = 4
	var wg sync.WaitGroup
	fired := make(chan time.Time, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fired <- <-c.After(time.Minute)
		}()
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntilWaiters(ctx, n); err != nil {
		t.Fatalf("BlockUntilWaiters(%d): %v", n, err)
	}
	c.Advance(time.Minute)
	wg.Wait()
	close(fired)
	count := 0
	for at := range fired {
		count++
		if !at.Equal(epoch.Add(time.Minute)) {
			t.Errorf("waiter received %v", at)
		}
	}
	if count != n {
		t.Errorf("%d waiters fired, want %d", count, n)
	}
}

// TestClockConcurrentUse is meant for -race: timers are added, advanced and
// counted from several goroutines at once.
func TestClockConcurrentUse(t *testing.T) {
	t.Parallel()
	c := configtest.NewClock(epoch)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				ch := c.After(time.Millisecond)
				c.Advance(time.Millisecond)
				<-ch // fired by this Advance or another goroutine's
				_ = c.Waiters()
				_, _ = c.Next()
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if n := c.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d after every waiter fired", n)
	}
	if got, want := c.Now(), epoch.Add(800*time.Millisecond); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

func TestClockStopReleasesAWaiter(t *testing.T) {
	t.Parallel()
	c := configtest.NewClock(epoch)
	stopped := c.After(time.Second)
	kept := c.After(2 * time.Second)
	if !c.Stop(stopped) || c.Waiters() != 1 {
		t.Fatalf("Stop of a pending channel: %d waiters left, want 1", c.Waiters())
	}
	if c.Stop(stopped) {
		t.Error("a second Stop reported the channel pending")
	}
	if next, _ := c.Next(); !next.Equal(epoch.Add(2 * time.Second)) {
		t.Errorf("Next() = %v, want the deadline of the channel kept", next)
	}
	c.Advance(2 * time.Second)
	select {
	case <-stopped:
		t.Error("a stopped channel fired")
	default:
	}
	select {
	case <-kept:
	default:
		t.Error("the channel kept did not fire")
	}
	if c.Stop(kept) {
		t.Error("Stop of a channel that fired reported it pending")
	}
}
