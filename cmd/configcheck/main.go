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
// (service_config.go). A service checks its own configuration type by
// embedding the package github.com/strata-go/strata/configcheck.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-go/strata/configcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := configcheck.Main[ServiceConfig](ctx, os.Args[1:], options())
	stop()
	os.Exit(code)
}

// options describes the example service to configcheck: its prefix and the
// .env file it reads when present. Its Secrets Manager sources depend on the
// environment, so they are given with --secret.
func options() configcheck.Options {
	return configcheck.Options{
		Name:      "configcheck",
		EnvPrefix: serviceEnvPrefix,
		EnvFiles:  []string{".env"},
	}
}
