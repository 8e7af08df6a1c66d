package dotenv_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
)

func ExampleFile() {
	type AppConfig struct {
		Server struct {
			Addr string
		}
		Database struct {
			Host     string
			Port     int
			Password config.Secret
		}
	}
	schema, err := config.SchemaFor[AppConfig]("APP_")
	if err != nil {
		panic(err)
	}

	layer := dotenv.File("testdata/example.env", &dotenv.Options{Optional: true})
	vals, err := layer.Load(context.Background(), schema)
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		// Print where each value came from. The password is not printed: a
		// program shows secrets only through config.Secret, which redacts them.
		fmt.Printf("%s from %s\n", key, vals[key].Source)
	}
	var unknown *config.UnknownNameError
	if errors.As(err, &unknown) {
		fmt.Println("warning:", unknown)
	}
	// Output:
	// database.host from testdata/example.env:4
	// database.password from testdata/example.env:5
	// server.addr from testdata/example.env:2
	// warning: APP_DATABSE_PORT: unknown, did you mean APP_DATABASE_PORT? (from testdata/example.env:6)
}

func ExampleFile_malformed() {
	type AppConfig struct {
		Database struct {
			Password config.Secret
		}
	}
	schema, err := config.SchemaFor[AppConfig]("APP_")
	if err != nil {
		panic(err)
	}

	_, err = dotenv.File("testdata/malformed.env", nil).Load(context.Background(), schema)
	fmt.Println(err)
	fmt.Println(errors.Is(err, config.ErrMalformed))
	// Output:
	// dotenv testdata/malformed.env: malformed source: line 3: expected NAME=value, the quoted value is not closed
	// true
}

func ExampleQuote() {
	for _, v := range []string{"db.internal", "pa$$word with spaces", `C:\temp`, "two\nlines", ""} {
		fmt.Printf("APP_VALUE=%s\n", dotenv.Quote(v))
	}
	// Output:
	// APP_VALUE=db.internal
	// APP_VALUE="pa\$\$word with spaces"
	// APP_VALUE="C:\\temp"
	// APP_VALUE="two\nlines"
	// APP_VALUE=""
}
