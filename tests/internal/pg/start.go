package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// errPortTaken reports that postgres could not bind the port picked for it.
var errPortTaken = errors.New("pg: port taken")

// hbaConf trusts the Unix socket, which lives in a directory only the server's
// OS user can enter, and asks every TCP client for a scram-sha-256 password.
const hbaConf = `# Written by tests/internal/pg.
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
`

// prepare creates Dir (owned by the server's OS user), runs initdb into
// Dir/data with a random superuser password and writes pg_hba.conf.
func (s *Server) prepare() error {
	cred, err := credential()
	if err != nil {
		return err
	}
	s.cred = cred
	dir, err := os.MkdirTemp(baseDir(cred), "strata-pg-")
	if err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	s.Dir = dir
	s.sockDir = dir
	s.logPath = filepath.Join(dir, "postgres.log")
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	s.SuperPassword = hex.EncodeToString(pw[:])
	pwFile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(s.SuperPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	if err := s.own(dir, pwFile); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	cmd := s.command(ctx, "initdb", "-D", data, "-U", SuperUser, "--pwfile="+pwFile,
		"-A", "scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg: initdb (%s): %w\n%s", s.bin, err, tail(string(out)))
	}
	_ = os.Remove(pwFile)
	hba := filepath.Join(data, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte(hbaConf), 0o600); err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	return s.own(hba)
}

// maxSocketDir bounds the length of the directory of the server's Unix
// socket: its path, dir/.s.PGSQL.PORT, must fit in sun_path (108 bytes).
const maxSocketDir = 80

// baseDir returns the directory to create the server's directory in: the
// system's temporary directory, or /tmp when that one is too long for a Unix
// socket path or, for a server run as another OS user (cred), not open to
// others to pass through (a TMPDIR of 0700).
func baseDir(cred *syscall.Credential) string {
	dir := os.TempDir()
	if len(dir) > maxSocketDir-len("/strata-pg-1234567890") {
		return "/tmp"
	}
	if cred == nil {
		return dir
	}
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return dir
		}
	}
}

// own gives paths to the server's OS user, if it is not the current one.
func (s *Server) own(paths ...string) error {
	if s.cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pg: %w", err)
		}
	}
	return nil
}

// command returns a command running the named server binary as the server's
// OS user, in Dir, with a minimal environment. It is killed if ctx ends or
// the test process dies.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = []string{"PATH=" + s.bin + ":/usr/bin:/bin", "LC_ALL=C", "LANG=C", "HOME=" + s.Dir, "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run starts postgres on a free port and waits until it accepts connections.
// It returns errPortTaken if the port was taken before postgres bound it.
func (s *Server) run() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := s.command(context.Background(), "postgres", "-D", filepath.Join(s.Dir, "data"),
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.sockDir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=200",
		"-c", "password_encryption=scram-sha-256")
	cmd.Stdout = logf
	cmd.Stderr = logf
	exited := make(chan struct{})
	err = lockThread(cmd.Start, func() {
		s.waitErr = cmd.Wait()
		close(exited)
	})
	if err != nil {
		return fmt.Errorf("pg: start postgres (%s): %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, exited
	if err := s.waitReady(); err != nil {
		_ = s.halt()
		if strings.Contains(s.Log(), "could not bind") || strings.Contains(s.Log(), "Address already in use") {
			return fmt.Errorf("%w: %d", errPortTaken, port)
		}
		return err
	}
	return nil
}

// waitReady polls a superuser connection over the socket until it succeeds,
// postgres exits or readyTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, s.socketDSN())
		if err == nil {
			err = c.Ping(ctx)
			_ = c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("pg: postgres exited at start-up (%v); log:\n%s", s.waitErr, tail(s.Log()))
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pg: postgres not ready within %v: %v; log:\n%s", readyTimeout, last, tail(s.Log()))
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pg: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
