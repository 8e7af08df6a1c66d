// Command rotationdemo rotates a database password under load and counts
// the failed queries: none with the sqlconn connector.
//
// Usage (make demo-rotation from the repository root, or go run
// ./cmd/rotationdemo from the tests folder):
//
//	rotationdemo [-rotations N] [-strategy single|alternating|both] [-compare=false]
//
// It needs a PostgreSQL server installation (Debian: apt-get install -y
// postgresql; see tests/internal/pg for where it looks): it starts its own
// server on 127.0.0.1 and a free port in a temporary directory (as the
// postgres OS user when run as root) and removes it on exit. The secret lives
// in an in-process Secrets Manager emulator (kumo, behind the test proxy's
// shims for BatchGetSecretValue and staging labels). For each strategy, 8
// workers query through a pool whose connections live 200ms while AWS's four
// rotation steps run N times (default 20), through sqlconn.NewPending and
// sqlconn.New for single-user rotation and sqlconn.New for alternating
// users; the program prints the queries,
// the failed ones, the logins the database refused and the connector retried,
// the latency and the Secrets Manager calls. With -compare (the default) it
// first runs the same load with the password read once at start-up, as
// AWS's guide does, and (single user) with the store read for each
// connection, polling every 250ms, without retry, for contrast.
//
// The exit status is 1 if a query failed with the connector, 2 on a setup
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/strata-go/strata/sqlconn"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/pg"
	"github.com/strata-go/strata/tests/internal/rehearsal"
)

func main() {
	rotations := flag.Int("rotations", 20, "rotations of each strategy")
	strategy := flag.String("strategy", "both", "single, alternating or both")
	compare := flag.Bool("compare", true, "first run the load with the password read at start-up, for contrast")
	flag.Parse()
	var strategies []rehearsal.Strategy
	switch *strategy {
	case "single":
		strategies = []rehearsal.Strategy{rehearsal.SingleUser}
	case "alternating":
		strategies = []rehearsal.Strategy{rehearsal.AlternatingUsers}
	case "both":
		strategies = []rehearsal.Strategy{rehearsal.SingleUser, rehearsal.AlternatingUsers}
	default:
		fmt.Fprintf(os.Stderr, "rotationdemo: -strategy %q: want single, alternating or both\n", *strategy)
		os.Exit(2)
	}
	if *rotations < 1 {
		fmt.Fprintf(os.Stderr, "rotationdemo: -rotations %d: want at least 1\n", *rotations)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := run(ctx, os.Stdout, strategies, *rotations, *compare)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rotationdemo: %v\n", err)
		stop()
		os.Exit(2)
	}
	if failed {
		stop()
		os.Exit(1)
	}
}

// run rehearses each strategy and reports whether a query failed with the
// connector.
func run(ctx context.Context, out io.Writer, strategies []rehearsal.Strategy, rotations int, compare bool) (failed bool, err error) {
	url, stopEmu, err := emu.Serve()
	if err != nil {
		return false, fmt.Errorf("start the Secrets Manager emulator: %w", err)
	}
	defer stopEmu()
	quiet := slog.New(slog.DiscardHandler)
	var total, failures int64
	for i, s := range strategies {
		opts := &sqlconn.Options{Logger: quiet}
		dialers := []rehearsal.Dialer{rehearsal.Connector(false, opts)}
		if s == rehearsal.SingleUser {
			dialers = append([]rehearsal.Dialer{rehearsal.Connector(true, opts)}, dialers...)
		}
		if compare && s == rehearsal.SingleUser {
			dialers = append([]rehearsal.Dialer{rehearsal.StaticDSN(), rehearsal.StoreNoRetry(250 * time.Millisecond)}, dialers...)
		} else if compare {
			dialers = append([]rehearsal.Dialer{rehearsal.StaticDSN()}, dialers...)
		}
		for j, d := range dialers {
			res, err := rehearse(ctx, out, url, fmt.Sprintf("rotationdemo/%d-%d", i, j), s, d, rotations)
			if err != nil {
				return false, err
			}
			fmt.Fprintln(out, res)
			if strings.HasPrefix(d.Name, "sqlconn.") {
				total += int64(res.Rotations)
				failures += res.Failed
			}
		}
	}
	fmt.Fprintf(out, "With the connector: %d failed queries over %d rotations.\n", failures, total)
	return failures > 0, nil
}

// rehearse runs one load on a server of its own.
func rehearse(ctx context.Context, out io.Writer, url, name string, s rehearsal.Strategy, d rehearsal.Dialer, rotations int) (rehearsal.Result, error) {
	srv, err := pg.Launch()
	if err != nil {
		return rehearsal.Result{}, err
	}
	defer srv.Stop()
	fmt.Fprintf(out, "PostgreSQL %s on %s:%d, %s rotations, %s: running...\n", srv.Version, srv.Host, srv.Port, s, d.Name)
	env, err := rehearsal.NewEnv(ctx, srv, url, name, s)
	if err != nil {
		return rehearsal.Result{}, err
	}
	defer env.Close()
	res, err := rehearsal.Run(ctx, env, d, rehearsal.Plan{Rotations: rotations})
	if err != nil && errors.Is(err, context.Canceled) {
		return res, errors.New("interrupted")
	}
	return res, err
}
