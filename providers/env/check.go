package env

import "github.com/strata-go/strata/config"

// Locate returns where the layer reads the field key of schema: its
// environment name, such as {Layer: "env", Location: "APP_DATABASE_HOST"},
// without reading the environment. ok is false for a key that is no field.
// It implements configcheck.Locator, so that configcheck env can say how a
// setting is set for local development.
func (l *layer) Locate(schema *config.Schema, key string) (config.Source, bool) {
	f := schema.Field(key)
	if f == nil {
		return config.Source{}, false
	}
	return config.Source{Layer: layerName, Location: f.Env}, true
}
