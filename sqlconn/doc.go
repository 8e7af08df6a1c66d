// Package sqlconn is a database/sql driver.Connector bound to a config.Store,
// so a service keeps working, with no code change and no failed query, while
// its database password rotates.
//
//	connector := sqlconn.New(store, func(cfg *Config) (driver.Connector, error) {
//		return pq.NewConnector(cfg.Database.DSN()) // or sqlconn.DSN(stdlib.GetDefaultDriver(), dsn)
//	}, nil)
//	db := sql.OpenDB(connector)
//
// # Credentials
//
// Every new connection is dialled with the config the store serves at that
// moment: Connect calls store.Get and the dial function each time, so a
// rotation the store has picked up reaches the next connection at once.
// Connections already open are left alone (PostgreSQL and MySQL keep an
// authenticated session across a password change); see RecycleOnChange to
// close them after a change of user.
//
// # Authentication failures
//
// When the database refuses an attempt as an authentication failure
// (Options.IsAuthError; by default AuthError: PostgreSQL SQLSTATE 28P01 and
// 28000, MySQL error 1045), Connect:
//
//  1. tries at once again if the store already serves other credentials
//     (another connection's refresh, or the schedule, moved them);
//  2. otherwise calls store.Refresh, which waits for a read of the
//     refreshable layers that starts after the call; concurrent calls from
//     the whole pool share one read, and reads are at least
//     config.Options.MinRefreshInterval apart, so a login storm is not an
//     API storm;
//  3. tries at once with what the store serves after that read if it
//     changed, else after a jittered backoff (Options.Backoff doubling up
//     to Options.MaxBackoff, each wait between half and all of it);
//  4. repeats from 1 until an attempt succeeds, an error that is not an
//     authentication failure comes (returned at once: database/sql handles
//     driver.ErrBadConn itself), Options.RetryBudget (default 20 seconds,
//     from the start of the Connect) is spent or ctx ends.
//
// This rides out single-user rotation's window, between setSecret (the
// database has the new password) and finishSecret (AWSCURRENT moves to it):
// the failed attempts are retried until the store reads the moved secret.
// A Connector made with NewPending also tries the secret's AWSPENDING
// version, which the store reads through a second, optional spec, after the
// current credentials were refused (once per Connect and config snapshot):
// during the window that connects at once, without waiting for
// finishSecret. Pending credentials that connected are tried first by later
// Connects while the store serves the same config, and each pending success
// starts a background Refresh, so the store catches up with finishSecret
// without a refused login asking for it. See
// docs/rotation.md for both rotation strategies and the IAM they need.
//
// # Errors and logs
//
// A driver's error may quote the DSN, the user, and with some drivers the
// password (and pgx's *pgconn.ConnectError holds the whole connection
// config, password included), so the connector never returns or logs it,
// nor calls its Error method. A Connect that gives up returns an *Error that
// holds instead the driver error's SQLSTATE or MySQL error number, the Go
// types of its chain, the attempts made, why it gave up and the sources of
// the credentials tried ("secretsmanager app/db#password (version 3f2a9c1e,
// AWSCURRENT)"), which name the secret, version and stage, never a value.
// It matches ErrAuth when the last attempt was refused as an authentication
// failure, the context's error when the context ended, driver.ErrBadConn,
// and a copy of a dial's *net.OpError reduced to its operation, IP
// addresses and ports and errno or DNS error kind (a host name and an IPv6
// zone that is not a number are not kept: a DSN with a stray "@" in its
// password puts part of it there). So
// errors.As to the driver's own error type does not work through it: use
// Error.Code, or a custom Options.IsAuthError, which sees the driver's
// error.
//
// # Misbehaving drivers
//
// A dial function or a driver's Connect that panics, a driver error whose
// methods (Unwrap, Is, SQLState) or an Options.IsAuthError that panics, and
// a Connect that returns neither a connection nor an error, end the Connect
// with an *Error saying so (the panic's value, which may quote a DSN, is
// dropped); a pending dial function that panics counts as no pending
// version. A driver's Connect that does not return when its context ends
// is left behind: Connect returns the context's error at once, and closes
// the connection that driver returns later, if any (a panic of that Close
// is dropped too). Connector.Driver on a connector whose Driver method
// panics or returns nil gives a driver whose Open says so.
//
// # Counters
//
// Stats counts Connect calls, attempts, authentication failures, refreshes
// asked, refreshes that moved the credentials, recoveries, failures, and
// the pending attempts, successes and background refreshes of NewPending.
package sqlconn
