package sqlconn

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrAuth is matched (errors.Is) by the error of a Connect whose last
// attempt the database refused as an authentication failure (see
// Options.IsAuthError).
var ErrAuth = errors.New("the database refused the credentials")

// AuthError reports whether err, or an error in its chain (errors.As), is an
// authentication failure of a built-in kind:
//
//   - PostgreSQL SQLSTATE 28P01 (invalid_password) or 28000
//     (invalid_authorization_specification), read from an error with a method
//     SQLState() string: *pgconn.PgError of github.com/jackc/pgx/v5 (and so its
//     stdlib driver, where it comes wrapped in a *pgconn.ConnectError) and
//     *pq.Error of github.com/lib/pq both have one;
//   - MySQL error 1045 (ER_ACCESS_DENIED_ERROR), read from the Number field of
//     a *MySQLError of github.com/go-sql-driver/mysql.
//
// It imports no driver: the PostgreSQL drivers are recognised by the method,
// the MySQL driver by its error type's name and field.
func AuthError(err error) bool {
	code, kind := errorCode(err)
	switch kind {
	case sqlState:
		return code == "28P01" || code == "28000"
	case mysqlNumber:
		return code == "1045"
	}
	return false
}

type codeKind int

const (
	noCode codeKind = iota
	sqlState
	mysqlNumber
)

// errorCode finds the first error in err's tree that carries a database
// error code: a SQLSTATE from a SQLState() string method, or the Number of a
// MySQLError.
func errorCode(err error) (string, codeKind) {
	var code string
	var kind codeKind
	walk(err, func(e error) bool {
		if s, ok := e.(interface{ SQLState() string }); ok && !isNilPointer(e) {
			code, kind = s.SQLState(), sqlState
			if !validSQLState(code) {
				code = "?????" // not a SQLSTATE: never quote it
			}
			return true
		}
		if n, ok := mysqlErrorNumber(e); ok {
			code, kind = strconv.FormatUint(n, 10), mysqlNumber
			return true
		}
		return false
	})
	return code, kind
}

// validSQLState reports whether s has the form of a SQLSTATE: five digits
// or upper-case letters.
func validSQLState(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// mysqlErrorNumber reads the Number of a *MySQLError (go-sql-driver/mysql
// declares `type MySQLError struct { Number uint16; SQLState [5]byte;
// Message string }`) without importing the driver.
func mysqlErrorNumber(e error) (uint64, bool) {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, false
	}
	v = v.Elem()
	if v.Kind() != reflect.Struct || v.Type().Name() != "MySQLError" {
		return 0, false
	}
	f, ok := v.Type().FieldByName("Number")
	if !ok || !f.IsExported() {
		return 0, false
	}
	switch f.Type.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return v.FieldByIndex(f.Index).Uint(), true
	}
	return 0, false
}

