package tests

import (
	"context"
	"database/sql/driver"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/sqlconn"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
	"github.com/strata-go/strata/tests/internal/pg"
)

// scPendingConfig holds the secret's AWSCURRENT and AWSPENDING versions.
type scPendingConfig struct {
	Database struct {
		Username string `secret:"true"`
		Password config.Secret
	}
	DatabasePending struct {
		Username string `secret:"true"`
		Password config.Secret
	}
}

// TestSQLConnPendingDuringSingleUserRotation runs AWS's four rotation steps
// for a single-user secret against a real PostgreSQL and Secrets Manager
// (the emulator, with the test proxy's stage shim standing in for the
// staging labels kumo cannot keep): in the window between setSecret and
// finishSecret, a new connection made by NewPending's connector is refused
// with AWSCURRENT and connects with AWSPENDING, without waiting for
// finishSecret; after finishSecret new connections work too.
func TestSQLConnPendingDuringSingleUserRotation(t *testing.T) {
	srv := pg.Start(t)
	p, err := faultproxy.New(emu.Start(t), faultproxy.Options{StageShim: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	client := emu.Client(p.URL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for i, d := range pgDrivers {
		t.Run(d.name, func(t *testing.T) {
			role := "sqlconn_pending_" + string(rune('a'+i))
			old, next := "old-"+scCanary, "next-"+scCanary
			if err := srv.CreateRole(role, old); err != nil {
				t.Fatal(err)
			}
			name := emu.UniqueName(t, "db")
			emu.CreateString(t, client, name, dbSecret(role, old))
			layer := secretsmanager.New(emu.AWSConfig(p.URL()), nil, secretsmanager.JSON(name, "database", nil),
				secretsmanager.JSON(name, "database_pending", &secretsmanager.SpecOptions{Stage: secretsmanager.StagePending, Optional: true}))
			st, err := config.Load[scPendingConfig](ctx, &config.Options{Logger: slog.New(slog.DiscardHandler),
				RefreshInterval: time.Hour, MinRefreshInterval: 50 * time.Millisecond}, layer)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c := pendingConnector(st, srv, d)
			connect := func(when string) {
				t.Helper()
				conn, err := c.Connect(ctx)
				if err != nil {
					t.Fatalf("%s: %v", when, err)
				}
				_ = conn.Close()
			}
			connect("before the rotation")
			currentID := stageHolder(t, client, name, "AWSCURRENT")

			// createSecret, setSecret, testSecret.
			token := "00000000-0000-4000-8000-00000000000" + string(rune('1'+i))
			if _, err := client.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(name), ClientRequestToken: aws.String(token),
				SecretString: aws.String(dbSecret(role, next)), VersionStages: []string{"AWSPENDING"}}); err != nil {
				t.Fatal(err)
			}
			srv.MustExec(t, "ALTER ROLE "+pg.Ident(role)+" PASSWORD "+pg.Literal(next))
			if err := connectOnce(t, d, srv.DSN(role, next)); err != nil {
				t.Fatalf("testSecret: %v", err)
			}
			connect("in the window between setSecret and finishSecret")
			if s := c.Stats(); s.PendingOK != 1 || s.AuthFailures < 1 || s.Failures != 0 {
				t.Fatalf("stats %+v, want a connection made with AWSPENDING after a refusal", s)
			}

			// finishSecret.
			if _, err := client.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String(name),
				VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(currentID)}); err != nil {
				t.Fatal(err)
			}
			connect("after finishSecret")
			if err := st.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := st.Get().Database.Password.Reveal(); got != next {
				t.Fatal("the store does not serve the new password after finishSecret")
			}
			before := c.Stats().AuthFailures
			connect("once the store serves the new version")
			if s := c.Stats(); s.AuthFailures != before || s.Failures != 0 {
				t.Fatalf("stats %+v: a connection with the served version was refused", s)
			}
		})
	}
}

// stageHolder returns the VersionId of name that carries stage.
func stageHolder(t *testing.T, c *sm.Client, name, stage string) string {
	t.Helper()
	out, err := c.DescribeSecret(context.Background(), &sm.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for id, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, stage) {
			return id
		}
	}
	t.Fatalf("no version of %s carries %s: %v", name, stage, out.VersionIdsToStages)
	return ""
}

// pendingConnector is a service's NewPending connector for d on srv.
func pendingConnector(st *config.Store[scPendingConfig], srv *pg.Server, d pgDriver) *sqlconn.Connector {
	return sqlconn.NewPending(st, func(cfg *scPendingConfig) (driver.Connector, error) {
		return d.connector(srv.DSN(cfg.Database.Username, cfg.Database.Password.Reveal()))
	}, func(cfg *scPendingConfig) (driver.Connector, error) {
		if cfg.DatabasePending.Password.IsZero() {
			return nil, nil // no rotation under way
		}
		return d.connector(srv.DSN(cfg.DatabasePending.Username, cfg.DatabasePending.Password.Reveal()))
	}, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler)})
}
