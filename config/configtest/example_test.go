package configtest_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// versionLayer is a refreshable layer whose release changes on every refresh.
type versionLayer struct{ n atomic.Int64 }

func (*versionLayer) Name() string    { return "release" }
func (*versionLayer) Sensitive() bool { return false }

func (l *versionLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return l.values(), nil
}

// Refresh reads a new release each time; the first read (no previous
// State) gives v0.
func (l *versionLayer) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	n := int64(0)
	if req.Prev != nil {
		n = l.n.Add(1)
	}
	return config.Update{Changed: true, Values: values(n), State: n}, nil
}

func (l *versionLayer) values() config.Values { return values(l.n.Load()) }

func values(n int64) config.Values {
	v := "v" + strconv.FormatInt(n, 10)
	return config.Values{"release": {Raw: v, Source: config.Source{Layer: "release"}}}
}

type appConfig struct {
	Release string
}

// The refresh loop of a store waits on the fake clock. Advancing the clock to
// the loop's deadline runs one refresh; BlockUntilWaiters returns when the loop
// waits again, so the test sees the result without sleeping.
func Example() {
	ctx := context.Background()
	clock := configtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	store, err := config.Load[appConfig](ctx, &config.Options{
		Clock:           clock,
		RefreshInterval: time.Minute,
		Logger:          slog.New(slog.DiscardHandler),
	}, &versionLayer{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	fmt.Println("loaded:", store.Get().Release)

	for range 2 {
		if err := clock.BlockUntilWaiters(ctx, 1); err != nil { // the loop waits for its TTL
			fmt.Println(err)
			return
		}
		next, _ := clock.Next()
		ttl := next.Sub(clock.Now())
		fmt.Println("TTL jittered within ±10 %:", ttl >= 54*time.Second && ttl <= 66*time.Second)
		clock.Advance(ttl)
		if err := clock.BlockUntilWaiters(ctx, 1); err != nil { // the refresh has finished
			fmt.Println(err)
			return
		}
		fmt.Println("refreshed:", store.Get().Release)
	}
	// Output:
	// loaded: v0
	// TTL jittered within ±10 %: true
	// refreshed: v1
	// TTL jittered within ±10 %: true
	// refreshed: v2
}

func ExampleClock_Advance() {
	clock := configtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	soon := clock.After(time.Second)
	later := clock.After(time.Minute)
	fmt.Println("pending:", clock.Waiters())

	clock.Advance(2 * time.Second)
	fmt.Println("soon fired at", (<-soon).Format(time.TimeOnly))
	fmt.Println("pending:", clock.Waiters())

	clock.Advance(time.Hour)
	fmt.Println("later fired at", (<-later).Format(time.TimeOnly))
	// Output:
	// pending: 2
	// soon fired at 00:00:02
	// pending: 1
	// later fired at 01:00:02
}
