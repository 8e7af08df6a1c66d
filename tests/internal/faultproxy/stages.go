package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Staging labels with a meaning of their own to Secrets Manager.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// The stage shim keeps the staging labels of secrets in place of the target.
//
// kumo (v0.33.1) cannot rotate a secret the way AWS's rotation functions do:
// it has no UpdateSecretVersionStage (400 InvalidAction), and PutSecretValue
// with VersionStages ["AWSPENDING"] still moves AWSCURRENT off the current
// version (so no version is AWSCURRENT until the rotation finishes) and leaves
// AWSPREVIOUS on every version it ever took it from. The shim stands in for
// AWS's label bookkeeping so that rotations run over real wire traffic with
// AWS's semantics:
//
//   - CreateSecret, PutSecretValue and UpdateSecret (with a value) are sent
//     to the target, which stores the version; the shim records its labels:
//     the VersionStages given, AWSCURRENT by default, each label on one
//     version at a time, and AWSPREVIOUS moved to the version that loses
//     AWSCURRENT. A ClientRequestToken naming an existing version is
//     idempotent (same value: no change) or ResourceExistsException.
//   - UpdateSecretVersionStage is answered by the shim with AWS's rules: a
//     label attached elsewhere moves only with RemoveFromVersionId naming its
//     holder, AWSCURRENT cannot be removed (only moved), and moving AWSCURRENT
//     moves AWSPREVIOUS to the version it left.
//   - GetSecretValue (and each secret of the batch shim) resolves the stage
//     to a VersionId with the shim's labels and asks the target for that
//     version; VersionStages in the answer, VersionIdsToStages of
//     DescribeSecret and SecretVersionsToStages of ListSecrets are the shim's.
//
// A secret is tracked from its CreateSecret through the proxy, or from the
// first PutSecretValue, UpdateSecret or UpdateSecretVersionStage on it, when
// its labels are taken from the target's DescribeSecret (a label the target
// holds on more than one version, kumo's stray AWSPREVIOUS, is dropped).
// Calls about secrets not tracked are forwarded unchanged. Once tracked, a
// secret's versions must change only through the proxy. The calls the shim
// makes to the target bypass the rules and the call counts; a rule still
// applies to the client's call before the shim sees it.
type stageBook struct {
	opMu sync.Mutex // serialises the calls that change labels
	mu   sync.Mutex // guards secrets
	// secrets maps each name and ARN of a tracked secret to it.
	secrets map[string]*stagedSecret
}

// stagedSecret is the shim's record of one secret. Its labels are guarded by
// stageBook.mu.
type stagedSecret struct {
	arn, name string
	labels    map[string]string // staging label → VersionId
}

// stagesOf returns the labels on version id, sorted.
func (s *stagedSecret) stagesOf(id string) []string {
	out := []string{}
	for l, v := range s.labels {
		if v == id {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// versionsToStages returns the versions that carry a label, with their labels.
func (s *stagedSecret) versionsToStages() map[string][]string {
	out := map[string][]string{}
	for l, v := range s.labels {
		out[v] = append(out[v], l)
	}
	for _, ls := range out {
		slices.Sort(ls)
	}
	return out
}

// attach puts each of stages on version id, as PutSecretValue does.
func (s *stagedSecret) attach(id string, stages []string) {
	for _, l := range stages {
		if old := s.labels[l]; l == stageCurrent && old != "" && old != id {
			s.labels[stagePrevious] = old
		}
		s.labels[l] = id
	}
}

// lookup returns the tracked secret named id (a name, an ARN, or an ARN
// without its random suffix), or nil.
func (b *stageBook) lookup(id string) *stagedSecret {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.secrets[id]; s != nil {
		return s
	}
	if _, name, ok := strings.Cut(id, ":secret:"); ok {
		return b.secrets[name]
	}
	return nil
}

// add records s under its name and ARN.
func (b *stageBook) add(s *stagedSecret) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.secrets == nil {
		b.secrets = map[string]*stagedSecret{}
	}
	b.secrets[s.name] = s
	b.secrets[s.arn] = s
}

// reply is a response of the target.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// write sends rep to the client.
func (rep reply) write(w http.ResponseWriter) {
	for k, v := range rep.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// stageShim answers op if the stage shim handles it, and reports whether it
// did; forward sends the calls it leaves to the target.
func (p *Proxy) stageShim(w http.ResponseWriter, r *http.Request, op string, body []byte) bool {
	switch op {
	case "CreateSecret":
		p.stagedCreate(w, r, body)
	case "GetSecretValue":
		return p.stagedGet(w, r, body)
	case "PutSecretValue":
		p.stagedPut(w, r, op, body)
	case "UpdateSecret":
		return p.stagedPut(w, r, op, body)
	case "UpdateSecretVersionStage":
		p.stagedMove(w, r, body)
	case "DescribeSecret", "ListSecrets":
		return p.stagedDescribe(w, r, op, body)
	default:
		return false
	}
	return true
}

// call sends op with body to the target, with the signing headers of the
// client's request r. A transport failure is answered to the client here, and
// reported as ok == false.
func (p *Proxy) call(w http.ResponseWriter, r *http.Request, op string, body []byte) (rep reply, ok bool) {
	u := *p.target
	u.Path = "/"
	u.RawQuery = ""
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.String(), bytes.NewReader(body))
	if err == nil {
		out.Header.Set("Content-Type", "application/x-amz-json-1.1")
		out.Header.Set("X-Amz-Target", "secretsmanager."+op)
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "User-Agent"} {
			if v := r.Header.Get(h); v != "" {
				out.Header.Set(h, v)
			}
		}
		var resp *http.Response
		if resp, err = p.transport.RoundTrip(out); err == nil {
			defer resp.Body.Close()
			rep = reply{status: resp.StatusCode, header: resp.Header}
			rep.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		}
	}
	if err != nil {
		if r.Context().Err() != nil {
			abort() // the client is gone or the proxy is closing
		}
		writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: stage shim: "+op+": "+err.Error())
		return reply{}, false
	}
	return rep, true
}

// callJSON is call with a body marshalled from in.
func (p *Proxy) callJSON(w http.ResponseWriter, r *http.Request, op string, in any) (reply, bool) {
	body, err := json.Marshal(in)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: stage shim: "+err.Error())
		return reply{}, false
	}
	return p.call(w, r, op, body)
}

