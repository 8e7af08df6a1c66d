package main

import "github.com/strata-go/strata/examples/service/appconfig"

// ServiceConfig is the configuration of the example service, imported from the
// package the service itself uses, so the two cannot drift apart. When it
// changes, regenerate docs/reference/configcheck-service-env.md with
// go test ./cmd/configcheck -update.
type ServiceConfig = appconfig.Config
