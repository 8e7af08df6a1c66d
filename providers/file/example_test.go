package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/file"
)

type exampleConfig struct {
	Server struct {
		Addr         string        `default:":8080"`
		ReadTimeout  time.Duration `default:"5s"`
		AllowedHosts []string
	}
}

// A YAML file of settings under the environment: each value's source is the
// file and the line of its key.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.yaml")
	_ = os.WriteFile(path, []byte("# settings of every environment\nserver:\n  read_timeout: 10s\n  allowed_hosts: [a.internal, b.internal]\n"), 0o644)

	store, err := config.Load[exampleConfig](context.Background(), &config.Options{EnvPrefix: "APP_"},
		file.New(path, nil),
		env.New(&env.Options{Environ: func() []string { return []string{"APP_SERVER_ADDR=:9090"} }}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	c := store.Get()
	fmt.Println(c.Server.Addr, c.Server.ReadTimeout, c.Server.AllowedHosts)
	for _, key := range []string{"server.addr", "server.read_timeout", "server.allowed_hosts"} {
		ki, _ := store.Explain(key)
		fmt.Println(key, strings.TrimPrefix(ki.Source.String(), dir+string(filepath.Separator)))
	}
	// Output:
	// :9090 10s [a.internal b.internal]
	// server.addr env APP_SERVER_ADDR
	// server.read_timeout config.yaml:3
	// server.allowed_hosts config.yaml:4
}

// A malformed file is an error that names the line, and never quotes the
// file's text.
func ExampleNew_malformed() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.toml")
	_ = os.WriteFile(path, []byte("[server]\nread_timeout = \"10s\"\naddr = :9090\n"), 0o644)

	_, err := config.Load[exampleConfig](context.Background(), nil, file.New(path, nil))
	fmt.Println(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	// Output:
	// config: file config.toml: malformed source: line 3, column 8: invalid TOML syntax: a character that cannot start a value
}