// decodeRequest parses a request body into v, answering the client on error.
func decodeRequest(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot parse request: "+err.Error())
		return false
	}
	return true
}

// patchJSON sets fields of the JSON object in data; on data that is not an
// object it returns data unchanged.
func patchJSON(data []byte, edit func(doc map[string]any)) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return data
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}

// writeReply sends rep to the client with its body replaced by body.
func writeReply(w http.ResponseWriter, rep reply, body []byte) {
	rep.body = body
	rep.write(w)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(v)
}

// stagedCreate forwards CreateSecret and tracks the secret it creates.
func (p *Proxy) stagedCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SecretString *string
		SecretBinary []byte
	}
	if !decodeRequest(w, body, &in) {
		return
	}
	p.stages.opMu.Lock()
	defer p.stages.opMu.Unlock()
	rep, ok := p.call(w, r, "CreateSecret", body)
	if !ok {
		return
	}
	var out struct{ ARN, Name, VersionId string }
	if rep.status == http.StatusOK && json.Unmarshal(rep.body, &out) == nil && out.ARN != "" {
		s := &stagedSecret{arn: out.ARN, name: out.Name, labels: map[string]string{}}
		if (in.SecretString != nil || in.SecretBinary != nil) && out.VersionId != "" {
			s.labels[stageCurrent] = out.VersionId
		}
		p.stages.add(s)
	}
	rep.write(w)
}

// track returns the tracked secret id, tracking it from the target's
// DescribeSecret if need be. When the target cannot describe it, its answer
// is sent to the client and track returns nil.
func (p *Proxy) track(w http.ResponseWriter, r *http.Request, id string) *stagedSecret {
	if s := p.stages.lookup(id); s != nil {
		return s
	}
	rep, ok := p.callJSON(w, r, "DescribeSecret", map[string]string{"SecretId": id})
	if !ok {
		return nil
	}
	var out struct {
		ARN, Name          string
		VersionIdsToStages map[string][]string
	}
	if rep.status != http.StatusOK || json.Unmarshal(rep.body, &out) != nil || out.ARN == "" {
		rep.write(w)
		return nil
	}
	holders := map[string][]string{}
	for v, ls := range out.VersionIdsToStages {
		for _, l := range ls {
			holders[l] = append(holders[l], v)
		}
	}
	s := &stagedSecret{arn: out.ARN, name: out.Name, labels: map[string]string{}}
	for l, vs := range holders {
		if len(vs) == 1 {
			s.labels[l] = vs[0]
		}
	}
	p.stages.add(s)
	return s
}

// resolve returns the VersionId that a read of s for versionID and stage
// gets (AWSCURRENT when neither is given) and its labels, or ok == false
// when no version matches.
func (p *Proxy) resolve(s *stagedSecret, versionID, stage string) (id string, stages []string, ok bool) {
	p.stages.mu.Lock()
	defer p.stages.mu.Unlock()
	if stage == "" && versionID == "" {
		stage = stageCurrent
	}
	id = versionID
	if stage != "" {
		holder := s.labels[stage]
		if holder == "" || (versionID != "" && versionID != holder) {
			return "", nil, false
		}
		id = holder
	}
	return id, s.stagesOf(id), true
}

