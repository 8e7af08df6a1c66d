package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Addr":          "addr",
		"ReadTimeout":   "read_timeout",
		"APIKey":        "api_key",
		"UserID":        "user_id",
		"HTTPServer":    "http_server",
		"HTTP2Port":     "http2_port",
		"ID":            "id",
		"S3Bucket":      "s3_bucket",
		"already_ok":    "already_ok",
		"AllowedIPs":    "allowed_ips",
		"UserIDsByRole": "user_ids_by_role",
		"ARNs":          "arns",
		"URLsV2":        "urls_v2",
		"CPUSet":        "cpu_set",
		"DNSServer":     "dns_server",
		"IsAdmin":       "is_admin",
		"HTTPService":   "http_service",
	} {
		if got := config.SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	if got := config.EnvName("server.read_timeout"); got != "SERVER_READ_TIMEOUT" {
		t.Errorf("EnvName = %q", got)
	}
}

type Embedded struct {
	Region string `default:"eu-west-1"`
}

type schemaCfg struct {
	Embedded
	Server struct {
		ReadTimeout time.Duration `default:"5s" desc:"how long to wait for a request"`
	}
	Database struct {
		Host     string `config:"hostname"`
		Password config.Secret
		User     string `secret:"true"`
	}
	Legacy   string `env:"DATABASE_URL"`
	Skipped  string `config:"-"`
	internal string
}

func TestSchemaKeysAndEnvNames(t *testing.T) {
	t.Parallel()
	s, err := config.SchemaFor[schemaCfg]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ key, env, goPath, typ string }
	want := []row{
		{"region", "APP_REGION", "Embedded.Region", "string"},
		{"server.read_timeout", "APP_SERVER_READ_TIMEOUT", "Server.ReadTimeout", "duration"},
		{"database.hostname", "APP_DATABASE_HOSTNAME", "Database.Host", "string"},
		{"database.password", "APP_DATABASE_PASSWORD", "Database.Password", "secret"},
		{"database.user", "APP_DATABASE_USER", "Database.User", "string"},
		{"legacy", "DATABASE_URL", "Legacy", "string"},
	}
	fields := s.Fields()
	if len(fields) != len(want) {
		t.Fatalf("got %d fields, want %d", len(fields), len(want))
	}
	for i, w := range want {
		f := fields[i]
		if f.Key != w.key || f.Env != w.env || f.GoPath != w.goPath || f.TypeName() != w.typ {
			t.Errorf("field %d = {%s %s %s %s}, want %v", i, f.Key, f.Env, f.GoPath, f.TypeName(), w)
		}
	}
	if !s.Field("database.password").Secret || !s.Field("database.user").Secret || s.Field("database.hostname").Secret {
		t.Error("secret marking by type and by tag is wrong")
	}
	if f := s.Field("server.read_timeout"); !f.HasDefault || f.Default != "5s" || f.Desc == "" {
		t.Errorf("default/desc not read: %+v", f)
	}
	if s.FieldByEnv("APP_DATABASE_HOSTNAME") == nil || s.FieldByEnv("APP_SKIPPED") != nil {
		t.Error("FieldByEnv is wrong")
	}
	if !s.IsSection("database") || s.IsSection("database.user") {
		t.Error("IsSection is wrong")
	}
}

type collisionCfg struct {
	DatabaseHost string
	Database     struct {
		Host string
	}
}

type badCfg struct {
	Ch      chan int
	Port    int `default:"eighty"`
	Mapping map[int]string
}

func TestSchemaErrors(t *testing.T) {
	t.Parallel()
	_, err := config.SchemaFor[collisionCfg]("APP_")
	if !errors.Is(err, config.ErrSchema) {
		t.Fatalf("collision: err = %v, want ErrSchema", err)
	}
	for _, want := range []string{"DatabaseHost", "Database.Host", "APP_DATABASE_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("collision error %q does not name %s", err, want)
		}
	}

	_, err = config.SchemaFor[badCfg]("")
	var agg *config.AggregateError
	if !errors.As(err, &agg) || len(agg.Errs) != 3 {
		t.Fatalf("bad schema: want 3 problems, got %v", err)
	}
	for _, want := range []string{"Ch", "port", "Mapping"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := config.SchemaFor[int](""); !errors.Is(err, config.ErrSchema) {
		t.Errorf("non-struct: err = %v", err)
	}
}

