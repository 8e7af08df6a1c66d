package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The exported types of this package that hold configuration values, or can
// reach them, print, log and marshal in a redacted form: Format covers every
// fmt verb (%#v through GoString), LogValue covers log/slog and MarshalJSON
// covers encoding/json. Raw values of layers are never shown; values of
// fields are shown only through the masked forms (KeyInfo, MaskedConfig),
// which replace secrets with [REDACTED].

// writeRedacted writes text for every verb: quoted for %q, the Go-syntax form
// for %#v, as it is otherwise (so %x and %d cannot expose anything either).
func writeRedacted(f fmt.State, verb rune, text, goText string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		text = goText
	case verb == 'q':
		text = strconv.Quote(text)
	}
	_, _ = f.Write([]byte(text))
}

func goString(typeName, text string) string { return typeName + "(" + strconv.Quote(text) + ")" }

func errorJSON(fields map[string]any) ([]byte, error) { return json.Marshal(fields) }

// Format prints Error for every verb.
func (e *FieldError) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, e.Error(), e.GoString())
}

// GoString returns the message in Go syntax, for %#v.
func (e *FieldError) GoString() string { return goString("&config.FieldError", e.Error()) }

// LogValue logs the message.
func (e *FieldError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// MarshalJSON renders the error's fields and message; the cause appears only
// as text.
func (e *FieldError) MarshalJSON() ([]byte, error) {
	return errorJSON(map[string]any{"key": e.Key, "env": e.Env, "source": e.Source.String(),
		"rule": e.Rule, "message": e.Message, "error": e.Error()})
}

// Format prints Error for every verb.
func (e *UnknownNameError) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, e.Error(), e.GoString())
}

// GoString returns the message in Go syntax, for %#v.
func (e *UnknownNameError) GoString() string {
	return goString("&config.UnknownNameError", e.Error())
}

// LogValue logs the message.
func (e *UnknownNameError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// MarshalJSON renders the error's fields and message.
func (e *UnknownNameError) MarshalJSON() ([]byte, error) {
	return errorJSON(map[string]any{"name": e.Name, "source": e.Source.String(),
		"suggestion": e.Suggestion, "error": e.Error()})
}

// Format prints Error for every verb.
func (e *SourceError) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, e.Error(), e.GoString())
}

// GoString returns the message in Go syntax, for %#v.
func (e *SourceError) GoString() string { return goString("&config.SourceError", e.Error()) }

// LogValue logs the message.
func (e *SourceError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// MarshalJSON renders the error's fields and message; the cause appears only
// as text.
func (e *SourceError) MarshalJSON() ([]byte, error) {
	return errorJSON(map[string]any{"layer": e.Layer, "source": e.Source, "code": errText(e.Code),
		"message": e.Message, "keys": e.Keys, "error": e.Error()})
}

// Format prints Error for every verb.
func (e *AggregateError) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, e.Error(), e.GoString())
}

// GoString returns the message in Go syntax, for %#v.
func (e *AggregateError) GoString() string { return goString("&config.AggregateError", e.Error()) }

// LogValue logs the message.
func (e *AggregateError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// MarshalJSON renders {"errors": [...], "warnings": [...]}, each problem as
// its message.
func (e *AggregateError) MarshalJSON() ([]byte, error) {
	return errorJSON(map[string]any{"errors": errorTexts(e.Errs), "warnings": errorTexts(e.Warnings)})
}

func errorTexts(errs []error) []string {
	out := make([]string, 0, len(errs))
	for _, err := range errs {
		out = append(out, errText(err))
	}
	return out
}

// Format prints the value's source for every verb; the raw value is never
// shown, since a Value does not know whether its field is secret.
func (v Value) Format(f fmt.State, verb rune) { writeRedacted(f, verb, v.text(), v.GoString()) }

func (v Value) text() string { return "{" + Redacted + " from " + v.Source.String() + "}" }

// GoString returns the source in Go syntax, for %#v.
func (v Value) GoString() string { return goString("config.Value", v.text()) }

// LogValue logs the source only.
func (v Value) LogValue() slog.Value {
	return slog.GroupValue(slog.String("raw", Redacted), slog.String("source", v.Source.String()))
}

// MarshalJSON renders {"raw": "[REDACTED]", "source": "..."}.
func (v Value) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"raw": Redacted, "source": v.Source.String()})
}

