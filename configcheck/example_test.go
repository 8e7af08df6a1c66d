package configcheck_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/env"
)

// ServiceConfig stands for a service's own configuration struct.
type ServiceConfig struct {
	Server struct {
		Addr        string        `default:"127.0.0.1:8080" desc:"listen address"`
		ReadTimeout time.Duration `default:"5s"`
	}
	Database struct {
		Host     string        `validate:"required,hostname"`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		Password config.Secret `validate:"required,min=12"`
	}
}

// A service embeds configcheck for its own struct: `myservice configcheck ...`.
// Here the environment holds a typo, a port out of range and a password in a
// plain variable; validate lists every problem and never the password.
func ExampleMain() {
	environ := []string{
		"APP_DATABSE_HOST=db.internal",
		"APP_DATABASE_PORT=70000",
		"APP_DATABASE_PASSWORD=correct-horse-battery",
	}
	// setup is the function the service's main loads its configuration with.
	setup := func(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
		return &config.Options{EnvPrefix: "APP_", Production: configcheck.IsProduction(environment)},
			[]config.Layer{env.New(&env.Options{Environ: func() []string { return environ }})}, nil
	}
	code := configcheck.Main[ServiceConfig](context.Background(), []string{"validate"}, configcheck.Options{
		Name:   "myservice configcheck",
		Setup:  setup,
		Stdout: os.Stdout,
		Stderr: os.Stdout,
	})
	fmt.Println("exit code:", code)
	// Output:
	// warning: APP_DATABSE_HOST: unknown, did you mean APP_DATABASE_HOST? (env)
	// warning: database.password is a secret but was set by a layer that is not sensitive; move it to a secret store (env APP_DATABASE_PASSWORD)
	// error: database.host is required (APP_DATABASE_HOST)
	// error: database.port must be at most 65535 (env APP_DATABASE_PORT)
	// 2 errors, 2 warnings
	// exit code: 1
}
