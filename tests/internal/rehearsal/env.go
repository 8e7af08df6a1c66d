// Package rehearsal rehearses database password rotations on a real
// PostgreSQL (tests/internal/pg) with the secrets in the Secrets Manager
// emulator, behind the fault proxy's stage shim so that AWS's staging labels
// behave as on AWS.
//
// An Env holds one server, one emulator proxy and one secret in the format of
// AWS's RDS rotation functions (engine, host, port, username, password,
// dbname, and masterarn for the alternating-users strategy). A Rotator
// performs AWS's four rotation steps on it. Run puts a steady load of queries
// on a *sql.DB that dials through a Dialer, performs rotations meanwhile, and
// counts what the service saw.
package rehearsal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
	"github.com/strata-go/strata/tests/internal/pg"
)

// Strategy is one of AWS's rotation strategies for database credentials.
type Strategy int

const (
	// SingleUser changes the password of one user. Between setSecret and
	// finishSecret the database has the new password while AWSCURRENT still
	// holds the old one: new connections made with AWSCURRENT fail.
	SingleUser Strategy = iota
	// AlternatingUsers switches between two users, app_a and app_b (created
	// by the first rotation with the rights of app_a), changing the password
	// of the one not in use.
	AlternatingUsers
)

func (s Strategy) String() string {
	if s == AlternatingUsers {
		return "alternating users"
	}
	return "single user"
}

// The users of the rehearsal: UserA holds the rights, UserB is its clone.
const (
	UserA = "app_a"
	UserB = "app_b"
)

// Table is the table the load reads; the users are granted SELECT on it.
const Table = "rehearsal_items"

// Query is the query of the load and of testSecret.
const Query = "SELECT count(*) FROM " + Table

// Config is the service's configuration: the database secret mounted under
// "database" and, for a Dialer with Pending, its AWSPENDING version under
// "database_pending".
type Config struct {
	Database        DB
	DatabasePending PendingDB
}

// PendingDB is the AWSPENDING version of the secret, absent outside a
// rotation: nothing in it is required.
type PendingDB struct {
	Engine    string
	Host      string
	Port      int
	Username  string
	Password  config.Secret
	DBName    string `config:"dbname"`
	MasterARN string `config:"masterarn"`
}

// DSN returns the URL connection string of db with TLS off.
func (db *PendingDB) DSN() string {
	return dsn(db.Host, db.Port, db.Username, db.Password.Reveal(), db.DBName)
}

// DB is the JSON of an RDS rotation secret.
type DB struct {
	Engine    string
	Host      string        `validate:"required"`
	Port      int           `validate:"required"`
	Username  string        `validate:"required"`
	Password  config.Secret `validate:"required"`
	DBName    string        `config:"dbname"`
	MasterARN string        `config:"masterarn"`
}

// DSN returns the URL connection string of db with TLS off.
func (db *DB) DSN() string {
	return dsn(db.Host, db.Port, db.Username, db.Password.Reveal(), db.DBName)
}

func dsn(host string, port int, user, password, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort(host, strconv.Itoa(port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable&connect_timeout=10",
	}
	return u.String()
}

// secretJSON is the value of a rotation secret as the rotation functions
// read and write it.
type secretJSON struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname"`
	MasterARN string `json:"masterarn,omitempty"`
}

func (s secretJSON) dsn() string { return dsn(s.Host, s.Port, s.Username, s.Password, s.DBName) }

// Env is one rehearsal's database and secret.
type Env struct {
	Strategy Strategy
	PG       *pg.Server
	Proxy    *faultproxy.Proxy
	// Client reaches the emulator through Proxy.
	Client *sm.Client
	// SecretID is the ARN of the database secret.
	SecretID string
	// MasterID is the ARN of the superuser's secret (AlternatingUsers only).
	MasterID string
}

// NewEnv creates, on srv and in the emulator at emulatorURL, the user
// app_a, the table and the secret named name, behind a new proxy with the
// stage and batch shims. Close closes the proxy.
func NewEnv(ctx context.Context, srv *pg.Server, emulatorURL, name string, strategy Strategy) (*Env, error) {
	p, err := faultproxy.New(emulatorURL, faultproxy.Options{StageShim: true, BatchShim: true})
	if err != nil {
		return nil, err
	}
	e := &Env{Strategy: strategy, PG: srv, Proxy: p, Client: emu.Client(p.URL())}
	if err := e.setup(ctx, name); err != nil {
		_ = p.Close()
		return nil, err
	}
	p.ResetCalls()
	return e, nil
}

func (e *Env) setup(ctx context.Context, name string) error {
	pw := randomPassword()
	for _, q := range []string{
		"CREATE TABLE " + Table + " (id int PRIMARY KEY, name text NOT NULL)",
		"INSERT INTO " + Table + " SELECT i, 'item ' || i FROM generate_series(1, 100) i",
		"CREATE ROLE " + pg.Ident(UserA) + " LOGIN PASSWORD " + passwordSQL(pw),
		"GRANT SELECT ON " + Table + " TO " + pg.Ident(UserA),
	} {
		if err := e.PG.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	val := secretJSON{Engine: "postgres", Host: e.PG.Host, Port: e.PG.Port, Username: UserA, Password: pw, DBName: "postgres"}
	if e.Strategy == AlternatingUsers {
		master := val
		master.Username, master.Password = pg.SuperUser, e.PG.SuperPassword
		arn, err := e.create(ctx, name+"/master", master)
		if err != nil {
			return err
		}
		e.MasterID, val.MasterARN = arn, arn
	}
	arn, err := e.create(ctx, name, val)
	e.SecretID = arn
	return err
}

func (e *Env) create(ctx context.Context, name string, v secretJSON) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	out, err := e.Client.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))})
	if err != nil {
		return "", fmt.Errorf("rehearsal: create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// Close closes the proxy.
func (e *Env) Close() error { return e.Proxy.Close() }

// randomPassword is the start-up password of app_a.
func randomPassword() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// callTimeout bounds each step of a rotation.
const callTimeout = 10 * time.Second

// scramIterations is the PBKDF2 iteration count of the passwords the
// rehearsal sets: PostgreSQL's 4096 make the service's logins, under the
// race detector, most of a rehearsal's CPU time. The login exchange (SCRAM,
// SQLSTATE 28P01 for a wrong password) is the same.
const scramIterations = 16

// passwordSQL is the literal to give ALTER ROLE ... PASSWORD for pw: its
// SCRAM verifier with scramIterations.
func passwordSQL(pw string) string { return pg.Literal(pg.ScramVerifier(pw, scramIterations)) }