func isNilPointer(e error) bool {
	v := reflect.ValueOf(e)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// walk visits err's tree depth first (as errors.As does) until visit
// returns true. It stops at a depth of 32 and 256 errors, so a cyclic or
// huge chain cannot hang it.
func walk(err error, visit func(error) bool) {
	seen := 0
	var rec func(e error, depth int) bool
	rec = func(e error, depth int) bool {
		if e == nil || depth > 32 || seen >= 256 {
			return false
		}
		seen++
		if visit(e) {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			return rec(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				if rec(c, depth+1) {
					return true
				}
			}
		}
		return false
	}
	rec(err, 0)
}

// conditions names the SQLSTATEs a connection attempt commonly ends with.
var conditions = map[string]string{
	"28P01": "invalid_password",
	"28000": "invalid_authorization_specification",
	"3D000": "invalid_catalog_name",
	"53300": "too_many_connections",
	"57P03": "cannot_connect_now",
	"08006": "connection_failure",
	"08001": "sqlclient_unable_to_establish_sqlconnection",
}

// describe says what a driver's error was without any of its text, which
// may quote a DSN, a user or a password: its SQLSTATE or MySQL error number
// and the Go types of its chain. It never calls Error on the driver's error.
func describe(err error) (code, text string) {
	c, kind := errorCode(err)
	var types []string
	walk(err, func(e error) bool {
		if len(types) < 4 {
			types = append(types, fmt.Sprintf("%T", e))
		}
		return false
	})
	if own, ok := find[ownError](err); ok {
		return "", own.Error()
	}
	var b strings.Builder
	switch kind {
	case sqlState:
		b.WriteString("SQLSTATE " + c)
		if name := conditions[c]; name != "" {
			b.WriteString(" " + name)
		}
	case mysqlNumber:
		b.WriteString("MySQL error " + c)
	default:
		b.WriteString("no database error code")
	}
	b.WriteString("; ")
	b.WriteString(strings.Join(types, " wrapping "))
	return c, b.String()
}

// verdict is what a Connect keeps of an error: whether it is an
// authentication failure, its code and description (see describe) and the
// errors a caller may match (see kept). The error itself is never kept.
type verdict struct {
	auth        bool
	code, cause string
	match       []error
}

// examine reduces err to a verdict, asking isAuth (when not nil) whether it
// is an authentication failure. This is the only place a driver's error is
// looked into: it is hostile input, and a method of it (Unwrap, Is,
// SQLState, a nil embedded pointer under reflection) or isAuth may panic,
// with a value that may quote the DSN. Such a panic is not let through to
// the caller of Connect: its value is dropped and the verdict says so.
func examine(err error, isAuth func(error) bool) (v verdict) {
	defer func() {
		if p := recover(); p != nil {
			v = verdict{cause: fmt.Sprintf("an error that cannot be examined "+
				"(a method of it or Options.IsAuthError panicked: a panic of type %T)", p)}
		}
	}()
	if isAuth != nil {
		v.auth = isAuth(err)
	}
	v.code, v.cause = describe(err)
	v.match = kept(err)
	return v
}

// kept returns the errors of err's tree that a caller may match and that
// hold no secret text: the context's errors, driver.ErrBadConn (database/sql
// retries on it) and a copy of a *net.OpError (a dial that failed) reduced
// to what cannot hold a credential.
func kept(err error) []error {
	var out []error
	if op, ok := find[*net.OpError](err); ok && op != nil {
		out = append(out, safeOpError(op))
	}
	for _, target := range []error{context.Canceled, context.DeadlineExceeded, driver.ErrBadConn} {
		if is(err, target) {
			out = append(out, target)
		}
	}
	return out
}

// find is errors.As on walk: bounded, so a cyclic chain cannot hang it.
func find[E error](err error) (E, bool) {
	var out E
	found := false
	walk(err, func(e error) bool {
		out, found = e.(E)
		return found
	})
	return out, found
}

// is is errors.Is on walk: bounded, so a cyclic chain cannot hang it.
func is(err, target error) bool {
	found := false
	walk(err, func(e error) bool {
		if reflect.TypeOf(e).Comparable() && e == target {
			found = true
		} else if x, ok := e.(interface{ Is(error) bool }); ok && !isNilPointer(e) {
			found = x.Is(target)
		}
		return found
	})
	return found
}

// safeOpError copies a dial's error keeping only what cannot quote a
// credential: the operation and network when they are known names, IP addresses and ports, and a system
// call's name and errno, a DNS error's kind (not the name looked up: a DSN
// with a stray "@" in its password puts part of it in the host) or the
// context's error; anything else becomes its Go type.
func safeOpError(op *net.OpError) *net.OpError {
	out := &net.OpError{Op: known(op.Op, opNames), Net: known(op.Net, netNames), Source: safeAddr(op.Source), Addr: safeAddr(op.Addr)}
	sys, isSys := find[*os.SyscallError](op.Err)
	errno, isErrno := find[syscall.Errno](op.Err)
	dns, isDNS := find[*net.DNSError](op.Err)
	switch {
	case op.Err == nil:
	case isSys && sys != nil && isErrno:
		out.Err = &os.SyscallError{Syscall: sys.Syscall, Err: errno}
	case isErrno:
		out.Err = errno
	case isDNS && dns != nil:
		out.Err = &net.DNSError{Err: dnsKind(dns), Name: "(host not shown)",
			IsTimeout: dns.IsTimeout, IsTemporary: dns.IsTemporary, IsNotFound: dns.IsNotFound}
	case is(op.Err, context.DeadlineExceeded):
		out.Err = context.DeadlineExceeded
	case is(op.Err, context.Canceled):
		out.Err = context.Canceled
	default:
		out.Err = fmt.Errorf("%T", op.Err)
	}
	return out
}

// The operations and networks a *net.OpError names. A driver builds its
// Net from the DSN (go-sql-driver/mysql's "proto(addr)"), so any other
// value, which could hold part of a badly escaped password, is dropped.
var (
	opNames  = []string{"dial", "read", "write", "close", "listen", "accept"}
	netNames = []string{"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "ip", "ip4", "ip6", "unix", "unixgram", "unixpacket"}
)

// known returns s if it is one of names, else "".
func known(s string, names []string) string {
	for _, n := range names {
		if s == n {
			return s
		}
	}
	return ""
}

// dnsKind says what a DNS error was without its text.
func dnsKind(e *net.DNSError) string {
	switch {
	case e.IsNotFound:
		return "no such host"
	case e.IsTimeout:
		return "timeout"
	case e.IsTemporary:
		return "temporary failure"
	}
	return "lookup failed"
}

// safeAddr copies the IP address and port of the net package's own
// address types, whose text is numeric, but not an IPv6 zone unless it is a
// number: a zone is text a driver takes from the DSN's host
// ("[fe80::1%eth0]"), which a badly escaped password can fill.
func safeAddr(a net.Addr) net.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		if a != nil {
			return &net.TCPAddr{IP: slices.Clone(a.IP), Port: a.Port, Zone: numericZone(a.Zone)}
		}
	case *net.UDPAddr:
		if a != nil {
			return &net.UDPAddr{IP: slices.Clone(a.IP), Port: a.Port, Zone: numericZone(a.Zone)}
		}
	case *net.IPAddr:
		if a != nil {
			return &net.IPAddr{IP: slices.Clone(a.IP), Zone: numericZone(a.Zone)}
		}
	}
	return nil
}

