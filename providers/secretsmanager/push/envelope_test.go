package push

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf"

func event(label string) string {
	return `{"version":"0","id":"6a7e8feb","detail-type":"Secret Label Updated","source":"aws.secretsmanager",` +
		`"account":"111122223333","time":"2026-12-01T10:00:00Z","region":"us-east-1","resources":["` + arn + `"],` +
		`"detail":{"name":"app/db","labelUpdated":"` + label + `","versionId":"v2"}}`
}

func snsWrap(msg string) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": msg})
	return string(b)
}

func TestParseShapes(t *testing.T) {
	want := Change{Name: "app/db", ARN: arn, Label: "AWSCURRENT", VersionID: "v2", At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	for name, body := range map[string]string{
		"EventBridge rule or raw SNS": event("AWSCURRENT"),
		"SNS envelope":                snsWrap(event("AWSCURRENT")),
	} {
		t.Run(name, func(t *testing.T) {
			c, v, why := parse(body)
			if v != verdictChange || c != want {
				t.Fatalf("parse = %+v, %v, %q; want %+v", c, v, why, want)
			}
		})
	}
}

func TestParseOtherAndMalformed(t *testing.T) {
	const canary = "CANARY-body-7f3a"
	for _, tc := range []struct {
		name string
		body string
		want verdict
	}{
		{"not JSON", "not json " + canary, verdictMalformed},
		{"JSON array", `["` + canary + `"]`, verdictMalformed},
		{"no source", `{"detail-type":"x","detail":{"name":"` + canary + `"}}`, verdictMalformed},
		{"detail not an object", `{"source":"aws.secretsmanager","detail-type":"Secret Label Updated","detail":"` + canary + `"}`, verdictMalformed},
		{"no name", `{"source":"aws.secretsmanager","detail-type":"Secret Label Updated","detail":{"labelUpdated":"AWSCURRENT","versionId":"` + canary + `"}}`, verdictMalformed},
		{"SNS without Message", `{"Type":"Notification","TopicArn":"` + canary + `"}`, verdictMalformed},
		{"SNS wrapping garbage", snsWrap(canary), verdictMalformed},
		{"versionId with a space", strings.Replace(event("AWSCURRENT"), `"v2"`, `"v2 `+canary+`"`, 1), verdictMalformed},
		{"versionId too long", strings.Replace(event("AWSCURRENT"), `"v2"`, `"`+strings.Repeat("a", 65)+canary+`"`, 1), verdictMalformed},
		{"name too long", strings.Replace(event("AWSCURRENT"), `"name":"app/db"`, `"name":"`+strings.Repeat("n", 2049)+canary+`"`, 1), verdictMalformed},
		{"name with a control character", strings.Replace(event("AWSCURRENT"), `"name":"app/db"`, `"name":"app/db\n`+canary+`"`, 1), verdictMalformed},
		{"label with a quote", strings.Replace(event("AWSCURRENT"), `"AWSCURRENT"`, `"AWS\"`+canary+`"`, 1), verdictMalformed},
		{"another event", `{"source":"aws.ec2","detail-type":"` + canary + `","detail":{}}`, verdictOther},
		{"SNS confirmation", `{"Type":"SubscriptionConfirmation","TopicArn":"t","Message":"` + canary + `"}`, verdictOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, v, why := parse(tc.body)
			if v != tc.want {
				t.Fatalf("verdict = %v (%s), want %v", v, why, tc.want)
			}
			if why == "" || strings.Contains(why, canary) {
				t.Fatalf("reason %q: want a reason that quotes nothing of the body", why)
			}
		})
	}
}

func TestParseTolerates(t *testing.T) {
	// No resources and no time (as some emulators send it): the name is
	// enough, the time is unknown.
	c, v, _ := parse(`{"source":"aws.secretsmanager","detail-type":"Secret Label Updated","detail":{"name":"app/db","labelUpdated":"AWSCURRENT","versionId":"v3"}}`)
	if v != verdictChange || c.Name != "app/db" || c.ARN != "" || !c.At.IsZero() || c.VersionID != "v3" {
		t.Fatalf("parse = %+v, %v", c, v)
	}
	// A name given as an ARN is the ARN too.
	c, _, _ = parse(`{"source":"aws.secretsmanager","detail-type":"Secret Label Updated","detail":{"name":"` + arn + `","labelUpdated":"AWSPENDING"}}`)
	if c.ARN != arn || c.Label != "AWSPENDING" {
		t.Fatalf("parse = %+v", c)
	}
}

func TestQueuePolicy(t *testing.T) {
	var doc struct {
		Statement []struct {
			Effect, Action, Resource string
			Principal                map[string]string
			Condition                map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(QueuePolicy("arn:aws:sqs:us-east-1:1:q", "arn:aws:sns:us-east-1:1:t")), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Statement[0]
	if len(doc.Statement) != 1 || s.Effect != "Allow" || s.Action != "sqs:SendMessage" || s.Resource != "arn:aws:sqs:us-east-1:1:q" ||
		s.Principal["Service"] != "sns.amazonaws.com" || s.Condition["ArnEquals"]["aws:SourceArn"] != "arn:aws:sns:us-east-1:1:t" {
		t.Fatalf("policy = %+v", doc)
	}
}

func TestActions(t *testing.T) {
	q, f := Actions(ModeQueue), Actions(ModeFanOut)
	for _, a := range q {
		if !strings.Contains(strings.Join(f, " "), a) {
			t.Errorf("fan-out actions lack %s", a)
		}
	}
	if len(q) == 0 || len(f) <= len(q) || Actions(0) != nil {
		t.Fatalf("Actions: queue %v, fan-out %v, unknown %v", q, f, Actions(0))
	}
}
