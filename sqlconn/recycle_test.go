package sqlconn_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/sqlconn"
)

// signalWriter is a LogBuffer that also signals each write.
type signalWriter struct {
	configtest.LogBuffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.LogBuffer.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// waitLog waits until the log holds want, and fails after 10 seconds.
func waitLog(t *testing.T, w *signalWriter, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(w.String(), want) {
		select {
		case <-w.wrote:
		case <-timeout:
			t.Fatalf("the log never said %q:\n%s", want, w.String())
		}
	}
}

// TestRecycleOnChange is alternating-users rotation: after the user
// changes, new connections are the new user's at once, and the pool's idle
// connections of the old user are closed; a change of another key recycles
// nothing; recycling ends by itself.
func TestRecycleOnChange(t *testing.T) {
	l := &secretLayer{}
	l.set("blue", "pw-blue")
	st := newStore(t, l, time.Nanosecond, nil)
	fdb := newFakeDB("blue", "pw-blue")
	connector := sqlconn.New(st, fdb.dial, quiet(configtest.NewClock(epoch)))
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxIdleConns(5)
	ctx := context.Background()
	var blue []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		blue = append(blue, c)
	}
	for _, c := range blue {
		_ = c.Close() // back to the pool, idle
	}
	logs := &signalWriter{wrote: make(chan struct{}, 1)}
	stop := sqlconn.RecycleOnChange(st, db, &sqlconn.RecycleOptions{Keys: []string{"database.user"},
		Within: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	defer stop()

	l.set("blue", "pw-blue-2") // a password change only: not a change of user
	fdb.setPassword("blue", "pw-blue-2")
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	l.set("green", "pw-green")
	fdb.setPassword("green", "pw-green")
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	green, err := connector.Connect(ctx)
	if err != nil || green.(*fakeConn).user != "green" {
		t.Fatalf("a connection after the change of user is not the new user's: %v", err)
	}
	defer green.Close()
	waitLog(t, logs, "recycling ended")
	if n := strings.Count(logs.String(), "recycling connections opened before"); n != 1 {
		t.Fatalf("recycling started %d times, want once (for the change of user only):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "keys=[database.user]") {
		t.Fatalf("the log does not name the key that changed:\n%s", logs.String())
	}
	// database/sql's cleaner runs at least every second: it closes the old
	// user's idle connections.
	timeout := time.After(10 * time.Second)
	for closed := 0; closed < 3; {
		select {
		case user := <-fdb.closes:
			if user != "blue" {
				t.Fatalf("a connection of %s was closed before the old user's", user)
			}
			closed++
		case <-timeout:
			t.Fatalf("%d of the old user's 3 connections were closed", closed)
		}
	}
	if got := db.Stats().MaxLifetimeClosed; got < 3 {
		t.Fatalf("database/sql closed %d connections for their age, want the 3 of the old user", got)
	}
	pooled, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	if err := pooled.Raw(func(c any) error {
		if u := c.(*fakeConn).user; u != "green" {
			t.Errorf("the pool gave a connection of %s, want a new one of green", u)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRecycleStop: stop ends a recycling under way and unsubscribes, and
// may be called twice.
func TestRecycleStop(t *testing.T) {
	l := &secretLayer{}
	l.set("blue", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	fdb := newFakeDB("blue", "pw")
	db := sql.OpenDB(sqlconn.New(st, fdb.dial, quiet(configtest.NewClock(epoch))))
	defer db.Close()
	logs := &signalWriter{wrote: make(chan struct{}, 1)}
	stop := sqlconn.RecycleOnChange(st, db, &sqlconn.RecycleOptions{Within: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	l.set("green", "pw2")
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, "recycling connections opened before")
	if !strings.Contains(logs.String(), "database.password") || !strings.Contains(logs.String(), "database.user") {
		t.Fatalf("by default every secret key should count:\n%s", logs.String())
	}
	stop()
	stop()
	l.set("red", "pw3")
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "recycling connections opened before"); n != 1 {
		t.Fatalf("recycling started %d times, want once: stop unsubscribes", n)
	}
}

// TestRecycleNil: a nil store or db gives a stop that does nothing.
func TestRecycleNil(t *testing.T) {
	sqlconn.RecycleOnChange[dbConfig](nil, nil, nil)()
	l := &secretLayer{}
	l.set("blue", "pw")
	sqlconn.RecycleOnChange(newStore(t, l, time.Nanosecond, nil), nil, nil)()
}
