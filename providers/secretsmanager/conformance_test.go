package secretsmanager

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// conformanceLayer is the layer under test: one JSON secret per section of
// the suite's schema, each mounted at its section.
func conformanceLayer(api API, secrets map[string]string, logger *slog.Logger, gate ListGate) config.Layer {
	var specs []Spec
	for _, section := range configtest.Sections {
		specs = append(specs, JSON(secrets[section], section, nil))
	}
	return NewWithClient(api, &Options{Logger: logger, ListGate: gate}, specs...)
}

// TestConformance runs the layer contract, refresh rules included, on the
// layer over the in-memory fake API.
func TestConformance(t *testing.T) { runConformance(t, ListGateOff) }

// runConformance runs the suite with the reader's ListGate set to gate.
func runConformance(t *testing.T, gate ListGate) {
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		api := newFake()
		// Like the SDK, fail a call whose ctx is done.
		api.hook = func(ctx context.Context, _ string) error { return ctx.Err() }
		secrets := map[string]string{}
		docs := map[string]map[string]string{}
		put := func(section string) {
			b, err := json.Marshal(docs[section])
			if err != nil {
				t.Fatal(err)
			}
			api.putString(secrets[section], string(b))
		}
		for _, section := range configtest.Sections {
			secrets[section] = "app/conformance/" + section
			docs[section] = map[string]string{}
			put(section)
		}
		layer := conformanceLayer(&failingList{api}, secrets, s.Logger, gate)
		return configtest.Fixture{
			Set: func(key, value string) {
				section, name := splitKey(key)
				docs[section][name] = value
				put(section)
			},
			Layer: func() config.Layer { return layer },
			Fail: func(section string, f configtest.Failure, text string) bool {
				for _, sec := range configtest.Sections {
					if section == "" || sec == section {
						failSecret(api, secrets[sec], f, text, func() { put(sec) })
					}
				}
				return true
			},
			Reads: func() int { return api.count(OpGetSecretValue) + api.count(OpBatchGetSecretValue) },
		}
	}})
}

// failSecret makes the fake answer calls about the secret id as f says.
func failSecret(api *fakeAPI, id string, f configtest.Failure, text string, heal func()) {
	api.mu.Lock()
	delete(api.getErr, id)
	delete(api.describeErr, id)
	switch f {
	case configtest.Transient:
		api.getErr[id], api.describeErr[id] = apiErr("InternalServiceError"), apiErr("InternalServiceError")
	case configtest.Permanent:
		api.getErr[id], api.describeErr[id] = apiErr("AccessDeniedException"), apiErr("AccessDeniedException")
	}
	api.mu.Unlock()
	switch f {
	case configtest.Malformed:
		api.putString(id, text)
	case configtest.Healthy:
		heal()
	}
}

func splitKey(key string) (section, name string) {
	for i := range len(key) {
		if key[i] == '.' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}

// failingList is the fake whose ListSecrets fails like its DescribeSecret
// while a secret is made to fail: a failure of the service fails both.
type failingList struct{ *fakeAPI }

func (f *failingList) ListSecrets(ctx context.Context, in *sm.ListSecretsInput, o ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	f.mu.Lock()
	var err error
	for _, e := range f.describeErr {
		err = e
	}
	f.mu.Unlock()
	if err != nil {
		if berr := f.begin(ctx, OpListSecrets); berr != nil {
			return nil, berr
		}
		return nil, err
	}
	return f.fakeAPI.ListSecrets(ctx, in, o...)
}
