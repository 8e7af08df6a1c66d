package faultproxy_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

const stageTimeout = 3 * time.Second

// stageEnv is a proxy with the stage shim (and the batch shim) in front of
// kumo, and a client through it.
func stageEnv(t *testing.T) (*faultproxy.Proxy, *secretsmanager.Client) {
	t.Helper()
	p, err := faultproxy.New(emu.Start(t), faultproxy.Options{StageShim: true, BatchShim: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p, emu.Client(p.URL())
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), stageTimeout)
	t.Cleanup(cancel)
	return c
}

// getStage reads the version of name that carries stage ("" for none).
func getStage(t *testing.T, c *secretsmanager.Client, name, stage string) (*secretsmanager.GetSecretValueOutput, error) {
	t.Helper()
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	return c.GetSecretValue(ctx(t), in)
}

// wantValue checks that stage of name reads value, labelled exactly stages.
func wantValue(t *testing.T, c *secretsmanager.Client, name, stage, value string, stages ...string) string {
	t.Helper()
	out, err := getStage(t, c, name, stage)
	if err != nil {
		t.Fatalf("GetSecretValue %s: %v", stage, err)
	}
	if got := aws.ToString(out.SecretString); got != value {
		t.Errorf("%s reads %q, want %q", stage, got, value)
	}
	if !slices.Equal(out.VersionStages, stages) {
		t.Errorf("%s: VersionStages = %v, want %v", stage, out.VersionStages, stages)
	}
	return aws.ToString(out.VersionId)
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: err = %v, want %s", what, err, code)
	}
}

func describeStages(t *testing.T, c *secretsmanager.Client, name string) map[string][]string {
	t.Helper()
	out, err := c.DescribeSecret(ctx(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	return out.VersionIdsToStages
}

func putPending(t *testing.T, c *secretsmanager.Client, name, token, value string) error {
	t.Helper()
	_, err := c.PutSecretValue(ctx(t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), ClientRequestToken: aws.String(token),
		SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"},
	})
	return err
}

func moveStage(c *secretsmanager.Client, t *testing.T, name, stage, to, from string) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name), VersionStage: aws.String(stage)}
	if to != "" {
		in.MoveToVersionId = aws.String(to)
	}
	if from != "" {
		in.RemoveFromVersionId = aws.String(from)
	}
	_, err := c.UpdateSecretVersionStage(ctx(t), in)
	return err
}

// TestStageShimRotationSteps walks AWS's rotation steps through the shim:
// AWSPENDING beside AWSCURRENT, the idempotent createSecret, finishSecret's
// move of AWSCURRENT (AWSPREVIOUS follows), and AWS's refusals.
func TestStageShimRotationSteps(t *testing.T) {
	t.Parallel()
	_, c := stageEnv(t)
	name := emu.UniqueName(t, "db")
	emu.CreateString(t, c, name, "v1")
	v1 := wantValue(t, c, name, "", "v1", "AWSCURRENT")

	const t2 = "00000000-0000-4000-8000-000000000002"
	if err := putPending(t, c, name, t2, "v2"); err != nil {
		t.Fatalf("put AWSPENDING: %v", err)
	}
	wantValue(t, c, name, "AWSCURRENT", "v1", "AWSCURRENT")
	wantValue(t, c, name, "AWSPENDING", "v2", "AWSPENDING")
	if got, want := describeStages(t, c, name), map[string][]string{v1: {"AWSCURRENT"}, t2: {"AWSPENDING"}}; !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("VersionIdsToStages = %v, want %v", got, want)
	}
	// createSecret runs again after a retried invocation: same token, same value.
	if err := putPending(t, c, name, t2, "v2"); err != nil {
		t.Errorf("repeated put of the same version: %v", err)
	}
	wantCode(t, putPending(t, c, name, t2, "other"), "ResourceExistsException", "put of another value under an existing token")

	wantCode(t, moveStage(c, t, name, "AWSCURRENT", t2, ""), "InvalidParameterException", "move AWSCURRENT without RemoveFromVersionId")
	wantCode(t, moveStage(c, t, name, "AWSCURRENT", t2, t2), "InvalidParameterException", "RemoveFromVersionId naming a version without the label")
	wantCode(t, moveStage(c, t, name, "AWSCURRENT", "00000000-0000-4000-8000-0000000000ff", v1), "ResourceNotFoundException", "move to a version that does not exist")
	wantCode(t, moveStage(c, t, emu.UniqueName(t, "missing"), "AWSCURRENT", t2, v1), "ResourceNotFoundException", "move on a secret that does not exist")
	wantValue(t, c, name, "", "v1", "AWSCURRENT") // the refused moves changed nothing
	wantCode(t, moveStage(c, t, name, "AWSCURRENT", "", v1), "InvalidParameterException", "remove AWSCURRENT")
	if err := moveStage(c, t, name, "AWSCURRENT", t2, v1); err != nil {
		t.Fatalf("finishSecret: %v", err)
	}
	wantValue(t, c, name, "", "v2", "AWSCURRENT", "AWSPENDING")
	wantValue(t, c, name, "AWSPREVIOUS", "v1", "AWSPREVIOUS")
	if err := moveStage(c, t, name, "AWSPENDING", "", t2); err != nil {
		t.Fatalf("remove AWSPENDING: %v", err)
	}
	_, err := getStage(t, c, name, "AWSPENDING")
	wantCode(t, err, "ResourceNotFoundException", "AWSPENDING after the rotation")

	// A second rotation: AWSPREVIOUS is on one version only.
	const t3 = "00000000-0000-4000-8000-000000000003"
	if err := putPending(t, c, name, t3, "v3"); err != nil {
		t.Fatal(err)
	}
	if err := moveStage(c, t, name, "AWSCURRENT", t3, t2); err != nil {
		t.Fatal(err)
	}
	if got, want := describeStages(t, c, name), map[string][]string{t2: {"AWSPREVIOUS"}, t3: {"AWSCURRENT", "AWSPENDING"}}; !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("VersionIdsToStages = %v, want %v (%s has no label left)", got, want, v1)
	}
	batch, err := c.BatchGetSecretValue(ctx(t), &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{name}})
	if err != nil || len(batch.SecretValues) != 1 || aws.ToString(batch.SecretValues[0].SecretString) != "v3" ||
		!slices.Equal(batch.SecretValues[0].VersionStages, []string{"AWSCURRENT", "AWSPENDING"}) {
		t.Errorf("BatchGetSecretValue = %+v, %v; want v3 labelled AWSCURRENT, AWSPENDING", batch, err)
	}
	// A pinned version still reads, with its labels.
	out, err := c.GetSecretValue(ctx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(v1)})
	if err != nil || aws.ToString(out.SecretString) != "v1" || len(out.VersionStages) != 0 {
		t.Errorf("GetSecretValue VersionId %s = %+v, %v; want v1 without labels", v1, out, err)
	}
}