// stagedValue reads the value of s that versionID and stage select from the
// target, as GetSecretValue answers it with the shim's labels.
func (p *Proxy) stagedValue(w http.ResponseWriter, r *http.Request, s *stagedSecret, versionID, stage string) (reply, bool) {
	id, stages, found := p.resolve(s, versionID, stage)
	if !found {
		msg := "Secrets Manager can't find the specified secret value for staging label: " + stage
		if stage == "" {
			msg = "Secrets Manager can't find the specified secret value for staging label: " + stageCurrent
		}
		return notFound(msg), true
	}
	rep, ok := p.callJSON(w, r, "GetSecretValue", map[string]string{"SecretId": s.arn, "VersionId": id})
	if ok && rep.status == http.StatusOK {
		rep.body = patchJSON(rep.body, func(doc map[string]any) { doc["VersionStages"] = stages })
	}
	return rep, ok
}

// notFound is the ResourceNotFoundException answer AWS gives for a version
// that does not exist.
func notFound(msg string) reply {
	body, _ := json.Marshal(map[string]string{"__type": "ResourceNotFoundException", "message": msg})
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", "ResourceNotFoundException")
	h.Set("X-Amzn-RequestId", requestID())
	return reply{status: http.StatusBadRequest, header: h, body: body}
}

// stagedGet answers GetSecretValue for a tracked secret.
func (p *Proxy) stagedGet(w http.ResponseWriter, r *http.Request, body []byte) bool {
	var in struct{ SecretId, VersionId, VersionStage string }
	if json.Unmarshal(body, &in) != nil {
		return false // let the target report the malformed request
	}
	s := p.stages.lookup(in.SecretId)
	if s == nil {
		return false
	}
	if rep, ok := p.stagedValue(w, r, s, in.VersionId, in.VersionStage); ok {
		rep.write(w)
	}
	return true
}

// batchValue reads one secret of a BatchGetSecretValue: with the shim's
// AWSCURRENT when the stage shim tracks the secret, else straight from the
// target.
func (p *Proxy) batchValue(r *http.Request, id string) (int, []byte, error) {
	var s *stagedSecret
	if p.opts.StageShim {
		s = p.stages.lookup(id)
	}
	if s == nil {
		return p.getSecretValue(r, id)
	}
	rec := &bufferWriter{header: http.Header{}}
	rep, ok := p.stagedValue(rec, r, s, "", stageCurrent)
	if !ok {
		return rec.status, rec.buf.Bytes(), nil
	}
	return rep.status, rep.body, nil
}

// bufferWriter is a minimal http.ResponseWriter that keeps what is written.
type bufferWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferWriter) WriteHeader(status int)      { b.status = status }

// putRequest is the part of PutSecretValue and UpdateSecret the shim reads.
type putRequest struct {
	SecretId           string
	ClientRequestToken string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      []string
}

// stagedPut answers PutSecretValue, or UpdateSecret with a value: the target
// stores the version, the shim labels it. It reports false for an
// UpdateSecret without a value, which only the target handles.
func (p *Proxy) stagedPut(w http.ResponseWriter, r *http.Request, op string, body []byte) bool {
	var in putRequest
	if !decodeRequest(w, body, &in) {
		return true
	}
	if op == "UpdateSecret" {
		if in.SecretString == nil && in.SecretBinary == nil {
			return false
		}
		in.VersionStages = nil // UpdateSecret always makes the new version AWSCURRENT
	}
	p.stages.opMu.Lock()
	defer p.stages.opMu.Unlock()
	s := p.track(w, r, in.SecretId)
	if s == nil {
		return true
	}
	if in.ClientRequestToken != "" && p.existingVersion(w, r, s, in) {
		return true
	}
	rep, ok := p.call(w, r, op, body)
	if !ok {
		return true
	}
	var out struct{ VersionId string }
	if rep.status != http.StatusOK || json.Unmarshal(rep.body, &out) != nil || out.VersionId == "" {
		rep.write(w)
		return true
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{stageCurrent}
	}
	p.stages.mu.Lock()
	s.attach(out.VersionId, stages)
	now := s.stagesOf(out.VersionId)
	p.stages.mu.Unlock()
	writeReply(w, rep, patchJSON(rep.body, func(doc map[string]any) { doc["VersionStages"] = now }))
	return true
}

