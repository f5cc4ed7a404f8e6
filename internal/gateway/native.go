package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

type endpoint string

const (
	epChat       endpoint = "chat"
	epGenerate   endpoint = "generate"
	epEmbed      endpoint = "embed"
	epEmbeddings endpoint = "embeddings"
)

func (e endpoint) path() string { return "/api/" + string(e) }

// streams reports Ollama's default: chat and generate stream unless
// "stream": false; the embedding endpoints never do.
func (e endpoint) streams(flag *bool) bool {
	if e == epEmbed || e == epEmbeddings {
		return false
	}
	return flag == nil || *flag
}

// nativeReq holds the fields of a native body the gateway reads; the body
// itself is kept as raw fields so unknown ones pass through.
type nativeReq struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Prompt    string          `json:"prompt"`
	System    *string         `json:"system"`
	Suffix    string          `json:"suffix"`
	Options   map[string]any  `json:"options"`
	Stream    *bool           `json:"stream"`
	KeepAlive json.RawMessage `json:"keep_alive"`
	Input     json.RawMessage `json:"input"`
}

// prepared is a request resolved and ready for dispatch.
type prepared struct {
	target *Target
	req    *dispatch.Request
}

// readBody reads the (already size-limited) body.
func readBody(r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, errf(http.StatusBadRequest, "", "reading request body: "+err.Error())
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errf(http.StatusBadRequest, "", "missing request body")
	}
	return b, nil
}

// decodeBody decodes JSON into v and reports type errors by field.
func decodeBody(b []byte, v any) *apiError {
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// inputText returns the bytes of the largest embedding input (each input is
// embedded, and truncated, separately).
func inputText(raw json.RawMessage) (int, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return len(s), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, &apiError{Status: http.StatusBadRequest, Param: "input", Message: "field \"input\" must be a string or an array of strings"}
	}
	longest := 0
	for _, s := range list {
		longest = max(longest, len(s))
	}
	return longest, nil
}

// prepareNative parses a native body, resolves the model and applies the
// persona, option, keep-alive and prompt-size rules.
func (g *Gateway) prepareNative(ep endpoint, body []byte) (*prepared, *apiError) {
	var nr nativeReq
	if e := decodeBody(body, &nr); e != nil {
		return nil, e
	}
	if nr.Model == "" {
		return nil, &apiError{Status: http.StatusBadRequest, Param: "model", Message: "model is required"}
	}
	t, pending, ok := g.res.Resolve(nr.Model)
	if !ok {
		return nil, errf(http.StatusNotFound, "model_not_found", fmt.Sprintf("persona %q has no model yet: %s", nr.Model, pending))
	}
	text := len(nr.Prompt) + len(nr.Suffix)
	if nr.System != nil {
		text += len(*nr.System)
	}
	for _, m := range nr.Messages {
		text += len(m.Content)
	}
	if ep == epEmbed || ep == epEmbeddings {
		n, e := inputText(nr.Input)
		if e != nil {
			return nil, e
		}
		text = max(n, len(nr.Prompt))
	}
	opts, numCtx := MergeOptions(t.Options, nr.Options, t.NumCtx)
	tokens := EstimateTokens(text + len(t.System))
	if e := g.checkPromptSize(tokens, numCtx); e != nil {
		return nil, e
	}
	keepAlive := string(bytes.Trim(nr.KeepAlive, `"`))
	out := body
	if !t.IsPlain() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, jsonError(err)
		}
		raw["model"] = mustJSON(t.Upstream)
		if len(opts) > 0 {
			raw["options"] = mustJSON(opts)
		}
		if len(nr.KeepAlive) == 0 && t.KeepAlive != "" {
			keepAlive = t.KeepAlive
			raw["keep_alive"] = keepAliveJSON(t.KeepAlive)
		}
		if t.System != "" {
			applySystem(ep, raw, &nr, t.System)
		}
		var err error
		if out, err = json.Marshal(raw); err != nil {
			return nil, errf(http.StatusInternalServerError, "", "re-encoding request: "+err.Error())
		}
	}
	return &prepared{target: t, req: &dispatch.Request{
		Kind: dispatch.Inference, Method: http.MethodPost, Path: ep.path(),
		Persona: personaName(t), Model: t.Upstream, NumCtx: numCtx, KeepAlive: keepAlive,
		PromptTokens: tokens, Stream: ep.streams(nr.Stream), Body: out,
	}}, nil
}

