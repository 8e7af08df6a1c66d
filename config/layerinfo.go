package config

// The types in this file describe what a layer needs from, and costs in, the
// system it reads, for tools that check a service's configuration before a
// deploy (the configcheck package). They carry no behaviour. They live here,
// beside Layer, so that a provider can describe itself by importing only this
// package, which it already imports: the interfaces that ask for them are
// declared by the tool that uses them, and a provider implements those without
// importing the tool.

// Permission is one grant a layer needs to read its values: the actions it
// calls on the resources it reads, as one statement of an AWS IAM policy (or of
// a similar policy language). Actions and Resources use the policy language's
// own syntax ("secretsmanager:GetSecretValue",
// "arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-app/db-??????").
type Permission struct {
	// Sid names the statement, such as "ReadConfiguredSecrets". A tool that
	// merges the permissions of several layers keeps the first of two equal
	// ones and makes the others unique.
	Sid string
	// Actions are the operations allowed. Never empty.
	Actions []string
	// Resources are the resources they are allowed on; "*" where the service
	// supports no resource-level permission for an action.
	Resources []string
	// Condition is the statement's condition block, such as
	// {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}.
	// Nil for none.
	Condition map[string]map[string]string
	// Notes explain to a person why the grant is as wide as it is (why a
	// Resource is "*"), or what the layer could not know (a key it was not
	// told of).
	Notes []string
}

// PermissionScope is what a layer is told when it writes its Permissions:
// facts about the deployment it cannot know by itself.
type PermissionScope struct {
	// Account is the account that owns the resources, such as
	// "123456789012"; "*" when it is not known.
	Account string
	// KeyIDs are the ARNs of customer managed encryption keys (AWS KMS) that
	// encrypt the layer's values, for a layer that needs to be allowed to
	// decrypt with them. Empty when the values use the service's own key.
	KeyIDs []string
	// Push is how change events reach the layer, for a layer that can learn
	// of changes by push; the zero value is none.
	Push PushWiring
}

// PushWiring is how change events reach a layer that can learn of changes by
// push (Secrets Manager through EventBridge and SQS), for the permissions,
// cost and infrastructure a tool describes.
type PushWiring struct {
	// Mode is PushNone, PushQueue or PushFanout.
	Mode string
	// Queue is the queue's name (PushQueue), or the prefix of the names of
	// the queues the replicas create (PushFanout). Empty for a default the
	// layer chooses.
	Queue string
	// Topic is the name of the topic events are fanned out through
	// (PushFanout). Empty for a default the layer chooses.
	Topic string
}

// The modes of PushWiring.
const (
	// PushNone: no push; the layer polls.
	PushNone = ""
	// PushQueue: a queue per replica that the platform provides.
	PushQueue = "queue"
	// PushFanout: an event rule targets a topic, and each replica creates
	// its own queue subscribed to it at start and deletes it on Close.
	PushFanout = "fanout"
)

// The ways a layer may check for changes, for CostScope.Check.
const (
	// CheckOwn: the layer's own configuration.
	CheckOwn = ""
	// CheckEach: one version check per item per refresh (DescribeSecret).
	CheckEach = "each"
	// CheckListed: listings that carry the versions of many items gate the
	// checks (ListSecrets), when that takes fewer calls.
	CheckListed = "listed"
)

// CostScope is what a layer is told when it describes its CostModel:
// assumptions about what it cannot count before it runs.
type CostScope struct {
	// ItemsPerListing is the number of items to assume behind each source the
	// layer discovers by listing (such as a Secrets Manager name prefix).
	ItemsPerListing int
	// Replicas is the number of processes of the fleet, for calls whose
	// count grows with it (a sweep that looks at the queue of every
	// replica). 0 stands for 1.
	Replicas int
	// Check is how to assume the layer checks for changes at each refresh:
	// CheckOwn (its configuration), CheckEach or CheckListed. A layer that
	// has one way only ignores it.
	Check string
	// Push is how to assume change events reach the layer (none by
	// default); a layer that cannot learn of changes by push ignores it. The
	// store's refresh interval is then the safety-net poll behind push.
	Push PushWiring
}

// CostModel is how a layer uses a paid API: the calls one process makes, and
// what storing its values costs. A tool multiplies it out for a fleet of
// processes, a refresh interval and a number of changes a month.
type CostModel struct {
	// Calls are the operations the layer calls, each once.
	Calls []APICall
	// Stored is the number of billed items the layer reads, such as secrets;
	// 0 when storage is not billed by item.
	Stored int
	// StoredUnit names one stored item, such as "secret".
	StoredUnit string
	// PricePerStoredMonth is the price of one stored item a month, in US
	// dollars.
	PricePerStoredMonth float64
	// Followed is the number of items whose changes the layer picks up at a
	// refresh, each costing the PerChange calls of its operations.
	Followed int
	// PollCalls is the number of calls a client without a cheap version
	// check would make to read every value once, for comparison with polling;
	// PollOperation names the operation it would call. 0 when no such
	// comparison applies.
	PollCalls     float64
	PollOperation string
	// Push is the mode of the push wiring the model assumes: the scope's, or
	// the layer's own when the scope gives none; PushNone without push. With
	// push, a tool takes the store's refresh interval to be the safety-net
	// poll (config.Options.WatchInterval).
	Push string
	// Notes are assumptions of the model a person should know.
	Notes []string
}

// APICall is one operation of a CostModel: how often one process calls it, its
// price and its rate quota.
type APICall struct {
	// Service names the API, such as "secretsmanager": operations of two
	// layers with the same Service and Operation share a quota.
	Service string
	// Operation is the operation's name, such as "GetSecretValue".
	Operation string
	// AtStart is the number of calls when a store loads.
	AtStart float64
	// PerRefresh is the number of calls at each refresh when nothing changed.
	PerRefresh float64
	// PerChange is the number of calls after one followed item changed (a
	// rotation of one secret).
	PerChange float64
	// BatchSize is the most items one call reads; 0 or 1 for one.
	BatchSize int
	// PricePer10k is the price of 10,000 calls in US dollars.
	PricePer10k float64
	// QuotaPerSecond is the most calls a second the service accepts (per
	// account and region for AWS); 0 when there is no published quota.
	QuotaPerSecond float64
	// PerMonth is the number of calls in a month that do not depend on
	// starts, refreshes or changes, such as the long polls of a queue (one
	// per 20 seconds when idle). 0 for none.
	PerMonth float64
	// Note explains the counts to a person, such as why one is 0 ("every
	// secret is pinned to a version"). Empty for none.
	Note string
}
