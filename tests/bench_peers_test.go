package tests

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	cenv "github.com/caarlos0/env/v11"
	"github.com/go-playground/validator/v10"
	"github.com/go-viper/mapstructure/v2"
	"github.com/joho/godotenv"
	kdotenv "github.com/knadh/koanf/parsers/dotenv"
	kenv "github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/viper"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/benchconfig"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
)

// The benchmarks of this file measure Strata beside koanf, viper,
// caarlos0/env and sethvargo/go-envconfig, in the same run and with the same
// inputs: the 40-field, 4-section configuration of config.BenchmarkLoad40,
// loaded from defaults, benchconfig.Dotenv and benchconfig.Environ (ten
// settings among fifty unrelated variables). docs/performance.md explains the
// figures.
//
// Each library gets its own copy of the struct, tagged the way it needs. The
// peers hold the password in a plain string, as their users would; Strata's
// config.Secret redacts it.

// strata40 is the shared benchmark configuration: Strata derives keys and
// environment names from the Go names, so it needs no tags beyond defaults and
// rules.
type strata40 = benchconfig.Config

// map40 is the struct koanf and viper unmarshal into (both through
// mapstructure). Their defaults are in peerDefaults.
type map40 struct {
	Server struct {
		Addr            string        `mapstructure:"addr" validate:"required"`
		ReadTimeout     time.Duration `mapstructure:"read_timeout"`
		WriteTimeout    time.Duration `mapstructure:"write_timeout"`
		IdleTimeout     time.Duration `mapstructure:"idle_timeout"`
		MaxHeaderBytes  int           `mapstructure:"max_header_bytes" validate:"min=1"`
		TLS             bool          `mapstructure:"tls"`
		CertFile        string        `mapstructure:"cert_file"`
		KeyFile         string        `mapstructure:"key_file"`
		AllowedOrigins  []string      `mapstructure:"allowed_origins"`
		ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	} `mapstructure:"server"`
	Database struct {
		Host            string        `mapstructure:"host" validate:"required,hostname"`
		Port            int           `mapstructure:"port" validate:"min=1,max=65535"`
		Name            string        `mapstructure:"name" validate:"required"`
		User            string        `mapstructure:"user" validate:"required"`
		Password        string        `mapstructure:"password" validate:"required,min=12"`
		SSLMode         string        `mapstructure:"ssl_mode" validate:"oneof=disable require verify-full"`
		MaxOpenConns    int           `mapstructure:"max_open_conns" validate:"min=1"`
		MaxIdleConns    int           `mapstructure:"max_idle_conns"`
		ConnMaxLifetime time.Duration `mapstructure:"conn_max_lifetime"`
		Timeout         time.Duration `mapstructure:"timeout"`
	} `mapstructure:"database"`
	Cache struct {
		URL        string        `mapstructure:"url" validate:"required"`
		TTL        time.Duration `mapstructure:"ttl"`
		MaxEntries int           `mapstructure:"max_entries" validate:"min=1"`
		Namespace  string        `mapstructure:"namespace"`
		Enabled    bool          `mapstructure:"enabled"`
		PoolSize   int           `mapstructure:"pool_size"`
		ReadOnly   bool          `mapstructure:"read_only"`
		Compress   bool          `mapstructure:"compress"`
		Shards     int           `mapstructure:"shards" validate:"min=1,max=64"`
		Timeout    time.Duration `mapstructure:"timeout"`
	} `mapstructure:"cache"`
	Log struct {
		Level      string   `mapstructure:"level" validate:"oneof=debug info warn error"`
		Format     string   `mapstructure:"format" validate:"oneof=json text"`
		Output     string   `mapstructure:"output"`
		Sampling   float64  `mapstructure:"sampling" validate:"gte=0,lte=1"`
		AddSource  bool     `mapstructure:"add_source"`
		Service    string   `mapstructure:"service"`
		Version    string   `mapstructure:"version"`
		Tags       []string `mapstructure:"tags"`
		MaxSizeMB  int      `mapstructure:"max_size_mb"`
		MaxBackups int      `mapstructure:"max_backups"`
	} `mapstructure:"log"`
}

