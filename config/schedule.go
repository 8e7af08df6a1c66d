package config

import (
	"math/rand/v2"
	"time"
)

// outcome is how a read of the refreshable layers ended, as the schedule
// sees it.
type outcome int

const (
	readOK        outcome = iota // every layer was read (a rejected change is still a read)
	readTransient                // every failure may pass soon: retry with backoff
	readPermanent                // a failure that waiting will not fix: retry at the TTL
	readClosed                   // the store closed during the read
)

// schedule decides when a store reads its refreshable layers next. It is the
// only place that does: the background loop, lazy mode and Refresh all ask it.
// It holds no lock; the store's mutex guards it.
type schedule struct {
	ttl      time.Duration // Options.RefreshInterval
	min      time.Duration // Options.MinRefreshInterval: the least time between two read starts
	first    time.Duration // Options.RetryBackoff: the first retry after a transient failure
	lastRead time.Time     // when the last read started (Load's counts)
	next     time.Time     // when the next scheduled read is due
	failures int           // transient failures in a row
	jitter   func(n int64) int64
}

func newSchedule(o Options, start time.Time) schedule {
	sc := schedule{ttl: o.RefreshInterval, min: o.MinRefreshInterval, first: o.RetryBackoff,
		lastRead: start, jitter: rand.Int64N}
	sc.next = start.Add(sc.jittered(sc.ttl))
	return sc
}

// started records that a read started at t.
func (sc *schedule) started(t time.Time) { sc.lastRead = t }

// earliest is when the next read may start: MinRefreshInterval after the last
// one started, whoever asks for it.
func (sc *schedule) earliest() time.Time { return sc.lastRead.Add(sc.min) }

// finished sets the next scheduled read after a read that ended at t.
func (sc *schedule) finished(t time.Time, o outcome) {
	switch o {
	case readClosed:
		return
	case readTransient:
		sc.failures++
		sc.next = t.Add(sc.retry(sc.failures))
	default:
		sc.failures = 0
		sc.next = t.Add(sc.jittered(sc.ttl))
	}
}

// retrySoon moves the next read to the retry after a transient failure of
// a read a watch caused that ended at t, if that is earlier. It counts no
// failure: only the reads of every layer back off.
func (sc *schedule) retrySoon(t time.Time) {
	if due := t.Add(sc.retry(sc.failures + 1)); due.Before(sc.next) {
		sc.next = due
	}
}

// retry returns the wait before retry n (1-based) after transient failures:
// RetryBackoff doubled each time (1s, 2s, 4s, ...), ±10 %, until it reaches the
// TTL; from then on the TTL ±10 %, the healthy rate. A long outage thus costs
// about as many attempts as health does, and a fleet does not retry in step.
func (sc *schedule) retry(n int) time.Duration {
	d := sc.first
	for i := 1; i < n && d < sc.ttl; i++ {
		d *= 2
	}
	return sc.jittered(min(d, sc.ttl))
}

// jittered returns d moved by up to ±10 %.
func (sc *schedule) jittered(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + time.Duration(sc.jitter(int64(d/5)+1))
}
