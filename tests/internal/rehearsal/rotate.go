package rehearsal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strata-go/strata/tests/internal/pg"
)

// Staging labels.
const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"
)

// excludeChars are the characters AWS's rotation functions keep out of
// generated passwords by default.
const excludeChars = `/@"'\`

// Rotator performs rotations of an Env's secret with the four steps of AWS's
// PostgreSQL rotation functions (SecretsManagerRDSPostgreSQLRotationSingleUser
// and ...MultiUser), in the order Secrets Manager invokes them, followed by
// what Secrets Manager does when the function returns: it removes AWSPENDING.
//
//   - createSecret: unless the version of this rotation exists already, put
//     a copy of AWSCURRENT with a new password from GetRandomPassword (and,
//     for alternating users, the other user) as AWSPENDING.
//   - setSecret: if the pending credentials already log in, do nothing.
//     Single user: log in as the user with AWSCURRENT (else AWSPREVIOUS) and
//     change its own password with ALTER USER. Alternating users: log in with
//     the superuser's secret (masterarn); create the pending user with the
//     rights of the current one (GRANT current TO pending) if it does not
//     exist, or change its password.
//   - testSecret: log in with AWSPENDING and run the service's query.
//   - finishSecret: move AWSCURRENT to the pending version
//     (UpdateSecretVersionStage; AWSPREVIOUS follows).
//
// Passwords go to the database as SCRAM verifiers of few iterations (see
// passwordSQL), not as the plain text AWS's functions send: the same
// exchange at login, at a fraction of the client's cost.
//
// Hold lengthens the window: it waits that long after setSecret, as a slow
// rotation function or a Lambda cold start would.
type Rotator struct {
	Env  *Env
	Hold time.Duration

	mu      sync.Mutex
	calls   map[string]int // Secrets Manager calls by operation
	refused int            // logins of the rotation function that the database refused
}

// Calls returns the Secrets Manager calls the rotations made, by operation.
func (r *Rotator) Calls() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

// Refused returns how many of the rotation function's logins the database
// refused (setSecret's check of the pending credentials, which have not been
// set yet, is refused once per single-user rotation).
func (r *Rotator) Refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

func (r *Rotator) count(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[op]++
}

// Rotate performs one rotation with a new ClientRequestToken.
func (r *Rotator) Rotate(ctx context.Context) error {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	token := h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
	steps := []struct {
		name string
		run  func(context.Context, string) error
	}{
		{"createSecret", r.createSecret},
		{"setSecret", r.setSecret},
		{"hold", func(ctx context.Context, _ string) error { return sleep(ctx, r.Hold) }},
		{"testSecret", r.testSecret},
		{"finishSecret", r.finishSecret},
		{"remove AWSPENDING", r.removePending},
	}
	for _, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, callTimeout)
		err := s.run(sctx, token)
		cancel()
		if err != nil {
			return fmt.Errorf("rehearsal: rotation %s of %s: %s: %w", token, r.Env.Strategy, s.name, err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get reads the secret id at versionID and stage; found is false when no
// such version exists.
func (r *Rotator) get(ctx context.Context, id, versionID, stage string) (v secretJSON, found bool, err error) {
	in := &sm.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	r.count("GetSecretValue")
	out, err := r.Env.Client.GetSecretValue(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException" {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return v, false, fmt.Errorf("secret %s %s is not the JSON of a rotation secret", id, stage)
	}
	return v, true, nil
}

func (r *Rotator) createSecret(ctx context.Context, token string) error {
	cur, _, err := r.get(ctx, r.Env.SecretID, "", stageCurrent)
	if err != nil {
		return err
	}
	if _, found, err := r.get(ctx, r.Env.SecretID, token, stagePending); err != nil || found {
		return err
	}
	r.count("GetRandomPassword")
	pw, err := r.Env.Client.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{ExcludeCharacters: aws.String(excludeChars)})
	if err != nil {
		return err
	}
	pending := cur
	pending.Password = aws.ToString(pw.RandomPassword)
	if r.Env.Strategy == AlternatingUsers {
		pending.Username = UserA
		if cur.Username == UserA {
			pending.Username = UserB
		}
	}
	b, err := json.Marshal(pending)
	if err != nil {
		return err
	}
	r.count("PutSecretValue")
	_, err = r.Env.Client.PutSecretValue(ctx, &sm.PutSecretValueInput{
		SecretId: aws.String(r.Env.SecretID), ClientRequestToken: aws.String(token),
		SecretString: aws.String(string(b)), VersionStages: []string{stagePending},
	})
	return err
}

// connect logs in with s; a refusal by the database is counted and
// returned as a nil connection without error.
func (r *Rotator) connect(ctx context.Context, s secretJSON) (*pgx.Conn, error) {
	c, err := pgx.Connect(ctx, s.dsn())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
		r.mu.Lock()
		r.refused++
		r.mu.Unlock()
		return nil, nil
	}
	return c, err
}

func (r *Rotator) setSecret(ctx context.Context, token string) error {
	pending, _, err := r.get(ctx, r.Env.SecretID, token, stagePending)
	if err != nil {
		return err
	}
	if c, err := r.connect(ctx, pending); err != nil || c != nil {
		if c != nil {
			_ = c.Close(ctx) // already set by an earlier attempt
		}
		return err
	}
	if r.Env.Strategy == AlternatingUsers {
		return r.setAlternating(ctx, pending)
	}
	c, err := r.loginAsCurrentOrPrevious(ctx)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "ALTER USER "+pg.Ident(pending.Username)+" WITH PASSWORD "+passwordSQL(pending.Password))
	return err
}

func (r *Rotator) loginAsCurrentOrPrevious(ctx context.Context) (*pgx.Conn, error) {
	for _, stage := range []string{stageCurrent, stagePrevious} {
		s, found, err := r.get(ctx, r.Env.SecretID, "", stage)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		c, err := r.connect(ctx, s)
		if err != nil || c != nil {
			return c, err
		}
	}
	return nil, errors.New("neither AWSCURRENT nor AWSPREVIOUS logs in")
}

func (r *Rotator) setAlternating(ctx context.Context, pending secretJSON) error {
	cur, _, err := r.get(ctx, r.Env.SecretID, "", stageCurrent)
	if err != nil {
		return err
	}
	master, found, err := r.get(ctx, cur.MasterARN, "", stageCurrent)
	if err != nil || !found {
		return fmt.Errorf("read the superuser's secret (masterarn): found %v: %w", found, err)
	}
	c, err := r.connect(ctx, master)
	if err != nil || c == nil {
		return fmt.Errorf("log in with the superuser's secret: %w", err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", pending.Username).Scan(&exists); err != nil {
		return err
	}
	user, pw := pg.Ident(pending.Username), passwordSQL(pending.Password)
	if exists {
		_, err = c.Exec(ctx, "ALTER USER "+user+" WITH PASSWORD "+pw)
		return err
	}
	if _, err := c.Exec(ctx, "CREATE ROLE "+user+" WITH LOGIN PASSWORD "+pw); err != nil {
		return err
	}
	_, err = c.Exec(ctx, "GRANT "+pg.Ident(cur.Username)+" TO "+user)
	return err
}

func (r *Rotator) testSecret(ctx context.Context, token string) error {
	pending, _, err := r.get(ctx, r.Env.SecretID, token, stagePending)
	if err != nil {
		return err
	}
	c, err := r.connect(ctx, pending)
	if err != nil || c == nil {
		return fmt.Errorf("log in with AWSPENDING: %w", err)
	}
	defer c.Close(ctx)
	var n int
	return c.QueryRow(ctx, Query).Scan(&n)
}

func (r *Rotator) finishSecret(ctx context.Context, token string) error {
	r.count("DescribeSecret")
	d, err := r.Env.Client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(r.Env.SecretID)})
	if err != nil {
		return err
	}
	var current string
	for v, stages := range d.VersionIdsToStages {
		for _, s := range stages {
			if s == stageCurrent {
				current = v
			}
		}
	}
	if current == token {
		return nil // finished by an earlier attempt
	}
	r.count("UpdateSecretVersionStage")
	_, err = r.Env.Client.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: aws.String(r.Env.SecretID), VersionStage: aws.String(stageCurrent),
		MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(current),
	})
	return err
}

func (r *Rotator) removePending(ctx context.Context, token string) error {
	r.count("UpdateSecretVersionStage")
	_, err := r.Env.Client.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: aws.String(r.Env.SecretID), VersionStage: aws.String(stagePending),
		RemoveFromVersionId: aws.String(token),
	})
	return err
}
