package main

import (
	"time"

	"github.com/strata-go/strata/config"
)

// ServiceConfig is the configuration of the example service. It mirrors the
// AppConfig of examples/service field for field, tag for tag: when one
// changes, change the other, and regenerate docs/reference/configcheck-service-env.md
// with go test ./cmd/configcheck -update.
type ServiceConfig struct {
	Server struct {
		Addr         string        `default:"127.0.0.1:8080" desc:"Address the HTTP server listens on, host:port."`
		ReadTimeout  time.Duration `default:"5s" desc:"Longest time to read a request, headers and body."`
		WriteTimeout time.Duration `desc:"Longest time to write a response; 0 means no limit."`
	}
	Database struct {
		Host     string        `validate:"required,hostname" desc:"Host name of the PostgreSQL server."`
		Port     int           `default:"5432" validate:"min=1,max=65535" desc:"TCP port of the PostgreSQL server."`
		Name     string        `desc:"Database name."`
		User     string        `desc:"Database user."`
		Password config.Secret `validate:"required,min=12" desc:"Password of the database user."`
	}
	API struct {
		Key config.Secret `validate:"required" desc:"Key that clients of the HTTP API present."`
	}
	Log struct {
		Level string `default:"info" validate:"oneof=debug info warn error" desc:"Lowest log level written: debug, info, warn or error."`
	}
}

// serviceEnvPrefix is the environment prefix of the example service.
const serviceEnvPrefix = "APP_"
