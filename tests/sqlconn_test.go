package tests

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/sqlconn"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/pg"
)

// scCanary is part of every password of these tests, searched for in every
// error and log the connector gives.
const scCanary = "CANARY-sqlconn-7a41c9"

// pgDriver is a PostgreSQL driver the connector is checked with: how to
// make a driver.Connector from a DSN, and how to find the server's SQLSTATE
// in the driver's own error type.
type pgDriver struct {
	name      string
	connector func(dsn string) (driver.Connector, error)
	code      func(err error) (string, bool)
}

var pgDrivers = []pgDriver{
	{
		name: "pgx",
		connector: func(dsn string) (driver.Connector, error) {
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				return nil, err
			}
			return stdlib.GetConnector(*cfg), nil
		},
		code: func(err error) (string, bool) {
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				return pe.Code, true
			}
			return "", false
		},
	},
	{
		name:      "pgx DSN",
		connector: func(dsn string) (driver.Connector, error) { return sqlconn.DSN(stdlib.GetDefaultDriver(), dsn), nil },
		code: func(err error) (string, bool) {
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				return pe.Code, true
			}
			return "", false
		},
	},
	{
		name:      "lib/pq",
		connector: func(dsn string) (driver.Connector, error) { return pq.NewConnector(dsn) },
		code: func(err error) (string, bool) {
			var pe *pq.Error
			if errors.As(err, &pe) {
				return string(pe.Code), true
			}
			return "", false
		},
	},
}

// connectOnce connects once with the driver's connector for dsn.
func connectOnce(t *testing.T, d pgDriver, dsn string) error {
	t.Helper()
	c, err := d.connector(dsn)
	if err != nil {
		t.Fatalf("%s: connector: %v", d.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := c.Connect(ctx)
	if err == nil {
		_ = conn.Close() // lib/pq returns a nil *conn with its errors, which Close does not take
	}
	return err
}

// closedPort returns a TCP address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestSQLConnAuthErrorPostgres checks AuthError against what pgx's stdlib
// driver and lib/pq really return from a real PostgreSQL: a wrong password
// (28P01) and a role that may not log in (28000) are authentication
// failures; a missing database, a refused TCP connection and success are
// not. The driver's own error type is checked to carry the same code.
func TestSQLConnAuthErrorPostgres(t *testing.T) {
	srv := pg.Start(t)
	const role, noLogin = "sqlconn_app", "sqlconn_nologin"
	password := "right-" + scCanary
	if err := srv.CreateRole(role, password); err != nil {
		t.Fatal(err)
	}
	srv.MustExec(t, "CREATE ROLE "+pg.Ident(noLogin)+" NOLOGIN PASSWORD "+pg.Literal(password))
	missingDB := strings.Replace(srv.DSN(role, password), "/postgres?", "/sqlconn_no_such_db?", 1)
	refused := "postgres://" + role + ":" + password + "@" + closedPort(t) + "/postgres?sslmode=disable&connect_timeout=5"
	cases := []struct {
		name     string
		dsn      string
		wantAuth bool
		wantCode string // the SQLSTATE in the driver's error type; "" for none
	}{
		{"wrong password", srv.DSN(role, "wrong-"+scCanary), true, "28P01"},
		{"unknown role", srv.DSN("sqlconn_nobody", "wrong-"+scCanary), true, "28P01"},
		{"role without LOGIN", srv.DSN(noLogin, password), true, "28000"},
		{"missing database", missingDB, false, "3D000"},
		{"refused connection", refused, false, ""},
	}
	for _, d := range pgDrivers {
		t.Run(d.name, func(t *testing.T) {
			if err := connectOnce(t, d, srv.DSN(role, password)); err != nil {
				t.Fatalf("the right password failed: %v", err)
			}
			for _, tc := range cases {
				err := connectOnce(t, d, tc.dsn)
				if err == nil {
					t.Errorf("%s: connected", tc.name)
					continue
				}
				if got := sqlconn.AuthError(err); got != tc.wantAuth {
					t.Errorf("%s: AuthError = %v, want %v for %T: %v", tc.name, got, tc.wantAuth, err, err)
				}
				code, ok := d.code(err)
				if ok != (tc.wantCode != "") || code != tc.wantCode {
					t.Errorf("%s: the driver's error type holds SQLSTATE %q (found %v), want %q", tc.name, code, ok, tc.wantCode)
				}
			}
		})
	}
}

// TestSQLConnAuthErrorMySQL checks AuthError against go-sql-driver/mysql's
// own error type (no MySQL server runs here): 1045 is an authentication
// failure, wrapped or not; other server errors and the driver's sentinel
// errors are not. A real dial to a closed port is not one either, and the
// connector returns it after one attempt.
func TestSQLConnAuthErrorMySQL(t *testing.T) {
	denied := &mysql.MySQLError{Number: 1045, SQLState: [5]byte{'2', '8', '0', '0', '0'},
		Message: "Access denied for user 'app'@'10.0.0.7' (using password: YES)"}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"1045 access denied", denied, true},
		{"1045 wrapped", fmt.Errorf("connect: %w", denied), true},
		{"1045 joined", errors.Join(mysql.ErrInvalidConn, denied), true},
		{"1044 no access to the database", &mysql.MySQLError{Number: 1044, Message: "Access denied for user 'app' to database 'x'"}, false},
		{"1040 too many connections", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}, false},
		{"1049 unknown database", &mysql.MySQLError{Number: 1049, Message: "Unknown database 'x'"}, false},
		{"ErrInvalidConn", mysql.ErrInvalidConn, false},
		{"ErrMalformPkt", mysql.ErrMalformPkt, false},
	}
	for _, tc := range cases {
		if got := sqlconn.AuthError(tc.err); got != tc.want {
			t.Errorf("%s: AuthError = %v, want %v", tc.name, got, tc.want)
		}
	}

	st := staticStore(t, "app", "pw-"+scCanary)
	addr := closedPort(t)
	c := sqlconn.New(st, func(cfg *scConfig) (driver.Connector, error) {
		mc := mysql.NewConfig()
		mc.User, mc.Passwd, mc.Net, mc.Addr, mc.Timeout = cfg.Database.Username, cfg.Database.Password.Reveal(), "tcp", addr, 5*time.Second
		return mysql.NewConnector(mc)
	}, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler)})
	_, err := c.Connect(context.Background())
	var op *net.OpError
	if !errors.As(err, &op) || errors.Is(err, sqlconn.ErrAuth) || c.Stats().Attempts != 1 {
		t.Fatalf("got %v after %d attempts, want a *net.OpError after one attempt, not ErrAuth", err, c.Stats().Attempts)
	}
	noCanary(t, "the MySQL dial error", err)
}