// peerKeys are the 40 keys of map40. Viper must know every key for
// Unmarshal to see a value that only the environment sets.
var peerKeys = []string{
	"server.addr", "server.read_timeout", "server.write_timeout", "server.idle_timeout", "server.max_header_bytes",
	"server.tls", "server.cert_file", "server.key_file", "server.allowed_origins", "server.shutdown_timeout",
	"database.host", "database.port", "database.name", "database.user", "database.password",
	"database.ssl_mode", "database.max_open_conns", "database.max_idle_conns", "database.conn_max_lifetime", "database.timeout",
	"cache.url", "cache.ttl", "cache.max_entries", "cache.namespace", "cache.enabled",
	"cache.pool_size", "cache.read_only", "cache.compress", "cache.shards", "cache.timeout",
	"log.level", "log.format", "log.output", "log.sampling", "log.add_source",
	"log.service", "log.version", "log.tags", "log.max_size_mb", "log.max_backups",
}

// peerDefaults are the defaults of map40, the same as strata40's default tags.
var peerDefaults = map[string]any{
	"server.addr":             "127.0.0.1:8080",
	"server.read_timeout":     "5s",
	"server.write_timeout":    "10s",
	"server.idle_timeout":     "60s",
	"server.max_header_bytes": "1048576",
	"server.tls":              "false",
	"server.allowed_origins":  "https://example.com",
	"server.shutdown_timeout": "15s",

	"database.port":              "5432",
	"database.name":              "app",
	"database.ssl_mode":          "require",
	"database.max_open_conns":    "20",
	"database.max_idle_conns":    "5",
	"database.conn_max_lifetime": "30m",
	"database.timeout":           "3s",

	"cache.url":         "redis://127.0.0.1:6379/0",
	"cache.ttl":         "10m",
	"cache.max_entries": "10000",
	"cache.namespace":   "app",
	"cache.enabled":     "true",
	"cache.pool_size":   "10",
	"cache.compress":    "true",
	"cache.shards":      "4",
	"cache.timeout":     "200ms",

	"log.level":       "info",
	"log.format":      "json",
	"log.output":      "stdout",
	"log.sampling":    "1.0",
	"log.service":     "app",
	"log.version":     "dev",
	"log.max_size_mb": "100",
	"log.max_backups": "3",
}

