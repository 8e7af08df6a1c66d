package tests

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/ssm"
)

// configcheck shows the values the Parameter Store layer reads from the
// emulator with their provenance (SecureStrings redacted), lints a secret
// set by a String parameter, and lists the layer's IAM actions and costs.
func TestConfigcheckWithSSM(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/server/read-timeout", types.ParameterTypeString, "7s")
	e.put(t, root+"/database/host", types.ParameterTypeString, "db.internal")
	e.put(t, root+"/database/password", types.ParameterTypeSecureString, ccCanary)
	e.put(t, root+"/api/key", types.ParameterTypeString, ccCanary)
	setup := func(_ context.Context, environment string) (*config.Options, []config.Layer, error) {
		layers := []config.Layer{env.New(&env.Options{Environ: func() []string { return []string{"APP_DATABASE_USER=app"} }}),
			ssm.New(e.cfg, nil, ssm.Path(root, "", nil))}
		return &config.Options{EnvPrefix: "APP_", Production: configcheck.IsProduction(environment)}, layers, nil
	}
	out, stderr, code := ccRunSetup(t, setup, "explain")
	if code != configcheck.ExitOK {
		t.Fatalf("explain: exit %d\n%s%s", code, out, stderr)
	}
	for _, re := range []string{
		`server\.read_timeout +7s +ssm ` + regexp.QuoteMeta(root) + `/server/read-timeout \(version 1\)`,
		`database\.password +\[REDACTED\] fp:[0-9a-f]{8} +ssm ` + regexp.QuoteMeta(root) + `/database/password \(version 1\)`,
		`database\.host +db\.internal +ssm `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("explain does not match %s:\n%s", re, out)
		}
	}
	out, _, _ = ccRunSetup(t, setup, "lint")
	if !strings.Contains(out, "api.key is a secret but is set by ssm "+root+"/api/key") || strings.Contains(out, "database.password is a secret") {
		t.Errorf("lint:\n%s", out)
	}
	if _, _, code := ccRunSetup(t, setup, "validate", "--environment", "production"); code != configcheck.ExitProblems {
		t.Errorf("validate in production with a secret in a String parameter: exit %d", code)
	}
	out, _, _ = ccRunSetup(t, setup, "iam")
	for _, want := range []string{"ssm:GetParameters", "ssm:GetParametersByPath", "ssm:DescribeParameters", "parameter" + root + "/*"} {
		if !strings.Contains(out, want) {
			t.Errorf("iam lacks %s:\n%s", want, out)
		}
	}
	if out, _, _ = ccRunSetup(t, setup, "cost"); !strings.Contains(out, "DescribeParameters") {
		t.Errorf("cost:\n%s", out)
	}
}

// A SecureString in a field that is not secret is masked by explain, as
// every value its layer marks secret: [REDACTED] in the table, its
// fingerprint in the JSON form, its text in neither.
func TestConfigcheckSSMSecureStringInPlainField(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/database/host", types.ParameterTypeSecureString, ssmCanary)
	setup := func(_ context.Context, environment string) (*config.Options, []config.Layer, error) {
		return &config.Options{EnvPrefix: "APP_"}, []config.Layer{ssm.New(e.cfg, nil, ssm.Path(root, "", nil))}, nil
	}
	out, stderr, code := ccRunSetup(t, setup, "explain")
	re := `database\.host +\[REDACTED\] +ssm ` + regexp.QuoteMeta(root) + `/database/host \(version 1\)`
	if code != configcheck.ExitOK || !regexp.MustCompile(re).MatchString(out) {
		t.Errorf("explain: exit %d, does not match %s:\n%s%s", code, re, out, stderr)
	}
	js, _, _ := ccRunSetup(t, setup, "explain", "--format", "json")
	if !regexp.MustCompile(`"key": "database\.host"[^}]*"value": "\[REDACTED\]",\s*"fingerprint": "[0-9a-f]{8}"`).MatchString(js) {
		t.Errorf("explain --format json:\n%s", js)
	}
	noSSMCanary(t, out, stderr, js)
}