// existingVersion answers a put whose ClientRequestToken names a version
// that exists, as AWS does: no change when the value is the same,
// ResourceExistsException when it differs. It reports whether it answered.
func (p *Proxy) existingVersion(w http.ResponseWriter, r *http.Request, s *stagedSecret, in putRequest) bool {
	rep, ok := p.callJSON(w, r, "GetSecretValue", map[string]string{"SecretId": s.arn, "VersionId": in.ClientRequestToken})
	if !ok {
		return true
	}
	if rep.status != http.StatusOK {
		return false // no such version: the put creates it
	}
	var old struct {
		SecretString *string
		SecretBinary []byte
	}
	if err := json.Unmarshal(rep.body, &old); err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: stage shim: decode GetSecretValue: "+err.Error())
		return true
	}
	same := (old.SecretString == nil) == (in.SecretString == nil) &&
		(old.SecretString == nil || *old.SecretString == *in.SecretString) &&
		bytes.Equal(old.SecretBinary, in.SecretBinary)
	if !same {
		writeError(w, http.StatusBadRequest, "ResourceExistsException",
			"You can't modify an existing version, you can only create a new version.")
		return true
	}
	p.stages.mu.Lock()
	stages := s.stagesOf(in.ClientRequestToken)
	p.stages.mu.Unlock()
	writeJSON(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": in.ClientRequestToken, "VersionStages": stages})
	return true
}

// stagedMove answers UpdateSecretVersionStage.
func (p *Proxy) stagedMove(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId string }
	if !decodeRequest(w, body, &in) {
		return
	}
	if in.SecretId == "" || in.VersionStage == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "You must provide a value for the SecretId and VersionStage parameters.")
		return
	}
	p.stages.opMu.Lock()
	defer p.stages.opMu.Unlock()
	s := p.track(w, r, in.SecretId)
	if s == nil {
		return
	}
	if in.MoveToVersionId != "" {
		rep, ok := p.callJSON(w, r, "GetSecretValue", map[string]string{"SecretId": s.arn, "VersionId": in.MoveToVersionId})
		if !ok {
			return
		}
		if rep.status != http.StatusOK {
			rep.write(w) // no such version
			return
		}
	}
	p.stages.mu.Lock()
	msg := s.move(in.VersionStage, in.MoveToVersionId, in.RemoveFromVersionId)
	p.stages.mu.Unlock()
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", msg)
		return
	}
	writeJSON(w, map[string]string{"ARN": s.arn, "Name": s.name})
}

// move applies UpdateSecretVersionStage to s, or returns why AWS refuses it.
func (s *stagedSecret) move(stage, to, from string) string {
	holder := s.labels[stage]
	if from != "" && from != holder {
		return fmt.Sprintf("The staging label %s is not attached to version %s, so it can't be removed from it.", stage, from)
	}
	if to == "" {
		if from == "" {
			return "You must provide MoveToVersionId, RemoveFromVersionId or both."
		}
		if stage == stageCurrent {
			return "You can't remove the staging label AWSCURRENT from a version; move it to another version with MoveToVersionId."
		}
		delete(s.labels, stage)
		return ""
	}
	if holder != "" && holder != to && from != holder {
		return fmt.Sprintf("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, "+
			"so you must explicitly reference that version in RemoveFromVersionId.", stage, holder)
	}
	if stage == stageCurrent && holder != "" && holder != to {
		s.labels[stagePrevious] = holder
	}
	s.labels[stage] = to
	return ""
}

// stagedDescribe forwards DescribeSecret or ListSecrets and puts the shim's
// labels of tracked secrets in the answer. It reports false for a
// DescribeSecret of a secret not tracked.
func (p *Proxy) stagedDescribe(w http.ResponseWriter, r *http.Request, op string, body []byte) bool {
	if op == "DescribeSecret" {
		var in struct{ SecretId string }
		if json.Unmarshal(body, &in) != nil || p.stages.lookup(in.SecretId) == nil {
			return false
		}
	}
	rep, ok := p.call(w, r, op, body)
	if !ok {
		return true
	}
	if rep.status != http.StatusOK {
		rep.write(w)
		return true
	}
	relabel := func(entry map[string]any, field string) {
		arn, _ := entry["ARN"].(string)
		if s := p.stages.lookup(arn); s != nil {
			p.stages.mu.Lock()
			entry[field] = s.versionsToStages()
			p.stages.mu.Unlock()
		}
	}
	writeReply(w, rep, patchJSON(rep.body, func(doc map[string]any) {
		if op == "DescribeSecret" {
			relabel(doc, "VersionIdsToStages")
			return
		}
		list, _ := doc["SecretList"].([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				relabel(m, "SecretVersionsToStages")
			}
		}
	}))
	return true
}
