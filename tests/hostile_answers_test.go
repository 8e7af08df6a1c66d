package tests

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/providers/ssm"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// haCanary is the secret text hostile answers quote.
const haCanary = "HACANARY-5e0f1c-quoted-by-the-endpoint"

// noHACanary fails if any rendering of vs shows the canary in any form.
func noHACanary(t *testing.T, vs ...any) {
	t.Helper()
	for _, v := range vs {
		if how, text, ok := configtest.Reveals(v, haCanary); ok {
			t.Fatalf("%T printed with %s shows the canary: %s", v, how, text)
		}
	}
}

// haConfig holds every secret of the hostile-answer tests in a secret field.
type haConfig struct {
	Database struct {
		Host     string
		Password config.Secret
	}
	Payments struct {
		StripeKey config.Secret
		Other     config.Secret
	}
	TLS struct {
		Key config.Secret
	}
}

// TestHostileAnswersSecretsManager loads every kind of source through
// answers that quote the secret where no value belongs.
func TestHostileAnswersSecretsManager(t *testing.T) {
	t.Parallel()
	for _, f := range []faultproxy.Fault{faultproxy.QuoteAnswer, faultproxy.QuoteAnswerServer, faultproxy.HTMLAnswer} {
		for _, op := range []string{"GetSecretValue", "BatchGetSecretValue", "ListSecrets"} {
			t.Run(f.String()+"/"+op, func(t *testing.T) {
				t.Parallel()
				e := newSMEnv(t, true)
				db := emu.UniqueName(t, "db")
				key := emu.UniqueName(t, "key")
				bin := emu.UniqueName(t, "bin")
				prefix := emu.UniqueName(t, "pfx") + "/"
				emu.CreateString(t, e.direct, db, `{"host":"h","password":"`+haCanary+`"}`)
				emu.CreateString(t, e.direct, key, haCanary)
				emu.CreateBinary(t, e.direct, bin, []byte("bin-"+haCanary))
				emu.CreateString(t, e.direct, prefix+"payments/other", haCanary)
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: f})
				var logs configtest.LogBuffer
				l := e.layer(secretsmanager.Options{Timeout: time.Second},
					secretsmanager.JSON(db, "database", nil),
					secretsmanager.String(key, "payments.stripe_key", nil),
					secretsmanager.Binary(bin, "tls.key", nil),
					secretsmanager.Prefix(prefix, nil))
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				store, err := config.Load[haConfig](ctx, &config.Options{Logger: debugLogger(&logs)}, l)
				if err == nil {
					defer store.Close()
					noHACanary(t, store.Status(), store.Masked())
				}
				noHACanary(t, err, logs.String())
			})
		}
	}
}

// TestHostileAnswersPush runs a queue feed through ReceiveMessage answers
// that quote the messages, one of which carries the canary.
func TestHostileAnswersPush(t *testing.T) {
	t.Parallel()
	for _, f := range []faultproxy.Fault{faultproxy.QuoteAnswer, faultproxy.QuoteAnswerServer, faultproxy.HTMLAnswer, faultproxy.TruncateBody} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			url, sqsc, _ := newPushEnv(t)
			p, err := faultproxy.New(url, faultproxy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "hostile"))
			emu.SendMessage(t, sqsc, qURL, `{"detail-type":"AWS API Call via CloudTrail","source":"aws.secretsmanager","detail":{"eventName":"`+haCanary+`"}}`)
			p.Add(faultproxy.Rule{Op: "ReceiveMessage", Fault: f})
			var logs configtest.LogBuffer
			r := runFeed(t, push.Queue(emu.SQSClient(p.URL()), qURL, fastFeed(&logs)), "app/db")
			err = r.ended(t, 2*rfWait)
			w := r.last()
			if err == nil || w.Err == nil {
				t.Fatalf("Run = %v, report %+v: want a failure", err, w)
			}
			t.Logf("Run = %v", err)
			noHACanary(t, err, w, w.Err, logs.String())
		})
	}
}

// haFaults are the hostile answers every operation is put through.
var haFaults = []faultproxy.Fault{faultproxy.QuoteAnswer, faultproxy.QuoteAnswerServer, faultproxy.HTMLAnswer}

