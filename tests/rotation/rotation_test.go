// Package rotation rehearses database password rotations under load on a
// real PostgreSQL, with the secret in the Secrets Manager emulator.
package rotation

import (
	"context"
	"flag"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/strata-go/strata/sqlconn"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/pg"
	"github.com/strata-go/strata/tests/internal/rehearsal"
)

// full runs the long version: more rotations, the same assertions.
var full = flag.Bool("rotation.full", false, "rehearse 200 rotations of each kind instead of 20")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

// workers is the load's number of workers.
const workers = 8

// plan is the load of every rehearsal: 8 workers, a pool whose connections
// live 200ms, 20 rotations (200 with -rotation.full). What the rehearsal
// proves is about dials, which the connections' lifetime paces (8 every
// 200ms), not about queries: a query every 50ms per worker (the demo's 20ms
// gives the same dials for 2.5 times the queries, which under the race
// detector mostly slow the rotations down) still takes a new connection
// every few queries. The rotations follow each other with 25ms between
// them: a rotation's own steps last longer than a connection lives, so
// every window and every store catching up after it meets new dials.
func plan() rehearsal.Plan {
	p := rehearsal.Plan{Rotations: 20, Workers: workers, Pace: 50 * time.Millisecond, Gap: 25 * time.Millisecond}
	if *full {
		p.Rotations = 200
	}
	return p
}

// rehearse runs one rehearsal on a fresh server and secret.
func rehearse(t *testing.T, s rehearsal.Strategy, d rehearsal.Dialer, p rehearsal.Plan) rehearsal.Result {
	t.Helper()
	srv := pg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := rehearsal.NewEnv(ctx, srv, emu.Start(t), emu.UniqueName(t, "db"), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	res, err := rehearsal.Run(ctx, env, d, p)
	t.Logf("\n%s", res)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rotations != p.Rotations {
		t.Fatalf("%d rotations, want %d", res.Rotations, p.Rotations)
	}
	// The server logs a refusal before it answers; a dial cut short when the
	// load stops may not see the answer, so the log may hold up to one
	// refusal per worker more.
	if n := int64(res.ServerRefused); n < res.Dials.Refused || n > res.Dials.Refused+workers {
		t.Errorf("the service counted %d refused logins, the server logged %d", res.Dials.Refused, res.ServerRefused)
	}
	if res.Queries == 0 || res.Rotating.N == 0 {
		t.Errorf("no load: %d queries, %d under rotation", res.Queries, res.Rotating.N)
	}
	return res
}

// pollEvery is the RefreshInterval of the store without retry: frequent
// polling, which still leaves the window.
const pollEvery = 250 * time.Millisecond

var strategies = []rehearsal.Strategy{rehearsal.SingleUser, rehearsal.AlternatingUsers}

// Both tests run in parallel with each other, as their scenarios do: the
// rehearsals share nothing but the machine.

// TestRotationWithoutConnector shows what rotations cost a service that
// does not use the connector, so that the connector's 0 means something.
// With the DSN read at start-up every new connection fails once the password
// it holds has changed (from the first single-user rotation, the second
// alternating one: three rotations show it). Reading the store for each
// connection without retrying still fails inside each single-user window and
// until the store's next refresh, even polling every 250ms (five rotations
// show it); with alternating users it fails only when a rotation comes
// before the store has caught up with the one before, so that case runs only
// with -rotation.full, and its count is reported, not asserted.
//
// A worker whose query failed waits 200ms (not 50ms) before its next one:
// the failures only have to show, and each is a refused login that costs
// the server and the client a password exchange.
func TestRotationWithoutConnector(t *testing.T) {
	t.Parallel()
	plan := func() rehearsal.Plan {
		p := plan()
		p.FailurePause = 200 * time.Millisecond
		return p
	}
	for _, s := range strategies {
		t.Run(s.String()+"/static DSN", func(t *testing.T) {
			t.Parallel()
			p := plan()
			p.Rotations = 3
			res := rehearse(t, s, rehearsal.StaticDSN(), p)
			if res.Failed == 0 || res.Dials.Refused == 0 {
				t.Errorf("with the DSN read at start-up: %d failed queries, %d refused logins; want both > 0", res.Failed, res.Dials.Refused)
			}
		})
	}
	t.Run("single user/store without retry", func(t *testing.T) {
		t.Parallel()
		p := plan()
		if !*full {
			p.Rotations = 5
		}
		res := rehearse(t, rehearsal.SingleUser, rehearsal.StoreNoRetry(pollEvery), p)
		if res.Failed == 0 || res.Dials.Refused == 0 {
			t.Errorf("single-user windows with no retry: %d failed queries, %d refused logins; want both > 0", res.Failed, res.Dials.Refused)
		}
	})
	if *full {
		t.Run("alternating users/store without retry", func(t *testing.T) {
			t.Parallel()
			rehearse(t, rehearsal.AlternatingUsers, rehearsal.StoreNoRetry(pollEvery), plan())
		})
	}
}

// TestRotationWithConnector rehearses 20 rotations of each kind under load
// with the connector, the store polling only every 5 minutes (so only the
// refreshes the connector asks for see a rotation): no query fails, and the
// logins the database refused were retried. Single-user rotation is
// rehearsed with NewPending (which tries AWSPENDING in the window) and with
// New (which retries until finishSecret).
func TestRotationWithConnector(t *testing.T) {
	t.Parallel()
	opts := &sqlconn.Options{Logger: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		s rehearsal.Strategy
		d rehearsal.Dialer
	}{
		{rehearsal.SingleUser, rehearsal.Connector(true, opts)},
		{rehearsal.SingleUser, rehearsal.Connector(false, opts)},
		{rehearsal.AlternatingUsers, rehearsal.Connector(false, opts)},
	} {
		t.Run(c.s.String()+"/"+c.d.Name, func(t *testing.T) {
			t.Parallel()
			res := rehearse(t, c.s, c.d, plan())
			if res.Failed != 0 {
				t.Errorf("%d queries failed, want 0", res.Failed)
			}
			if res.Dials.Refused == 0 || res.DialerStats["recovered"] == 0 {
				t.Errorf("%d refused logins, %d recovered connects: the rotations did not reach the connector", res.Dials.Refused, res.DialerStats["recovered"])
			}
		})
	}
}
