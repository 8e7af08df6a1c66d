package secretdir_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretdir"
)

type exampleConfig struct {
	Database struct {
		Host     string
		Password config.Secret
	}
}

// A directory of secret files, such as a Kubernetes Secret volume, read
// with the environment names of the fields as file names.
func ExampleDir() {
	dir, _ := os.MkdirTemp("", "secrets")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "APP_DATABASE_PASSWORD"), []byte("s3cr3t\n"), 0o400)
	_ = os.WriteFile(filepath.Join(dir, "db-host"), []byte("db.internal"), 0o400)

	store, err := config.Load[exampleConfig](context.Background(), &config.Options{EnvPrefix: "APP_"},
		secretdir.Dir(dir, &secretdir.Options{Names: map[string]string{"db-host": "database.host"}}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	c := store.Get()
	fmt.Println(c.Database.Host, c.Database.Password, len(c.Database.Password.Reveal()))
	// Output: db.internal [REDACTED] 6
}
