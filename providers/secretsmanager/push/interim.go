package push

import "time"

// Stand-ins for config.Event and config.WatchReport until package config has them.
type Event struct {
	Source  string
	Version string
	At      time.Time
}

type WatchReport struct {
	Connected                   bool
	Err                         error
	LastEvent                   time.Time
	Handled, Ignored, Malformed int
}
