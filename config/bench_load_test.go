package config_test

import (
	"context"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/benchconfig"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
)

// BenchmarkLoad40 is a full load of a 40-field, 4-section configuration from
// defaults, a .env file and the environment, decoded and validated. The peers
// are measured on the same inputs in tests/bench_peers_test.go.
func BenchmarkLoad40(b *testing.B) {
	path := benchconfig.WriteDotenv(b)
	environ := benchconfig.Environ()
	ctx := context.Background()
	opts := &config.Options{EnvPrefix: "APP_", Logger: discard()}
	b.ReportAllocs()
	for b.Loop() {
		st, err := config.Load[benchconfig.Config](ctx, opts,
			dotenv.File(path, nil),
			env.New(&env.Options{Environ: func() []string { return environ }}),
		)
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}
