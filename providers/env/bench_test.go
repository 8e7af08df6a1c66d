package env_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	koanfenv "github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/env"
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

// benchEnviron is a process environment with half of the 40 fields set and
// 40 unrelated variables, roughly what a container sees.
func benchEnviron() []string {
	all := strings.Split(`APP_SERVER_ADDR=value
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
APP_QUEUE_USER=value`, "\n")
	out := make([]string, 0, 60)
	for i, kv := range all {
		if i%2 == 0 {
			out = append(out, kv)
		}
	}
	for i := range 40 {
		out = append(out, fmt.Sprintf("OTHER_VARIABLE_%d=/usr/local/bin:/usr/bin:/bin", i))
	}
	return out
}

func BenchmarkLoad(b *testing.B) {
	schema, err := config.SchemaFor[benchConfig]("APP_")
	if err != nil {
		b.Fatal(err)
	}
	environ := benchEnviron()
	layer := env.New(env.WithEnviron(func() []string { return environ }))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vals, err := layer.Load(ctx, schema)
		if err != nil || len(vals) != 20 {
			b.Fatal(len(vals), err)
		}
	}
}

// BenchmarkKoanfEnvProvider reads the same environment with koanf's env
// provider, the alternative to the scan this package does.
func BenchmarkKoanfEnvProvider(b *testing.B) {
	environ := benchEnviron()
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
