// Package push tells a Secrets Manager layer of rotations as they happen.
//
// Secrets Manager sends a Secret Label Updated event to the EventBridge
// default bus whenever a staging label moves to another version of a secret.
// Routed to SQS, directly by an EventBridge rule or through an SNS topic, it
// reaches a Feed, which long-polls the queue (ReceiveMessage with
// WaitTimeSeconds 20 and MaxNumberOfMessages 10) and tells its Target of each
// move of AWSCURRENT. Give a Feed to the layer as
// secretsmanager.Options.Push: the layer's Watch runs it for the store, which
// then reads the rotated secret at once and polls only as a safety net
// (config.Options.WatchInterval, 1 hour by default).
//
// # Feeds
//
// Queue reads a queue the platform provides for each replica. FanOut creates a
// queue per run under a name prefix, lets an SNS topic send to it, subscribes
// it with raw message delivery, renews a heartbeat tag on it while it runs and
// deletes it with its subscription when the run ends; at start it deletes the
// queues under the prefix whose heartbeat is stale (those of replicas that
// crashed), examining at most Options.SweepLimit of one ListQueues page.
//
// # Messages
//
// A message body is an EventBridge event, or one inside an SNS notification
// envelope (a subscription without raw delivery). Events of AWSCURRENT for a
// secret the target resolves are Handled: Target.Notify is called for each
// source. Events of other labels, other events and events for secrets not in
// use are Ignored. Anything else is Malformed, logged with its message id and
// a reason, never with its body; so is an event whose name, label or
// versionId is no value Secrets Manager sends (too long, or holding a space,
// a quote, a backslash or a control character). Every message is deleted, with
// DeleteMessageBatch, only once Notify (which must not block) returned for it.
//
// # Failures
//
// A feed that cannot run as configured (no client, no queue URL, no topic, a
// bad prefix) is told by Feed.Err, an ErrFeed error; a Secrets Manager layer
// given one fails its first read, so config.Load reports it.
//
// Run returns nil when its ctx ends, at once even in the middle of a long
// poll. When the queue is missing, access is denied or a call keeps failing
// after the SDK's retries, it reports Connected false with an *Error (matching
// a config sentinel: ErrNotFound, ErrAccessDenied, ErrThrottled, ErrCredentials
// or ErrTransient) and returns it; the caller runs it again later.
//
// # IAM
//
// Actions lists the IAM actions each Mode needs; see docs/secrets-manager.md,
// "Push refresh for fleets", for the wiring, the policies and the costs.
package push
