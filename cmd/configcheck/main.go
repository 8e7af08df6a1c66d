// Command configcheck checks the configuration of the example service before
// a deploy: it validates every layer (defaults, .env files, the environment,
// AWS Secrets Manager), explains where each value comes from, writes the
// reference of every setting, lints for risky set-ups, compares
// environments, and estimates the Secrets Manager bill and IAM policy.
//
// Usage:
//
//	configcheck [command] [flags] [arguments]
//
// The commands are validate (the default), explain, env, lint, diff, cost and
// iam; run configcheck COMMAND --help for the flags of each. The exit code is
// 0 when no problem was found, 1 when problems were found (for diff: the
// environments differ) and 2 for a usage error or a source that could not be
// read. See docs/configcheck.md.
//
// This binary is built for the configuration of the example service
// (package examples/service/appconfig). A service checks its own configuration type by
// embedding the package github.com/strata-go/strata/configcheck.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/examples/service/appconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := configcheck.Main[ServiceConfig](ctx, os.Args[1:], options())
	stop()
	os.Exit(code)
}

// options describes the example service to configcheck: its prefix, the .env
// file it reads when present, and its Secrets Manager sources, which depend on
// the environment (--environment, default demo).
func options() configcheck.Options {
	return configcheck.Options{
		Name:        "configcheck",
		EnvPrefix:   appconfig.EnvPrefix,
		EnvFiles:    []string{appconfig.DefaultEnvFile()},
		Environment: "demo",
		Production:  appconfig.Production,
		SecretsFor:  appconfig.Secrets,
	}
}
