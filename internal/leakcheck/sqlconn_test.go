package leakcheck

import (
	"context"
	"database/sql/driver"
	"log/slog"
	"time"

	"github.com/strata-go/strata/sqlconn"
)

func init() {
	registry["sqlconn.Options"] = entry{values: func(f *fixture) []any {
		return both(sqlconn.Options{Keys: []string{"database.password"}, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	}}
	registry["sqlconn.RecycleOptions"] = entry{values: func(f *fixture) []any {
		return both(sqlconn.RecycleOptions{Keys: []string{"database.user"}, Within: time.Second, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	}}
	registry["sqlconn.Connector"] = entry{values: func(f *fixture) []any { return []any{leakyConnector(f)} }}
	registry["sqlconn.Stats"] = entry{values: func(f *fixture) []any { return both(leakyConnector(f).Stats()) }}
	registry["sqlconn.Error"] = entry{values: func(f *fixture) []any {
		c := leakyConnector(f)
		_, err := c.Connect(context.Background())
		_, openErr := c.Driver().Open("")
		if err == nil || openErr == nil {
			panic("the connector connected; the check would prove nothing")
		}
		f.extra = append(f.extra, sqlconn.DSN(leakyDriver{}, "postgres://app:"+canary+"@db/app"))
		return errorsOf[*sqlconn.Error]([]error{err, openErr})
	}}
}

// leakyConnector dials with the fixture store's credentials (the canary) and
// fails with errors that quote them.
func leakyConnector(f *fixture) *sqlconn.Connector {
	return sqlconn.New(f.store, func(cfg *appCfg) (driver.Connector, error) {
		return sqlconn.DSN(leakyDriver{}, "postgres://"+cfg.Database.User+":"+cfg.Database.Password.Reveal()+"@db/app"), nil
	}, &sqlconn.Options{RetryBudget: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
}

// leakyDriver refuses every login with an error that quotes the DSN.
type leakyDriver struct{}

func (leakyDriver) Open(dsn string) (driver.Conn, error) {
	return nil, &leakyAuthError{dsn: dsn}
}

type leakyAuthError struct{ dsn string }

func (e *leakyAuthError) Error() string    { return "password authentication failed for " + e.dsn }
func (e *leakyAuthError) SQLState() string { return "28P01" }
