// Package pg starts a real PostgreSQL server for tests, from the server
// binaries that the machine's packages provide (Debian's postgresql package
// puts them in /usr/lib/postgresql/<version>/bin).
//
// [Start] runs initdb into a fresh directory (in os.TempDir, or in /tmp when
// that path is too long for a Unix socket or, for a server run as another OS
// user, closed to others) and starts postgres on
// 127.0.0.1 and a free port, with its Unix socket in that directory and
// fsync off. Connections over TCP authenticate with passwords
// (scram-sha-256); the superuser [SuperUser] has the password in
// [Server.SuperPassword]. [Server.Exec] runs SQL as the superuser over the
// Unix socket, so that changing the passwords of the roles under test never
// locks the helper out.
//
// When the tests run as root, initdb and postgres run as the "postgres" OS
// user (PostgreSQL refuses to run as root), and the directory belongs to it.
//
// The server stops when the test ends. postgres is started as a child of the
// test process with a parent-death signal, so it is killed even when the test
// binary dies without running its cleanups (a -timeout panic, a crash).
//
// Missing binaries are a test failure, not a skip: install PostgreSQL
// (apt-get install -y postgresql), as .ci/run does, or point PGBIN at the
// directory that holds initdb and postgres.
package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the name of the server's superuser.
const SuperUser = "postgres"

// Timeouts bounding each step; all waits poll against a deadline.
const (
	initTimeout  = 2 * time.Minute  // initdb on a busy machine
	readyTimeout = 60 * time.Second // from exec to the first accepted connection
	stopTimeout  = 15 * time.Second // fast shutdown before SIGKILL
	execTimeout  = 30 * time.Second // one Exec
	pollInterval = 20 * time.Millisecond
	startTries   = 3 // ports picked, in case another process takes the free one first
)

// libDir is where Debian's packages put each major version's binaries, as
// libDir/<version>/bin. A variable so that a test can hide them.
var libDir = "/usr/lib/postgresql"

// osUser is the OS user postgres runs as when the tests run as root.
const osUser = "postgres"

// Server is a running PostgreSQL server. Its methods are safe for concurrent
// use.
type Server struct {
	// Host is the address the server listens on, "127.0.0.1".
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// SuperPassword is the password of SuperUser for TCP connections.
	SuperPassword string
	// Version is the major version of the server binaries, such as "15".
	Version string
	// Dir is the directory that holds the data directory, the socket and the
	// server log. It is removed by Stop.
	Dir string

	bin     string
	cred    *syscall.Credential
	sockDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when postgres has exited
	waitErr error         // set before exited is closed

	mu       sync.Mutex
	super    *pgx.Conn // superuser over the Unix socket; nil until first used
	stopOnce sync.Once
	stopErr  error
}

// Start starts a server for the test and stops it when the test ends. It
// fails the test, with the reason and the end of the server log, if the
// server cannot be started, and when the binaries are missing.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := Launch()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("pg: stop: %v", err)
		}
	})
	return s
}

// Launch starts a server outside a test; the caller must call Stop. Start is
// Launch for tests.
func Launch() (*Server, error) {
	bin, version, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", bin: bin, Version: version}
	if err := s.prepare(); err != nil {
		s.removeDir()
		return nil, err
	}
	for try := 1; ; try++ {
		err = s.run()
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || try == startTries {
			s.removeDir()
			return nil, err
		}
	}
}

// DSN returns a URL connection string for user and password over TCP to the
// database "postgres", with TLS off: "postgres://user:pw@127.0.0.1:port/postgres?sslmode=disable".
// The user and password are escaped.
func (s *Server) DSN(user, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SuperDSN returns DSN(SuperUser, s.SuperPassword).
func (s *Server) SuperDSN() string { return s.DSN(SuperUser, s.SuperPassword) }

// Exec runs sql with args as the superuser, bounded by 30 seconds. Statements
// that take no parameters (CREATE ROLE, ALTER ROLE ... PASSWORD) must be given
// their values inline: quote them with Ident and Literal.
func (s *Server) Exec(sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	return s.ExecContext(ctx, sql, args...)
}

// ExecContext is Exec bounded by ctx.
func (s *Server) ExecContext(ctx context.Context, sql string, args ...any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.super == nil || s.super.IsClosed() {
		c, err := pgx.Connect(ctx, s.socketDSN())
		if err != nil {
			return fmt.Errorf("pg: connect as %s over the socket: %w", SuperUser, err)
		}
		s.super = c
	}
	if _, err := s.super.Exec(ctx, sql, args...); err != nil {
		if s.super.IsClosed() || ctx.Err() != nil {
			_ = s.super.Close(context.Background())
			s.super = nil
		}
		return fmt.Errorf("pg: exec: %w", err)
	}
	return nil
}

// MustExec is Exec that fails the test on error.
func (s *Server) MustExec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if err := s.Exec(sql, args...); err != nil {
		tb.Fatalf("%v", err)
	}
}

