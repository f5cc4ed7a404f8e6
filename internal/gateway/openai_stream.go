package gateway

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"time"
)

type (
	wholeFn func(b []byte) (any, *apiError)
	chunkFn func(line []byte) ([]any, bool, *apiError)
	usageFn func() any
)

// runOpenAI sends a translated request and answers in OpenAI's shape:
// one object, or SSE chunks ending in "data: [DONE]". A stream that fails
// part-way ends with an error event and no [DONE], so clients see an error
// rather than a truncated success.
func (g *Gateway) runOpenAI(w http.ResponseWriter, r *http.Request, p *prepared, obs *observation, whole wholeFn, chunk chunkFn, usage usageFn) {
	obs.persona, obs.model = p.req.Persona, p.req.Model
	c, e := g.send(r, p.req)
	if e != nil {
		g.fail(w, r, obs, e)
		return
	}
	obs.dispatched, obs.queued = true, c.resp.Queued
	setHeaders(w.Header(), p.target, c.resp)
	if c.resp.StatusCode != http.StatusOK {
		g.relayError(w, r, c, p.target, obs)
		return
	}
	if !p.req.Stream {
		b, e := c.readWhole()
		if e != nil {
			g.fail(w, r, obs, e)
			return
		}
		obs.load = c.out.LoadDuration
		out, e := whole(b)
		if e != nil {
			g.fail(w, r, obs, e)
			return
		}
		w.Header().Set("X-Switchyard-Load-Ms", msString(c.out.LoadDuration))
		writeJSON(w, http.StatusOK, out)
		obs.status = http.StatusOK
		g.metrics.observe(*obs)
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Trailer", "X-Switchyard-Load-Ms")
	w.WriteHeader(http.StatusOK)
	obs.status = http.StatusOK
	rc := http.NewResponseController(w)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		buf := make([]byte, 0, len(b)+8)
		buf = append(append(append(buf, "data: "...), b...), "\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		return rc.Flush()
	}
	fail := func(e *apiError) {
		obs.reason = reasonOf(e)
		if e.Status != 499 {
			send(openAIErrorBody{Error: e.openAI()})
		}
	}
	done := false
	var failure error
	for {
		line, err := c.line()
		if len(line) > 0 && !done {
			if obs.firstChunk.IsZero() {
				obs.firstChunk = time.Now()
			}
			var up struct {
				Error string `json:"error"`
			}
			if line[0] == '{' && json.Unmarshal(line, &up) == nil && up.Error != "" {
				e := &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: up.Error}
				failure = e
				fail(e)
				break
			}
			chunks, last, e := chunk(line)
			if e != nil {
				failure = e
				fail(e)
				break
			}
			if last {
				var st finalStats
				_ = json.Unmarshal(line, &st)
				c.noteStats(st)
				done = true
			}
			for _, ch := range chunks {
				if werr := send(ch); werr != nil {
					failure, obs.reason = werr, "client_gone"
					break
				}
			}
			if failure != nil {
				break
			}
		}
		if err != nil {
			switch {
			case err != io.EOF:
				e := c.classify(err)
				failure = e
				fail(e)
			case !done:
				e := &apiError{Status: http.StatusBadGateway, Code: "upstream_eof", Message: errUpstreamEOF.Error()}
				failure = e
				fail(e)
			}
			break
		}
	}
	if failure == nil {
		if usage != nil {
			if u := usage(); u != nil {
				send(u)
			}
		}
		w.Write([]byte("data: [DONE]\n\n"))
		rc.Flush()
	}
	h.Set("X-Switchyard-Load-Ms", msString(c.out.LoadDuration))
	c.finish(failure)
	obs.load = c.out.LoadDuration
	g.metrics.observe(*obs)
}

type oaUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(prompt, completion int) oaUsage {
	return oaUsage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

func finishReason(doneReason string, toolCalls bool) string {
	switch {
	case toolCalls:
		return "tool_calls"
	case doneReason == "length":
		return "length"
	}
	return "stop"
}

type nativeChatResp struct {
	Message struct {
		Content   string `json:"content"`
		Thinking  string `json:"thinking"`
		ToolCalls []struct {
			Function struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
}

// chatTranslator turns /api/chat answers into chat.completion objects and
// chunks.
type chatTranslator struct {
	id, model string
	created   int64
	usage     bool
	started   bool
	tools     int
	final     *nativeChatResp
}

func (t *chatTranslator) toolCalls(n *nativeChatResp) []map[string]any {
	var out []map[string]any
	for _, tc := range n.Message.ToolCalls {
		args := string(tc.Function.Arguments)
		if args == "" || args == "null" {
			args = "{}"
		}
		out = append(out, map[string]any{"index": t.tools, "id": "call_" + newID(), "type": "function",
			"function": map[string]any{"name": tc.Function.Name, "arguments": args}})
		t.tools++
	}
	return out
}

func (t *chatTranslator) whole(b []byte) (any, *apiError) {
	var n nativeChatResp
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream answered malformed JSON"}
	}
	msg := map[string]any{"role": "assistant", "content": n.Message.Content}
	if n.Message.Thinking != "" {
		msg["reasoning"] = n.Message.Thinking
	}
	calls := t.toolCalls(&n)
	if len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	return map[string]any{
		"id": t.id, "object": "chat.completion", "created": t.created, "model": t.model,
		"system_fingerprint": "fp_switchyard",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "finish_reason": finishReason(n.DoneReason, len(calls) > 0)}},
		"usage":              usageOf(n.PromptEvalCount, n.EvalCount),
	}, nil
}