// applySystem is the system-prompt rule: chat gets the persona's system
// message first unless the request already has a system message (the
// client's wins, whole); generate gets "system" unless the request set a
// non-empty one. Embeddings have none.
func applySystem(ep endpoint, raw map[string]json.RawMessage, nr *nativeReq, system string) {
	switch ep {
	case epChat:
		for _, m := range nr.Messages {
			if m.Role == "system" {
				return
			}
		}
		var msgs []json.RawMessage
		_ = json.Unmarshal(raw["messages"], &msgs)
		sys := mustJSON(map[string]string{"role": "system", "content": system})
		raw["messages"] = mustJSON(append([]json.RawMessage{sys}, msgs...))
	case epGenerate:
		if nr.System == nil || *nr.System == "" {
			raw["system"] = mustJSON(system)
		}
	}
}

func (g *Gateway) checkPromptSize(tokens, numCtx int) *apiError {
	ctx := numCtx
	if ctx <= 0 {
		ctx = g.cfg.DefaultContext
	}
	if !PromptTooLarge(tokens, ctx, g.cfg.PromptFactor) {
		return nil
	}
	return &apiError{Status: http.StatusBadRequest, Code: "context_length_exceeded", Param: "messages", Message: fmt.Sprintf(
		"prompt is about %d tokens (estimated as bytes/4), more than %g× the model's context of %d tokens; shorten it or use a persona with a longer context",
		tokens, g.cfg.PromptFactor, ctx)}
}

func personaName(t *Target) string {
	if t.Persona != nil {
		return t.Name
	}
	return ""
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// keepAliveJSON sends plain numbers as numbers: Ollama reads a string
// keep_alive with time.ParseDuration, which rejects "-1".
func keepAliveJSON(ka string) json.RawMessage {
	if f, err := strconv.ParseFloat(ka, 64); err == nil {
		return mustJSON(f)
	}
	return mustJSON(ka)
}

// nativeInference handles /api/chat, /api/generate, /api/embed and
// /api/embeddings.
func (g *Gateway) nativeInference(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obs := observation{endpoint: string(ep), start: time.Now()}
		body, e := readBody(r)
		if e != nil {
			g.fail(w, r, &obs, e)
			return
		}
		p, e := g.prepareNative(ep, body)
		if e != nil {
			g.fail(w, r, &obs, e)
			return
		}
		obs.persona, obs.model = p.req.Persona, p.req.Model
		c, e := g.send(r, p.req)
		if e != nil {
			g.fail(w, r, &obs, e)
			return
		}
		obs.dispatched, obs.queued = true, c.resp.Queued
		setHeaders(w.Header(), p.target, c.resp)
		if c.resp.StatusCode != http.StatusOK {
			g.relayError(w, r, c, p.target, &obs)
			return
		}
		if !p.req.Stream {
			b, e := c.readWhole()
			if e != nil {
				g.fail(w, r, &obs, e)
				return
			}
			obs.load = c.out.LoadDuration
			w.Header().Set("X-Switchyard-Load-Ms", msString(c.out.LoadDuration))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write(b)
			obs.status = http.StatusOK
			g.metrics.observe(obs)
			return
		}
		g.streamNDJSON(w, c, &obs)
	}
}

