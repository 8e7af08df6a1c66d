package emu_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/tests/internal/emu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

var validName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,256}$`)

func TestUniqueName(t *testing.T) {
	t.Parallel()
	t.Run("odd chars: é*?", func(t *testing.T) {
		t.Parallel()
		a, b := emu.UniqueName(t, "db pass!"), emu.UniqueName(t, "db pass!")
		if a == b {
			t.Errorf("two calls gave the same name %q", a)
		}
		for _, n := range []string{a, b} {
			if !validName.MatchString(n) {
				t.Errorf("name %q has characters secret names do not allow", n)
			}
			if !strings.HasPrefix(n, "TestUniqueName/odd_chars") {
				t.Errorf("name %q does not start with the test name", n)
			}
		}
	})
	t.Run("long", func(t *testing.T) {
		t.Parallel()
		n := emu.UniqueName(t, strings.Repeat("x", 500))
		if !validName.MatchString(n) {
			t.Errorf("name of %d chars is not valid", len(n))
		}
	})
}

func TestCreateGetRotate(t *testing.T) {
	t.Parallel()
	c := emu.Client(emu.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	name := emu.UniqueName(t, "str")
	arn := emu.CreateString(t, c, name, "v1")
	if !strings.Contains(arn, ":secret:"+name+"-") {
		t.Errorf("ARN %q does not name %q", arn, name)
	}
	v2 := emu.Rotate(t, c, name, "v2")
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != "v2" || aws.ToString(out.VersionId) != v2 {
		t.Errorf("got %q version %q, want v2 version %q", aws.ToString(out.SecretString), aws.ToString(out.VersionId), v2)
	}
	prev, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(prev.SecretString) != "v1" {
		t.Errorf("AWSPREVIOUS = %q, want v1", aws.ToString(prev.SecretString))
	}

	bin := emu.UniqueName(t, "bin")
	emu.CreateBinary(t, c, bin, []byte{0, 0xfe})
	out, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(bin)})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.SecretBinary) != "\x00\xfe" || out.SecretString != nil {
		t.Errorf("binary secret = %v / %v", out.SecretBinary, out.SecretString)
	}
}

// TestConcurrentReads reads one secret from many goroutines through two
// servers; run with -race it checks that Start serializes kumo's requests.
func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	c1, c2 := emu.Client(emu.Start(t)), emu.Client(emu.Start(t))
	name := emu.UniqueName(t, "shared")
	emu.CreateString(t, c1, name, "v")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 16 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Go(func() {
			if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestAWSConfig(t *testing.T) {
	t.Parallel()
	cfg := emu.AWSConfig("http://127.0.0.1:1")
	if cfg.Region != emu.Region || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:1" {
		t.Errorf("Region %q BaseEndpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" {
		t.Errorf("credentials = %+v, %v", creds, err)
	}
	if got := cfg.Retryer().MaxAttempts(); got != 3 {
		t.Errorf("MaxAttempts = %d, want 3", got)
	}
}
