package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-secret-7c1d"
	s := config.NewSecret(canary)
	type wrapper struct {
		Password config.Secret
		Ptr      *config.Secret
	}
	w := wrapper{Password: s, Ptr: &s}
	var forms []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		forms = append(forms, fmt.Sprintf(verb, s), fmt.Sprintf(verb, w), fmt.Sprintf(verb, &w))
	}
	forms = append(forms, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s))
	js, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	forms = append(forms, string(js))
	txt, _ := s.MarshalText()
	forms = append(forms, string(txt))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s, "wrapper", w)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s, "ptr", &s)
	forms = append(forms, logs.String())
	for _, f := range forms {
		if strings.Contains(f, canary) || strings.Contains(f, fmt.Sprintf("%x", canary)) {
			t.Errorf("secret shown: %s", f)
		}
	}
	if !strings.Contains(string(js), `"Password":"[REDACTED]"`) {
		t.Errorf("JSON = %s", js)
	}
	if s.Reveal() != canary || s.Len() != len(canary) || s.IsZero() {
		t.Error("Reveal/Len/IsZero wrong")
	}
	if s != config.NewSecret(canary) || s == config.NewSecret("other") {
		t.Error("secrets do not compare by value")
	}
}

func TestSecretUnmarshal(t *testing.T) {
	t.Parallel()
	var v struct{ Token config.Secret }
	if err := json.Unmarshal([]byte(`{"Token":"abc"}`), &v); err != nil || v.Token.Reveal() != "abc" {
		t.Errorf("UnmarshalJSON: %v %q", err, v.Token.Reveal())
	}
	if err := json.Unmarshal([]byte(`{"Token":12}`), &v); err == nil || strings.Contains(err.Error(), "12") {
		t.Errorf("UnmarshalJSON of a number: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a, b := config.Fingerprint("one"), config.Fingerprint("two")
	if a == b || len(a) != 8 || a != config.Fingerprint("one") || a != config.NewSecret("one").Fingerprint() {
		t.Errorf("fingerprints %q %q", a, b)
	}
}

func TestFingerprintKey(t *testing.T) {
	t.Parallel()
	if config.FingerprintWithKey(nil, "v") != config.Fingerprint("v") {
		t.Error("a nil key is not the default key")
	}
	a, b := config.FingerprintWithKey([]byte("k1"), "v"), config.FingerprintWithKey([]byte("k2"), "v")
	if a == b || a == config.Fingerprint("v") {
		t.Errorf("keys do not change the fingerprint: %s %s", a, b)
	}
	st, err := config.Load[appCfg](context.Background(), &config.Options{Logger: discard(), FingerprintKey: []byte("k1")},
		config.Static("env", map[string]string{"database.host": "db"}),
		config.StaticSecrets("sm", map[string]string{"database.password": "correct-horse-battery"}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ki, _ := st.Explain("database.password"); ki.Fingerprint != config.FingerprintWithKey([]byte("k1"), "correct-horse-battery") {
		t.Errorf("Explain fingerprint %s is not under Options.FingerprintKey", ki.Fingerprint)
	}
}

// A Secret in an unexported field of a program's own struct is printed by
// fmt without its methods; it shows masked bytes, not the value. Masking
// keeps == and every method as they were.
func TestSecretInUnexportedField(t *testing.T) {
	t.Parallel()
	const value = "Kq7-unexported-field-secret-longer-than-the-mask-key-é"
	type holder struct {
		name string
		pw   config.Secret
	}
	h := holder{name: "db", pw: config.NewSecret(value)}
	if how, out, ok := configtest.Reveals(h, value); ok {
		t.Errorf("a struct holding a Secret in an unexported field, printed as %s, shows it: %s", how, out)
	}
	if how, out, ok := configtest.Reveals(&h, value); ok {
		t.Errorf("a pointer to it, printed as %s, shows it: %s", how, out)
	}
	if h.pw.Reveal() != value || h.pw.Len() != len(value) || h.pw.IsZero() {
		t.Errorf("Reveal %q, Len %d, IsZero %v", h.pw.Reveal(), h.pw.Len(), h.pw.IsZero())
	}
	if h.pw != config.NewSecret(value) || h.pw == config.NewSecret(value+"x") || config.NewSecret("") != (config.Secret{}) {
		t.Error("Secrets do not compare with == as their values do")
	}
	if h.pw.Fingerprint() != config.Fingerprint(value) {
		t.Error("the fingerprint is not the value's")
	}
	var u config.Secret
	if err := u.UnmarshalText([]byte(value)); err != nil || u != h.pw {
		t.Errorf("UnmarshalText = %v, %v", err, u == h.pw)
	}
}
