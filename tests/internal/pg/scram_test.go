package pg

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPGScramVerifier: a role whose password was set as a verifier of few
// iterations logs in with the password through SCRAM, the server announcing
// that iteration count, and a wrong password is refused with 28P01.
func TestPGScramVerifier(t *testing.T) {
	s := Start(t)
	const role, pw = "scram_app", "p'w @:/ 1"
	v := ScramVerifier(pw, 16)
	if !strings.HasPrefix(v, "SCRAM-SHA-256$16:") || strings.Contains(v, pw) {
		t.Fatalf("verifier %q", v)
	}
	s.MustExec(t, "CREATE ROLE "+Ident(role)+" LOGIN PASSWORD "+Literal(v))
	var stored string
	c, err := pgx.Connect(context.Background(), s.SuperDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != v {
		t.Fatalf("the server stored %q, want the verifier as given", stored)
	}
	ok, err := pgx.Connect(context.Background(), s.DSN(role, pw))
	if err != nil {
		t.Fatalf("login with the password: %v", err)
	}
	_ = ok.Close(context.Background())
	_, err = pgx.Connect(context.Background(), s.DSN(role, pw+"x"))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("wrong password: %v, want SQLSTATE 28P01", err)
	}
}
