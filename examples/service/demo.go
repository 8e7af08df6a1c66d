package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/examples/service/appconfig"
)

// demo walks through what the service does, against a local emulator seeded by
// `make demo`: it prints the configuration and its sources, serves a request,
// rotates the database password the way a rotation function would, and shows
// the service recovering through store.Refresh, with the API calls each step
// cost.
func (a *app) demo(ctx context.Context, awsCfg aws.Config, environment string) error {
	cfg := a.store.Get()
	db := &demoDatabase{user: cfg.Database.User, password: cfg.Database.Password}
	a.db = db

	step("The configuration, with secrets masked, and where each value came from")
	printKeys(a.store.Keys())
	step("Secrets Manager calls to start")
	a.printCalls()

	ln, err := listen()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.routes(), ReadTimeout: cfg.Server.ReadTimeout, WriteTimeout: cfg.Server.WriteTimeout}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	step("Serving on " + base)
	if err := get(ctx, base+"/orders", cfg.API.Key, http.StatusOK); err != nil {
		return err
	}

	step("Rotating the database password, as a rotation function would (database and secret)")
	newPassword := config.NewSecret(fmt.Sprintf("rotated-%d-password", time.Now().UnixNano()))
	db.setPassword(newPassword)
	client := sm.NewFromConfig(awsCfg)
	body, err := json.Marshal(map[string]string{"user": cfg.Database.User, "password": newPassword.Reveal()})
	if err != nil {
		return err
	}
	if _, err := client.PutSecretValue(ctx, &sm.PutSecretValueInput{
		SecretId: aws.String(appconfig.SecretName(environment, "database")), SecretString: aws.String(string(body)),
	}); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	fmt.Println("the service still holds the old password; the next query fails to log in, refreshes and retries:")
	time.Sleep(150 * time.Millisecond) // past the demo's minimum refresh interval
	if err := get(ctx, base+"/orders", a.store.Get().API.Key, http.StatusOK); err != nil {
		return err
	}
	ki, _ := a.store.Explain("database.password")
	fmt.Printf("database.password is now %s from %s\n", ki.Display(), ki.Source)
	a.printCalls()

	step("A refresh when nothing changed costs one DescribeSecret per secret")
	time.Sleep(150 * time.Millisecond)
	if err := a.store.Refresh(ctx); err != nil {
		return err
	}
	a.printCalls()

	step("Health")
	return get(ctx, base+"/healthz", config.Secret{}, http.StatusOK)
}

func step(title string) { fmt.Printf("\n== %s\n", title) }

func printKeys(keys []config.KeyInfo) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, k := range keys {
		source := k.Source.String()
		if !k.Set {
			source = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Key, k.Display(), source)
	}
	_ = tw.Flush()
}

func (a *app) printCalls() {
	calls := a.sm.Calls()
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	var parts []string
	for _, op := range ops {
		if c := calls[op]; c.Total() > 0 {
			parts = append(parts, fmt.Sprintf("%s %d ok, %d failed", op, c.OK, c.Error))
		}
	}
	fmt.Println("API calls so far:", strings.Join(parts, "; "))
}

// get requests url with the API key, prints the answer, and fails unless the
// status is want: a demonstration step that did not work must not pass for
// one that did.
func get(ctx context.Context, url string, key config.Secret, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if !key.IsZero() {
		req.Header.Set("X-API-Key", key.Reveal())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("GET %s -> %d %s", strings.TrimPrefix(url, "http://"), resp.StatusCode, body)
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: status %d, want %d", strings.TrimPrefix(url, "http://"), resp.StatusCode, want)
	}
	return nil
}

// demoDatabase accepts one user and password, like a database server whose
// password a rotation function changes.
type demoDatabase struct {
	mu       sync.Mutex
	user     string
	password config.Secret
}

func (d *demoDatabase) setPassword(p config.Secret) {
	d.mu.Lock()
	d.password = p
	d.mu.Unlock()
}

func (d *demoDatabase) CountOrders(_ context.Context, user string, password config.Secret) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if user != d.user || password != d.password {
		return 0, errAuthFailed
	}
	return 42, nil
}