// TestSQLConnZoneNotShown: for each PostgreSQL driver, a dial to a closed
// port of an IPv6 address whose zone is text from the DSN's host (which a
// badly escaped password can fill) gives a *net.OpError without that zone,
// and no rendering of the error shows it.
func TestSQLConnZoneNotShown(t *testing.T) {
	_, port, err := net.SplitHostPort(closedPort(t))
	if err != nil {
		t.Fatal(err)
	}
	dsn := "postgres://app:x@[::1%25" + scCanary + "]:" + port + "/postgres?sslmode=disable&connect_timeout=5"
	st := staticStore(t, "app", "pw-"+scCanary)
	for _, d := range pgDrivers {
		c := sqlconn.New(st, func(*scConfig) (driver.Connector, error) { return d.connector(dsn) },
			&sqlconn.Options{Logger: slog.New(slog.DiscardHandler)})
		_, err := c.Connect(context.Background())
		var op *net.OpError
		if !errors.As(err, &op) || errors.Is(err, sqlconn.ErrAuth) {
			t.Fatalf("%s: got %v, want a *net.OpError, not ErrAuth", d.name, err)
		}
		noCanary(t, d.name+"'s dial error", err)
		noCanary(t, d.name+"'s *net.OpError", op)
	}
}

// scConfig is a service's configuration with its database credentials.
type scConfig struct {
	Database struct {
		Username string `secret:"true"`
		Password config.Secret
	}
}

