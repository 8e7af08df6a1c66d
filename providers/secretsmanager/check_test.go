package secretsmanager

import (
	"slices"
	"strings"
	"testing"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
)

func checkLayer(region string, sources ...Spec) *Reader {
	return NewWithClient(sm.New(sm.Options{Region: region}), nil, sources...)
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	l := checkLayer("eu-west-1",
		JSON("my-app/production/database", "database", nil),
		JSON("my-app/production/database", "database_previous", &SpecOptions{Stage: StagePrevious}),
		String("arn:aws:secretsmanager:eu-west-1:123:secret:partial", "api.key", nil),
	)
	perms := l.Permissions(config.PermissionScope{Account: "123"})
	want := []string{
		"arn:aws:secretsmanager:eu-west-1:123:secret:my-app/production/database-??????",
		"arn:aws:secretsmanager:eu-west-1:123:secret:partial-??????",
	}
	if got := perms[0].Resources; !slices.Equal(got, want) {
		t.Errorf("resources = %q, want %q", got, want)
	}
	for _, p := range perms {
		for _, a := range p.Actions {
			if a == "secretsmanager:ListSecrets" || a == "kms:Decrypt" {
				t.Errorf("unexpected action %s without a prefix or a key", a)
			}
		}
	}
	if partition("cn-north-1") != "aws-cn" || partition("us-gov-west-1") != "aws-us-gov" || partition("*") != "aws" {
		t.Error("partition")
	}

	// A prefix needs ListSecrets; a key needs kms:Decrypt through Secrets
	// Manager of the client's region; no region and no account give "*".
	perms = checkLayer("", Prefix("app/", nil)).Permissions(config.PermissionScope{KeyIDs: []string{"arn:aws:kms:k"}})
	var actions []string
	for _, p := range perms {
		actions = append(actions, p.Actions...)
	}
	if !slices.Contains(actions, "secretsmanager:ListSecrets") || !slices.Contains(actions, "kms:Decrypt") {
		t.Errorf("actions = %q", actions)
	}
	if r := perms[0].Resources; !slices.Contains(r, "arn:aws:secretsmanager:*:*:secret:app/*") {
		t.Errorf("prefix resources = %q", r)
	}
	if kms := perms[len(perms)-1]; kms.Condition["StringEquals"]["kms:ViaService"] != "secretsmanager.*.amazonaws.com" || len(kms.Notes) == 0 {
		t.Errorf("kms statement = %+v", kms)
	}
	if got := checkLayer("eu-west-1").Permissions(config.PermissionScope{}); got != nil {
		t.Errorf("a layer without sources needs %+v", got)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	l := checkLayer("eu-west-1",
		Prefix("my-app/production/", nil),
		JSON("my-app/production/database", "database", nil),
		String("my-app/production/stripe", "payments.stripe_key", nil),
		JSON("my-app/production/database", "database_previous", &SpecOptions{Stage: StagePrevious}),
	)
	cases := map[string]string{
		"database.password":          "secretsmanager my-app/production/database#password",
		"database_previous.password": "secretsmanager my-app/production/database#password (AWSPREVIOUS)",
		"payments.stripe_key":        "secretsmanager my-app/production/stripe",
		"api.key":                    "secretsmanager my-app/production/api/key or my-app/production/api#key",
		"token":                      "secretsmanager my-app/production/token or my-app/production#token",
	}
	for key, want := range cases {
		if src, ok := l.Locate(nil, key); !ok || src.String() != want {
			t.Errorf("Locate(%q) = %q, %v; want %q", key, src, ok, want)
		}
	}
	if src, ok := checkLayer("", JSON("a", "database", nil)).Locate(nil, "api.key"); ok {
		t.Errorf("Locate of an unmapped key = %q", src)
	}
}

func TestCostModel(t *testing.T) {
	t.Parallel()
	calls := func(m config.CostModel) map[string]config.APICall {
		out := map[string]config.APICall{}
		for _, c := range m.Calls {
			out[c.Operation] = c
		}
		return out
	}
	// 41 secrets by AWSCURRENT: 3 batches at start, 41 DescribeSecret a
	// refresh, one GetSecretValue per rotation.
	var many []Spec
	for i := range 41 {
		many = append(many, String("s"+strings.Repeat("x", i), "k", nil))
	}
	m := checkLayer("eu-west-1", many...).CostModel(config.CostScope{})
	c := calls(m)
	if c[OpBatchGetSecretValue].AtStart != 3 || c[OpDescribeSecret].PerRefresh != 41 || c[OpGetSecretValue].PerChange != 1 ||
		c[OpGetSecretValue].AtStart != 0 || m.Stored != 41 || m.Followed != 41 {
		t.Errorf("model = %+v", m)
	}
	// A prefix is a ListSecrets page at start and each refresh, and holds
	// the secrets assumed; a pinned version is read alone and never described.
	m = checkLayer("", Prefix("app/", nil), JSON("a", "x", &SpecOptions{VersionID: "v1"})).CostModel(config.CostScope{ItemsPerListing: 150})
	c = calls(m)
	if c[OpListSecrets].AtStart != 2 || c[OpListSecrets].PerRefresh != 2 || c[OpGetSecretValue].AtStart != 1 ||
		c[OpDescribeSecret].PerRefresh != 0 || m.Stored != 151 || c[OpBatchGetSecretValue].AtStart != 8 {
		t.Errorf("prefix model = %+v", m)
	}
	// A lone secret is read with GetSecretValue.
	c = calls(checkLayer("", JSON("a", "x", nil)).CostModel(config.CostScope{}))
	if c[OpBatchGetSecretValue].AtStart != 0 || c[OpGetSecretValue].AtStart != 1 || c[OpBatchGetSecretValue].Note == "" {
		t.Errorf("lone model = %+v", c)
	}
}
