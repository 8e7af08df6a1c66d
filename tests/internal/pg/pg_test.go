package pg

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func TestPGStartPasswordAuth(t *testing.T) {
	s := Start(t)
	if s.Port == 0 || s.Host != "127.0.0.1" {
		t.Fatalf("listening on %s:%d", s.Host, s.Port)
	}
	const role, pw = "app_it's", "p'w \"1\" @:/"
	if err := s.CreateRole(role, pw); err != nil {
		t.Fatal(err)
	}
	if got := queryUser(t, s.DSN(role, pw)); got != role {
		t.Errorf("current_user = %q, want %q", got, role)
	}
	if got := queryUser(t, s.SuperDSN()); got != SuperUser {
		t.Errorf("superuser over TCP: current_user = %q", got)
	}

	before := s.AuthFailures()
	db, err := sql.Open("pgx", s.DSN(role, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("wrong password: err = %v, want SQLSTATE 28P01", err)
	}
	if got := s.AuthFailures(); got != before+1 {
		t.Errorf("AuthFailures = %d, want %d", got, before+1)
	}

	// A new password takes effect for new connections at once.
	if err := s.Exec("ALTER ROLE " + Ident(role) + " PASSWORD " + Literal("new")); err != nil {
		t.Fatal(err)
	}
	if got := queryUser(t, s.DSN(role, "new")); got != role {
		t.Errorf("after ALTER ROLE: current_user = %q", got)
	}
}

func TestPGDataDirOwnedByServerUser(t *testing.T) {
	s := Start(t)
	st, err := os.Stat(s.Dir + "/data")
	if err != nil {
		t.Fatal(err)
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	if os.Geteuid() == 0 {
		if s.cred == nil || uid != s.cred.Uid || uid == 0 {
			t.Errorf("running as root: data dir owned by uid %d, want the %s user", uid, osUser)
		}
	} else if uid != uint32(os.Geteuid()) {
		t.Errorf("data dir owned by uid %d, want %d", uid, os.Geteuid())
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", st.Mode().Perm())
	}
}

func TestPGStopEndsServer(t *testing.T) {
	s, err := Launch()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("Dir %s not removed: %v", s.Dir, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := s.Exec("SELECT 1"); err == nil {
		t.Error("Exec after Stop succeeded")
	}
}

func TestPGMissingBinariesFail(t *testing.T) {
	old := libDir
	libDir = t.TempDir()
	t.Cleanup(func() { libDir = old })
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PGBIN", "")
	_, err := Launch()
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("Launch without binaries: err = %v, want a hint to install postgresql", err)
	}

	t.Setenv("PGBIN", t.TempDir())
	if _, err := Launch(); err == nil || !strings.Contains(err.Error(), "PGBIN=") {
		t.Fatalf("Launch with an empty PGBIN: err = %v", err)
	}
}

// childEnv makes the test binary a child that starts a server, reports it and
// dies without running cleanups, as a test binary does on -timeout.
const childEnv = "STRATA_PG_TEST_CHILD"

func TestPGKilledWithTestProcess(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		s, err := Launch()
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Printf("READY %s %d %s\n", s.Host, s.Port, s.Dir)
		os.Exit(2) // no Stop, no cleanup
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPGKilledWithTestProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var host, dir string
	var port int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "READY %s %d %s", &host, &port, &dir); err == nil {
			break
		}
		t.Log(sc.Text())
	}
	_ = cmd.Wait()
	if port == 0 {
		t.Fatal("child did not start a server")
	}
	t.Cleanup(func() {
		// Should postgres have outlived the child, end it before removing
		// its directory: the first line of postmaster.pid is its pid.
		if b, err := os.ReadFile(dir + "/data/postmaster.pid"); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = os.RemoveAll(dir)
	})
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return // postgres is gone with its parent
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("postgres on %s still running 30s after the test process died", addr)
		}
		<-tick.C
	}
}

func queryUser(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var u string
	if err := db.QueryRow("SELECT current_user").Scan(&u); err != nil {
		t.Fatalf("query as %s: %v", dsn[:strings.Index(dsn, ":")], err)
	}
	return u
}

// TestPGTempDirOthersCannotEnter starts a server with TMPDIR set to a
// directory closed to others and to one too long for a socket path: the
// server's directory goes to /tmp instead.
func TestPGTempDirOthersCannotEnter(t *testing.T) {
	closed := t.TempDir() // 0700, below the test's own 0700 directory
	long := filepath.Join(t.TempDir(), strings.Repeat("x", 100))
	if err := os.Mkdir(long, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, tmp := range []string{closed, long} {
		t.Setenv("TMPDIR", tmp)
		s := Start(t)
		if err := s.Exec("SELECT 1"); err != nil {
			t.Errorf("TMPDIR=%s: %v", tmp, err)
		}
		if os.Geteuid() == 0 || len(tmp) > maxSocketDir {
			if !strings.HasPrefix(s.Dir, "/tmp/") {
				t.Errorf("TMPDIR=%s: Dir = %s, want one in /tmp", tmp, s.Dir)
			}
		}
	}
}
