package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/strata-go/strata/config"
)

// ServiceConfig is the kind of struct a service declares once.
type ServiceConfig struct {
	Server struct {
		Addr        string        `default:":8080" validate:"required"`
		ReadTimeout time.Duration `default:"5s" desc:"the longest a request may take to read"`
	}
	Database struct {
		Host     string        `validate:"required,hostname"`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		Password config.Secret `validate:"required,min=12"`
	}
}

func ExampleLoad() {
	ctx := context.Background()
	store, err := config.Load[ServiceConfig](ctx, &config.Options{EnvPrefix: "APP_"},
		// In a service these are dotenv.File, env.New and secretsmanager.New.
		config.Static("env", map[string]string{"database.host": "db.internal", "server.read_timeout": "2s"}),
		config.StaticSecrets("vault", map[string]string{"database.password": "correct-horse-battery"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	cfg := store.Get() // one atomic load; never nil
	fmt.Println(cfg.Database.Host, cfg.Database.Port, cfg.Server.ReadTimeout)
	fmt.Println(cfg.Database.Password) // secrets print as [REDACTED]
	// Output:
	// db.internal 5432 2s
	// [REDACTED]
}

func ExampleLoad_errors() {
	_, err := config.Load[ServiceConfig](context.Background(), &config.Options{EnvPrefix: "APP_"},
		config.Static("env", map[string]string{"database.port": "70000", "server.read_timeout": "soon"}),
	)
	fmt.Println(err)

	var agg *config.AggregateError
	if errors.As(err, &agg) {
		var fe *config.FieldError
		if errors.As(agg.Errs[0], &fe) {
			fmt.Println("first problem:", fe.Key, fe.Env)
		}
	}
	// Output:
	// config: 4 problems:
	//   - server.read_timeout has an invalid value "soon": expected a duration such as 5s, 250ms or 1m30s (APP_SERVER_READ_TIMEOUT from env server.read_timeout)
	//   - database.host is required (APP_DATABASE_HOST)
	//   - database.port must be at most 65535 (APP_DATABASE_PORT from env database.port)
	//   - database.password is required (a secret: expected from a secret source, and none set it)
	// first problem: server.read_timeout APP_SERVER_READ_TIMEOUT
}

func ExampleStore_Explain() {
	store, err := config.Load[ServiceConfig](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)},
		config.Static("env", map[string]string{"database.host": "db.internal", "database.password": "correct-horse-battery"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	for _, k := range store.Keys() {
		fmt.Printf("%-20s %-24s %-12s %s\n", k.Key, k.Env, k.Source, k.Value)
	}
	// The password came from a layer that is not sensitive: a warning here, an
	// error with Options.Production.
	fmt.Println(store.Warnings()[0])
	// Output:
	// server.addr          APP_SERVER_ADDR          default      :8080
	// server.read_timeout  APP_SERVER_READ_TIMEOUT  default      5s
	// database.host        APP_DATABASE_HOST        env database.host db.internal
	// database.port        APP_DATABASE_PORT        default      5432
	// database.password    APP_DATABASE_PASSWORD    env database.password [REDACTED]
	// database.password is a secret but was set by a layer that is not sensitive; move it to a secret store (APP_DATABASE_PASSWORD from env database.password)
}

func ExampleStore_Masked() {
	store, err := config.Load[ServiceConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		config.Static("env", map[string]string{"database.host": "db.internal", "database.password": "correct-horse-battery"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("starting", "config", store.Masked())
	// Output:
	// level=INFO msg=starting config.server.addr=:8080 config.server.read_timeout=5s config.database.host=db.internal config.database.port=5432 config.database.password=[REDACTED]
}

func ExampleSecret() {
	password := config.NewSecret("correct-horse-battery")
	fmt.Printf("%v %s %q %#v\n", password, password, password, password)
	fmt.Println(len(password.Reveal()), password.Fingerprint())
	// Output:
	// [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// 21 62308355
}