// caarlos40 is the struct of caarlos0/env, read with Options.Prefix "APP_".
type caarlos40 struct {
	Server struct {
		Addr            string        `env:"ADDR" envDefault:"127.0.0.1:8080" validate:"required"`
		ReadTimeout     time.Duration `env:"READ_TIMEOUT" envDefault:"5s"`
		WriteTimeout    time.Duration `env:"WRITE_TIMEOUT" envDefault:"10s"`
		IdleTimeout     time.Duration `env:"IDLE_TIMEOUT" envDefault:"60s"`
		MaxHeaderBytes  int           `env:"MAX_HEADER_BYTES" envDefault:"1048576" validate:"min=1"`
		TLS             bool          `env:"TLS" envDefault:"false"`
		CertFile        string        `env:"CERT_FILE"`
		KeyFile         string        `env:"KEY_FILE"`
		AllowedOrigins  []string      `env:"ALLOWED_ORIGINS" envDefault:"https://example.com"`
		ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	} `envPrefix:"SERVER_"`
	Database struct {
		Host            string        `env:"HOST" validate:"required,hostname"`
		Port            int           `env:"PORT" envDefault:"5432" validate:"min=1,max=65535"`
		Name            string        `env:"NAME" envDefault:"app" validate:"required"`
		User            string        `env:"USER" validate:"required"`
		Password        string        `env:"PASSWORD" validate:"required,min=12"`
		SSLMode         string        `env:"SSL_MODE" envDefault:"require" validate:"oneof=disable require verify-full"`
		MaxOpenConns    int           `env:"MAX_OPEN_CONNS" envDefault:"20" validate:"min=1"`
		MaxIdleConns    int           `env:"MAX_IDLE_CONNS" envDefault:"5"`
		ConnMaxLifetime time.Duration `env:"CONN_MAX_LIFETIME" envDefault:"30m"`
		Timeout         time.Duration `env:"TIMEOUT" envDefault:"3s"`
	} `envPrefix:"DATABASE_"`
	Cache struct {
		URL        string        `env:"URL" envDefault:"redis://127.0.0.1:6379/0" validate:"required"`
		TTL        time.Duration `env:"TTL" envDefault:"10m"`
		MaxEntries int           `env:"MAX_ENTRIES" envDefault:"10000" validate:"min=1"`
		Namespace  string        `env:"NAMESPACE" envDefault:"app"`
		Enabled    bool          `env:"ENABLED" envDefault:"true"`
		PoolSize   int           `env:"POOL_SIZE" envDefault:"10"`
		ReadOnly   bool          `env:"READ_ONLY"`
		Compress   bool          `env:"COMPRESS" envDefault:"true"`
		Shards     int           `env:"SHARDS" envDefault:"4" validate:"min=1,max=64"`
		Timeout    time.Duration `env:"TIMEOUT" envDefault:"200ms"`
	} `envPrefix:"CACHE_"`
	Log struct {
		Level      string   `env:"LEVEL" envDefault:"info" validate:"oneof=debug info warn error"`
		Format     string   `env:"FORMAT" envDefault:"json" validate:"oneof=json text"`
		Output     string   `env:"OUTPUT" envDefault:"stdout"`
		Sampling   float64  `env:"SAMPLING" envDefault:"1.0" validate:"gte=0,lte=1"`
		AddSource  bool     `env:"ADD_SOURCE"`
		Service    string   `env:"SERVICE" envDefault:"app"`
		Version    string   `env:"VERSION" envDefault:"dev"`
		Tags       []string `env:"TAGS"`
		MaxSizeMB  int      `env:"MAX_SIZE_MB" envDefault:"100"`
		MaxBackups int      `env:"MAX_BACKUPS" envDefault:"3"`
	} `envPrefix:"LOG_"`
}

// envconfig40 is the struct of sethvargo/go-envconfig, read through a
// PrefixLookuper with "APP_".
type envconfig40 struct {
	Server struct {
		Addr            string        `env:"ADDR, default=127.0.0.1:8080" validate:"required"`
		ReadTimeout     time.Duration `env:"READ_TIMEOUT, default=5s"`
		WriteTimeout    time.Duration `env:"WRITE_TIMEOUT, default=10s"`
		IdleTimeout     time.Duration `env:"IDLE_TIMEOUT, default=60s"`
		MaxHeaderBytes  int           `env:"MAX_HEADER_BYTES, default=1048576" validate:"min=1"`
		TLS             bool          `env:"TLS, default=false"`
		CertFile        string        `env:"CERT_FILE"`
		KeyFile         string        `env:"KEY_FILE"`
		AllowedOrigins  []string      `env:"ALLOWED_ORIGINS, default=https://example.com"`
		ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT, default=15s"`
	} `env:", prefix=SERVER_"`
	Database struct {
		Host            string        `env:"HOST" validate:"required,hostname"`
		Port            int           `env:"PORT, default=5432" validate:"min=1,max=65535"`
		Name            string        `env:"NAME, default=app" validate:"required"`
		User            string        `env:"USER" validate:"required"`
		Password        string        `env:"PASSWORD" validate:"required,min=12"`
		SSLMode         string        `env:"SSL_MODE, default=require" validate:"oneof=disable require verify-full"`
		MaxOpenConns    int           `env:"MAX_OPEN_CONNS, default=20" validate:"min=1"`
		MaxIdleConns    int           `env:"MAX_IDLE_CONNS, default=5"`
		ConnMaxLifetime time.Duration `env:"CONN_MAX_LIFETIME, default=30m"`
		Timeout         time.Duration `env:"TIMEOUT, default=3s"`
	} `env:", prefix=DATABASE_"`
	Cache struct {
		URL        string        `env:"URL, default=redis://127.0.0.1:6379/0" validate:"required"`
		TTL        time.Duration `env:"TTL, default=10m"`
		MaxEntries int           `env:"MAX_ENTRIES, default=10000" validate:"min=1"`
		Namespace  string        `env:"NAMESPACE, default=app"`
		Enabled    bool          `env:"ENABLED, default=true"`
		PoolSize   int           `env:"POOL_SIZE, default=10"`
		ReadOnly   bool          `env:"READ_ONLY"`
		Compress   bool          `env:"COMPRESS, default=true"`
		Shards     int           `env:"SHARDS, default=4" validate:"min=1,max=64"`
		Timeout    time.Duration `env:"TIMEOUT, default=200ms"`
	} `env:", prefix=CACHE_"`
	Log struct {
		Level      string   `env:"LEVEL, default=info" validate:"oneof=debug info warn error"`
		Format     string   `env:"FORMAT, default=json" validate:"oneof=json text"`
		Output     string   `env:"OUTPUT, default=stdout"`
		Sampling   float64  `env:"SAMPLING, default=1.0" validate:"gte=0,lte=1"`
		AddSource  bool     `env:"ADD_SOURCE"`
		Service    string   `env:"SERVICE, default=app"`
		Version    string   `env:"VERSION, default=dev"`
		Tags       []string `env:"TAGS"`
		MaxSizeMB  int      `env:"MAX_SIZE_MB, default=100"`
		MaxBackups int      `env:"MAX_BACKUPS, default=3"`
	} `env:", prefix=LOG_"`
}

