package sqlconn_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/strata-go/strata/sqlconn"
)

// openDriver records the names it was opened with; ctxDriver is one with
// OpenConnector too.
type openDriver struct{ names *[]string }

func (d openDriver) Open(name string) (driver.Conn, error) {
	*d.names = append(*d.names, "Open "+name)
	return &fakeConn{db: newFakeDB("", "")}, nil
}

type ctxDriver struct{ openDriver }

func (d ctxDriver) OpenConnector(name string) (driver.Connector, error) {
	*d.names = append(*d.names, "OpenConnector "+name)
	if name == "bad" {
		return nil, errors.New("bad dsn")
	}
	return &fakeConnector{db: newFakeDB("u", "p"), user: "u", pw: "p"}, nil
}

// TestDSN: a DSN connector goes through OpenConnector when the driver has
// it, through Open otherwise, and reports its driver.
func TestDSN(t *testing.T) {
	var names []string
	ctx := context.Background()
	plain := openDriver{&names}
	c := sqlconn.DSN(plain, "dsn-1")
	if _, err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Driver() != driver.Driver(plain) {
		t.Fatal("Driver is not the driver given")
	}
	withCtx := ctxDriver{openDriver{&names}}
	if _, err := sqlconn.DSN(withCtx, "dsn-2").Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlconn.DSN(withCtx, "bad").Connect(ctx); err == nil {
		t.Fatal("a DSN the driver refused connected")
	}
	want := []string{"Open dsn-1", "OpenConnector dsn-2", "OpenConnector bad"}
	if len(names) != len(want) {
		t.Fatalf("calls %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("calls %q, want %q", names, want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sqlconn.DSN(plain, "dsn-3").Connect(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled for a done context", err)
	}
	if _, err := sqlconn.DSN(nil, "dsn-4").Connect(ctx); err == nil {
		t.Fatal("a nil driver connected")
	}
}
