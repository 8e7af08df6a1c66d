package configcheck

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
)

func TestDescribeSourceRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src  secretsmanager.Source
		want secretSource
	}{
		{secretsmanager.JSON("my-app/production/database", "database"), secretSource{kind: "json", id: "my-app/production/database", key: "database"}},
		{secretsmanager.JSON("root", ""), secretSource{kind: "json", id: "root"}},
		{secretsmanager.String("a=b \"quoted\"", "api.key", secretsmanager.Stage(secretsmanager.StagePrevious)),
			secretSource{kind: "string", id: `a=b "quoted"`, key: "api.key", stage: "AWSPREVIOUS"}},
		{secretsmanager.Binary("arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf", "tls.key", secretsmanager.VersionID("v-1")),
			secretSource{kind: "binary", id: "arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf", key: "tls.key", versionID: "v-1"}},
		{secretsmanager.Prefix("my-app/production/"), secretSource{kind: "prefix", id: "my-app/production/"}},
		{secretsmanager.JSON("x", "y", secretsmanager.Stage(secretsmanager.StageCurrent)), secretSource{kind: "json", id: "x", key: "y"}},
	}
	for _, c := range cases {
		if got := describeSource(c.src); got != c.want {
			t.Errorf("describeSource(%s) = %+v, want %+v", c.src, got, c.want)
		}
		// The spec syntax round-trips too.
		back, err := parseSecretSpec(c.want.String())
		if err != nil || back != c.want {
			t.Errorf("parseSecretSpec(%q) = %+v, %v; want %+v", c.want.String(), back, err, c.want)
		}
		if got := describeSource(c.want.provider()); got != c.want {
			t.Errorf("describeSource(provider(%+v)) = %+v", c.want, got)
		}
	}
}