// Format prints each key with the source of its value, never the value.
func (vs Values) Format(f fmt.State, verb rune) { writeRedacted(f, verb, vs.text(), vs.GoString()) }

func (vs Values) text() string {
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range sortedKeys(vs) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(vs[k].text())
	}
	b.WriteByte(']')
	return b.String()
}

// GoString returns the keys and sources in Go syntax, for %#v.
func (vs Values) GoString() string { return goString("config.Values", vs.text()) }

// LogValue logs the source of each key.
func (vs Values) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(vs))
	for _, k := range sortedKeys(vs) {
		attrs = append(attrs, slog.String(k, vs[k].Source.String()))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON renders each key with its redacted value and source.
func (vs Values) MarshalJSON() ([]byte, error) {
	m := make(map[string]Value, len(vs))
	for k, v := range vs {
		m[k] = v
	}
	return json.Marshal(m)
}

func sortedKeys(vs Values) []string {
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Format prints "key = value (source)" with the masked value of Display.
func (k KeyInfo) Format(f fmt.State, verb rune) { writeRedacted(f, verb, k.text(), k.GoString()) }

func (k KeyInfo) text() string {
	s := k.Key + " = " + k.Display()
	if k.Set {
		s += " (" + k.Source.String() + ")"
	}
	return s
}

// GoString returns the masked description in Go syntax, for %#v.
func (k KeyInfo) GoString() string { return goString("config.KeyInfo", k.text()) }

// LogValue logs the masked description as a group.
func (k KeyInfo) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", k.Key), slog.String("env", k.Env), slog.String("type", k.Type),
		slog.Bool("secret", k.Secret), slog.Bool("set", k.Set), slog.String("value", k.maskedValue()),
		slog.String("fingerprint", k.Fingerprint), slog.String("source", k.Source.String()))
}

// maskedValue is Value, or [REDACTED] for a secret whatever Value holds.
func (k KeyInfo) maskedValue() string {
	if k.Secret && k.Value != "" {
		return Redacted
	}
	return k.Value
}

// MarshalJSON renders the fields of KeyInfo by name, with Value [REDACTED]
// for a secret.
func (k KeyInfo) MarshalJSON() ([]byte, error) {
	type plain KeyInfo
	p := plain(k)
	p.Value = k.maskedValue()
	return json.Marshal(p)
}

// Format prints String for every verb.
func (m MaskedConfig) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, m.String(), m.GoString())
}

// GoString returns String in Go syntax, for %#v.
func (m MaskedConfig) GoString() string { return goString("config.MaskedConfig", m.String()) }

// oneLine renders a masked configuration as "{key=value key2=value2}".
func (m MaskedConfig) oneLine() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range m {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.Key)
		b.WriteByte('=')
		b.WriteString(k.Display())
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints the masked configuration on one line, for every verb:
// "config.Store[main.AppConfig]{database.host=db database.password=[REDACTED]
// fp:1a2b3c4d}". Layers and their raw values are never printed.
func (s *Store[T]) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, s.String(), s.GoString())
}

// String returns the masked configuration on one line; see Format.
func (s *Store[T]) String() string {
	if s == nil || s.snap.Load() == nil {
		return storeName[T]() + "(nil)"
	}
	return storeName[T]() + s.Masked().oneLine()
}

// GoString returns String, for %#v.
func (s *Store[T]) GoString() string { return "&" + s.String() }

