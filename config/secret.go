package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Redacted is what every printable form of a secret shows.
const Redacted = "[REDACTED]"

// Secret holds a sensitive string. Every way of printing it (String, GoString,
// every fmt verb, JSON, text, slog) shows [REDACTED]; the value is reached only
// through Reveal, so a grep for Reveal finds every place a secret leaves its
// wrapper. Secrets compare with ==.
//
// A Secret in an unexported field of a program's own struct is printed by
// fmt without its methods (fmt cannot call methods of unexported fields): it
// then shows masked bytes, never the value.
type Secret struct {
	// masked is the value masked with the process's mask key (see mask):
	// equal values have equal masks, so == compares the values.
	masked string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{masked: mask(s)} }

// Reveal returns the secret value. Pass it straight to the API that needs it;
// never log or print it.
func (s Secret) Reveal() string { return mask(s.masked) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.masked == "" }

// Len returns the length of the secret in bytes.
func (s Secret) Len() int { return len(s.masked) }

// Fingerprint returns a short keyed hash of the value, safe to print, so two
// environments can be compared without showing the secret. See Fingerprint.
func (s Secret) Fingerprint() string { return Fingerprint(s.Reveal()) }

// String returns [REDACTED].
func (Secret) String() string { return Redacted }

// GoString returns [REDACTED], for %#v.
func (Secret) GoString() string { return Redacted }

// Format prints [REDACTED] for every verb, so %x, %q and %s cannot expose the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON returns "[REDACTED]".
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText returns [REDACTED].
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue returns [REDACTED], for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// UnmarshalText sets the secret from text. It lets a Secret be decoded like any
// other text field.
func (s *Secret) UnmarshalText(b []byte) error {
	s.masked = mask(string(b))
	return nil
}

// UnmarshalJSON sets the secret from a JSON string.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("secret: expected a JSON string")
	}
	s.masked = mask(v)
	return nil
}

// maskKey is the process's mask key: random, and no byte of it zero, so that
// no byte of a value is left as it is.
var maskKey = func() (k [32]byte) {
	_, _ = rand.Read(k[:]) // never fails (crypto/rand)
	for i := range k {
		k[i] |= 0x80
	}
	return k
}()

// mask masks s with maskKey, and unmasks what it masked. It keeps a value
// from being printed by accident, by a path that bypasses Secret's methods;
// it is no encryption: the key is in the process.
func mask(s string) string {
	if s == "" {
		return ""
	}
	b := make([]byte, len(s))
	for i := range len(s) {
		b[i] = s[i] ^ maskKey[i%len(maskKey)]
	}
	return string(b)
}

// defaultFingerprintKey keys the fingerprint HMAC when the deployment gives no
// key. It is fixed so that fingerprints of one value agree across processes and
// environments, which is what comparison needs; it is not a secret.
var defaultFingerprintKey = []byte("strata-go/strata fingerprint v1")

// Fingerprint returns the first 8 hex digits of HMAC-SHA256(value) under a fixed
// key: enough to tell whether two environments hold the same secret. Like any
// deterministic digest it can confirm a guess of a weak secret (a PIN, a
// dictionary word), so it serves comparison, not the protection of weak
// secrets.
func Fingerprint(value string) string {
	return FingerprintWithKey(nil, value)
}

// FingerprintWithKey is Fingerprint under key, a secret of the deployment
// (Options.FingerprintKey): without the key a fingerprint cannot be checked
// against guesses. Every environment compared must use the same key. A nil or
// empty key is the fixed default key of Fingerprint.
func FingerprintWithKey(key []byte, value string) string {
	if len(key) == 0 {
		key = defaultFingerprintKey
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:4])
}
