package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/strata-go/strata/config"
)

type secretMapCfg struct {
	Tokens map[string]config.Secret `validate:"dive,min=40"`
	Hooks  map[string]config.Secret `validate:"dive,keys,min=3,endkeys"`
}

// TestForeignValidatorHidesSecretMapKeys checks that a rule failing inside a
// map of secrets names no map key, whichever validator checks it: a key of a
// secret is secret text, and a validator that is not NewValidator's has the
// store check such fields itself.
func TestForeignValidatorHidesSecretMapKeys(t *testing.T) {
	const canary = "CANARY-mapkey-5d1e"
	for _, v := range []*validator.Validate{nil, config.NewValidator(), validator.New()} {
		_, err := config.Load[secretMapCfg](context.Background(), &config.Options{Validator: v},
			config.StaticSecrets("sm", map[string]string{"tokens": canary + "=short", "hooks": "x" + canary[:1] + "=" + strings.Repeat("v", 50)}))
		if err == nil {
			t.Fatal("want a validation error")
		}
		text := fmt.Sprintf("%v %+v %#v %s %q", err, err, err, err, err)
		for _, e := range flatten(err) {
			text += fmt.Sprintf("%v %+v %#v", e, e, e)
			if fe := (*config.FieldError)(nil); errors.As(e, &fe) {
				text += fe.Key
			}
		}
		js, _ := json.Marshal(err)
		text += string(js)
		if strings.Contains(text, canary) || strings.Contains(text, "[xC]") {
			t.Errorf("validator %v: a map key of a secret appears:\n%s", v != nil, text)
		}
		if !strings.Contains(text, "tokens has an entry that must have at least 40 characters") {
			t.Errorf("validator %v: the message does not say an entry failed:\n%s", v != nil, text)
		}
	}
}

// flatten returns err and every error in its Unwrap chain.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, flatten(e)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, flatten(u.Unwrap())...)
	}
	return out
}