func storeName[T any]() string { return "config.Store[" + reflect.TypeFor[T]().String() + "]" }

// LogValue logs the masked configuration; see MaskedConfig.LogValue.
func (s *Store[T]) LogValue() slog.Value {
	if s == nil || s.snap.Load() == nil {
		return slog.StringValue(storeName[T]() + "(nil)")
	}
	return s.Masked().LogValue()
}

// MarshalJSON renders the masked configuration; see MaskedConfig.MarshalJSON.
func (s *Store[T]) MarshalJSON() ([]byte, error) {
	if s == nil || s.snap.Load() == nil {
		return []byte("null"), nil
	}
	return s.Masked().MarshalJSON()
}

// Format prints the options with FingerprintKey redacted.
func (o Options) Format(f fmt.State, verb rune) { writeRedacted(f, verb, o.text(), o.GoString()) }

func (o Options) text() string {
	key := ""
	if len(o.FingerprintKey) > 0 {
		key = Redacted
	}
	return fmt.Sprintf("{EnvPrefix:%q Strict:%t Production:%t FingerprintKey:%s Validator:%t RefreshInterval:%s MinRefreshInterval:%s WatchInterval:%s RetryBackoff:%s RefreshTimeout:%s MaxStaleness:%s Lazy:%t}",
		o.EnvPrefix, o.Strict, o.Production, key, o.Validator != nil, o.RefreshInterval, o.MinRefreshInterval,
		o.WatchInterval, o.RetryBackoff, o.RefreshTimeout, o.MaxStaleness, o.Lazy)
}

// GoString returns the options in Go syntax, for %#v.
func (o Options) GoString() string { return "config.Options" + o.text() }

// LogValue logs the options with FingerprintKey redacted.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.text()) }

// MarshalJSON renders the options with FingerprintKey redacted; Logger,
// Validator and Clock are left out.
func (o Options) MarshalJSON() ([]byte, error) {
	key := ""
	if len(o.FingerprintKey) > 0 {
		key = Redacted
	}
	return json.Marshal(map[string]any{"EnvPrefix": o.EnvPrefix, "Strict": o.Strict, "Production": o.Production,
		"FingerprintKey": key, "RefreshInterval": o.RefreshInterval.String(), "MinRefreshInterval": o.MinRefreshInterval.String(),
		"WatchInterval": o.WatchInterval.String(), "RetryBackoff": o.RetryBackoff.String(), "RefreshTimeout": o.RefreshTimeout.String(),
		"MaxStaleness": o.MaxStaleness.String(), "Lazy": o.Lazy})
}

// Format prints the status with LastError as its message.
func (st Status) Format(f fmt.State, verb rune) { writeRedacted(f, verb, st.text(), st.GoString()) }

func (st Status) text() string {
	return fmt.Sprintf("{Healthy:%t LastSuccess:%s LastAttempt:%s LastChange:%s LastError:%q Staleness:%s Refreshes:%d Changes:%d Rejected:%d Failures:%d Layers:%s}",
		st.Healthy, st.LastSuccess.Format(time.RFC3339Nano), st.LastAttempt.Format(time.RFC3339Nano),
		st.LastChange.Format(time.RFC3339Nano), errText(st.LastError), st.Staleness,
		st.Refreshes, st.Changes, st.Rejected, st.Failures, layerTexts(st.Layers))
}

func layerTexts(ls []LayerStatus) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.text()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// GoString returns the status in Go syntax, for %#v.
func (st Status) GoString() string { return "config.Status" + st.text() }

// LogValue logs the status as a group, LastError as its message.
func (st Status) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("healthy", st.Healthy), slog.Time("last_success", st.LastSuccess),
		slog.Time("last_attempt", st.LastAttempt), slog.Time("last_change", st.LastChange),
		slog.String("last_error", errText(st.LastError)), slog.Duration("staleness", st.Staleness),
		slog.Int("refreshes", st.Refreshes), slog.Int("changes", st.Changes),
		slog.Int("rejected", st.Rejected), slog.Int("failures", st.Failures),
		slog.String("layers", layerTexts(st.Layers)))
}

