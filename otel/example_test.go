package strataotel_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	strataotel "github.com/strata-go/strata/otel"
)

func ExampleRegister() {
	type Config struct {
		Database struct {
			Host     string        `validate:"required"`
			Password config.Secret `validate:"required"`
		}
	}
	ctx := context.Background()
	clock := configtest.NewClock(time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)) // a service leaves Clock unset
	store, err := config.Load[Config](ctx, &config.Options{Clock: clock},
		config.Static("env", map[string]string{"database.host": "db.internal"}),
		config.StaticSecrets("vault", map[string]string{"database.password": "correct-horse-battery"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	// A service passes its own provider, such as otel.GetMeterProvider().
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)

	reg, err := strataotel.Register(provider, "app", store, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Unregister()

	clock.Advance(3 * time.Second)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			lines = append(lines, fmt.Sprintf("%s %d %s", m.Name, d.DataPoints[0].Value, m.Unit))
		case metricdata.Gauge[int64]:
			lines = append(lines, fmt.Sprintf("%s %d %s", m.Name, d.DataPoints[0].Value, m.Unit))
		case metricdata.Gauge[float64]:
			lines = append(lines, fmt.Sprintf("%s %g %s", m.Name, d.DataPoints[0].Value, m.Unit))
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// strata.config.healthy 1 1
	// strata.config.refresh.attempts 0 {attempt}
	// strata.config.refresh.changes 0 {change}
	// strata.config.refresh.failures 0 {attempt}
	// strata.config.refresh.rejections 0 {rejection}
	// strata.config.staleness 3 s
}
