package sqlconn_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/sqlconn"
)

// exampleDriver stands for a real driver (pgx's stdlib, lib/pq,
// go-sql-driver/mysql): it accepts one password.
type exampleDriver struct{}

func (exampleDriver) Open(dsn string) (driver.Conn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	if pw, _ := u.User.Password(); pw != "s3cret-password" {
		return nil, &pgError{Code: "28P01", Message: "password authentication failed"}
	}
	return &fakeConn{db: newFakeDB("", "")}, nil
}

func Example() {
	type Config struct {
		Database struct {
			Host     string `default:"db.internal:5432"`
			User     string `default:"app"`
			Password config.Secret
		}
	}
	ctx := context.Background()
	// In a service: secretsmanager.New(awsCfg, nil, secretsmanager.JSON("app/db", "database", nil)).
	store, err := config.Load[Config](ctx, &config.Options{Logger: slog.New(slog.DiscardHandler)},
		config.StaticSecrets("secrets", map[string]string{"database.password": "s3cret-password"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	connector := sqlconn.New(store, func(cfg *Config) (driver.Connector, error) {
		dsn := url.URL{Scheme: "postgres", Host: cfg.Database.Host, Path: "/app",
			User: url.UserPassword(cfg.Database.User, cfg.Database.Password.Reveal())}
		return sqlconn.DSN(exampleDriver{}, dsn.String()), nil // or pq.NewConnector(dsn), stdlib.GetConnector(...)
	}, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler)})
	db := sql.OpenDB(connector)
	defer db.Close()

	fmt.Println("ping:", db.PingContext(ctx))
	s := connector.Stats()
	fmt.Println("connects:", s.Connects, "auth failures:", s.AuthFailures)
	// Output:
	// ping: <nil>
	// connects: 1 auth failures: 0
}

// A Connect that gives up says what was tried, never the password.
func ExampleError() {
	type Config struct {
		Database struct{ Password config.Secret }
	}
	store, err := config.Load[Config](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		config.StaticSecrets("secrets", map[string]string{"database.password": "not-the-password"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	connector := sqlconn.New(store, func(cfg *Config) (driver.Connector, error) {
		dsn := "postgres://app:" + url.QueryEscape(cfg.Database.Password.Reveal()) + "@db/app"
		return sqlconn.DSN(exampleDriver{}, dsn), nil
	}, &sqlconn.Options{RetryBudget: 1, Logger: slog.New(slog.DiscardHandler)})

	_, err = connector.Connect(context.Background())
	var e *sqlconn.Error
	if errors.As(err, &e) {
		fmt.Println("auth failure:", errors.Is(err, sqlconn.ErrAuth))
		fmt.Println("code:", e.Code)
		fmt.Println("cause:", e.Cause)
		fmt.Println("tried:", e.Sources)
	}
	// Output:
	// auth failure: true
	// code: 28P01
	// cause: SQLSTATE 28P01 invalid_password; *sqlconn_test.pgError
	// tried: [secrets database.password]
}

// Alternating-users rotation: close the old user's pooled connections soon
// after the store serves the new user.
func ExampleRecycleOnChange() {
	type Config struct {
		Database struct {
			Username string `secret:"true"`
			Password config.Secret
		}
	}
	store, err := config.Load[Config](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		config.StaticSecrets("secrets", map[string]string{"database.username": "app_a", "database.password": "s3cret-password"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	db := sql.OpenDB(sqlconn.New(store, func(cfg *Config) (driver.Connector, error) {
		return sqlconn.DSN(exampleDriver{}, "postgres://"+url.UserPassword(cfg.Database.Username, cfg.Database.Password.Reveal()).String()+"@db/app"), nil
	}, nil))
	defer db.Close()
	db.SetConnMaxLifetime(time.Hour)
	stop := sqlconn.RecycleOnChange(store, db, &sqlconn.RecycleOptions{
		Keys:        []string{"database.username"},
		Within:      30 * time.Second,
		MaxLifetime: time.Hour, // what SetConnMaxLifetime was given, restored afterwards
	})
	defer stop()
	fmt.Println("ping:", db.Ping())
	// Output: ping: <nil>
}