// newPeerValidator returns the validator of the peers, made once and reused
// as a service would (Strata keeps one per schema).
func newPeerValidator() *validator.Validate {
	return validator.New(validator.WithRequiredStructEnabled())
}

// loadStrata40 loads strata40 from the .env file (unless environOnly) and the
// environment.
func loadStrata40(ctx context.Context, dotenvPath string, environ []string, environOnly bool) (*config.Store[strata40], error) {
	layers := []config.Layer{env.New(&env.Options{Environ: func() []string { return environ }})}
	if !environOnly {
		layers = append([]config.Layer{dotenv.File(dotenvPath, nil)}, layers...)
	}
	return config.Load[strata40](ctx, &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)}, layers...)
}

// peerKey maps an environment name to a koanf or viper key:
// APP_DATABASE_MAX_OPEN_CONNS is database.max_open_conns. Only the first "_"
// after the prefix separates the section, which holds for this struct only:
// the peers cannot tell a nested key from a name with "_" in it.
func peerKey(name string) string {
	return strings.Replace(strings.ToLower(strings.TrimPrefix(name, "APP_")), "_", ".", 1)
}

// mapProvider is a koanf.Provider of flat keys, for the defaults.
type mapProvider map[string]any

func (m mapProvider) ReadBytes() ([]byte, error) { return nil, fmt.Errorf("not supported") }

// Read returns a fresh nested map each time: koanf keeps parts of what it
// merges.
func (m mapProvider) Read() (map[string]any, error) {
	out := make(map[string]any)
	for k, v := range m {
		section, field, _ := strings.Cut(k, ".")
		sub, _ := out[section].(map[string]any)
		if sub == nil {
			sub = make(map[string]any)
			out[section] = sub
		}
		sub[field] = v
	}
	return out, nil
}

// koanfDecoder adds the string-to-slice hook koanf's default lacks, so that
// "a,b,c" is three items.
var koanfDecoder = mapstructure.DecoderConfig{
	DecodeHook: mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
		mapstructure.TextUnmarshallerHookFunc()),
	WeaklyTypedInput: true,
}