// MarshalJSON renders the status with LastError as its message.
func (st Status) MarshalJSON() ([]byte, error) {
	type plain Status
	return json.Marshal(struct {
		plain
		LastError string
	}{plain(st), errText(st.LastError)})
}

// Format prints the layer's name, versions and call counts.
func (l LayerStatus) Format(f fmt.State, verb rune) { writeRedacted(f, verb, l.text(), l.GoString()) }

func (l LayerStatus) text() string {
	if l.Watch == nil {
		return fmt.Sprintf("{Name:%q Versions:%v Calls:%v}", l.Name, l.Versions, l.Calls)
	}
	return fmt.Sprintf("{Name:%q Versions:%v Calls:%v Watch:%s}", l.Name, l.Versions, l.Calls, l.Watch.text())
}

// GoString returns the layer status in Go syntax, for %#v.
func (l LayerStatus) GoString() string { return "config.LayerStatus" + l.text() }

// LogValue logs the layer status as a group.
func (l LayerStatus) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("name", l.Name), slog.Any("versions", l.Versions), slog.Any("calls", l.Calls)}
	if l.Watch != nil {
		attrs = append(attrs, slog.Any("watch", *l.Watch))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON renders the layer status by field name.
func (l LayerStatus) MarshalJSON() ([]byte, error) {
	type plain LayerStatus
	return json.Marshal(plain(l))
}

// changeView is what a Change needs to print its snapshots masked: the
// merged values they were decoded from, with their sources and marks.
type changeView struct {
	schema   *Schema
	old, new []slot
	fpKey    []byte
}

func (s *Store[T]) changeView(old, cur *snapshot[T]) *changeView {
	return &changeView{schema: s.schema, old: old.values, new: cur.values, fpKey: s.opts.FingerprintKey}
}

// masked returns Old and New masked: from the merged values when the store
// made the Change; for a Change made otherwise, by keys alone.
func (c Change[T]) masked() (old, cur MaskedConfig) {
	if v := c.view; v != nil {
		return maskSlots(v.schema, v.old, v.fpKey), maskSlots(v.schema, v.new, v.fpKey)
	}
	return maskStruct(c.Old), maskStruct(c.New)
}

func maskSlots(schema *Schema, values []slot, fpKey []byte) MaskedConfig {
	out := make(MaskedConfig, len(schema.fields))
	for i, f := range schema.fields {
		out[i] = keyInfo(f, values[i], fpKey)
	}
	return out
}

// maskStruct describes a decoded configuration by its keys alone, every
// value [REDACTED]: without the merged values it came from, a plain field's
// value cannot be told from one its layer marked secret (Value.Secret). It
// returns nil when cfg is nil or T is not a configuration struct.
func maskStruct[T any](cfg *T) MaskedConfig {
	schema, err := schemaOf(reflect.TypeFor[T](), "")
	if cfg == nil || err != nil {
		return nil
	}
	out := make(MaskedConfig, len(schema.fields))
	for i, f := range schema.fields {
		out[i] = KeyInfo{Key: f.Key, Env: f.Env, Type: f.TypeName(), Secret: f.Secret, Set: true, Value: Redacted}
	}
	return out
}

// Format prints the changed keys, the error, the time and the masked
// snapshots, for every verb. Secret fields show [REDACTED].
func (c Change[T]) Format(f fmt.State, verb rune) { writeRedacted(f, verb, c.text(), c.GoString()) }

func (c Change[T]) text() string {
	old, cur := c.masked()
	return fmt.Sprintf("{Keys:%v Err:%q At:%s Old:%s New:%s}", c.Keys, errText(c.Err),
		c.At.Format(time.RFC3339Nano), old.oneLine(), cur.oneLine())
}

// GoString returns the masked change in Go syntax, for %#v.
func (c Change[T]) GoString() string { return "config.Change" + c.text() }

// LogValue logs the changed keys, the error, the time and the masked
// snapshots.
func (c Change[T]) LogValue() slog.Value {
	old, cur := c.masked()
	return slog.GroupValue(slog.Any("keys", c.Keys), slog.String("err", errText(c.Err)), slog.Time("at", c.At),
		slog.Any("old", old), slog.Any("new", cur))
}

// MarshalJSON renders {"keys", "err", "at", "old", "new"} with the snapshots
// masked as MaskedConfig marshals them.
func (c Change[T]) MarshalJSON() ([]byte, error) {
	old, cur := c.masked()
	return json.Marshal(map[string]any{"keys": c.Keys, "err": errText(c.Err), "at": c.At, "old": old, "new": cur})
}

// Format prints the schema's type and keys, never a default.
func (s *Schema) Format(f fmt.State, verb rune) { writeRedacted(f, verb, s.text(), s.GoString()) }

func (s *Schema) text() string {
	if s == nil {
		return "config.Schema(nil)"
	}
	keys := make([]string, len(s.fields))
	for i, f := range s.fields {
		keys[i] = f.Key
	}
	return fmt.Sprintf("config.Schema[%v]{prefix:%q keys:%v}", s.typ, s.prefix, keys)
}

// GoString returns the schema's description, for %#v.
func (s *Schema) GoString() string { return "&" + s.text() }

// LogValue logs the schema's description.
func (s *Schema) LogValue() slog.Value { return slog.StringValue(s.text()) }

// MarshalJSON renders the schema's fields.
func (s *Schema) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	return json.Marshal(s.fields)
}