func staticStore(t *testing.T, user, password string) *config.Store[scConfig] {
	t.Helper()
	st, err := config.Load[scConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)},
		config.StaticSecrets("secrets", map[string]string{"database.username": user, "database.password": password}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// noCanary fails if any rendering of v shows scCanary in any form.
func noCanary(t *testing.T, what string, v any) {
	t.Helper()
	if how, text, ok := configtest.Reveals(v, scCanary); ok {
		t.Fatalf("%s printed with %s shows the canary:\n%s", what, how, text)
	}
}

// smStore loads the JSON secret name ({"username": ..., "password": ...})
// from the emulator at url under "database", refreshing at most every 50ms.
func smStore(t *testing.T, url, name string) (*config.Store[scConfig], *configtest.LogBuffer) {
	t.Helper()
	logs := &configtest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	layer := secretsmanager.New(emu.AWSConfig(url), &secretsmanager.Options{Logger: logger}, secretsmanager.JSON(name, "database", nil))
	st, err := config.Load[scConfig](context.Background(), &config.Options{Logger: logger,
		RefreshInterval: time.Hour, MinRefreshInterval: 50 * time.Millisecond}, layer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, logs
}

func dbSecret(user, password string) string {
	return fmt.Sprintf(`{"username": %q, "password": %q}`, user, password)
}

// TestSQLConnRefreshesOnAuthFailure, for each PostgreSQL driver, against a
// real PostgreSQL and Secrets Manager through the emulator: the role's
// password and the secret change while the store still serves the old one;
// a connection already open keeps working, and the next new connection is
// refused once, refreshes the store and succeeds with the new password.
// Then a password the secret never catches up with spends the retry budget
// and gives an error naming the secret and stage, with no password in it or
// in the logs.
func TestSQLConnRefreshesOnAuthFailure(t *testing.T) {
	srv := pg.Start(t)
	url := emu.Start(t)
	client := emu.Client(url)
	for i, d := range pgDrivers {
		t.Run(d.name, func(t *testing.T) {
			role := fmt.Sprintf("sqlconn_rot_%d", i)
			old, next := "old-"+scCanary, "next-"+scCanary
			if err := srv.CreateRole(role, old); err != nil {
				t.Fatal(err)
			}
			name := emu.UniqueName(t, "db")
			emu.CreateString(t, client, name, dbSecret(role, old))
			st, logs := smStore(t, url, name)
			c := sqlconn.New(st, func(cfg *scConfig) (driver.Connector, error) {
				return d.connector(srv.DSN(cfg.Database.Username, cfg.Database.Password.Reveal()))
			}, &sqlconn.Options{RetryBudget: 3 * time.Second, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			db := sql.OpenDB(c)
			defer db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			held, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()

			srv.MustExec(t, "ALTER ROLE "+pg.Ident(role)+" PASSWORD "+pg.Literal(next))
			emu.Rotate(t, client, name, dbSecret(role, next))
			if err := held.PingContext(ctx); err != nil {
				t.Fatalf("the connection open before the change failed: %v", err)
			}
			fresh, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("a new connection after the rotation failed: %v", err)
			}
			var one int
			if err := fresh.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("a query on the new connection: %v", err)
			}
			_ = fresh.Close()
			if s := c.Stats(); s.AuthFailures != 1 || s.Refreshes != 1 || s.Changed != 1 || s.Recovered != 1 || s.Failures != 0 {
				t.Fatalf("stats %+v, want one auth failure, refresh, change and recovery", s)
			}

			srv.MustExec(t, "ALTER ROLE "+pg.Ident(role)+" PASSWORD "+pg.Literal("never-"+scCanary))
			_, err = c.Connect(ctx)
			var e *sqlconn.Error
			if !errors.As(err, &e) || !errors.Is(err, sqlconn.ErrAuth) || e.Code != "28P01" {
				t.Fatalf("got %v, want an *sqlconn.Error matching ErrAuth with SQLSTATE 28P01", err)
			}
			if e.Attempts < 2 || !strings.Contains(err.Error(), "secretsmanager "+name+"#password") || !strings.Contains(err.Error(), "AWSCURRENT") {
				t.Fatalf("the error should say it retried and name the secret, key and stage: %v", err)
			}
			noCanary(t, "the connector's error", err)
			for _, form := range configtest.LeakForms(scCanary) {
				if strings.Contains(logs.String(), form) {
					t.Fatalf("the logs show the canary (%q):\n%s", form, logs.String())
				}
			}
		})
	}
}