// TestHostileAnswersSSM loads Path, Names and Parameter sources whose
// SecureStrings are the canary through answers that quote them, then
// refreshes through the same answers: nothing shows the canary, and the
// last good configuration stays until the faults stop.
func TestHostileAnswersSSM(t *testing.T) {
	t.Parallel()
	for _, f := range haFaults {
		for _, op := range []string{"GetParametersByPath", "GetParameters", "GetParameter", "DescribeParameters"} {
			t.Run(f.String()+"/"+op, func(t *testing.T) {
				t.Parallel()
				e := newSSMEnv(t)
				root := e.root(t)
				e.put(t, root+"/database/host", types.ParameterTypeString, "db.internal")
				e.put(t, root+"/database/password", types.ParameterTypeSecureString, haCanary)
				e.put(t, root+"/names/addr", types.ParameterTypeSecureString, haCanary)
				e.put(t, root+"/one", types.ParameterTypeSecureString, haCanary)
				layer := e.layer(ssm.Options{Timeout: time.Second},
					ssm.Path(root+"/database", "database", nil),
					ssm.Names(root+"/names", "server", []string{"addr"}, nil),
					ssm.Parameter(root+"/one", "database.port", nil))
				var logs configtest.LogBuffer
				clock := configtest.NewClock(time.Unix(0, 0))
				opts := &config.Options{Clock: clock, RefreshInterval: time.Hour, MinRefreshInterval: time.Second,
					RetryBackoff: time.Hour, Logger: debugLogger(&logs)}
				if op != "DescribeParameters" {
					e.proxy.Add(faultproxy.Rule{Op: op, Fault: f, Times: 1})
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				store, err := config.Load[haSSMConfig](ctx, opts, layer)
				noHACanary(t, err, logs.String())
				if store == nil {
					return
				}
				defer store.Close()
				e.put(t, root+"/database/host", types.ParameterTypeString, "db2.internal")
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: f})
				clock.Advance(time.Second)
				before := e.proxy.Calls(op)
				err = store.Refresh(ctx)
				if got := store.Get().Database.Host; e.proxy.Calls(op) > before && got != "db.internal" {
					t.Errorf("host %q after a hostile refresh (err %v)", got, err)
				}
				noHACanary(t, err, logs.String(), store.Status(), store.Masked())
				e.proxy.ClearRules()
				clock.Advance(time.Second)
				if err := store.Refresh(ctx); err != nil || store.Get().Database.Host != "db2.internal" {
					t.Errorf("after the faults: %v, host %q", err, store.Get().Database.Host)
				}
				noHACanary(t, logs.String(), store.Status())
			})
		}
	}
}

// haSSMConfig holds the SecureStrings of TestHostileAnswersSSM.
type haSSMConfig struct {
	Server struct {
		Addr config.Secret
	}
	Database struct {
		Host     string
		Port     config.Secret
		Password config.Secret
	}
}

// TestHostileAnswersFieldsQuoteValue reads secrets whose answers carry the
// value where a VersionId or an error code belongs, at Load and at Refresh.
func TestHostileAnswersFieldsQuoteValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op    string
		fault faultproxy.Fault
	}{
		{"GetSecretValue", faultproxy.VersionQuotesValue},
		{"GetSecretValue", faultproxy.CodeQuotesValue},
		{"BatchGetSecretValue", faultproxy.VersionQuotesValue},
		{"BatchGetSecretValue", faultproxy.ErrorCodeQuotesValue},
	} {
		t.Run(tc.op+"/"+tc.fault.String(), func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, tc.op == "BatchGetSecretValue")
			key := emu.UniqueName(t, "key")
			other := emu.UniqueName(t, "other")
			emu.CreateString(t, e.direct, key, haCanary+" one")
			emu.CreateString(t, e.direct, other, haCanary+" two")
			e.proxy.Add(faultproxy.Rule{Op: tc.op, Fault: tc.fault})
			var logs configtest.LogBuffer
			l := e.layer(secretsmanager.Options{Timeout: time.Second},
				secretsmanager.String(key, "payments.stripe_key", nil),
				secretsmanager.String(other, "payments.other", nil))
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			store, err := config.Load[haConfig](ctx, &config.Options{Logger: debugLogger(&logs)}, l)
			t.Logf("Load: %v", err)
			noHACanary(t, err, logs.String())
			if store != nil {
				defer store.Close()
				noHACanary(t, store.Status(), store.Masked())
			}
		})
	}
}

