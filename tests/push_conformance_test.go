package tests

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
)

// TestConformanceSecretsManagerPush runs the layer contract on the Secrets
// Manager layer with push on: a queue fed with the event of every rotation
// the suite makes (sent into the queue as an EventBridge rule would; the
// emulator does not emit it).
func TestConformanceSecretsManagerPush(t *testing.T) {
	t.Parallel()
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		e := newSMEnv(t, false)
		sqsc := emu.SQSClient(emu.Start(t)) // every server of the process shares its state
		qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "conformance"))
		secrets := map[string]string{}
		docs := map[string]map[string]string{}
		var sources []secretsmanager.Spec
		for _, section := range configtest.Sections {
			secrets[section] = emu.UniqueName(t, section)
			docs[section] = map[string]string{}
			emu.CreateString(t, e.direct, secrets[section], "{}")
			sources = append(sources, secretsmanager.JSON(secrets[section], section, nil))
		}
		current := func(section string) string {
			b, err := json.Marshal(docs[section])
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		feed := push.Queue(sqsc, qURL, &push.Options{WaitTime: time.Second, Logger: s.Logger})
		layer := e.layer(secretsmanager.Options{Logger: s.Logger, Push: feed}, sources...)
		deleted := map[string]bool{}
		return configtest.Fixture{
			Set: func(key, value string) {
				section, name := splitSectionKey(key)
				docs[section][name] = value
				v := emu.Rotate(t, e.direct, secrets[section], current(section))
				emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: secrets[section], VersionID: v}.Envelope())
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
