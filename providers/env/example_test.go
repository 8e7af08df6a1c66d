package env_test

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/env"
)

func ExampleNew() {
	type AppConfig struct {
		Server struct {
			Addr string
		}
		Database struct {
			Host string
			URL  string `env:"DATABASE_URL"`
		}
	}
	schema, err := config.SchemaFor[AppConfig]("APP_")
	if err != nil {
		panic(err)
	}

	// A real program uses env.New(nil) to read the process environment.
	layer := env.New(&env.Options{Environ: func() []string {
		return []string{
			"APP_SERVER_ADDR=:9090",
			"DATABASE_URL=postgres://db.internal/app",
			"APP_DATABSE_HOST=db.internal", // a typo
			"HOME=/home/app",               // not under APP_: ignored
		}
	}})
	vals, err := layer.Load(context.Background(), schema)
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		fmt.Printf("%s = %v (%s)\n", key, vals[key].Raw, vals[key].Source)
	}
	fmt.Println("warning:", err)
	// Output:
	// database.url = postgres://db.internal/app (env DATABASE_URL)
	// server.addr = :9090 (env APP_SERVER_ADDR)
	// warning: APP_DATABSE_HOST: unknown, did you mean APP_DATABASE_HOST? (env)
}
