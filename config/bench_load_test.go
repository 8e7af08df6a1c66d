package config_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
)

// Bench40 is the 40-field, 4-section configuration of the load benchmark. The
// same shape is measured against the peers in tests/bench_peers_test.go.
type Bench40 struct {
	Server struct {
		Addr            string        `default:"127.0.0.1:8080" validate:"required"`
		ReadTimeout     time.Duration `default:"5s"`
		WriteTimeout    time.Duration `default:"10s"`
		IdleTimeout     time.Duration `default:"60s"`
		MaxHeaderBytes  int           `default:"1048576" validate:"min=1"`
		TLS             bool          `default:"false"`
		CertFile        string
		KeyFile         string
		AllowedOrigins  []string      `default:"https://example.com"`
		ShutdownTimeout time.Duration `default:"15s"`
	}
	Database struct {
		Host            string        `validate:"required,hostname"`
		Port            int           `default:"5432" validate:"min=1,max=65535"`
		Name            string        `default:"app" validate:"required"`
		User            string        `validate:"required"`
		Password        config.Secret `validate:"required,min=12"`
		SSLMode         string        `default:"require" validate:"oneof=disable require verify-full"`
		MaxOpenConns    int           `default:"20" validate:"min=1"`
		MaxIdleConns    int           `default:"5"`
		ConnMaxLifetime time.Duration `default:"30m"`
		Timeout         time.Duration `default:"3s"`
	}
	Cache struct {
		URL        string        `default:"redis://127.0.0.1:6379/0" validate:"required"`
		TTL        time.Duration `default:"10m"`
		MaxEntries int           `default:"10000" validate:"min=1"`
		Namespace  string        `default:"app"`
		Enabled    bool          `default:"true"`
		PoolSize   int           `default:"10"`
		ReadOnly   bool
		Compress   bool          `default:"true"`
		Shards     int           `default:"4" validate:"min=1,max=64"`
		Timeout    time.Duration `default:"200ms"`
	}
	Log struct {
		Level      string  `default:"info" validate:"oneof=debug info warn error"`
		Format     string  `default:"json" validate:"oneof=json text"`
		Output     string  `default:"stdout"`
		Sampling   float64 `default:"1.0" validate:"gte=0,lte=1"`
		AddSource  bool
		Service    string `default:"app"`
		Version    string `default:"dev"`
		Tags       []string
		MaxSizeMB  int `default:"100"`
		MaxBackups int `default:"3"`
	}
}

// bench40Environ is the environment of the load benchmark: ten settings of
// the service among fifty unrelated variables, as on a real host.
func bench40Environ() []string {
	environ := []string{
		"APP_SERVER_ADDR=127.0.0.1:9090", "APP_SERVER_READ_TIMEOUT=3s", "APP_DATABASE_HOST=db.internal",
		"APP_DATABASE_USER=svc", "APP_DATABASE_PASSWORD=correct-horse-battery", "APP_DATABASE_MAX_OPEN_CONNS=50",
		"APP_CACHE_TTL=5m", "APP_CACHE_SHARDS=8", "APP_LOG_LEVEL=warn", "APP_LOG_TAGS=a,b,c",
	}
	for i := range 50 {
		environ = append(environ, "UNRELATED_VARIABLE_"+string(rune('A'+i%26))+string(rune('A'+i/26))+"=some value")
	}
	return environ
}

func BenchmarkLoad40(b *testing.B) {
	path := filepath.Join("testdata", "bench40.env")
	if _, err := os.Stat(path); err != nil {
		b.Fatal(err)
	}
	environ := bench40Environ()
	ctx := context.Background()
	opts := &config.Options{EnvPrefix: "APP_", Logger: discard()}
	b.ReportAllocs()
	for b.Loop() {
		st, err := config.Load[Bench40](ctx, opts,
			dotenv.File(path),
			env.New(env.WithEnviron(func() []string { return environ })),
		)
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}
