package ssm

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
)

func TestPermissions(t *testing.T) {
	t.Parallel()
	l := NewWithClient(awsssm.New(awsssm.Options{Region: "eu-west-1"}), nil,
		Path(root, "", nil), Parameter("/shared/stripe-key", "payments.stripe_key", nil), Names("/x", "", []string{"database/host"}, nil))
	perms := l.Permissions(config.PermissionScope{Account: "123", KeyIDs: []string{"arn:aws:kms:eu-west-1:123:key/k"}})
	byAction := map[string][]string{}
	for _, p := range perms {
		for _, a := range p.Actions {
			byAction[a] = append(byAction[a], p.Resources...)
		}
	}
	wantGet := []string{
		"arn:aws:ssm:eu-west-1:123:parameter/my-app/production/*",
		"arn:aws:ssm:eu-west-1:123:parameter/shared/stripe-key",
		"arn:aws:ssm:eu-west-1:123:parameter/x/database/host",
	}
	if !slices.Equal(byAction["ssm:GetParameters"], wantGet) {
		t.Errorf("GetParameters on %q, want %q", byAction["ssm:GetParameters"], wantGet)
	}
	if !slices.Equal(byAction["ssm:GetParametersByPath"], []string{"arn:aws:ssm:eu-west-1:123:parameter/my-app/production", "arn:aws:ssm:eu-west-1:123:parameter/my-app/production/*"}) {
		t.Errorf("GetParametersByPath on %q", byAction["ssm:GetParametersByPath"])
	}
	if !slices.Equal(byAction["ssm:DescribeParameters"], []string{"*"}) || !slices.Equal(byAction["kms:Decrypt"], []string{"arn:aws:kms:eu-west-1:123:key/k"}) {
		t.Errorf("actions = %v", byAction)
	}
	if kms := perms[len(perms)-1]; kms.Condition["StringEquals"]["kms:ViaService"] != "ssm.eu-west-1.amazonaws.com" {
		t.Errorf("kms = %+v", kms)
	}
	if got := NewWithClient(newFake(), nil).Permissions(config.PermissionScope{}); got != nil {
		t.Errorf("no specs: %+v", got)
	}
}

func TestCostModel(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	l := NewWithClient(newFake(), nil, Path(root, "", nil), Names("/x", "", names, nil))
	m := l.CostModel(config.CostScope{ItemsPerListing: 120})
	calls := map[string]config.APICall{}
	for _, c := range m.Calls {
		calls[c.Operation] = c
	}
	if g := calls[OpGetParameters]; g.AtStart != 2 || g.PerChange != 1 || g.PricePer10k != 0 || g.QuotaPerSecond != 40 {
		t.Errorf("GetParameters = %+v", g)
	}
	if p := calls[OpGetParametersByPath]; p.AtStart != 12 || p.PerRefresh != 0 {
		t.Errorf("GetParametersByPath = %+v", p)
	}
	if d := calls[OpDescribeParameters]; d.PerRefresh != 3+1 || d.AtStart != 0 {
		t.Errorf("DescribeParameters = %+v", d)
	}
	if m.Followed != 131 || m.Stored != 131 || m.PricePerStoredMonth != 0 {
		t.Errorf("followed %d, stored %d", m.Followed, m.Stored)
	}
	h := NewWithClient(newFake(), &Options{Throughput: HigherThroughput}, Path(root, "", nil)).CostModel(config.CostScope{ItemsPerListing: 10})
	for _, c := range h.Calls {
		if c.PricePer10k != 0.05 {
			t.Errorf("higher throughput %s at %v", c.Operation, c.PricePer10k)
		}
		if c.Operation == OpGetParametersByPath && c.QuotaPerSecond != 100 {
			t.Errorf("higher throughput quota %v", c.QuotaPerSecond)
		}
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	l := NewWithClient(newFake(), nil, Path(root, "", nil), Parameter("/shared/stripe-key", "payments.stripe_key", nil))
	if src, ok := l.Locate(nil, "server.read_timeout"); !ok || src.String() != "ssm /my-app/production/server/read_timeout" {
		t.Errorf("Locate = %v %v", src, ok)
	}
	if src, _ := l.Locate(nil, "payments.stripe_key"); src.Location != "/shared/stripe-key" {
		t.Errorf("Locate = %v", src)
	}
}

// configcheck's commands see the layer: iam and cost through its
// interfaces, explain and lint through its values, with provenance and
// without SecureString values.
func TestConfigcheckCommands(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/server/read_timeout", types.ParameterTypeString, "7s")
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	api.put(root+"/database/password", types.ParameterTypeSecureString, canary)
	api.put(root+"/payments/stripe_key", types.ParameterTypeString, canary+"-plain")
	setup := func(context.Context, string) (*config.Options, []config.Layer, error) {
		return &config.Options{EnvPrefix: "APP_"}, []config.Layer{NewWithClient(api, nil, Path(root, "", nil))}, nil
	}
	run := func(args ...string) string {
		var out bytes.Buffer
		configcheck.Main[appConfig](context.Background(), args, configcheck.Options{Setup: setup, Stdout: &out, Stderr: &out, Environ: func() []string { return nil }})
		noCanary(t, out.String())
		return out.String()
	}
	if out := run("iam", "--account", "123"); !strings.Contains(out, "ssm:GetParametersByPath") || !strings.Contains(out, "ssm:DescribeParameters") {
		t.Errorf("iam:\n%s", out)
	}
	if out := run("cost"); !strings.Contains(out, "DescribeParameters") || !strings.Contains(out, "40 a second") {
		t.Errorf("cost:\n%s", out)
	}
	if out := run("explain"); !strings.Contains(out, "ssm /my-app/production/server/read_timeout (version 1)") {
		t.Errorf("explain:\n%s", out)
	}
	out := run("lint")
	if !strings.Contains(out, "payments.stripe_key is a secret") || strings.Contains(out, "database.password is a secret") {
		t.Errorf("lint must flag the String parameter only:\n%s", out)
	}
	run("validate", "--environment", "production")
}
