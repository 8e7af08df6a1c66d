package secretsmanager

import (
	"context"
	"strings"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

var _ config.Watcher = (*Reader)(nil)

// Watch reads Options.Push until ctx ends, telling the store of each
// rotation of a secret the reader uses as it happens; see package push.
// Without Options.Push it returns nil at once: there is nothing to watch,
// and the store polls. When the queue fails (missing, access denied, SQS
// unavailable) it reports the watch disconnected with the error and returns
// it; the store polls at its RefreshInterval meanwhile and calls Watch
// again with backoff.
//
// A Secret Label Updated event for AWSCURRENT of a secret the reader uses
// (matched by name or ARN against the specs, and by name under a Prefix
// spec; an event whose ARN is of another account, region or partition than
// the spec reads, the spec's own ARN or the client's, is ignored) notifies
// the source of each spec that follows the secret's
// AWSCURRENT, with the event's version, and of each spec that reads another
// stage of it (AWSPREVIOUS moves with AWSCURRENT), without one. A spec
// pinned to a VersionId never changes and is not notified. Events for other
// labels and other secrets are ignored (counted, and deleted from the
// queue).
func (l *Reader) Watch(ctx context.Context, w config.Watch) error {
	if l.opts.Push == nil {
		return nil
	}
	report := w.Report
	if report == nil {
		report = func(config.WatchReport) {}
	}
	return l.opts.Push.Run(ctx, push.Target{Resolve: l.resolve, Notify: w.Notify, Report: report})
}

// resolve returns the events of the sources a change of AWSCURRENT concerns.
func (l *Reader) resolve(c push.Change) []config.Event {
	name := c.Name
	if strings.HasPrefix(name, "arn:") {
		name = nameOfARN(name)
	}
	arn := c.ARN
	var out []config.Event
	seen := map[string]bool{}
	add := func(r ref) {
		if r.versionID != "" || seen[r.label()] {
			return
		}
		seen[r.label()] = true
		e := config.Event{Source: r.label(), At: c.At}
		if r.stage == "" {
			e.Version = c.VersionID
		}
		out = append(out, e)
	}
	for _, s := range l.sources {
		switch {
		case l.foreign(s.id, arn):
			continue // the same name in another account, region or partition
		case s.kind == kindPrefix:
			if _, ok := underPrefix(name, s.id); ok && name != "" {
				add(s.ref(name))
			}
		case s.id == name || sameSecret(s.id, name, arn) || (name != "" && nameOfID(s.id) == name):
			add(s.ref(s.id))
		}
	}
	return out
}

// foreign reports whether an event's ARN names a secret of another account,
// region or partition than the spec id reads: the scope of id when it is an
// ARN, else the client's own scope (once a read taught it). An event that
// carries no ARN, or an ARN whose scope is not known, is not foreign.
func (l *Reader) foreign(id, eventARN string) bool {
	got := arnScope(eventARN)
	if got == "" {
		return false
	}
	want := arnScope(id)
	if want == "" && !strings.HasPrefix(id, "arn:") {
		if h := l.home.Load(); h != nil {
			want = *h
		}
	}
	return want != "" && got != want
}

// learnHome records the scope of the client's own secrets from the ARN of a
// secret read by name.
func (l *Reader) learnHome(arn string) {
	if scope := arnScope(arn); scope != "" {
		if h := l.home.Load(); h == nil || *h != scope {
			l.home.Store(&scope)
		}
	}
}

// arnScope returns the part of a secret's ARN (full or partial) before its
// name, "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:", or "".
func arnScope(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	i := strings.Index(arn, ":secret:")
	if i < 0 {
		return ""
	}
	return arn[:i+len(":secret:")]
}

// feedError is the error of a reader whose Options.Push cannot run: one
// problem, matching config.ErrLayer and the feed's push.ErrFeed.
type feedError struct{ err error }

func (e feedError) Error() string {
	return "secretsmanager: " + config.ErrLayer.Error() + ": Options.Push: " + e.err.Error()
}

func (e feedError) Unwrap() error { return e.err }

func (e feedError) Is(target error) bool { return target == config.ErrLayer }

// nameOfID returns the secret name in an id: the id itself, or the name in
// a full or partial ARN.
func nameOfID(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	if n := nameOfARN(id); n != id {
		return n
	}
	_, rest, ok := strings.Cut(id, ":secret:")
	if !ok {
		return id
	}
	return rest
}

// Push returns the reader's push feed (Options.Push), or nil without push:
// for tools that describe the layer, such as the IAM actions the feed needs
// (Push().Actions()).
func (l *Reader) Push() *push.Feed { return l.opts.Push }
