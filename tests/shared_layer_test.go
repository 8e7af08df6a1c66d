package tests

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
)

// rfStrictConfig reads the same secrets as rfConfig with a stricter rule: its
// password must be at least 20 characters.
type rfStrictConfig struct {
	Database struct {
		Host     string        `validate:"required"`
		User     string        `validate:"required"`
		Password config.Secret `validate:"required,min=20"`
	}
	Payments struct{ StripeKey config.Secret }
	Cache    struct{ Token config.Secret }
}

// TestSharedLayerKeepsEveryStoreCurrent gives one Secrets Manager layer value
// to two stores with different rules. A rotation that one store accepts and
// the other rejects moves only the first: the second keeps serving, and
// reporting, the version it had, while the first does not see the change
// again. A later rotation valid for both reaches both.
func TestSharedLayerKeepsEveryStoreCurrent(t *testing.T) {
	t.Parallel()
	e := newRFEnv(t)
	s := e.createSecrets(t, "shared-password-0001-long")
	layer := secretsmanager.New(e.cfg, nil, s.sources()...)
	clockA, clockB := rfClock(), rfClock()
	a := rfStore(t, layer, clockA, config.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	b, err := config.Load[rfStrictConfig](ctx, &config.Options{Clock: clockB, RefreshInterval: rfTTL,
		MinRefreshInterval: rfMinInterval, Logger: slog.New(slog.DiscardHandler)}, layer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	first := storeVersions(a.Status())[s.db]
	if first == "" || storeVersions(b.Status())[s.db] != first {
		t.Fatalf("versions after load: a %v, b %v", storeVersions(a.Status()), storeVersions(b.Status()))
	}

	// Long enough for a, too short for b.
	second := emu.Rotate(t, e.direct, s.db, rfDB("app", "rotated-pw-0002"))
	if err := rfRefresh(t, a, clockA); err != nil {
		t.Fatalf("store a: Refresh = %v", err)
	}
	clockB.Advance(rfStep)
	if err := b.Refresh(ctx); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("store b: Refresh = %v, want the rejection", err)
	}
	if got := a.Get().Database.Password.Reveal(); got != "rotated-pw-0002" {
		t.Errorf("store a serves a %d-byte password, want the rotated one", len(got))
	}
	if got := b.Get().Database.Password.Reveal(); got != "shared-password-0001-long" {
		t.Errorf("store b serves a %d-byte password, want the first one", len(got))
	}
	if v := storeVersions(a.Status())[s.db]; v != second {
		t.Errorf("store a reports version %s, want %s", v, second)
	}
	if st := b.Status(); storeVersions(st)[s.db] != first || st.Healthy {
		t.Errorf("store b reports version %s (healthy %v), want the version it serves, %s, and unhealthy", storeVersions(st)[s.db], st.Healthy, first)
	}
	if ki, _ := b.Explain("database.password"); ki.Source.Version != first {
		t.Errorf("store b explains version %s, want %s", ki.Source.Version, first)
	}

	// Store a committed the rotation: nothing new for it. Store b still has
	// the rejection outstanding.
	e.proxy.ResetCalls()
	if err := rfRefresh(t, a, clockA); err != nil {
		t.Fatalf("store a: second Refresh = %v", err)
	}
	if got := e.proxy.Calls("GetSecretValue"); got != 0 {
		t.Errorf("store a fetched %d values for no change", got)
	}
	clockB.Advance(rfStep)
	if err := b.Refresh(ctx); !errors.Is(err, config.ErrValidation) {
		t.Errorf("store b: second Refresh = %v, want the outstanding rejection", err)
	}

	third := emu.Rotate(t, e.direct, s.db, rfDB("app", "rotated-password-0003-valid-for-both"))
	if err := rfRefresh(t, a, clockA); err != nil {
		t.Fatalf("store a: Refresh after the third version = %v", err)
	}
	clockB.Advance(rfStep)
	if err := b.Refresh(ctx); err != nil {
		t.Fatalf("store b: Refresh after the third version = %v", err)
	}
	for name, st := range map[string]config.Status{"a": a.Status(), "b": b.Status()} {
		if v := storeVersions(st)[s.db]; v != third || !st.Healthy {
			t.Errorf("store %s: version %s, healthy %v; want %s and healthy", name, v, st.Healthy, third)
		}
	}
	if a.Get().Database.Password != b.Get().Database.Password {
		t.Error("the stores serve different passwords after a rotation valid for both")
	}
}
