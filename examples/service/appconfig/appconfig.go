// Package appconfig declares the configuration of the example service and how
// it is loaded, in one place: the service (examples/service), its Lambda
// function (examples/lambda) and its configcheck (cmd/configcheck) all call
// Setup, so what configcheck checks is what the service runs.
package appconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/file"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/ssm"
)

// EnvPrefix is put before every environment name: APP_DATABASE_HOST.
const EnvPrefix = "APP_"

// Config is the whole configuration of the example service.
type Config struct {
	Server struct {
		Addr         string        `default:"127.0.0.1:8080" validate:"required,hostname_port" desc:"Address the HTTP server listens on, host:port."`
		ReadTimeout  time.Duration `default:"5s" desc:"Longest time to read a request, headers and body."`
		WriteTimeout time.Duration `default:"10s" desc:"Longest time to write a response; 0 means no limit."`
	}
	Database struct {
		Host     string        `validate:"required,hostname" desc:"Host name of the PostgreSQL server."`
		Port     int           `default:"5432" validate:"min=1,max=65535" desc:"TCP port of the PostgreSQL server."`
		Name     string        `default:"orders" desc:"Database name."`
		User     string        `validate:"required" desc:"Database user."`
		Password config.Secret `validate:"required,min=12" desc:"Password of the database user."`
	}
	API struct {
		Key config.Secret `validate:"required,min=16" desc:"Key that clients of the HTTP API present in X-API-Key."`
	}
	Log struct {
		Level string `default:"info" validate:"oneof=debug info warn error" desc:"Lowest log level written: debug, info, warn or error."`
	}
}

// SecretName returns the name of one of the service's secrets in an
// environment, following the app/environment/service convention that lets an
// IAM policy allow exactly arn:...:secret:strata-demo/ENVIRONMENT/*.
func SecretName(environment, name string) string {
	return "strata-demo/" + environment + "/" + name
}

// Production reports whether an environment is a production one, where a
// secret set by .env or the environment stops the service
// (config.Options.Production) and is an error in configcheck. The service,
// its Lambda function and its configcheck all use it, so they agree on which
// names count: configcheck.IsProduction's prod, prd, production, prod-eu,
// eu-prod, whatever the case.
func Production(environment string) bool { return configcheck.IsProduction(environment) }

// Secrets returns the Secrets Manager sources of the service in an environment:
// a JSON secret with the database user and password, and the API key as a
// plain string.
func Secrets(environment string) []secretsmanager.Spec {
	return []secretsmanager.Spec{
		secretsmanager.JSON(SecretName(environment, "database"), "database", nil),
		secretsmanager.String(SecretName(environment, "api-key"), "api.key", nil),
	}
}

// Setup says how a process of the service reads its configuration. The zero
// value reads no .env file, as the Lambda function does.
type Setup struct {
	// SettingsFile is the YAML file of the settings every environment
	// shares, read first after the defaults, so that .env, the environment
	// and Secrets Manager override it key by key; "" for none. A missing
	// file is an error. The service reads DefaultSettingsFile.
	SettingsFile string
	// EnvFile is the .env file read first, skipped when it does not exist;
	// "" for none. The service reads DefaultEnvFile.
	EnvFile string
	// Environ returns the environment the env layer reads. Default:
	// os.Environ.
	Environ func() []string
}

// Layers returns the options and layers the service passes to config.Load
// in an environment: its .env file (when set), the environment under
// EnvPrefix, and its secrets in Secrets Manager, read with the AWS SDK's
// default configuration (credentials from the default chain; the region
// from AWS_REGION; the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER, such
// as a local emulator). The environment is production by Production. The
// options hold no Logger and the default refresh interval: a caller sets
// those for its own process. It has the shape of configcheck.Setup, so that
// the service and its configcheck read the same layers.
func (s Setup) Layers(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("AWS configuration: %w", err)
	}
	opts := &config.Options{
		EnvPrefix:  EnvPrefix,
		Production: Production(environment),
	}
	var layers []config.Layer
	if s.SettingsFile != "" {
		layers = append(layers, file.New(s.SettingsFile, nil))
	}
	if s.EnvFile != "" {
		layers = append(layers, dotenv.File(s.EnvFile, &dotenv.Options{Optional: true}))
	}
	layers = append(layers,
		// Optional: an environment that keeps no parameter still loads.
		ssm.New(awsCfg, nil, ssm.Path(ParameterPath(environment), "", &ssm.SpecOptions{Optional: true})),
		env.New(&env.Options{Environ: s.Environ}), // after SSM, so the environment still overrides it
		secretsmanager.New(awsCfg, nil, Secrets(environment)...),
	)
	return opts, layers, nil
}

// ParameterPath is where the service's non-secret settings live in SSM
// Parameter Store: /strata-demo/ENVIRONMENT/database/port is database.port.
func ParameterPath(environment string) string { return "/strata-demo/" + environment }

var _ configcheck.Setup = Setup{}.Layers

// DefaultEnvFile is the .env file the service reads: ./.env when the working
// directory has one, otherwise the example's own examples/service/.env, found
// from the repository root or any directory below it. configcheck reads the
// same file, so the two agree on every value.
func DefaultEnvFile() string {
	if _, err := os.Stat(".env"); err == nil {
		return ".env"
	}
	return exampleFile(".env")
}

// DefaultSettingsFile is the settings file the service reads: ./config.yaml
// when the working directory has one, otherwise the example's own
// examples/service/config.yaml.
func DefaultSettingsFile() string {
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return exampleFile("config.yaml")
}

// exampleFile returns the path of a file of examples/service, relative to
// the working directory when it can.
func exampleFile(name string) string {
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", name)
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil {
			return rel
		}
	}
	return path
}
