package configcheck

import (
	"strings"

	"github.com/strata-go/strata/config"
)

// known is what classify knows of the configuration checked, to place a
// finding without asking any layer its name.
type known struct {
	schema *config.Schema
	// files are the files the layers read (FileLister): a source error about
	// one is placed on the file, and one that cannot be read is ExitUsage.
	files map[string]bool
}

// known returns what classify needs to know of l.
func (l *loaded) known() known {
	k := known{schema: l.schema, files: map[string]bool{}}
	for _, f := range l.files() {
		k.files[f] = true
	}
	return k
}

// policy returns the severity rules of the environment checked.
func (l *loaded) policy(lf *layerFlags) policy {
	p := lf.policy(l.opts)
	p.known = l.known()
	return p
}

// isEnvName reports whether an unknown name is an environment name
// (APP_DATABSE_HOST) rather than a key (database.hots): the kind of the
// closest known name when there is one, otherwise the schema's prefix, or a
// name in upper case without a dot.
func (k known) isEnvName(u *config.UnknownNameError) bool {
	if k.schema != nil && u.Suggestion != "" {
		if k.schema.FieldByEnv(u.Suggestion) != nil {
			return true
		}
		if k.schema.Field(u.Suggestion) != nil {
			return false
		}
	}
	if k.schema != nil && k.schema.EnvPrefix() != "" {
		return strings.HasPrefix(u.Name, k.schema.EnvPrefix())
	}
	return !strings.Contains(u.Name, ".") && strings.ToUpper(u.Name) == u.Name
}
