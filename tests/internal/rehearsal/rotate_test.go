package rehearsal

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/pg"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

func newEnv(t *testing.T, s Strategy) (*Env, *Rotator) {
	t.Helper()
	srv := pg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	env, err := NewEnv(ctx, srv, emu.Start(t), emu.UniqueName(t, "db"), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	return env, &Rotator{Env: env}
}

// stage reads the secret's version at stage; found is false if there is none.
func stage(t *testing.T, r *Rotator, st string) (secretJSON, bool) {
	t.Helper()
	v, found, err := r.get(context.Background(), r.Env.SecretID, "", st)
	if err != nil {
		t.Fatalf("read %s: %v", st, err)
	}
	return v, found
}

// logsIn reports whether s logs in and may run the service's query.
func logsIn(t *testing.T, s secretJSON) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.dsn())
	if err != nil {
		return false
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, Query).Scan(&n); err != nil {
		t.Errorf("%s logs in but cannot run the query: %v", s.Username, err)
	}
	return true
}

// TestRotationStepsSingleUser checks the rotation function against AWS's
// outcome: the new password is AWSCURRENT and logs in, the old one is
// AWSPREVIOUS and does not, and no AWSPENDING is left.
func TestRotationStepsSingleUser(t *testing.T) {
	_, r := newEnv(t, SingleUser)
	first, _ := stage(t, r, stageCurrent)
	for i := range 3 {
		before, _ := stage(t, r, stageCurrent)
		if err := r.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
		cur, _ := stage(t, r, stageCurrent)
		prev, found := stage(t, r, stagePrevious)
		if !found || prev != before {
			t.Errorf("rotation %d: AWSPREVIOUS is not the AWSCURRENT before it", i)
		}
		if cur.Username != UserA || cur.Password == before.Password {
			t.Errorf("rotation %d: AWSCURRENT has user %s and the same password: %v", i, cur.Username, cur.Password == before.Password)
		}
		if !logsIn(t, cur) || logsIn(t, prev) {
			t.Errorf("rotation %d: AWSCURRENT logs in: %v, AWSPREVIOUS logs in: %v; want true, false", i, logsIn(t, cur), logsIn(t, prev))
		}
		if _, found := stage(t, r, stagePending); found {
			t.Errorf("rotation %d left AWSPENDING", i)
		}
	}
	if logsIn(t, first) {
		t.Error("the start-up password still logs in")
	}
	if got := r.Calls()["UpdateSecretVersionStage"]; got != 6 {
		t.Errorf("UpdateSecretVersionStage calls = %d, want 2 per rotation", got)
	}
}

// TestRotationStepsAlternatingUsers checks that the user flips between app_a
// and app_b (created with app_a's rights), that the previous user keeps
// logging in until the next rotation changes its password, and that the
// superuser's secret is used for the changes.
func TestRotationStepsAlternatingUsers(t *testing.T) {
	_, r := newEnv(t, AlternatingUsers)
	want := []string{UserB, UserA, UserB, UserA}
	for i, user := range want {
		before, _ := stage(t, r, stageCurrent)
		if err := r.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
		cur, _ := stage(t, r, stageCurrent)
		prev, _ := stage(t, r, stagePrevious)
		if cur.Username != user || prev != before {
			t.Errorf("rotation %d: AWSCURRENT user %s, want %s; AWSPREVIOUS is the one before: %v", i, cur.Username, user, prev == before)
		}
		if !logsIn(t, cur) || !logsIn(t, prev) {
			t.Errorf("rotation %d: AWSCURRENT logs in: %v, AWSPREVIOUS logs in: %v; want both", i, logsIn(t, cur), logsIn(t, prev))
		}
		if cur.MasterARN != r.Env.MasterID {
			t.Errorf("rotation %d: masterarn %q, want %q", i, cur.MasterARN, r.Env.MasterID)
		}
	}
}