func TestParseSecretSpec(t *testing.T) {
	t.Parallel()
	ok := map[string]secretSource{
		"json:my-app/db=database":                    {kind: "json", id: "my-app/db", key: "database"},
		"json:my-app/db":                             {kind: "json", id: "my-app/db"},
		"JSON:a=b=c":                                 {kind: "json", id: "a=b", key: "c"},
		"string:a=api.key,stage=AWSPENDING":          {kind: "string", id: "a", key: "api.key", stage: "AWSPENDING"},
		"binary:a=tls.cert,version=1234":             {kind: "binary", id: "a", key: "tls.cert", versionID: "1234"},
		"prefix:my-app/production/":                  {kind: "prefix", id: "my-app/production/"},
		"prefix:my-app/production,stage=AWSPREVIOUS": {kind: "prefix", id: "my-app/production", stage: "AWSPREVIOUS"},
	}
	for spec, want := range ok {
		got, err := parseSecretSpec(spec)
		if err != nil || got != want {
			t.Errorf("parseSecretSpec(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "json", "yaml:a=b", "string:a", "json:=x", "json:a=b,stage=", "json:a=b,color=red",
		"json:a=b,stage=AWSPREVIOUS,version=1", "prefix:a/,version=1"} {
		if _, err := parseSecretSpec(spec); err == nil {
			t.Errorf("parseSecretSpec(%q) succeeded", spec)
		}
	}
}

func TestExpectedSource(t *testing.T) {
	t.Parallel()
	sources := []secretSource{
		{kind: "prefix", id: "my-app/production/"},
		{kind: "json", id: "my-app/production/database", key: "database"},
		{kind: "string", id: "my-app/production/stripe", key: "payments.stripe_key"},
	}
	cases := map[string]string{
		"database.password":   "secretsmanager my-app/production/database#password",
		"payments.stripe_key": "secretsmanager my-app/production/stripe",
		"api.key":             "secretsmanager my-app/production/api/key or my-app/production/api#key",
		"token":               "secretsmanager my-app/production/token or my-app/production#token",
	}
	for key, want := range cases {
		if got := expectedSource(sources, key); got != want {
			t.Errorf("expectedSource(%q) = %q, want %q", key, got, want)
		}
	}
	if got := expectedSource(sources[1:], "api.key"); got != "" {
		t.Errorf("expectedSource of an unmapped key = %q", got)
	}
}

func ids(n int) []secretSource {
	out := make([]secretSource, n)
	for i := range out {
		out[i] = secretSource{kind: "string", id: "s" + strings.Repeat("x", i), key: "k"}
	}
	return out
}

// TestEstimateMatchesTheFacts checks the model against the worked example of
// the Secrets Manager facts: 50 secrets and 200 pods.
func TestEstimateMatchesTheFacts(t *testing.T) {
	t.Parallel()
	e := estimate(fleet{sources: ids(50), replicas: 200, ttl: time.Hour, startsPerMonth: 0, rotationsPerMon: 0,
		startupWindow: time.Second})
	calls := map[string]float64{}
	for _, c := range e.Calls {
		calls[c.Operation] = c.CallsMonth
	}
	// DescribeSecret once an hour: about 7.2 M calls, about $36.
	if calls["DescribeSecret"] != 7_200_000 || math.Abs(e.CallDollars-36) > 0.01 {
		t.Errorf("DescribeSecret = %v calls, $%v; want 7.2 M and $36", calls["DescribeSecret"], e.CallDollars)
	}
	// GetSecretValue every 30 s: about 864 M calls, about $4,320.
	if e.NaiveCalls != 864_000_000 || math.Abs(e.NaiveDollars-e.StorageDollars-4320) > 0.01 {
		t.Errorf("naive polling = %v calls, $%v; want 864 M and $4,320", e.NaiveCalls, e.NaiveDollars-e.StorageDollars)
	}
	if e.StorageDollars != 20 {
		t.Errorf("storage = $%v, want $20", e.StorageDollars)
	}

	// Start-up: ceil(50/20) = 3 BatchGetSecretValue calls per start; 200
	// replicas starting within a second make 600/s, over the 100/s quota.
	e = estimate(fleet{sources: ids(50), replicas: 200, ttl: 5 * time.Minute, startsPerMonth: 1, rotationsPerMon: 2,
		startupWindow: time.Second})
	for _, c := range e.Calls {
		calls[c.Operation] = c.CallsMonth
	}
	if calls["BatchGetSecretValue"] != 600 || calls["GetSecretValue"] != 200*2*50 {
		t.Errorf("calls = %v", calls)
	}
	if p := e.Peaks[0]; p.Operation != "BatchGetSecretValue" || p.PerSecond != 600 || !p.Over {
		t.Errorf("batch peak = %+v", p)
	}
	if len(e.Warnings) == 0 || !strings.Contains(strings.Join(e.Warnings, "\n"), "start at most 33 replicas a second") {
		t.Errorf("warnings = %q", e.Warnings)
	}

	// A lone secret uses GetSecretValue; a version-pinned one is never
	// described again.
	e = estimate(fleet{sources: []secretSource{{kind: "json", id: "a", key: "x", versionID: "v1"}}, replicas: 1,
		ttl: time.Minute, startsPerMonth: 10, startupWindow: time.Second})
	for _, c := range e.Calls {
		calls[c.Operation] = c.CallsMonth
	}
	if calls["BatchGetSecretValue"] != 0 || calls["GetSecretValue"] != 10 || calls["DescribeSecret"] != 0 {
		t.Errorf("pinned calls = %v", calls)
	}
}

func TestBuildPolicy(t *testing.T) {
	t.Parallel()
	doc, _ := buildPolicy([]secretSource{
		{kind: "json", id: "my-app/production/database", key: "database"},
		{kind: "json", id: "my-app/production/database", key: "database", stage: "AWSPREVIOUS"},
		{kind: "string", id: "arn:aws:secretsmanager:eu-west-1:123:secret:partial"},
	}, "eu-west-1", "123", nil)
	want := []string{
		"arn:aws:secretsmanager:eu-west-1:123:secret:my-app/production/database-??????",
		"arn:aws:secretsmanager:eu-west-1:123:secret:partial-??????",
	}
	if got := doc.Statement[0].Resource; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("resources = %q, want %q", got, want)
	}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if a == "secretsmanager:ListSecrets" || a == "kms:Decrypt" {
				t.Errorf("unexpected action %s without a prefix or a key", a)
			}
		}
	}
	if partition("cn-north-1") != "aws-cn" || partition("us-gov-west-1") != "aws-us-gov" || partition("*") != "aws" {
		t.Error("partition")
	}
}

func TestAnnotationEscapes(t *testing.T) {
	t.Parallel()
	f := finding{Severity: severityError, Key: "a,b:c", Message: "100% wrong\nnext line", file: "dir/.env", line: 3}
	want := "::error file=dir/.env,line=3,title=a%2Cb%3Ac::100%25 wrong%0Anext line\n"
	if got := f.annotation(); got != want {
		t.Errorf("annotation = %q, want %q", got, want)
	}
}

func TestFileLine(t *testing.T) {
	t.Parallel()
	file, line := fileLine(config.Source{Layer: "dotenv", Location: "C:/x/.env", Line: 12})
	if file != "C:/x/.env" || line != 12 {
		t.Errorf("fileLine = %q, %d", file, line)
	}
	if file, _ := fileLine(config.Source{Layer: "env", Location: "APP_X"}); file != "" {
		t.Errorf("fileLine of env = %q", file)
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", 864e6: "864,000,000"} {
		if got := count(v); got != want {
			t.Errorf("count(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "$0.00", 0.004: "$0.00", 36: "$36.00", 4320.5: "$4,320.50", 1234.567: "$1,234.57"} {
		if got := dollars(v); got != want {
			t.Errorf("dollars(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestClosestCommand(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"valdiate": "validate", "validat": "validate", "VALIDATE": "validate", "val": "validate",
		"explian": "explain", "expalin": "explain", "ex": "explain", "evn": "env", "lnit": "lint",
		"dif": "diff", "cots": "cost", "ima": "iam",
		"frobnicate": "", "x": "", "e": "", "deploy": "", "": "",
	} {
		if got := closestCommand(in); got != want {
			t.Errorf("closestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
