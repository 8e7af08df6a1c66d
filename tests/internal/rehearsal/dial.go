package rehearsal

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/sqlconn"
)

// Dials counts the connection attempts made through the connectors Wrap
// returns: every attempt, and those the database refused.
type Dials struct {
	attempts, refused, failed, cancelled atomic.Int64
}

// DialCounts is a snapshot of Dials.
type DialCounts struct {
	// Attempts is every connection attempt.
	Attempts int64
	// Refused is the attempts the database refused as an authentication
	// failure (SQLSTATE 28P01 or 28000).
	Refused int64
	// Failed is the attempts that failed otherwise, Cancelled those cut
	// short by their context (the load stopping).
	Failed, Cancelled int64
}

// Counts returns the counts so far.
func (d *Dials) Counts() DialCounts {
	return DialCounts{Attempts: d.attempts.Load(), Refused: d.refused.Load(), Failed: d.failed.Load(), Cancelled: d.cancelled.Load()}
}

// Wrap returns c counting its connection attempts in d.
func (d *Dials) Wrap(c driver.Connector) driver.Connector { return &counted{c, d} }

type counted struct {
	driver.Connector
	d *Dials
}

func (c *counted) Connect(ctx context.Context) (driver.Conn, error) {
	c.d.attempts.Add(1)
	conn, err := c.Connector.Connect(ctx)
	switch {
	case err == nil:
	case IsAuthFailure(err):
		c.d.refused.Add(1)
	case ctx.Err() != nil:
		c.d.cancelled.Add(1)
	default:
		c.d.failed.Add(1)
	}
	return conn, err
}

// IsAuthFailure reports whether err is PostgreSQL's refusal of the
// credentials: SQLSTATE 28P01 (invalid_password) or 28000
// (invalid_authorization_specification).
func IsAuthFailure(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}

// PgxConnector returns a connector of pgx's database/sql driver for dsn.
func PgxConnector(dsn string) (driver.Connector, error) {
	return stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
}

// Dialer is how a service's *sql.DB gets its connections.
type Dialer struct {
	// Name says what the dialer does, for reports.
	Name string
	// Open returns the pool; every connector it dials through must be
	// wrapped by dials.
	Open func(store *config.Store[Config], dials *Dials) (*sql.DB, error)
	// Stats, if set, reports the dialer's own counters after the run.
	Stats func() map[string]int64
	// Pending makes the store mount the secret's AWSPENDING version under
	// "database_pending" too (an optional spec).
	Pending bool
	// RefreshInterval, if set, is the store's RefreshInterval in place of
	// the Plan's.
	RefreshInterval time.Duration
}

// StaticDSN is what the services of AWS's guide do: the DSN is read from the
// store once, at start-up, and used for every connection after.
func StaticDSN() Dialer {
	return Dialer{Name: "DSN read at start-up", Open: func(store *config.Store[Config], dials *Dials) (*sql.DB, error) {
		c, err := PgxConnector(store.Get().Database.DSN())
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(dials.Wrap(c)), nil
	}}
}

// StoreNoRetry reads the store's current credentials for every new
// connection but does nothing about a refusal: the store's own refresh
// schedule, every poll, is all that moves it.
func StoreNoRetry(poll time.Duration) Dialer {
	return Dialer{
		Name:            fmt.Sprintf("store read per connection, polling every %v, no retry", poll),
		RefreshInterval: poll,
		Open: func(store *config.Store[Config], dials *Dials) (*sql.DB, error) {
			return sql.OpenDB(&storeConnector{store: store, dials: dials}), nil
		},
	}
}

type storeConnector struct {
	store *config.Store[Config]
	dials *Dials
}

func (s *storeConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := PgxConnector(s.store.Get().Database.DSN())
	if err != nil {
		return nil, err
	}
	return s.dials.Wrap(c).Connect(ctx)
}

func (s *storeConnector) Driver() driver.Driver { return stdlib.GetDefaultDriver() }

// Connector dials through sqlconn: New, or NewPending with pending, which
// tries the AWSPENDING version mounted under "database_pending" once per
// Connect. opts may be nil.
func Connector(pending bool, opts *sqlconn.Options) Dialer {
	var c *sqlconn.Connector
	d := Dialer{Name: "sqlconn.New", Pending: pending}
	if pending {
		d.Name = "sqlconn.NewPending"
	}
	d.Open = func(store *config.Store[Config], dials *Dials) (*sql.DB, error) {
		current := func(cfg *Config) (driver.Connector, error) {
			pc, err := PgxConnector(cfg.Database.DSN())
			if err != nil {
				return nil, err
			}
			return dials.Wrap(pc), nil
		}
		if !pending {
			c = sqlconn.New(store, current, opts)
			return sql.OpenDB(c), nil
		}
		c = sqlconn.NewPending(store, current, func(cfg *Config) (driver.Connector, error) {
			if cfg.DatabasePending.Password.IsZero() {
				return nil, nil // no rotation under way
			}
			pc, err := PgxConnector(cfg.DatabasePending.DSN())
			if err != nil {
				return nil, err
			}
			return dials.Wrap(pc), nil
		}, opts)
		return sql.OpenDB(c), nil
	}
	d.Stats = func() map[string]int64 {
		s := c.Stats()
		return map[string]int64{
			"connects": s.Connects, "failures": s.Failures, "attempts": s.Attempts, "auth failures": s.AuthFailures,
			"refreshes": s.Refreshes, "changed": s.Changed, "recovered": s.Recovered,
			"pending attempts": s.PendingAttempts, "pending ok": s.PendingOK,
		}
	}
	return d
}