// loadKoanf40 loads map40 with koanf: defaults, the .env file through the
// file provider and dotenv parser, the environment, then Unmarshal and the
// validator.
func loadKoanf40(dotenvPath string, environ []string, vd *validator.Validate) (*koanf.Koanf, *map40, error) {
	k := koanf.New(".")
	if err := k.Load(mapProvider(peerDefaults), nil); err != nil {
		return nil, nil, err
	}
	if err := k.Load(file.Provider(dotenvPath), kdotenv.ParserEnv("APP_", ".", peerKey)); err != nil {
		return nil, nil, err
	}
	envp := kenv.Provider(".", kenv.Opt{
		Prefix:        "APP_",
		TransformFunc: func(name, value string) (string, any) { return peerKey(name), value },
		EnvironFunc:   func() []string { return environ },
	})
	if err := k.Load(envp, nil); err != nil {
		return nil, nil, err
	}
	dc := koanfDecoder
	var c map40
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "mapstructure", DecoderConfig: &dc}); err != nil {
		return nil, nil, err
	}
	if err := vd.Struct(&c); err != nil {
		return nil, nil, err
	}
	return k, &c, nil
}

// loadViper40 loads map40 with viper: defaults, the .env file read as a
// config file of type "env", the environment through AutomaticEnv with the
// prefix and a key replacer, then Unmarshal and the validator. The .env file
// names its settings by their environment names, so its keys are moved under
// their sections before they are merged.
func loadViper40(dotenvPath string, vd *validator.Validate) (*viper.Viper, *map40, error) {
	fv := viper.New()
	fv.SetConfigFile(dotenvPath)
	fv.SetConfigType("env")
	if err := fv.ReadInConfig(); err != nil {
		return nil, nil, err
	}
	fromFile := make(map[string]any)
	for name, value := range fv.AllSettings() {
		section, field, _ := strings.Cut(peerKey(strings.ToUpper(name)), ".")
		sub, _ := fromFile[section].(map[string]any)
		if sub == nil {
			sub = make(map[string]any)
			fromFile[section] = sub
		}
		sub[field] = value
	}

	v := viper.NewWithOptions(viper.EnvKeyReplacer(strings.NewReplacer(".", "_")))
	v.SetEnvPrefix("APP")
	v.AutomaticEnv()
	for _, key := range peerKeys {
		if d, ok := peerDefaults[key]; ok {
			v.SetDefault(key, d)
		} else if err := v.BindEnv(key); err != nil {
			return nil, nil, err
		}
	}
	if err := v.MergeConfigMap(fromFile); err != nil {
		return nil, nil, err
	}
	var c map40
	if err := v.Unmarshal(&c); err != nil {
		return nil, nil, err
	}
	if err := vd.Struct(&c); err != nil {
		return nil, nil, err
	}
	return v, &c, nil
}

// setPeerEnv sets environ in the process environment for the benchmark,
// for viper, which reads nothing else.
func setPeerEnv(b *testing.B, environ []string) {
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		b.Setenv(name, value)
	}
}

// environMap returns the settings of the .env file at path (if any) and of
// environ, environ winning.
func environMap(path string, environ []string) (map[string]string, error) {
	m := make(map[string]string, len(environ)+32)
	if path != "" {
		fromFile, err := godotenv.Read(path)
		if err != nil {
			return nil, err
		}
		maps.Copy(m, fromFile)
	}
	for _, kv := range environ {
		if name, value, ok := strings.Cut(kv, "="); ok {
			m[name] = value
		}
	}
	return m, nil
}

