// Command basic loads a configuration from struct-tag defaults, its own .env
// file and the process environment, then prints it with every secret masked and
// the source of every key.
//
//	go run ./examples/basic
//	APP_SERVER_ADDR=127.0.0.1:9999 go run ./examples/basic
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
)

// Config is the whole configuration of the program.
type Config struct {
	Server struct {
		Addr         string        `default:"127.0.0.1:8080" validate:"required,hostname_port" desc:"listen address"`
		ReadTimeout  time.Duration `default:"5s" desc:"longest time to read a request"`
		WriteTimeout time.Duration `default:"10s"`
	}
	Database struct {
		Host     string        `validate:"required,hostname" desc:"database host"`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		Name     string        `default:"app"`
		User     string        `secret:"true" validate:"required"`
		Password config.Secret `validate:"required,min=12"`
	}
	Features struct {
		Enabled []string          `desc:"feature flags, comma-separated"`
		Limits  map[string]int    `default:"requests=100,burst=20"`
		Labels  map[string]string `desc:"extra labels, k=v pairs"`
	}
	Log struct {
		Level string `default:"info" validate:"oneof=debug info warn error"`
	}
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store, err := config.Load[Config](ctx, &config.Options{EnvPrefix: "APP_"},
		dotenv.File(envFile(), &dotenv.Options{Optional: true}),
		env.New(nil),
	)
	if err != nil {
		return err
	}
	defer store.Close()

	cfg := store.Get()
	// Password is a config.Secret: printing it shows [REDACTED].
	fmt.Printf("listening on %s, database %s:%d, password %v\n\n",
		cfg.Server.Addr, cfg.Database.Host, cfg.Database.Port, cfg.Database.Password)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, k := range store.Keys() {
		source := k.Source.String()
		if !k.Set {
			source = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Key, k.Display(), source)
	}
	return tw.Flush()
}

// envFile finds the example's own .env whether it runs from the repository root
// or from its own directory.
func envFile() string {
	if _, err := os.Stat(".env"); err == nil {
		return ".env"
	}
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), ".env")
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil {
			return rel
		}
	}
	return path
}
