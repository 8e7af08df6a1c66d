// Command service is an HTTP service configured from four layers: defaults from
// struct tags, its .env file, the environment, and AWS Secrets Manager for the
// database password and the API key. It loads them with appconfig.Setup, the
// function its configcheck (cmd/configcheck) checks them with.
//
// It shows the patterns a real service needs:
//   - one config.Load at start-up that lists every problem at once;
//   - store.Get() on every request, so rotated secrets are picked up;
//   - store.Refresh when the database rejects the password during a rotation;
//   - a subscriber that logs what changed, with secrets masked;
//   - /healthz from store.Status (health.Handler), /config from store.Masked.
//
// Run it against the local emulator with `make demo` from the repository root.
// Against AWS, credentials and region come from the SDK's default chain:
//
//	APP_DATABASE_HOST=db.internal go run ./examples/service -environment production
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/examples/service/appconfig"
	"github.com/strata-go/strata/health"
	"github.com/strata-go/strata/providers/secretsmanager"
)

func main() {
	environment := flag.String("environment", "demo", "environment whose secrets to read: strata-demo/ENVIRONMENT/...; a production one (prod, production, prod-eu, ...) enforces the secret policy")
	envFile := flag.String("env-file", appconfig.DefaultEnvFile(), "the .env file to read, if it exists")
	demo := flag.Bool("demo", false, "run the demonstration against a local emulator and exit")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, *environment, *envFile, *demo); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// app is the service: its configuration store and its database.
type app struct {
	store *config.Store[appconfig.Config]
	sm    *secretsmanager.Reader
	db    Database
	log   *slog.Logger
}

func run(ctx context.Context, logger *slog.Logger, environment, envFile string, demo bool) error {
	// The same setup as configcheck's (cmd/configcheck), so that what it
	// checks is what runs here.
	opts, layers, err := appconfig.Setup{EnvFile: envFile}.Layers(ctx, environment)
	if err != nil {
		return err
	}
	opts.Logger = logger
	if demo {
		// The demonstration forces refreshes a moment apart.
		opts.MinRefreshInterval = 100 * time.Millisecond
	}
	var sm *secretsmanager.Reader
	for _, l := range layers {
		if l, ok := l.(*secretsmanager.Reader); ok {
			sm = l
		}
	}
	loadCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	store, err := config.Load[appconfig.Config](loadCtx, opts, layers...)
	if err != nil {
		return err
	}
	defer store.Close()

	stopLogging := store.Subscribe(func(c config.Change[appconfig.Config]) {
		if c.Err != nil {
			logger.Warn("configuration refresh failed; serving the last good one", "error", c.Err)
			return
		}
		logger.Info("configuration changed", "keys", c.Keys)
	})
	defer stopLogging()

	a := &app{store: store, sm: sm, log: logger, db: unreachableDatabase{}}
	if demo {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("AWS configuration: %w", err)
		}
		return a.demo(ctx, awsCfg, environment)
	}
	cfg := store.Get()
	logger.Info("starting", "config", store.Masked())
	srv := &http.Server{
		Addr:         cfg.Server.Addr,
		Handler:      a.routes(),
		ReadTimeout:  cfg.Server.ReadTimeout,
		WriteTimeout: cfg.Server.WriteTimeout,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	// The refresh status as JSON: 200 while healthy, 503 otherwise. The store
	// keeps serving its last good configuration either way.
	mux.Handle("/healthz", health.Handler(a.store))
	mux.HandleFunc("GET /config", a.config)
	mux.HandleFunc("GET /orders", a.orders)
	return mux
}

// config shows the configuration with secrets masked.
func (a *app) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.store.Masked())
}

// orders checks the caller's API key, then queries the database. When the
// database rejects the password, the secret may have been rotated a moment
// ago: refresh the configuration and try once more.
func (a *app) orders(w http.ResponseWriter, r *http.Request) {
	cfg := a.store.Get()
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-API-Key")), []byte(cfg.API.Key.Reveal())) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	n, err := a.countOrders(r.Context())
	if err != nil {
		a.log.Error("query failed", "error", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"orders": n})
}

func (a *app) countOrders(ctx context.Context) (int, error) {
	cfg := a.store.Get()
	n, err := a.db.CountOrders(ctx, cfg.Database.User, cfg.Database.Password)
	if !errors.Is(err, errAuthFailed) {
		return n, err
	}
	a.log.Info("database rejected the password; refreshing the configuration")
	if err := a.store.Refresh(ctx); err != nil {
		return 0, fmt.Errorf("refresh after a failed login: %w", err)
	}
	cfg = a.store.Get()
	return a.db.CountOrders(ctx, cfg.Database.User, cfg.Database.Password)
}

// Database is the little of a database client this example needs.
type Database interface {
	CountOrders(ctx context.Context, user string, password config.Secret) (int, error)
}

var errAuthFailed = errors.New("password authentication failed")

// unreachableDatabase stands for a database the example does not ship.
type unreachableDatabase struct{}

func (unreachableDatabase) CountOrders(context.Context, string, config.Secret) (int, error) {
	return 0, errors.New("no database in this example; run it with -demo")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// listen binds the loopback interface only.
func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
