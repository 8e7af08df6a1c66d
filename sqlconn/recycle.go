package sqlconn

import (
	"database/sql"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/strata-go/strata/config"
)

// RecycleOptions tunes RecycleOnChange. The zero value is valid; each
// field's comment gives its default.
type RecycleOptions struct {
	// Keys are the configuration keys whose change means new credentials,
	// such as "database.user" and "database.password". Default: every secret
	// field of the store's schema.
	Keys []string
	// Within is the age above which connections are closed while recycling:
	// every connection opened before a change is older than Within at most
	// Within after it. Recycling lasts 2·Within + 1s. Default: 30 seconds.
	Within time.Duration
	// MaxLifetime is the pool's own setting of sql.DB.SetConnMaxLifetime,
	// which RecycleOnChange sets again when recycling ends. Default: 0,
	// database/sql's default (connections are not closed for their age).
	MaxLifetime time.Duration
	// Logger receives one line when recycling starts and one when it ends,
	// naming the keys that changed, never a value. Default: slog.Default().
	Logger *slog.Logger
}

// RecycleOnChange closes the pooled connections of db that were opened with
// old credentials, after the store publishes a change of one of
// opts.Keys. It is meant for alternating-users rotation: a Connector dials
// new connections as the new user at once, while the pool's connections of
// the old user would live on until that user's password changes at the
// next rotation (PostgreSQL and MySQL keep a session open after its
// password changed, but the pool's connections should not outlive the
// credentials they were opened with).
//
// After such a change it sets db.SetConnMaxLifetime(Within) (or the pool's
// own MaxLifetime, if shorter) for 2·Within + 1s, then sets MaxLifetime
// again. So each connection opened before the change is older than Within
// from Within after the change on, and database/sql closes it when it is
// next taken from the pool or when its cleaner runs (every Within, or every
// second if Within is shorter): by 2·Within + 1s after the change every
// connection of the old credentials that was idle at some point of that
// time is closed. A connection that stays checked out for the whole time is
// not. During the same time a connection opened after the change may be
// closed once for its age, which costs one extra dial. A further change
// while recycling starts the time again.
//
// It returns a function that stops watching and, if recycling is under way,
// sets MaxLifetime again at once; call it before db.Close or store.Close.
//
// With a nil store or db there is nothing to watch: it returns a stop that
// does nothing.
func RecycleOnChange[T any](store *config.Store[T], db *sql.DB, opts *RecycleOptions) (stop func()) {
	if store == nil || db == nil {
		return func() {}
	}
	r := &recycler{db: db}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.Within <= 0 {
		r.opts.Within = 30 * time.Second
	}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.Default()
	}
	r.keys = slices.Clone(r.opts.Keys)
	if len(r.keys) == 0 {
		for _, ki := range store.Keys() {
			if ki.Secret {
				r.keys = append(r.keys, ki.Key)
			}
		}
	}
	unsubscribe := store.Subscribe(func(c config.Change[T]) { r.changed(c.Keys) })
	var once sync.Once
	return func() {
		once.Do(func() {
			unsubscribe()
			r.stop()
		})
	}
}

type recycler struct {
	db   *sql.DB
	opts RecycleOptions
	keys []string

	mu      sync.Mutex
	timer   *time.Timer // ends the recycling under way; nil when none
	gen     int         // counts recyclings started, so a late timer ends only its own
	stopped bool
}

// changed starts (or restarts) recycling when one of r.keys changed.
func (r *recycler) changed(keys []string) {
	var hit []string
	for _, k := range keys {
		if slices.Contains(r.keys, k) {
			hit = append(hit, k)
		}
	}
	if len(hit) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	lifetime := r.opts.Within
	if r.opts.MaxLifetime > 0 && r.opts.MaxLifetime < lifetime {
		lifetime = r.opts.MaxLifetime
	}
	r.db.SetConnMaxLifetime(lifetime)
	if r.timer != nil {
		r.timer.Stop()
	}
	r.gen++
	gen := r.gen
	hold := r.hold()
	r.timer = time.AfterFunc(hold, func() { r.end(gen) })
	r.opts.Logger.Info("sqlconn: credentials changed; recycling connections opened before",
		"keys", hit, "max_lifetime", lifetime, "for", hold)
}

// hold is how long recycling lasts: two Within, and the second of
// database/sql's cleaner, which runs no more often than every second.
func (r *recycler) hold() time.Duration { return 2*r.opts.Within + time.Second }

// end sets the pool's own MaxLifetime again.
func (r *recycler) end(gen int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer == nil || r.stopped || gen != r.gen {
		return
	}
	r.timer = nil
	r.db.SetConnMaxLifetime(r.opts.MaxLifetime)
	r.opts.Logger.Info("sqlconn: recycling ended", "max_lifetime", r.opts.MaxLifetime)
}

func (r *recycler) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
		r.db.SetConnMaxLifetime(r.opts.MaxLifetime)
	}
}
