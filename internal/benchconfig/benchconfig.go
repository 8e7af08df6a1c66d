// Package benchconfig holds the inputs of the load benchmarks, shared by the
// config and provider packages and by the peer comparison in the tests module:
// a 40-field, 4-section configuration, the .env file and the environment it is
// loaded from.
package benchconfig

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// Config is the 40-field, 4-section configuration of the load benchmarks.
type Config struct {
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

// Dotenv is the .env file of the load benchmarks: twenty settings under the
// prefix APP_.
const Dotenv = `# Settings of the 40-field load benchmark.
APP_SERVER_WRITE_TIMEOUT=20s
APP_SERVER_IDLE_TIMEOUT=90s
APP_SERVER_ALLOWED_ORIGINS=https://a.example.com,https://b.example.com
APP_DATABASE_PORT=6432
APP_DATABASE_NAME=orders
APP_DATABASE_SSL_MODE=verify-full
APP_DATABASE_MAX_IDLE_CONNS=10
APP_DATABASE_CONN_MAX_LIFETIME=1h
APP_CACHE_URL=redis://cache.internal:6379/1
APP_CACHE_MAX_ENTRIES=50000
APP_CACHE_NAMESPACE=orders
APP_CACHE_POOL_SIZE=32
APP_LOG_FORMAT=text
APP_LOG_SAMPLING=0.5
APP_LOG_SERVICE=orders
APP_LOG_VERSION=1.4.2
APP_LOG_MAX_SIZE_MB=200
APP_LOG_MAX_BACKUPS=7
APP_SERVER_SHUTDOWN_TIMEOUT=30s
APP_CACHE_TIMEOUT=250ms
`

// Environ is the environment of the load benchmarks: ten settings of the
// service among fifty unrelated variables, as on a real host.
func Environ() []string {
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

// WriteDotenv writes Dotenv to a file in a temporary directory of tb and
// returns its path.
func WriteDotenv(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(Dotenv), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
