package tests

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// conformanceLayer is the layer under test: one JSON secret per section of
// the suite's schema, each mounted at its section.
func conformanceLayer(e *smEnv, secrets map[string]string, s configtest.Setup) config.Layer {
	var sources []secretsmanager.Spec
	for _, section := range configtest.Sections {
		sources = append(sources, secretsmanager.JSON(secrets[section], section, nil))
	}
	return e.layer(secretsmanager.Options{Logger: s.Logger}, sources...)
}

// TestConformanceSecretsManager runs the layer contract, refresh rules
// included, on the Secrets Manager layer against the emulator through the
// SDK. A deleted secret is the permanent failure of one source, a rotation to
// text that is no JSON its malformed answer, and a fault of every call (the
// proxy cannot tell secrets apart) the transient failure of every source.
func TestConformanceSecretsManager(t *testing.T) {
	t.Parallel()
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		e := newSMEnv(t, false)
		secrets := map[string]string{}
		docs := map[string]map[string]string{}
		for _, section := range configtest.Sections {
			secrets[section] = emu.UniqueName(t, section)
			docs[section] = map[string]string{}
			emu.CreateString(t, e.direct, secrets[section], "{}")
		}
		current := func(section string) string {
			b, err := json.Marshal(docs[section])
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		deleted := map[string]bool{}
		layer := conformanceLayer(e, secrets, s)
		return configtest.Fixture{
			Set: func(key, value string) {
				section, name := splitSectionKey(key)
				docs[section][name] = value
				emu.Rotate(t, e.direct, secrets[section], current(section))
			},
			Layer: func() config.Layer { return layer },
			Fail: func(section string, f configtest.Failure, text string) bool {
				return emuFail(t, e, secrets, deleted, section, f, text, current)
			},
			Reads: func() int {
				return e.proxy.Calls("GetSecretValue") + e.proxy.Calls("BatchGetSecretValue")
			},
		}
	}})
}

// emuFail makes the secret of section (every secret for "") fail as f says.
// A deleted secret is created again when it heals.
func emuFail(t *testing.T, e *smEnv, secrets map[string]string, deleted map[string]bool, section string, f configtest.Failure,
	text string, current func(string) string) bool {
	if f == configtest.Transient {
		if section != "" {
			return false
		}
		e.proxy.Add(faultproxy.Rule{Fault: faultproxy.InternalError})
		return true
	}
	e.proxy.ClearRules()
	for _, sec := range configtest.Sections {
		if section != "" && sec != section {
			continue
		}
		switch f {
		case configtest.Permanent:
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			_, err := e.direct.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String(secrets[sec]), ForceDeleteWithoutRecovery: aws.Bool(true)})
			cancel()
			if err != nil {
				t.Fatalf("DeleteSecret: %v", err)
			}
			deleted[sec] = true
		case configtest.Malformed:
			emu.Rotate(t, e.direct, secrets[sec], text)
		case configtest.Healthy:
			if deleted[sec] {
				delete(deleted, sec)
				emu.CreateString(t, e.direct, secrets[sec], current(sec))
				continue
			}
			emu.Rotate(t, e.direct, secrets[sec], current(sec))
		}
	}
	return true
}

func splitSectionKey(key string) (section, name string) {
	for i := range len(key) {
		if key[i] == '.' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}
