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
	c := Change{Name: d.Name, Label: d.LabelUpdated, VersionID: d.VersionID}
	if strings.HasPrefix(c.Name, "arn:") {
		c.ARN = c.Name
	}
	if len(ev.Resources) > 0 && strings.HasPrefix(ev.Resources[0], "arn:") {
		c.ARN = ev.Resources[0]
	}
	if t, err := time.Parse(time.RFC3339Nano, ev.Time); err == nil {
		c.At = t
	}
	return c, verdictChange, ""
}
