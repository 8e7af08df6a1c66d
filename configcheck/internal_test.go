package configcheck

import (
	"math"
	"strings"
	"testing"
	"time"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/koanf"
	"github.com/strata-go/strata/providers/secretsmanager"
)

// smLayer returns a Secrets Manager layer of sources in eu-west-1; it is
// never loaded.
func smLayer(sources ...secretsmanager.Spec) *secretsmanager.Reader {
	return secretsmanager.NewWithClient(sm.New(sm.Options{Region: "eu-west-1"}), nil, sources...)
}

func ids(n int) []config.CostModel {
	out := make([]secretsmanager.Spec, n)
	for i := range out {
		out[i] = secretsmanager.String("s"+strings.Repeat("x", i), "k", nil)
	}
	return []config.CostModel{smLayer(out...).CostModel(config.CostScope{})}
}

// TestEstimateMatchesTheFacts checks the model against the worked example of
// the Secrets Manager facts: 50 secrets and 200 pods.
func TestEstimateMatchesTheFacts(t *testing.T) {
	t.Parallel()
	e := estimate(fleet{models: ids(50), replicas: 200, ttl: time.Hour, startsPerMonth: 0, rotationsPerMon: 0,
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
	e = estimate(fleet{models: ids(50), replicas: 200, ttl: 5 * time.Minute, startsPerMonth: 1, rotationsPerMon: 2,
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
	e = estimate(fleet{models: []config.CostModel{smLayer(secretsmanager.JSON("a", "x", &secretsmanager.SpecOptions{VersionID: "v1"})).CostModel(config.CostScope{})}, replicas: 1,
		ttl: time.Minute, startsPerMonth: 10, startupWindow: time.Second})
	for _, c := range e.Calls {
		calls[c.Operation] = c.CallsMonth
	}
	if calls["BatchGetSecretValue"] != 0 || calls["GetSecretValue"] != 10 || calls["DescribeSecret"] != 0 {
		t.Errorf("pinned calls = %v", calls)
	}
}

// TestBuildPolicyMerges checks that the statements of two layers are merged:
// an equal grant once, a Sid used twice made unique, a layer that is no
// Permissioner left out.
func TestBuildPolicyMerges(t *testing.T) {
	t.Parallel()
	a := smLayer(secretsmanager.JSON("my-app/production/database", "database", nil))
	b := smLayer(secretsmanager.String("my-app/production/api-key", "api.key", nil))
	doc, notes := buildPolicy([]config.Layer{a, a, config.Static("static", nil), b}, config.PermissionScope{Account: "123"})
	var sids []string
	for _, st := range doc.Statement {
		sids = append(sids, st.Sid)
	}
	want := "ReadConfiguredSecrets BatchReadAtStartUp ReadConfiguredSecrets2"
	if strings.Join(sids, " ") != want {
		t.Errorf("statements = %q, want %q", sids, want)
	}
	if len(notes) != 2 {
		t.Errorf("notes = %q, want each note once", notes)
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

// The providers implement the interfaces configcheck asks them through, with
// exactly these signatures; a provider whose method drifts fails here.
var (
	_ Permissioner = (*secretsmanager.Reader)(nil)
	_ CostModeler  = (*secretsmanager.Reader)(nil)
	_ Locator      = (*secretsmanager.Reader)(nil)
)

func TestProvidersImplementTheInterfaces(t *testing.T) {
	t.Parallel()
	if fl, ok := dotenv.File("dir/.env", nil).(FileLister); !ok || strings.Join(fl.Files(), " ") != "dir/.env" {
		t.Errorf("dotenv.File is no FileLister of its file (%v)", ok)
	}
	schema, err := config.SchemaFor[struct{ Database struct{ Host string } }]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	loc, ok := env.New(nil).(Locator)
	if !ok {
		t.Fatal("env.New is no Locator")
	}
	if src, ok := loc.Locate(schema, "database.host"); !ok || src.String() != "env APP_DATABASE_HOST" {
		t.Errorf("env Locate = %q, %v", src, ok)
	}
	if _, ok := loc.Locate(schema, "database.port"); ok {
		t.Error("env locates a key that is no field")
	}
	for _, l := range []config.Layer{config.Static("s", nil), koanf.New("k", nil, nil, nil), env.New(nil), dotenv.File("x", nil)} {
		if _, ok := l.(Permissioner); ok {
			t.Errorf("%s needs no permissions", l.Name())
		}
	}
}

// TestEstimateSumsLayers: two layers calling one API share its quota, so
// their operations are summed into one line each, and their stored items and
// notes are counted once per layer and once per text.
func TestEstimateSumsLayers(t *testing.T) {
	t.Parallel()
	var a, b []secretsmanager.Spec
	for i := range 20 {
		a = append(a, secretsmanager.String("a"+strings.Repeat("x", i), "k", nil))
		b = append(b, secretsmanager.String("b"+strings.Repeat("x", i), "k", nil))
	}
	models := []config.CostModel{smLayer(a...).CostModel(config.CostScope{}), smLayer(b...).CostModel(config.CostScope{})}
	e := estimate(fleet{models: models, replicas: 60, ttl: time.Hour, startsPerMonth: 1, startupWindow: time.Second})
	if len(e.Calls) != 4 || e.Stored != 40 || e.StorageDollars != 16 {
		t.Fatalf("estimate = %+v", e)
	}
	// Each layer makes one batch call a start: 60 replicas make 120 a
	// second, over the quota of 100 that neither layer alone would reach.
	if p := e.Peaks[0]; p.Operation != "BatchGetSecretValue" || p.PerSecond != 120 || !p.Over {
		t.Errorf("batch peak = %+v", p)
	}
	if !strings.Contains(e.Calls[0].When, "2 per replica start") {
		t.Errorf("batch line = %+v", e.Calls[0])
	}
	seen := map[string]bool{}
	for _, n := range e.Notes {
		if seen[n] {
			t.Errorf("note %q twice", n)
		}
		seen[n] = true
	}
}