// TestStageShimRotationOfSecretCreatedElsewhere tracks a secret created
// straight in the emulator from its first change through the proxy.
func TestStageShimRotationOfSecretCreatedElsewhere(t *testing.T) {
	t.Parallel()
	p, c := stageEnv(t)
	name := emu.UniqueName(t, "direct")
	direct := emu.Client(emu.Start(t))
	emu.CreateString(t, direct, name, "v1")
	emu.Rotate(t, direct, name, "v2") // kumo: v1 AWSPREVIOUS, v2 AWSCURRENT
	emu.Rotate(t, direct, name, "v3") // kumo: v1 and v2 AWSPREVIOUS

	const t4 = "00000000-0000-4000-8000-000000000004"
	if err := putPending(t, c, name, t4, "v4"); err != nil {
		t.Fatal(err)
	}
	v3 := wantValue(t, c, name, "", "v3", "AWSCURRENT")
	_, err := getStage(t, c, name, "AWSPREVIOUS")
	wantCode(t, err, "ResourceNotFoundException", "the AWSPREVIOUS kumo holds on two versions")
	if err := moveStage(c, t, name, "AWSCURRENT", t4, v3); err != nil {
		t.Fatal(err)
	}
	wantValue(t, c, name, "AWSPREVIOUS", "v3", "AWSPREVIOUS")
	wantValue(t, c, name, "", "v4", "AWSCURRENT", "AWSPENDING")

	// Faults still come first.
	p.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.NotFound, Times: 1})
	_, err = getStage(t, c, name, "")
	wantCode(t, err, "ResourceNotFoundException", "a NotFound fault")
	wantValue(t, c, name, "", "v4", "AWSCURRENT", "AWSPENDING")

	list, err := c.ListSecrets(ctx(t), &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range list.SecretList {
		if aws.ToString(e.Name) == name {
			found = true
			if got := e.SecretVersionsToStages; len(got) != 2 || !slices.Equal(got[v3], []string{"AWSPREVIOUS"}) {
				t.Errorf("ListSecrets: SecretVersionsToStages = %v", got)
			}
		}
	}
	if !found {
		t.Errorf("ListSecrets does not list %s", name)
	}
}

// TestStageShimRotationNeededForKumo records the gaps of kumo that the shim
// fills: without it a pending version takes AWSCURRENT away, and
// UpdateSecretVersionStage does not exist.
func TestStageShimRotationNeededForKumo(t *testing.T) {
	t.Parallel()
	p, err := faultproxy.New(emu.Start(t), faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	c := emu.Client(p.URL())
	name := emu.UniqueName(t, "kumo")
	emu.CreateString(t, c, name, "v1")
	if err := putPending(t, c, name, "00000000-0000-4000-8000-000000000005", "v2"); err != nil {
		t.Fatal(err)
	}
	if out, err := getStage(t, c, name, "AWSCURRENT"); err == nil && aws.ToString(out.SecretString) == "v1" {
		t.Error("kumo now keeps AWSCURRENT beside AWSPENDING: the shim's PutSecretValue can go")
	}
	if err := moveStage(c, t, name, "AWSCURRENT", "00000000-0000-4000-8000-000000000005", "1"); err == nil {
		t.Error("kumo now answers UpdateSecretVersionStage: the shim's may go")
	}
}
