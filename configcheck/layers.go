package configcheck

import (
	"context"

	"github.com/strata-go/strata/config"
)

// The interfaces below are what configcheck asks of a layer, beyond
// config.Layer, for what only the layer knows. Each is optional: a layer that
// implements none of them (koanf.New, config.Static, any custom layer)
// is still read, merged, explained, diffed and linted like every other, and is
// left out only of iam and cost, and of the expected sources of env. Their
// signatures use only the standard library and the config package, so a
// provider implements them without importing configcheck. configcheck asks no
// layer its name: it knows a layer by these interfaces alone.
//
// Every method is called without the layer having been loaded, and may be
// called from any goroutine. It must not call any remote service.

// A Permissioner is a layer that needs permissions to read its values, such as
// an IAM policy for a cloud secret store. iam merges the Permissions of every
// layer into one policy document.
type Permissioner interface {
	// Permissions returns the least privilege the layer needs to load and
	// refresh: each action on exactly the resources it reads. scope gives the
	// account and encryption keys, which the layer cannot know itself.
	Permissions(scope config.PermissionScope) []config.Permission
}

// A CostModeler is a layer that calls a paid or rate-limited API. cost
// multiplies its CostModel out for a fleet.
type CostModeler interface {
	// CostModel returns the calls one process makes at start and at each
	// refresh, with their prices and quotas. scope gives what the layer
	// cannot count before it runs.
	CostModel(scope config.CostScope) config.CostModel
}

// An EventPatterner is a layer that can learn of changes from events routed
// through Amazon EventBridge, such as Secrets Manager's Secret Label Updated
// events. infra prints the rule and the topic and queue wiring for its
// pattern, and cost compares push with polling for it.
type EventPatterner interface {
	// EventPattern returns the EventBridge event pattern that matches the
	// changes of the values the layer reads, or nil when it follows none.
	EventPattern() map[string]any
}

// A FileLister is a layer that reads files on the local disk, such as a .env
// file. lint checks that each is readable by its owner only and not tracked
// by git, and findings about a listed file are placed on it in GitHub
// annotations.
type FileLister interface {
	// Files returns the paths the layer reads, as the layer was given them.
	Files() []string
}

// A SharedFiler is a FileLister whose files are meant to be shared, such as
// a service's YAML settings kept in git and readable by its users: lint does
// not flag their mode or that git tracks them. A secret field such a file
// sets is still reported, as from every layer that is not sensitive.
type SharedFiler interface {
	FileLister
	// SharedFiles reports whether the files are meant to be shared.
	SharedFiles() bool
}

// A Locator is a layer that can say where it would read a field's value
// without reading it, such as a secret store that maps keys to secret names.
// env names, for each secret, where a deployed environment reads it: the
// last sensitive layer that locates it.
type Locator interface {
	// Locate returns where the layer would read the field key of schema,
	// with ok false when the layer does not read that key. The source is
	// printed with Source.String; Location may name more than one place
	// ("a/b or a#b") when the layer looks in more than one.
	Locate(schema *config.Schema, key string) (src config.Source, ok bool)
}

// A SecretHolder is a layer that is not sensitive as a whole but marks each
// value that is (config.Value.Sensitive), such as an SSM Parameter Store
// layer with its SecureStrings: env names where it locates a secret field as
// that secret's source in a deployed environment, as it does for a sensitive
// layer, rather than as a place to set it for local development.
type SecretHolder interface {
	// HoldsSecrets reports whether the layer may return values marked
	// Sensitive.
	HoldsSecrets() bool
}

// holdsSecrets reports whether a layer is a proper home for secrets, as a
// whole or value by value.
func holdsSecrets(layer config.Layer) bool {
	if layer.Sensitive() {
		return true
	}
	h, ok := layer.(SecretHolder)
	return ok && h.HoldsSecrets()
}

// Setup is the function a service loads its configuration with: it returns the
// options and the layers the service passes to config.Load in an environment
// (the value of --environment). The service's main calls the same function,
// so that configcheck checks exactly what the service runs:
//
//	opts, layers, err := appconfig.Setup(ctx, environment)
//	...
//	store, err := config.Load[appconfig.Config](ctx, opts, layers...)
//
// Setup must not load the layers itself; it may build clients (an AWS
// configuration, for one), and an error it returns ends the command with
// ExitUsage. configcheck reads EnvPrefix, Strict, Production, Validator,
// FingerprintKey and RefreshInterval from the options; it replaces the Logger
// and starts no refresh.
type Setup func(ctx context.Context, environment string) (*config.Options, []config.Layer, error)
