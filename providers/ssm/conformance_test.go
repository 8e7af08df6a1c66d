package ssm

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// conformanceRoot is where the conformance fixture keeps its parameters:
// one path per section of the suite's schema.
const conformanceRoot = "/app/conformance"

// paramOf returns the parameter name and type of a key of the suite: tokens
// are SecureStrings, anything else a String.
func paramOf(root, key string) (string, types.ParameterType) {
	typ := types.ParameterTypeString
	if strings.HasSuffix(key, ".token") || strings.HasSuffix(key, ".tokn") {
		typ = types.ParameterTypeSecureString
	}
	return root + "/" + strings.ReplaceAll(key, ".", "/"), typ
}

// TestConformance runs the layer contract, refresh rules included, on the
// layer over the in-memory fake API: one Path spec per section.
func TestConformance(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		api := newFake()
		// Like the SDK, fail a call whose ctx is done.
		api.hook = func(ctx context.Context, _ string) error { return ctx.Err() }
		var specs []Spec
		for _, section := range configtest.Sections {
			specs = append(specs, Path(conformanceRoot+"/"+section, section, nil))
		}
		layer := NewWithClient(api, &Options{Logger: s.Logger}, specs...)
		return configtest.Fixture{
			Set: func(key, value string) {
				name, typ := paramOf(conformanceRoot, key)
				api.put(name, typ, value)
			},
			Layer: func() config.Layer { return layer },
			Fail: func(section string, f configtest.Failure, text string) bool {
				failFake(api, section, f, text)
				return true
			},
			Reads: func() int { return api.count(OpGetParameters) + api.count(OpGetParametersByPath) },
		}
	}})
}

// failFake makes the parameters of section ("" for all) fail as f says. A
// malformed answer carries the text as the value under a type that is none;
// it and the recovery give each parameter a new version, so that a refresh
// reads them.
func failFake(api *fakeAPI, section string, f configtest.Failure, text string) {
	prefix := conformanceRoot
	if section != "" {
		prefix += "/" + section
	}
	api.mu.Lock()
	delete(api.fail, prefix)
	_, wasBroken := api.broken[prefix]
	delete(api.broken, prefix)
	switch f {
	case configtest.Transient:
		api.fail[prefix] = apiErr("InternalServerError", "internal error")
	case configtest.Permanent:
		api.fail[prefix] = apiErr("AccessDeniedException", "User: arn:aws:iam::000000000000:user/ci is not authorized to perform: ssm:GetParametersByPath")
	case configtest.Malformed:
		api.broken[prefix] = text
	}
	api.mu.Unlock()
	if f == configtest.Malformed || wasBroken {
		api.bump(prefix)
	}
}