// Format prints the field's description with the default of a secret field
// [REDACTED].
func (f Field) Format(st fmt.State, verb rune) { writeRedacted(st, verb, f.text(), f.GoString()) }

// maskedDefault is Default, or [REDACTED] for a secret field's default.
func (f Field) maskedDefault() string {
	if f.Secret && f.Default != "" {
		return Redacted
	}
	return f.Default
}

func (f Field) text() string {
	return fmt.Sprintf("{Key:%q Env:%q GoPath:%q Type:%s Default:%q HasDefault:%t Secret:%t Required:%t Validate:%q}",
		f.Key, f.Env, f.GoPath, f.TypeName(), f.maskedDefault(), f.HasDefault, f.Secret, f.Required, f.Validate)
}

// GoString returns the field's description in Go syntax, for %#v.
func (f Field) GoString() string { return "config.Field" + f.text() }

// LogValue logs the field's description.
func (f Field) LogValue() slog.Value { return slog.StringValue(f.text()) }

// MarshalJSON renders the field's description with a secret's default
// [REDACTED].
func (f Field) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"Key": f.Key, "Env": f.Env, "GoPath": f.GoPath, "Type": f.TypeName(),
		"Default": f.maskedDefault(), "HasDefault": f.HasDefault, "Secret": f.Secret, "Required": f.Required,
		"Desc": f.Desc, "Validate": f.Validate})
}

// Format prints whether the update changed anything, its keys with their
// sources (see Values) and its versions; never a value, nor the State.
func (u Update) Format(f fmt.State, verb rune) { writeRedacted(f, verb, u.text(), u.GoString()) }

func (u Update) text() string {
	if !u.Changed {
		return "{unchanged}"
	}
	return "{changed " + u.Values.text() + " versions " + fmt.Sprint(u.Versions) + "}"
}

// GoString returns the update's description in Go syntax, for %#v.
func (u Update) GoString() string { return goString("config.Update", u.text()) }

// LogValue logs the update's description.
func (u Update) LogValue() slog.Value { return slog.StringValue(u.text()) }

