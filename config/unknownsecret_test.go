package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
)

type unknownSecretConfig struct {
	Database struct {
		Host     string
		Port     int
		Password config.Secret
		Replica  struct{ Host string }
	}
	Debug bool
}

// TestUnknownSecretKeyUnderListsKnownNames checks that an unknown key of a
// secret is reported with the names the schema has under the mount, so that
// the wrong key can be found, and never with the key itself.
func TestUnknownSecretKeyUnderListsKnownNames(t *testing.T) {
	schema, err := config.SchemaFor[unknownSecretConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	const key = "database.pasword"
	src := config.Source{Layer: "secretsmanager", Location: "my-app/production/database"}
	cases := []struct {
		mount string
		known []string
		text  string
	}{
		{"database", []string{"host", "password", "port", "replica.*"},
			"a key of secretsmanager my-app/production/database maps to no field (the keys under database are host, password, port, replica.*); did you mean database.password?"},
		{"database.replica", []string{"host"}, "(the keys under database.replica are host)"},
		{"", []string{"database.*", "debug"}, "(the top-level keys are database.*, debug)"},
		{"database.host", nil, "maps to no field; did you mean"}, // a field, not a section
		{"nowhere", nil, "maps to no field; did you mean"},
	}
	for _, tc := range cases {
		u := schema.UnknownSecretKeyUnder(tc.mount, key, src)
		if u.Name != "" || u.Mount != tc.mount || fmt.Sprint(u.Known) != fmt.Sprint(tc.known) {
			t.Errorf("mount %q: Name %q, Mount %q, Known %v; want no name and Known %v", tc.mount, u.Name, u.Mount, u.Known, tc.known)
		}
		for _, text := range []string{u.Error(), fmt.Sprintf("%+v", u), fmt.Sprintf("%#v", u)} {
			if !strings.Contains(text, tc.text) {
				t.Errorf("mount %q: message %q, want it to hold %q", tc.mount, text, tc.text)
			}
			if strings.Contains(text, "pasword") {
				t.Errorf("mount %q: message %q shows the key", tc.mount, text)
			}
		}
	}
}

// TestUnknownNameErrorCapsKnown checks that a long list of known names is cut
// short with a count.
func TestUnknownNameErrorCapsKnown(t *testing.T) {
	var known []string
	for i := range 25 {
		known = append(known, fmt.Sprintf("f%02d", i))
	}
	u := &config.UnknownNameError{Source: config.Source{Layer: "docs"}, Mount: "m", Known: known}
	if got, want := u.Error(), "f19 and 5 more)"; !strings.Contains(got, want) || strings.Contains(got, "f20") {
		t.Errorf("message %q, want the first 20 names and %q", got, want)
	}
}
