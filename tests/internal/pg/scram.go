package pg

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// ScramVerifier returns the SCRAM-SHA-256 verifier of password with the
// given iteration count, in the form PostgreSQL stores
// ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"). Given to
// CREATE ROLE or ALTER ROLE ... PASSWORD, it is stored as is, and a client
// logs in with the password through the same SCRAM exchange as with a
// password the server hashed itself (PostgreSQL 15 always uses 4096
// iterations; version 16 has the scram_iterations setting). The client's
// PBKDF2 costs as many iterations as the verifier says: under the race
// detector 4096 make logins the main cost of a rehearsal.
func ScramVerifier(password string, iterations int) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		panic(fmt.Sprintf("pg: SCRAM verifier: %v", err)) // only for invalid parameters of this package's callers
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key")))
}
