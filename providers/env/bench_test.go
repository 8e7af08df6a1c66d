package env_test

import (
	"context"
	"testing"

	koanfenv "github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/benchconfig"
	"github.com/strata-go/strata/providers/env"
)

// BenchmarkLoad scans the environment of the load benchmarks: ten settings
// among fifty unrelated variables.
func BenchmarkLoad(b *testing.B) {
	schema, err := config.SchemaFor[benchconfig.Config]("APP_")
	if err != nil {
		b.Fatal(err)
	}
	environ := benchconfig.Environ()
	layer := env.New(&env.Options{Environ: func() []string { return environ }})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vals, err := layer.Load(ctx, schema)
		if err != nil || len(vals) != 10 {
			b.Fatal(len(vals), err)
		}
	}
}

// BenchmarkKoanfEnvProvider reads the same environment with koanf's env
// provider, the alternative to the scan this package does.
func BenchmarkKoanfEnvProvider(b *testing.B) {
	environ := benchconfig.Environ()
	b.ReportAllocs()
	for b.Loop() {
		k := koanf.New(".")
		p := koanfenv.Provider(".", koanfenv.Opt{
			Prefix:      "APP_",
			EnvironFunc: func() []string { return environ },
		})
		if err := k.Load(p, nil); err != nil {
			b.Fatal(err)
		}
		_ = k.Raw()
	}
}
