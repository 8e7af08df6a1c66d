package config_test

import (
	"context"
	"testing"

	"github.com/strata-go/strata/config"
)

// The peers (koanf, viper, caarlos0/env, go-envconfig) are measured beside
// these in the tests module: see tests/bench_peers_test.go and
// docs/performance.md.

func benchStore(b *testing.B) *config.Store[ServiceConfig] {
	st, err := config.Load[ServiceConfig](context.Background(), &config.Options{Logger: discard()},
		config.Static("env", map[string]string{"database.host": "db.internal"}),
		config.StaticSecrets("secrets", map[string]string{"database.password": "correct-horse-battery"}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

var sinkPort int

func BenchmarkGet(b *testing.B) {
	st := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	// A plain b.N loop, not b.Loop, which keeps Get from being inlined.
	for i := 0; i < b.N; i++ {
		sinkPort = st.Get().Database.Port
	}
}

func BenchmarkGetParallel(b *testing.B) {
	st := benchStore(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += st.Get().Database.Port
		}
		if n == 42 {
			b.Log(n)
		}
	})
}
