package dotenv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
)

type benchConfig struct {
	Server struct {
		Addr    string
		Host    string
		Port    int
		Timeout time.Duration
		Enabled bool
		Name    string
		Retries int
		Ratio   float64
		Tags    []string
		User    string
	}
	Database struct {
		Addr    string
		Host    string
		Port    int
		Timeout time.Duration
		Enabled bool
		Name    string
		Retries int
		Ratio   float64
		Tags    []string
		User    string
	}
	Cache struct {
		Addr    string
		Host    string
		Port    int
		Timeout time.Duration
		Enabled bool
		Name    string
		Retries int
		Ratio   float64
		Tags    []string
		User    string
	}
	Queue struct {
		Addr    string
		Host    string
		Port    int
		Timeout time.Duration
		Enabled bool
		Name    string
		Retries int
		Ratio   float64
		Tags    []string
		User    string
	}
}

// BenchmarkLoad reads a .env file that sets half of a 40-field config, with a
// comment before every entry.
func BenchmarkLoad(b *testing.B) {
	schema, err := config.SchemaFor[benchConfig]("APP_")
	if err != nil {
		b.Fatal(err)
	}
	var file strings.Builder
	for i, kv := range strings.Split(`APP_SERVER_ADDR=value
APP_SERVER_HOST=value
APP_SERVER_PORT=42
APP_SERVER_TIMEOUT=5s
APP_SERVER_ENABLED=true
APP_SERVER_NAME=value
APP_SERVER_RETRIES=42
APP_SERVER_RATIO=0.5
APP_SERVER_TAGS=a,b,c
APP_SERVER_USER=value
APP_DATABASE_ADDR=value
APP_DATABASE_HOST=value
APP_DATABASE_PORT=42
APP_DATABASE_TIMEOUT=5s
APP_DATABASE_ENABLED=true
APP_DATABASE_NAME=value
APP_DATABASE_RETRIES=42
APP_DATABASE_RATIO=0.5
APP_DATABASE_TAGS=a,b,c
APP_DATABASE_USER=value
APP_CACHE_ADDR=value
APP_CACHE_HOST=value
APP_CACHE_PORT=42
APP_CACHE_TIMEOUT=5s
APP_CACHE_ENABLED=true
APP_CACHE_NAME=value
APP_CACHE_RETRIES=42
APP_CACHE_RATIO=0.5
APP_CACHE_TAGS=a,b,c
APP_CACHE_USER=value
APP_QUEUE_ADDR=value
APP_QUEUE_HOST=value
APP_QUEUE_PORT=42
APP_QUEUE_TIMEOUT=5s
APP_QUEUE_ENABLED=true
APP_QUEUE_NAME=value
APP_QUEUE_RETRIES=42
APP_QUEUE_RATIO=0.5
APP_QUEUE_TAGS=a,b,c
APP_QUEUE_USER=value`, "\n") {
		if i%2 == 0 {
			file.WriteString("# setting\n" + kv + "\n")
		}
	}
	path := filepath.Join(b.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	layer := dotenv.File(path)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vals, err := layer.Load(ctx, schema)
		if err != nil || len(vals) != 20 {
			b.Fatal(len(vals), err)
		}
	}
}