func TestSchemaIsCachedPerTypeAndPrefix(t *testing.T) {
	t.Parallel()
	a, _ := config.SchemaFor[schemaCfg]("APP_")
	b, _ := config.SchemaFor[schemaCfg]("APP_")
	c, _ := config.SchemaFor[schemaCfg]("OTHER_")
	if a != b {
		t.Error("same type and prefix gave two schemas")
	}
	if c == a || c.Field("region").Env != "OTHER_REGION" {
		t.Error("prefix not part of the schema")
	}
}

func TestUnknownSuggestions(t *testing.T) {
	t.Parallel()
	s, _ := config.SchemaFor[schemaCfg]("APP_")
	src := config.Source{Layer: "env", Location: "APP_DATABSE_HOSTNAME"}
	err := s.UnknownEnv("APP_DATABSE_HOSTNAME", src)
	if err.Suggestion != "APP_DATABASE_HOSTNAME" {
		t.Errorf("suggestion = %q", err.Suggestion)
	}
	if got := err.Error(); got != "APP_DATABSE_HOSTNAME: unknown, did you mean APP_DATABASE_HOSTNAME? (env)" {
		t.Errorf("message = %q", got)
	}
	if !errors.Is(err, config.ErrUnknownName) {
		t.Error("not ErrUnknownName")
	}
	if got := s.UnknownEnv("APP_COMPLETELY_DIFFERENT_THING", src).Suggestion; got != "" {
		t.Errorf("far name got suggestion %q", got)
	}
	if got := s.UnknownKey("database.pasword", config.Source{}).Suggestion; got != "database.password" {
		t.Errorf("key suggestion = %q", got)
	}
	// A key meant as a section (the mount of a JSON secret) is matched
	// with the sections when no field is close; a section is not its own
	// suggestion.
	if got := s.UnknownKey("databse", config.Source{}).Suggestion; got != "database" {
		t.Errorf("section suggestion = %q, want database", got)
	}
	if got := s.UnknownKey("database", config.Source{}).Suggestion; got != "" {
		t.Errorf("a section suggests %q", got)
	}
	// A section given a single value (a string secret, a parameter, a
	// scalar in a file) says so, with the fields it holds.
	sect := s.UnknownKey("database", config.Source{Layer: "secretsmanager", Location: "app/db"}).Error()
	if !strings.HasPrefix(sect, "database: a section, not a field: it takes no single value (the keys under database are ") ||
		!strings.Contains(sect, "hostname") || !strings.HasSuffix(sect, "(from secretsmanager app/db)") {
		t.Errorf("section message = %q", sect)
	}
}

func TestFlatten(t *testing.T) {
	t.Parallel()
	s, _ := config.SchemaFor[schemaCfg]("APP_")
	var unknown []string
	vals := s.Flatten("database", map[string]any{"password": "p", "user": "u", "port": 5432.0},
		func(key string) config.Source { return config.Source{Layer: "secretsmanager", Location: "db#" + key} },
		func(key string) { unknown = append(unknown, key) })
	if len(vals) != 2 || vals["database.password"].Raw != "p" || vals["database.user"].Source.Location != "db#database.user" {
		t.Errorf("vals = %v", vals)
	}
	if len(unknown) != 1 || unknown[0] != "database.port" {
		t.Errorf("unknown = %v", unknown)
	}
	nested := s.Flatten("", map[string]any{"server": map[string]any{"read_timeout": "1s"}}, func(string) config.Source { return config.Source{} }, nil)
	if nested["server.read_timeout"].Raw != "1s" {
		t.Errorf("nested = %v", nested)
	}
}
