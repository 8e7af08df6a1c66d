// Command lambda shows Strata in an AWS Lambda function: the configuration is
// loaded once, in the init phase, with a deadline, and kept fresh in lazy mode.
//
// Lambda freezes the process between invocations, so a background goroutine
// would not run on schedule and could wake in the middle of a request with a
// stale clock. With config.Options{Lazy: true} the store starts no goroutine:
// a Get that finds the configuration older than the TTL starts one refresh in
// the background and returns the current snapshot at once
// (stale-while-revalidate); a later invocation sees the new values.
//
// In a real function, main passes handler.Handle to lambda.Start from
// github.com/aws/aws-lambda-go/lambda. This example stays free of that
// dependency and, run by hand, invokes the handler a few times itself:
//
//	make demo              # or, against a seeded emulator:
//	go run ./examples/lambda -invocations 3
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/examples/service/appconfig"
)

// Handler answers invocations with the store built at init.
type Handler struct {
	store *config.Store[appconfig.Config]
}

// Request and Response are the function's event and result.
type Request struct {
	Customer string `json:"customer"`
}

type Response struct {
	Message  string `json:"message"`
	Database string `json:"database"`
}

// Handle reads the configuration through Get on every invocation: in lazy mode
// that is where a stale configuration is noticed and refreshed.
func (h *Handler) Handle(ctx context.Context, req Request) (Response, error) {
	cfg := h.store.Get()
	return Response{
		Message:  "hello " + req.Customer,
		Database: fmt.Sprintf("%s@%s:%d/%s", cfg.Database.User, cfg.Database.Host, cfg.Database.Port, cfg.Database.Name),
	}, nil
}

// newHandler runs in the init phase. The deadline keeps a cold start from
// hanging on a slow dependency; Lambda's init phase is limited to 10 seconds.
func newHandler(environment string, ttl time.Duration) (*Handler, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// The service's setup without a .env file: a function has none.
	opts, layers, err := appconfig.Setup{}.Layers(ctx, environment)
	if err != nil {
		return nil, err
	}
	opts.Lazy = true // no background goroutine: Lambda freezes it between invocations
	opts.RefreshInterval = ttl
	opts.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	store, err := config.Load[appconfig.Config](ctx, opts, layers...)
	if err != nil {
		return nil, err
	}
	return &Handler{store: store}, nil
}

func main() {
	environment := flag.String("environment", "demo", "environment whose secrets to read")
	invocations := flag.Int("invocations", 3, "invocations to simulate when run by hand")
	ttl := flag.Duration("ttl", 5*time.Minute, "how old the configuration may get before a Get refreshes it")
	flag.Parse()

	h, err := newHandler(*environment, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A function's process is frozen, not stopped, after an invocation; Close
	// matters only when it ends, as here.
	defer h.store.Close()
	for i := range *invocations {
		resp, err := h.Handle(context.Background(), Request{Customer: fmt.Sprintf("customer-%d", i+1)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, _ := json.Marshal(resp)
		fmt.Println(string(out))
	}
}