// streamNDJSON relays Ollama's NDJSON line by line, flushing each. If the
// upstream dies or stalls mid-stream the client gets a last
// {"error":"..."} line, never a silent hang.
func (g *Gateway) streamNDJSON(w http.ResponseWriter, c *call, obs *observation) {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Trailer", "X-Switchyard-Load-Ms")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	obs.status = http.StatusOK
	done, upstreamErr := false, false
	var failure error
	for {
		line, err := c.line()
		if len(line) > 0 {
			if obs.firstChunk.IsZero() {
				obs.firstChunk = time.Now()
			}
			switch {
			case isDone(line):
				var st finalStats
				if json.Unmarshal(line, &st) == nil {
					c.noteStats(st)
				}
				done = true
			case bytes.HasPrefix(line, []byte(`{"error"`)):
				upstreamErr = true
			}
			if _, werr := w.Write(append(line, '\n')); werr != nil {
				failure = werr
				obs.reason = "client_gone"
				break
			}
			rc.Flush()
		}
		if err != nil {
			if err == io.EOF {
				if !done && !upstreamErr {
					failure = errUpstreamEOF
					obs.reason = "upstream_eof"
					writeErrLine(w, rc, errUpstreamEOF.Error())
				}
				if upstreamErr {
					obs.reason = "upstream_error"
				}
			} else {
				e := c.classify(err)
				failure, obs.reason = e, e.Code
				if e.Status != 499 {
					writeErrLine(w, rc, e.Message)
				}
			}
			break
		}
	}
	h.Set("X-Switchyard-Load-Ms", msString(c.out.LoadDuration))
	c.finish(failure)
	obs.load = c.out.LoadDuration
	g.metrics.observe(*obs)
}

func isDone(line []byte) bool {
	return bytes.Contains(line, []byte(`"done":true`)) || bytes.Contains(line, []byte(`"done": true`))
}

func writeErrLine(w io.Writer, rc *http.ResponseController, msg string) {
	w.Write(append(mustJSON(map[string]string{"error": msg}), '\n'))
	rc.Flush()
}

// relayError passes an upstream error status on, turning "model not found"
// into a 404 that lists what exists.
func (g *Gateway) relayError(w http.ResponseWriter, r *http.Request, c *call, t *Target, obs *observation) {
	b, _ := c.readAll()
	status := c.resp.StatusCode
	c.finish(nil)
	msg := errorBody(b, status)
	e := &apiError{Status: status, Message: msg}
	if status == http.StatusNotFound {
		e = g.modelNotFound(r, t)
	}
	if status == http.StatusServiceUnavailable {
		e.RetryAfter = g.cfg.RetryAfter
	}
	obs.reason = "upstream_error"
	g.fail(w, r, obs, e)
}

// modelNotFound builds the 404 that names personas and installed models.
func (g *Gateway) modelNotFound(r *http.Request, t *Target) *apiError {
	var installed []string
	if tags, err := g.upstreamTags(r); err == nil {
		for _, m := range tags {
			installed = append(installed, m.Name)
		}
	}
	list := fmt.Sprintf("personas: %s; installed models: %s", orNone(g.res.Personas()), orNone(installed))
	msg := fmt.Sprintf("model %q not found; %s", t.Name, list)
	if !t.IsPlain() {
		msg = fmt.Sprintf("%q runs on %s, which is not installed upstream (run `switchyard sync`); %s", t.Name, t.Upstream, list)
	}
	return &apiError{Status: http.StatusNotFound, Code: "model_not_found", Param: "model", Message: msg}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// fail answers with e (unless the client is gone) and records it.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, obs *observation, e *apiError) {
	obs.status = e.Status
	if obs.reason == "" {
		obs.reason = reasonOf(e)
	}
	if e.Status != 499 {
		writeError(w, r, e)
	}
	g.metrics.observe(*obs)
}

func reasonOf(e *apiError) string {
	switch {
	case e.Code != "" && e.Status >= 500 || e.Status == 499:
		return e.Code
	case e.Status == http.StatusNotFound:
		return "not_found"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case e.Code == "context_length_exceeded":
		return "prompt_too_large"
	case e.Status >= 500:
		return "upstream_error"
	}
	return "bad_request"
}
