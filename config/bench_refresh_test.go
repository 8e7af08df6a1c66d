package config_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

var sinkCreds *rfCreds

// BenchmarkGetDuringRefresh measures Get in parallel readers, idle and while
// another goroutine refreshes in a loop, each refresh publishing a new
// snapshot.
func BenchmarkGetDuringRefresh(b *testing.B) {
	for _, busy := range []bool{false, true} {
		name := "idle"
		if busy {
			name = "refreshing"
		}
		b.Run(name, func(b *testing.B) {
			clock := configtest.NewClock(rfEpoch)
			s, err := config.Load[rfCreds](context.Background(), &config.Options{Clock: clock, Logger: discard(),
				RefreshInterval: 1000 * time.Hour, MinRefreshInterval: time.Nanosecond}, rfCredsLayer())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var refreshes int
			if busy {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						clock.Advance(time.Nanosecond)
						if err := s.Refresh(context.Background()); err != nil {
							b.Error(err)
							return
						}
						refreshes++
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var c *rfCreds
				for pb.Next() {
					c = s.Get()
				}
				sinkCreds = c
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
			if busy {
				b.ReportMetric(float64(refreshes), "refreshes")
			}
		})
	}
}

// BenchmarkNoChangeRefresh measures a forced refresh through the store whose
// layer reports no change: the store calls the layer and publishes nothing
// (Get returns the same snapshot before and after).
func BenchmarkNoChangeRefresh(b *testing.B) {
	clock := configtest.NewClock(rfEpoch)
	layer := rfCredsLayer()
	layer.next = func(int64) (map[string]any, error) { return nil, nil }
	s, err := config.Load[rfCreds](context.Background(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: 1000 * time.Hour, MinRefreshInterval: time.Nanosecond}, layer)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	before := s.Get()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(time.Nanosecond)
		if err := s.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := layer.calls.Load(); got < int64(b.N) {
		b.Fatalf("%d layer refreshes for %d Refresh calls", got, b.N)
	}
	if s.Get() != before {
		b.Fatal("a refresh with no change published a new snapshot")
	}
}