// CreateRole creates a role that can log in with password.
func (s *Server) CreateRole(name, password string) error {
	return s.Exec("CREATE ROLE " + Ident(name) + " LOGIN PASSWORD " + Literal(password))
}

// Log returns the server log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// AuthFailures returns how many password authentications the server has
// refused so far, as counted in its log.
func (s *Server) AuthFailures() int {
	return strings.Count(s.Log(), "FATAL:  password authentication failed")
}

// Ident quotes name as an SQL identifier.
func Ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// Literal quotes v as an SQL string literal (standard_conforming_strings is
// on, the default).
func Literal(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// Stop shuts the server down (fast shutdown: sessions are ended), kills it
// if it has not exited within 15 seconds, and removes Dir. Calling Stop more
// than once returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		if s.super != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.super.Close(ctx)
			cancel()
			s.super = nil
		}
		s.mu.Unlock()
		s.stopErr = s.halt()
		s.removeDir()
	})
	return s.stopErr
}

// halt stops postgres: SIGINT, then SIGKILL after stopTimeout.
func (s *Server) halt() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.exited:
		return nil
	case <-t.C:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("postgres did not shut down within %v and was killed; log:\n%s", stopTimeout, tail(s.Log()))
}

func (s *Server) removeDir() {
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

func (s *Server) socketDSN() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", s.sockDir, s.Port, SuperUser)
}

// findBin returns the directory holding initdb and postgres, and the major
// version: $PGBIN if set, else the newest /usr/lib/postgresql/<ver>/bin, else
// the directory of an initdb on PATH.
func findBin() (dir, version string, err error) {
	has := func(d string) bool {
		for _, f := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(d, f)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("PGBIN"); d != "" {
		if !has(d) {
			return "", "", fmt.Errorf("pg: PGBIN=%s does not hold initdb and postgres", d)
		}
		return d, versionOf(d), nil
	}
	dirs, _ := filepath.Glob(filepath.Join(libDir, "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, versionOf(d), nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(r)) {
			return filepath.Dir(r), versionOf(filepath.Dir(r)), nil
		}
	}
	return "", "", errors.New("pg: PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, " +
		"on PATH or in $PGBIN: these tests need a real PostgreSQL; install it (apt-get install -y postgresql), as .ci/run does")
}

// majorOf returns the number in /usr/lib/postgresql/<ver>/bin, or -1.
func majorOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

// versionOf asks postgres for its major version.
func versionOf(binDir string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(out)) // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
	if len(f) < 3 {
		return "unknown"
	}
	major, _, _ := strings.Cut(f[2], ".")
	return major
}

// lockThread runs start on an OS thread that stays locked until wait
// returns, so that the parent-death signal of the child started there fires
// only when the test process dies (Linux sends it when the creating thread
// exits).
func lockThread(start func() error, wait func()) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := start(); err != nil {
			started <- err
			return
		}
		started <- nil
		wait()
	}()
	return <-started
}

// credential returns the credential to run PostgreSQL with: nil unless the
// process is root, then the "postgres" user's.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(osUser)
	if err != nil {
		return nil, fmt.Errorf("pg: running as root, and PostgreSQL refuses root: need the OS user %q (the postgresql package creates it): %w", osUser, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pg: OS user %q has a non-numeric uid/gid %s/%s", osUser, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(gid)}}, nil
}

func tail(log string) string {
	const max = 4000
	if len(log) > max {
		return "..." + log[len(log)-max:]
	}
	return log
}