// numericZone returns zone if it is an interface index, else "".
func numericZone(zone string) string {
	if _, err := strconv.ParseUint(zone, 10, 32); err != nil {
		return ""
	}
	return zone
}

// Error is the error of a Connect that failed. It never holds the driver's
// error, whose text may quote a DSN or a password (and a *pgconn.ConnectError
// holds the whole connection config, password included): it holds the
// driver error's SQLSTATE or MySQL error number and Go types instead, and
// which credentials were tried.
//
// It matches (errors.Is / errors.As) ErrAuth when the last attempt was an
// authentication failure, context.Canceled or context.DeadlineExceeded when
// the context ended (the caller's, or the driver's own timeout),
// driver.ErrBadConn when the driver said so, and a copy of a *net.OpError
// from the driver's chain when a dial failed (operation, IP addresses,
// errno or DNS error kind only).
type Error struct {
	// Attempts counts the connection attempts this Connect made.
	Attempts int
	// AuthFailures counts the attempts refused as authentication failures.
	AuthFailures int
	// Elapsed is how long the Connect took.
	Elapsed time.Duration
	// Reason says why the Connect gave up: "not an authentication failure",
	// "the retry budget of 20s was spent", "the context ended".
	Reason string
	// Code is the SQLSTATE ("28P01") or MySQL error number ("1045") of the
	// last attempt's error, empty when it carries none.
	Code string
	// Cause describes the last attempt's error without its text: its code
	// and the Go types of its chain ("SQLSTATE 28P01 invalid_password;
	// *pgconn.ConnectError wrapping *pgconn.PgError").
	Cause string
	// Sources are where the credentials tried came from, in the order tried:
	// "secretsmanager app/db#password (version 3f2a9c1e, AWSCURRENT)".
	Sources []string
	// Refresh is the error of the last Store.Refresh this Connect asked for,
	// nil if it succeeded, none was asked or the retry budget ended its
	// wait. A store's errors hold no secret.
	Refresh error

	auth  bool
	match []error
}

// Error describes the failure; it never holds secret text.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqlconn: connect failed after %d attempt(s) in %s", e.Attempts, e.Elapsed.Round(time.Millisecond))
	if e.auth {
		b.WriteString(": " + ErrAuth.Error())
	}
	fmt.Fprintf(&b, " (%s): %s", e.Cause, e.Reason)
	if e.AuthFailures > 0 {
		fmt.Fprintf(&b, "; %d authentication failure(s)", e.AuthFailures)
	}
	if len(e.Sources) > 0 {
		b.WriteString("; credentials tried: " + strings.Join(e.Sources, ", "))
	}
	if e.Refresh != nil {
		b.WriteString("; last refresh: " + e.Refresh.Error())
	}
	return b.String()
}

// Unwrap returns the errors the caller may match: ErrAuth, the context's
// error, driver.ErrBadConn, a *net.OpError and the last Refresh error, as
// they apply.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, len(e.match)+2)
	if e.auth {
		out = append(out, ErrAuth)
	}
	out = append(out, e.match...)
	if e.Refresh != nil {
		out = append(out, e.Refresh)
	}
	return out
}
