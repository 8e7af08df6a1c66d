package sqlconn

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/strata-go/strata/config"
)

// DSN returns a driver.Connector that opens connections of driver d with the
// data source name dsn: through d's OpenConnector when d is a
// driver.DriverContext (pgx's stdlib driver, lib/pq and go-sql-driver/mysql
// all are), else through d.Open. A DSN usually holds a password, so the
// returned value prints as "sqlconn.DSN(<driver type>, [REDACTED])" with
// every fmt verb, slog and encoding/json.
func DSN(d driver.Driver, dsn string) driver.Connector {
	return &dsnConnector{d: d, dsn: dsn}
}

type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c *dsnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.d == nil {
		return nil, errNilDriver
	}
	if dc, ok := c.d.(driver.DriverContext); ok {
		conn, err := dc.OpenConnector(c.dsn)
		if err != nil {
			return nil, err
		}
		return conn.Connect(ctx)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.d.Open(c.dsn)
}

func (c *dsnConnector) Driver() driver.Driver { return c.d }

var errNilDriver = ownError("sqlconn.DSN was given a nil driver")

func (c *dsnConnector) String() string {
	return fmt.Sprintf("sqlconn.DSN(%T, %s)", c.d, config.Redacted)
}
func (c *dsnConnector) GoString() string             { return c.String() }
func (c *dsnConnector) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(c.String())) }
func (c *dsnConnector) LogValue() slog.Value         { return slog.StringValue(c.String()) }
func (c *dsnConnector) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }
