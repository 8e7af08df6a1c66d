package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// haCanary is the secret text hostile answers quote.
const haCanary = "HACANARY-5e0f1c-quoted-by-the-endpoint"

// noHACanary fails if any rendering of vs shows the canary in any form.
func noHACanary(t *testing.T, vs ...any) {
	t.Helper()
	for _, v := range vs {
		for how, text := range configtest.Renderings(v) {
			for _, form := range configtest.LeakForms(haCanary) {
				if strings.Contains(text, form) {
					t.Fatalf("%T printed with %s shows the canary: %s", v, how, text)
				}
			}
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