// TestHostileAnswersMessageID receives messages whose MessageId is their
// body, one an event of a secret in use, one malformed, one of another
// source, each quoting the canary: the event still goes through, and no
// log line shows the canary.
func TestHostileAnswersMessageID(t *testing.T) {
	t.Parallel()
	url, sqsc, _ := newPushEnv(t)
	p, err := faultproxy.New(url, faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "msgid"))
	p.Add(faultproxy.Rule{Op: "ReceiveMessage", Fault: faultproxy.MessageIDQuotesBody})
	var logs configtest.LogBuffer
	r := runFeed(t, push.Queue(emu.SQSClient(p.URL()), qURL, fastFeed(&logs)), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	emu.SendMessage(t, sqsc, qURL, `{"malformed":"`+haCanary+`"`)
	emu.SendMessage(t, sqsc, qURL, `{"source":"aws.other","detail-type":"`+haCanary+`","detail":{}}`)
	ev := emu.SecretEvent{Name: "app/db", VersionID: "v2"}.Envelope()
	emu.SendMessage(t, sqsc, qURL, strings.Replace(ev, `{`, `{"x-note":"`+haCanary+`",`, 1))
	if e := r.next(t); e.Version != "v2" {
		t.Fatalf("event = %+v", e)
	}
	w := r.waitReport(t, "3 messages", func(w config.WatchReport) bool { return w.Handled+w.Ignored+w.Malformed == 3 })
	noHACanary(t, logs.String(), w)
}

// TestHostileCloseDuringHang closes a store with a fan-out feed while one of
// its calls hangs: the fan-out's setup, a read an event caused, the
// listing of a scheduled refresh, a long poll. Close returns within the store's bound, and the package's
// TestMain checks that no goroutine is left.
func TestHostileCloseDuringHang(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"CreateQueue", "Subscribe", "GetSecretValue", "ListSecrets", "ReceiveMessage"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			e := newPSEnv(t)
			s := e.createSecrets(t, "password-0001")
			topic := emu.CreateTopic(t, e.sns, emu.QueueName(t, "topic"))
			via := emu.AWSConfig(e.proxy.URL())
			feed := push.FanOut(sqs.NewFromConfig(via), sns.NewFromConfig(via), topic, emu.QueueName(t, "hang")+"-", &push.Options{WaitTime: time.Second})
			layer := secretsmanager.New(e.cfg, &secretsmanager.Options{Push: feed}, s.sources()...)
			waitOp := op
			switch op {
			case "CreateQueue":
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: faultproxy.Hang})
			case "Subscribe":
				// SNS speaks the query protocol: no X-Amz-Target names it.
				e.proxy.Add(faultproxy.Rule{Match: "Action=Subscribe", Fault: faultproxy.Hang})
				waitOp = "SetQueueAttributes"
			}
			ctx, cancel := context.WithTimeout(t.Context(), rfWait)
			defer cancel()
			store, err := config.Load[rfConfig](ctx, &config.Options{RefreshInterval: 200 * time.Millisecond, WatchInterval: 200 * time.Millisecond, MinRefreshInterval: 10 * time.Millisecond,
				Logger: slog.New(slog.DiscardHandler)}, layer)
			if err != nil {
				t.Fatal(err)
			}
			switch op {
			case "GetSecretValue", "ListSecrets", "ReceiveMessage":
				waitWatch(t, store, "connected", func(w *config.WatchStatus) bool { return w.Connected })
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: faultproxy.Hang})
				if op == "GetSecretValue" {
					e.proxy.Add(faultproxy.Rule{Op: "BatchGetSecretValue", Fault: faultproxy.Hang})
					emu.Rotate(t, e.direct, s.db, rfDB("app", "password-0002"))
					emu.PublishSecretEvent(t, e.sns, topic, emu.SecretEvent{Name: s.db, VersionID: "v-next"})
				}
			}
			if err := e.proxy.WaitCalls(ctx, waitOp, e.proxy.Calls(waitOp)+1); err != nil {
				t.Fatalf("no %s call: %v", op, err)
			}
			// Close waits 2 s at most for the watch; the bound leaves room
			// for a loaded machine, and still tells a bounded Close from one
			// that waits for the hung call.
			start := time.Now()
			_ = store.Close()
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Close took %v during a hung %s", took, op)
			}
		})
	}
}

