package config_test

import (
	"testing"

	"github.com/strata-go/strata/config"
)

// TestSourceString checks that a source prints by its shape, never by the
// name of its layer: a Line makes it a place in a file.
func TestSourceString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  config.Source
		want string
	}{
		{config.Source{Layer: "default"}, "default"},
		{config.Source{Layer: "env", Location: "APP_DATABASE_HOST"}, "env APP_DATABASE_HOST"},
		{config.Source{Layer: "dotenv", Location: ".env", Line: 12}, ".env:12"},
		{config.Source{Layer: "yaml", Location: "config.yaml", Line: 12}, "config.yaml:12"},
		{config.Source{Layer: "settings", Location: "/etc/app/settings.toml", Line: 3}, "/etc/app/settings.toml:3"},
		{config.Source{Layer: "dotenv", Location: ".env"}, "dotenv .env"},
		{config.Source{Layer: "file", Location: "database.host"}, "file database.host"},
		{config.Source{Layer: "custom", Line: 4}, "custom"},
		{
			config.Source{Layer: "secretsmanager", Location: "my-app/db#password", Version: "3f2a9c1e-0000-4000", Stage: "AWSCURRENT"},
			"secretsmanager my-app/db#password (version 3f2a9c1e, AWSCURRENT)",
		},
		{config.Source{Layer: "vault", Location: "app.yaml", Line: 7, Version: "v2"}, "app.yaml:7 (version v2)"},
	}
	for _, tt := range tests {
		if got := tt.src.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.src, got, tt.want)
		}
	}
}