// MarshalJSON renders {"changed": ..., "values": ..., "versions": ...} with
// the values redacted as Values renders them; the State is left out.
func (u Update) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"changed": u.Changed, "values": u.Values, "versions": u.Versions})
}

// Format prints whether a previous State is given, never the State itself,
// which a layer may fill with the values it read.
func (r RefreshRequest) Format(f fmt.State, verb rune) {
	writeRedacted(f, verb, r.text(), r.GoString())
}

func (r RefreshRequest) text() string {
	t := "{prev " + Redacted
	if r.Prev == nil {
		t = "{first read"
	}
	if r.OnDemand {
		t += " on demand"
	}
	if len(r.Events) > 0 {
		t += fmt.Sprintf(" events %d", len(r.Events))
	}
	return t + "}"
}

// GoString returns the request's description in Go syntax, for %#v.
func (r RefreshRequest) GoString() string { return goString("config.RefreshRequest", r.text()) }

// LogValue logs the request's description.
func (r RefreshRequest) LogValue() slog.Value { return slog.StringValue(r.text()) }

// MarshalJSON renders {"first_read": bool, "on_demand": bool, "events": n}.
func (r RefreshRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"first_read": r.Prev == nil, "on_demand": r.OnDemand, "events": len(r.Events)})
}

// Format prints the watch's report with Err as its message.
func (r WatchReport) Format(f fmt.State, verb rune) { writeRedacted(f, verb, r.text(), r.GoString()) }

func (r WatchReport) text() string {
	return fmt.Sprintf("{Connected:%t Err:%q LastEvent:%s Handled:%d Ignored:%d Malformed:%d}", r.Connected,
		errText(r.Err), r.LastEvent.Format(time.RFC3339Nano), r.Handled, r.Ignored, r.Malformed)
}

// GoString returns the report in Go syntax, for %#v.
func (r WatchReport) GoString() string { return "config.WatchReport" + r.text() }

// LogValue logs the report as a group, Err as its message.
func (r WatchReport) LogValue() slog.Value { return slog.GroupValue(r.attrs()...) }

func (r WatchReport) attrs() []slog.Attr {
	return []slog.Attr{slog.Bool("connected", r.Connected), slog.String("err", errText(r.Err)),
		slog.Time("last_event", r.LastEvent), slog.Int("handled", r.Handled), slog.Int("ignored", r.Ignored),
		slog.Int("malformed", r.Malformed)}
}

// MarshalJSON renders the report by field name, Err as its message.
func (r WatchReport) MarshalJSON() ([]byte, error) { return json.Marshal(r.fields()) }

func (r WatchReport) fields() map[string]any {
	return map[string]any{"Connected": r.Connected, "Err": errText(r.Err), "LastEvent": r.LastEvent,
		"Handled": r.Handled, "Ignored": r.Ignored, "Malformed": r.Malformed}
}

// Format prints the watch's state with Err as its message.
func (w WatchStatus) Format(f fmt.State, verb rune) { writeRedacted(f, verb, w.text(), w.GoString()) }

func (w WatchStatus) text() string {
	return fmt.Sprintf("{%s Events:%d Lag:%s}", strings.Trim(w.WatchReport.text(), "{}"), w.Events, w.Lag)
}

// GoString returns the watch's state in Go syntax, for %#v.
func (w WatchStatus) GoString() string { return "config.WatchStatus" + w.text() }

// LogValue logs the watch's state as a group, Err as its message.
func (w WatchStatus) LogValue() slog.Value {
	return slog.GroupValue(append(w.attrs(), slog.Int("events", w.Events), slog.Duration("lag", w.Lag))...)
}

// MarshalJSON renders the watch's state by field name, Err as its message
// and Lag as a duration string ("1.2s").
func (w WatchStatus) MarshalJSON() ([]byte, error) {
	m := w.fields()
	m["Events"], m["Lag"] = w.Events, w.Lag.String()
	return json.Marshal(m)
}