// TestHostileAnswersConfigcheck runs the configcheck commands that read the
// sources through answers that quote the secrets: no output shows them.
func TestHostileAnswersConfigcheck(t *testing.T) {
	t.Parallel()
	for _, f := range append(haFaults, faultproxy.TruncateBody, faultproxy.VersionQuotesValue, faultproxy.CodeQuotesValue) {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			url := emu.Start(t)
			db, apiKey := ccSecrets(t, url)
			p, err := faultproxy.New(url, faultproxy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			p.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: f, Match: db})
			environ := []string{"APP_DATABASE_HOST=db.internal"}
			sources := []secretsmanager.Spec{secretsmanager.JSON(db, "database", nil), secretsmanager.String(apiKey, "api.key", nil)}
			for _, args := range [][]string{{"validate"}, {"validate", "--format", "json"}, {"validate", "--format", "github"},
				{"explain"}, {"explain", "--format", "json"}, {"lint"}, {"diff", "--environment", "production"}, {"env"}} {
				out, stderr, code := ccRun(t, p.URL(), sources, environ, args...) // ccRun fails on the canary
				if code == configcheck.ExitOK && args[0] == "validate" {
					t.Errorf("%v: exit 0 through %v\n%s%s", args, f, out, stderr)
				}
			}
		})
	}
}

// TestHostileAnswersRefresh rotates the database password while the calls of
// a scheduled refresh (the ListSecrets gate, DescribeSecret, the reads) get
// hostile answers: no secret shows, a refresh that fails changes nothing,
// and the rotation is picked up once the answers are whole again.
func TestHostileAnswersRefresh(t *testing.T) {
	t.Parallel()
	schema, err := config.SchemaFor[rfConfig]("")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(haFaults, faultproxy.TruncateBody, faultproxy.VersionQuotesValue) {
		for _, op := range []string{"ListSecrets", "DescribeSecret", "BatchGetSecretValue", "GetSecretValue"} {
			t.Run(f.String()+"/"+op, func(t *testing.T) {
				t.Parallel()
				e := newRFEnv(t)
				s := e.createSecrets(t, "password-first")
				var logs configtest.LogBuffer
				gate := secretsmanager.ListGateOff
				if op == "ListSecrets" {
					gate = secretsmanager.ListGateAuto
				}
				layer := secretsmanager.New(e.cfg, &secretsmanager.Options{ListGate: gate, Logger: debugLogger(&logs)}, s.sources()...)
				if _, err := smLoad(t.Context(), layer, schema); err != nil {
					t.Fatal(err)
				}
				emu.Rotate(t, e.direct, s.db, rfDB("app", haCanary))
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: f})
				if op == "GetSecretValue" {
					e.proxy.Add(faultproxy.Rule{Op: "BatchGetSecretValue", Fault: faultproxy.AccessDenied})
				}
				vals, changed, err := smRefresh(t.Context(), layer, schema)
				if err != nil && changed {
					t.Errorf("a refresh that failed (%v) changed the values", err)
				}
				if changed && fmt.Sprint(smRaw(t, vals, "database.password")) != haCanary {
					t.Errorf("a refresh through %v changed the password to another value", f)
				}
				noHACanary(t, err, logs.String(), layer, smVersions(layer))
				e.proxy.ClearRules()
				if _, _, err := smRefresh(t.Context(), layer, schema); err != nil {
					t.Fatalf("after the faults: %v", err)
				}
				u, _ := tracked.Load(layer)
				if got := fmt.Sprint(u.(config.Update).Values["database.password"].Raw); got != haCanary {
					t.Errorf("rotation not picked up after the faults")
				}
				noHACanary(t, logs.String(), layer)
			})
		}
	}
}