// loadCaarlos40 loads caarlos40 with caarlos0/env from the .env file and the
// environment, passed in Options.Environment, then runs the validator.
func loadCaarlos40(dotenvPath string, environ []string, vd *validator.Validate) (*caarlos40, error) {
	m, err := environMap(dotenvPath, environ)
	if err != nil {
		return nil, err
	}
	var c caarlos40
	if err := cenv.ParseWithOptions(&c, cenv.Options{Environment: m, Prefix: "APP_"}); err != nil {
		return nil, err
	}
	if err := vd.Struct(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// loadEnvconfig40 loads envconfig40 with go-envconfig through a MapLookuper
// of the environment (and of the .env file when dotenvPath is set), then runs
// the validator.
func loadEnvconfig40(ctx context.Context, dotenvPath string, environ []string, vd *validator.Validate) (*envconfig40, error) {
	m, err := environMap(dotenvPath, environ)
	if err != nil {
		return nil, err
	}
	var c envconfig40
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &c,
		Lookuper: envconfig.PrefixLookuper("APP_", envconfig.MapLookuper(m)),
	}); err != nil {
		return nil, err
	}
	if err := vd.Struct(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// fields40 flattens one of the 40-field structs to "Section.Field" -> value,
// so that the five libraries' results can be compared with each other.
func fields40(cfg any) map[string]string {
	out := make(map[string]string, 40)
	rv := reflect.Indirect(reflect.ValueOf(cfg))
	for i := range rv.NumField() {
		section := rv.Field(i)
		for j := range section.NumField() {
			f := section.Field(j)
			name := rv.Type().Field(i).Name + "." + section.Type().Field(j).Name
			if s, ok := f.Interface().(config.Secret); ok {
				out[name] = s.Reveal()
				continue
			}
			out[name] = fmt.Sprint(f.Interface())
		}
	}
	return out
}

// checkSame fails b unless got holds the same 40 values as want.
func checkSame(b *testing.B, want, got any) {
	b.Helper()
	w, g := fields40(want), fields40(got)
	if len(w) != 40 || len(g) != 40 {
		b.Fatalf("%d and %d fields, want 40", len(w), len(g))
	}
	for name, wv := range w {
		if g[name] != wv {
			b.Fatalf("%s = %q, want %q (as Strata loads it)", name, g[name], wv)
		}
	}
}

// strataReference loads strata40 once and checks a value from each source:
// the .env file, the environment and a default.
func strataReference(b *testing.B, dotenvPath string, environ []string, environOnly bool) *strata40 {
	b.Helper()
	st, err := loadStrata40(context.Background(), dotenvPath, environ, environOnly)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := *st.Get()
	wantPort := 6432 // from the .env file
	if environOnly {
		wantPort = 5432
	}
	if c.Database.Port != wantPort || c.Database.Host != "db.internal" || c.Database.MaxOpenConns != 50 ||
		!c.Cache.Enabled || len(c.Log.Tags) != 3 {
		b.Fatalf("Strata loaded %+v", c)
	}
	return &c
}

// BenchmarkPeersLoad40 measures one load of the 40-field configuration from
// defaults, the .env file and the environment, decoded and validated. Each
// variant is first checked to produce the same 40 values as Strata.
func BenchmarkPeersLoad40(b *testing.B) {
	dotenvPath := benchconfig.WriteDotenv(b)
	environ := benchconfig.Environ()
	ctx := context.Background()

	// "env-only" reads no .env file, to set beside go-envconfig's env-only
	// case.
	for _, environOnly := range []bool{false, true} {
		name := "lib=strata"
		if environOnly {
			name = "lib=strata/env-only"
		}
		b.Run(name, func(b *testing.B) {
			strataReference(b, dotenvPath, environ, environOnly)
			b.ReportAllocs()
			for b.Loop() {
				st, err := loadStrata40(ctx, dotenvPath, environ, environOnly)
				if err != nil {
					b.Fatal(err)
				}
				st.Close()
			}
		})
	}
	b.Run("lib=koanf", func(b *testing.B) {
		want := strataReference(b, dotenvPath, environ, false)
		vd := newPeerValidator()
		_, got, err := loadKoanf40(dotenvPath, environ, vd)
		if err != nil {
			b.Fatal(err)
		}
		checkSame(b, want, got)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := loadKoanf40(dotenvPath, environ, vd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lib=viper", func(b *testing.B) {
		want := strataReference(b, dotenvPath, environ, false)
		setPeerEnv(b, environ)
		vd := newPeerValidator()
		_, got, err := loadViper40(dotenvPath, vd)
		if err != nil {
			b.Fatal(err)
		}
		checkSame(b, want, got)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := loadViper40(dotenvPath, vd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lib=caarlos0-env", func(b *testing.B) {
		want := strataReference(b, dotenvPath, environ, false)
		vd := newPeerValidator()
		got, err := loadCaarlos40(dotenvPath, environ, vd)
		if err != nil {
			b.Fatal(err)
		}
		checkSame(b, want, got)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := loadCaarlos40(dotenvPath, environ, vd); err != nil {
				b.Fatal(err)
			}
		}
	})
	// go-envconfig reads no .env file: "env-only" gives it the environment
	// alone (and is compared with Strata loading the same), "with-dotenv"
	// adds the file's settings to its lookup map, parsed with godotenv.
	for _, withDotenv := range []bool{false, true} {
		name, path := "lib=go-envconfig/env-only", ""
		if withDotenv {
			name, path = "lib=go-envconfig/with-dotenv", dotenvPath
		}
		b.Run(name, func(b *testing.B) {
			want := strataReference(b, dotenvPath, environ, !withDotenv)
			vd := newPeerValidator()
			got, err := loadEnvconfig40(ctx, path, environ, vd)
			if err != nil {
				b.Fatal(err)
			}
			checkSame(b, want, got)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := loadEnvconfig40(ctx, path, environ, vd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var sinkLen int

// peerStores loads the 40-field configuration with Strata, koanf and viper
// for the hot-read benchmarks, and checks that each reads database.host as
// "db.internal". Viper's GetString looks the name up in the process
// environment first (AutomaticEnv), so the environment stays set for it
// until b ends.
func peerStores(b *testing.B) (*config.Store[strata40], *koanf.Koanf, *viper.Viper) {
	b.Helper()
	dotenvPath := benchconfig.WriteDotenv(b)
	environ := benchconfig.Environ()
	vd := newPeerValidator()
	st, err := loadStrata40(context.Background(), dotenvPath, environ, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	k, _, err := loadKoanf40(dotenvPath, environ, vd)
	if err != nil {
		b.Fatal(err)
	}
	setPeerEnv(b, environ)
	v, _, err := loadViper40(dotenvPath, vd)
	if err != nil {
		b.Fatal(err)
	}
	for lib, host := range map[string]string{
		"strata": st.Get().Database.Host, "koanf": k.String("database.host"), "viper": v.GetString("database.host"),
	} {
		if host != "db.internal" {
			b.Fatalf("%s: database.host = %q", lib, host)
		}
	}
	return st, k, v
}

// BenchmarkPeersGet measures one read of database.host from one goroutine.
// The loops are plain b.N loops: b.Loop keeps Get from being inlined. Each
// adds up the lengths it reads, as the parallel benchmark does, so that no
// case pays for storing a string in a global.
func BenchmarkPeersGet(b *testing.B) {
	st, k, v := peerStores(b)
	b.Run("lib=strata", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			n += len(st.Get().Database.Host)
		}
		sinkLen = n
	})
	b.Run("lib=koanf", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			n += len(k.String("database.host"))
		}
		sinkLen = n
	})
	b.Run("lib=viper", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			n += len(v.GetString("database.host"))
		}
		sinkLen = n
	})
}

// BenchmarkPeersGetParallel measures the same read from GOMAXPROCS
// goroutines at once.
func BenchmarkPeersGetParallel(b *testing.B) {
	st, k, v := peerStores(b)
	for _, r := range []struct {
		name string
		body func(pb *testing.PB) int
	}{
		{"lib=strata", func(pb *testing.PB) (n int) {
			for pb.Next() {
				n += len(st.Get().Database.Host)
			}
			return n
		}},
		{"lib=koanf", func(pb *testing.PB) (n int) {
			for pb.Next() {
				n += len(k.String("database.host"))
			}
			return n
		}},
		{"lib=viper", func(pb *testing.PB) (n int) {
			for pb.Next() {
				n += len(v.GetString("database.host"))
			}
			return n
		}},
	} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				if r.body(pb) == 1 {
					b.Log("unreachable")
				}
			})
		})
	}
}
