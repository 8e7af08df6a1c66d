package rehearsal

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-go/strata/config"
)

// Dials counts the connection attempts made through the connectors Wrap
// returns: every attempt, and those the database refused.
type Dials struct {
	attempts, refused, failed atomic.Int64
}

// DialCounts is a snapshot of Dials.
type DialCounts struct {
	// Attempts is every connection attempt.
	Attempts int64
	// Refused is the attempts the database refused as an authentication
	// failure (SQLSTATE 28P01 or 28000).
	Refused int64
	// Failed is the attempts that failed otherwise.
	Failed int64
}

// Counts returns the counts so far.
func (d *Dials) Counts() DialCounts {
	return DialCounts{Attempts: d.attempts.Load(), Refused: d.refused.Load(), Failed: d.failed.Load()}
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
// schedule is all that moves it.
func StoreNoRetry() Dialer {
	return Dialer{Name: "store read per connection, no retry", Open: func(store *config.Store[Config], dials *Dials) (*sql.DB, error) {
		return sql.OpenDB(&storeConnector{store: store, dials: dials}), nil
	}}
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
