package push

import (
	"encoding/json"
	"strings"
	"time"
)

// The event Secrets Manager sends to the EventBridge default bus when a
// staging label moves to another version of a secret.
const (
	EventSource     = "aws.secretsmanager"
	EventDetailType = "Secret Label Updated"
	// CurrentLabel is the one label whose moves matter: the version a store
	// reads. Events for other labels are ignored.
	CurrentLabel = "AWSCURRENT"
)

// A Change is what one Secret Label Updated event says: the secret (by name
// and ARN), the label that moved, the version it moved to and when.
type Change struct {
	Name      string    // detail.name
	ARN       string    // resources[0]; "" when the event carries none
	Label     string    // detail.labelUpdated
	VersionID string    // detail.versionId
	At        time.Time // the event's time; zero when it carries none that parses
}

// verdict is what a message body turned out to be.
type verdict int

const (
	verdictChange    verdict = iota + 1 // a Secret Label Updated event
	verdictOther                        // a well-formed message about something else
	verdictMalformed                    // not a message this package can read
)

// snsEnvelope is the JSON SNS wraps a message in when delivering it to SQS
// without raw message delivery.
type snsEnvelope struct {
	Type     string  `json:"Type"`
	Message  *string `json:"Message"`
	TopicArn string  `json:"TopicArn"`
}

// ebEvent is an EventBridge event as delivered to a target.
type ebEvent struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type labelDetail struct {
	Name         string `json:"name"`
	LabelUpdated string `json:"labelUpdated"`
	VersionID    string `json:"versionId"`
}

// parse reads a message body: an EventBridge event, sent by an EventBridge
// rule to the queue or by SNS with raw message delivery, or the same event
// inside an SNS notification envelope. why names what was wrong with a
// malformed body in words of this package only: never a part of the body,
// which could hold anything (encoding/json's errors quote the input).
func parse(body string) (c Change, v verdict, why string) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		return Change{}, verdictMalformed, "the body is not a JSON object"
	}
	if _, ok := probe["TopicArn"]; ok {
		var env snsEnvelope
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			return Change{}, verdictMalformed, "an SNS envelope whose fields have the wrong types"
		}
		if env.Type != "Notification" {
			return Change{}, verdictOther, "an SNS message that is not a Notification"
		}
		if env.Message == nil {
			return Change{}, verdictMalformed, "an SNS notification without a Message"
		}
		return parseEvent(*env.Message, "in an SNS notification, ")
	}
	return parseEvent(body, "")
}

// Bounds of the fields of an event's detail, as Secrets Manager sets them:
// a secret name is at most 512 characters (an ARN, 2048), a label 256, a
// VersionId 64 (a UUID, or the ClientRequestToken of 32 to 64 characters).
const (
	maxNameLen    = 2048
	maxLabelLen   = 256
	maxVersionLen = 64
)

// badDetail says what is wrong with a detail's fields, or "" when nothing
// is. A field past its bound, or holding a space, a quote, a backslash or a
// control character, is no value Secrets Manager sends: the message is
// malformed, and none of its text goes further (the store's errors and logs
// may name a secret and a version, never arbitrary text of a message).
func badDetail(d labelDetail) string {
	switch {
	case !token(d.Name, maxNameLen):
		return "detail.name is not a secret name"
	case !token(d.LabelUpdated, maxLabelLen):
		return "detail.labelUpdated is not a staging label"
	case d.VersionID != "" && !token(d.VersionID, maxVersionLen):
		return "detail.versionId is not a VersionId"
	}
	return ""
}

// token reports whether s has 1 to max bytes of printable ASCII other than
// space, double quote and backslash.
func token(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// parseEvent reads an EventBridge event; where prefixes the reasons.
func parseEvent(body, where string) (Change, verdict, string) {
	var ev ebEvent
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return Change{}, verdictMalformed, where + "the message is not an EventBridge event (not a JSON object with string source and detail-type)"
	}
	if ev.Source == "" || ev.DetailType == "" {
		return Change{}, verdictMalformed, where + "the message is not an EventBridge event (no source or detail-type)"
	}
	if ev.Source != EventSource || ev.DetailType != EventDetailType {
		return Change{}, verdictOther, where + "an event of another source or detail-type than " + EventSource + " " + EventDetailType
	}
	var d labelDetail
	if len(ev.Detail) == 0 || json.Unmarshal(ev.Detail, &d) != nil {
		return Change{}, verdictMalformed, where + "a " + EventDetailType + " event without a detail object"
	}
	if d.Name == "" || d.LabelUpdated == "" {
		return Change{}, verdictMalformed, where + "a " + EventDetailType + " event without detail.name or detail.labelUpdated"
	}
	if why := badDetail(d); why != "" {
		return Change{}, verdictMalformed, where + "a " + EventDetailType + " event whose " + why
	}
	c := Change{Name: d.Name, Label: d.LabelUpdated, VersionID: d.VersionID}
	if strings.HasPrefix(c.Name, "arn:") {
		c.ARN = c.Name
	}
	if len(ev.Resources) > 0 && strings.HasPrefix(ev.Resources[0], "arn:") && token(ev.Resources[0], maxNameLen) {
		c.ARN = ev.Resources[0]
	}
	if t, err := time.Parse(time.RFC3339Nano, ev.Time); err == nil {
		c.At = t
	}
	return c, verdictChange, ""
}
