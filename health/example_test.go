package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/health"
)

func ExampleHandler() {
	type Config struct {
		Database struct {
			Host     string        `validate:"required"`
			Password config.Secret `validate:"required"`
		}
	}
	clock := configtest.NewClock(time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)) // a service leaves Clock unset
	store, err := config.Load[Config](context.Background(), &config.Options{Clock: clock},
		config.Static("env", map[string]string{"database.host": "db.internal"}),
		config.StaticSecrets("vault", map[string]string{"database.password": "correct-horse-battery"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	mux := http.NewServeMux()
	mux.Handle("/healthz", health.Handler(store))

	clock.Advance(2 * time.Second)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	fmt.Print(rec.Body.String())
	// Output:
	// 200 application/json no-store
	// {"healthy":true,"staleness":"2s","staleness_seconds":2,"last_success":"2026-12-01T21:00:00Z","last_attempt":"2026-12-01T21:00:00Z","last_change":"2026-12-01T21:00:00Z","refreshes":0,"changes":0,"rejected":0,"failures":0,"layers":[]}
}
