// Command configcheck checks the configuration of the example service before
// a deploy: it validates the service's own layers (defaults, its .env file,
// the environment, AWS Secrets Manager, as appconfig.Setup builds them),
// explains where each value comes from, writes the reference of every
// setting, lints for risky set-ups, compares environments, and estimates the
// Secrets Manager bill and IAM policy.
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

// options describes the example service to configcheck: its own setup
// (appconfig.Setup, which the service calls too) with the .env file the
// service reads when present, for the environment named by --environment
// (default demo). Secrets Manager is reached as the service reaches it: with
// the AWS SDK's default configuration, AWS_REGION and
// AWS_ENDPOINT_URL_SECRETS_MANAGER.
func options() configcheck.Options {
	return configcheck.Options{
		Name:        "configcheck",
		Setup:       appconfig.Setup{SettingsFile: appconfig.DefaultSettingsFile(), EnvFile: appconfig.DefaultEnvFile()}.Layers,
		Environment: "demo",
	}
}