func (t *chatTranslator) chunkOf(delta map[string]any, finish any) map[string]any {
	return map[string]any{
		"id": t.id, "object": "chat.completion.chunk", "created": t.created, "model": t.model,
		"system_fingerprint": "fp_switchyard",
		"choices":            []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
	}
}

func (t *chatTranslator) chunk(line []byte) ([]any, bool, *apiError) {
	var n nativeChatResp
	if err := json.Unmarshal(line, &n); err != nil {
		return nil, false, &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream sent a malformed chunk"}
	}
	delta := map[string]any{}
	if !t.started {
		delta["role"] = "assistant"
		t.started = true
	}
	if n.Message.Content != "" || !n.Done {
		delta["content"] = n.Message.Content
	}
	if n.Message.Thinking != "" {
		delta["reasoning"] = n.Message.Thinking
	}
	if calls := t.toolCalls(&n); len(calls) > 0 {
		delta["tool_calls"] = calls
	}
	if !n.Done {
		return []any{t.chunkOf(delta, nil)}, false, nil
	}
	t.final = &n
	return []any{t.chunkOf(delta, finishReason(n.DoneReason, t.tools > 0))}, true, nil
}

func (t *chatTranslator) usageChunk() any {
	if !t.usage || t.final == nil {
		return nil
	}
	return map[string]any{"id": t.id, "object": "chat.completion.chunk", "created": t.created, "model": t.model,
		"system_fingerprint": "fp_switchyard", "choices": []any{}, "usage": usageOf(t.final.PromptEvalCount, t.final.EvalCount)}
}

type nativeGenResp struct {
	Response        string `json:"response"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
}

// completionTranslator turns /api/generate answers into text_completion
// objects and chunks.
type completionTranslator struct {
	id, model string
	created   int64
	usage     bool
	final     *nativeGenResp
}

func (t *completionTranslator) object(text string, finish any) map[string]any {
	return map[string]any{"id": t.id, "object": "text_completion", "created": t.created, "model": t.model,
		"system_fingerprint": "fp_switchyard",
		"choices":            []any{map[string]any{"text": text, "index": 0, "logprobs": nil, "finish_reason": finish}}}
}

func (t *completionTranslator) whole(b []byte) (any, *apiError) {
	var n nativeGenResp
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream answered malformed JSON"}
	}
	o := t.object(n.Response, finishReason(n.DoneReason, false))
	o["usage"] = usageOf(n.PromptEvalCount, n.EvalCount)
	return o, nil
}

func (t *completionTranslator) chunk(line []byte) ([]any, bool, *apiError) {
	var n nativeGenResp
	if err := json.Unmarshal(line, &n); err != nil {
		return nil, false, &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream sent a malformed chunk"}
	}
	if !n.Done {
		return []any{t.object(n.Response, nil)}, false, nil
	}
	t.final = &n
	return []any{t.object(n.Response, finishReason(n.DoneReason, false))}, true, nil
}

func (t *completionTranslator) usageChunk() any {
	if !t.usage || t.final == nil {
		return nil
	}
	o := t.object("", nil)
	o["choices"] = []any{}
	o["usage"] = usageOf(t.final.PromptEvalCount, t.final.EvalCount)
	return o
}

// embedTranslator turns /api/embed answers into an embedding list; base64
// is little-endian float32, as OpenAI's clients decode it.
type embedTranslator struct {
	model  string
	base64 bool
}

func (t *embedTranslator) whole(b []byte) (any, *apiError) {
	var n struct {
		Embeddings      [][]float32 `json:"embeddings"`
		PromptEvalCount int         `json:"prompt_eval_count"`
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream answered malformed JSON"}
	}
	data := make([]map[string]any, len(n.Embeddings))
	for i, v := range n.Embeddings {
		var emb any = v
		if t.base64 {
			raw := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(raw)
		}
		data[i] = map[string]any{"object": "embedding", "embedding": emb, "index": i}
	}
	return map[string]any{"object": "list", "data": data, "model": t.model,
		"usage": map[string]int{"prompt_tokens": n.PromptEvalCount, "total_tokens": n.PromptEvalCount}}, nil
}
