package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

// OpenAI requests are carried to Ollama's native API (not its /v1 layer),
// so personas' num_ctx and keep_alive apply to them too. Two non-standard
// fields are accepted for the same reason: "options" (Ollama options) and
// "keep_alive".

type oaMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []oaToolCall    `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type oaToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// oaSampling are the sampling fields chat and completions share.
type oaSampling struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	Seed                *int            `json:"seed"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	N                   *int            `json:"n"`
	Options             map[string]any  `json:"options"`
	KeepAlive           json.RawMessage `json:"keep_alive"`
}

type oaChatReq struct {
	oaSampling
	Messages       []oaMessage     `json:"messages"`
	Tools          json.RawMessage `json:"tools"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

type oaCompletionReq struct {
	oaSampling
	Prompt json.RawMessage `json:"prompt"`
	Suffix string          `json:"suffix"`
}

type oaEmbedReq struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	KeepAlive      json.RawMessage `json:"keep_alive"`
	Options        map[string]any  `json:"options"`
}

// options maps OpenAI sampling fields onto Ollama options; the
// non-standard "options" object is applied first, named fields win.
func (s *oaSampling) options() (map[string]any, *apiError) {
	o := map[string]any{}
	for k, v := range s.Options {
		o[k] = v
	}
	set := func(k string, v any, ok bool) {
		if ok {
			o[k] = v
		}
	}
	if s.Temperature != nil {
		o["temperature"] = *s.Temperature
	}
	if s.TopP != nil {
		o["top_p"] = *s.TopP
	}
	set("num_predict", deref(s.MaxTokens), s.MaxTokens != nil)
	set("num_predict", deref(s.MaxCompletionTokens), s.MaxCompletionTokens != nil)
	set("seed", deref(s.Seed), s.Seed != nil)
	if s.FrequencyPenalty != nil {
		o["frequency_penalty"] = *s.FrequencyPenalty
	}
	if s.PresencePenalty != nil {
		o["presence_penalty"] = *s.PresencePenalty
	}
	if len(s.Stop) > 0 && string(s.Stop) != "null" {
		var one string
		var many []string
		switch {
		case json.Unmarshal(s.Stop, &one) == nil:
			o["stop"] = []string{one}
		case json.Unmarshal(s.Stop, &many) == nil:
			o["stop"] = many
		default:
			return nil, &apiError{Status: http.StatusBadRequest, Param: "stop", Message: "stop must be a string or an array of strings"}
		}
	}
	if s.N != nil && *s.N != 1 {
		return nil, &apiError{Status: http.StatusBadRequest, Param: "n", Message: "only n=1 is supported"}
	}
	return o, nil
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// contentText flattens OpenAI content (a string or text parts) and returns
// base64 images from data: URLs.
func contentText(raw json.RawMessage) (string, []string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil, nil
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", nil, &apiError{Status: http.StatusBadRequest, Param: "messages", Message: "message content must be a string or an array of content parts"}
	}
	var b strings.Builder
	var images []string
	for _, p := range parts {
		switch p.Type {
		case "text":
			b.WriteString(p.Text)
		case "image_url":
			_, data, ok := strings.Cut(p.ImageURL.URL, ";base64,")
			if !ok || !strings.HasPrefix(p.ImageURL.URL, "data:") {
				return "", nil, &apiError{Status: http.StatusBadRequest, Param: "messages", Message: "only data: URL images (base64) are supported"}
			}
			images = append(images, data)
		default:
			return "", nil, &apiError{Status: http.StatusBadRequest, Param: "messages", Message: fmt.Sprintf("content part type %q is not supported", p.Type)}
		}
	}
	return b.String(), images, nil
}

// nativeChat translates an OpenAI chat request into Ollama's /api/chat body
// fields (model, options, keep_alive and system are applied later).
func (q *oaChatReq) native() (map[string]any, int, bool, *apiError) {
	msgs := make([]map[string]any, 0, len(q.Messages))
	text := 0
	hasSystem := false
	toolNames := map[string]string{}
	for _, m := range q.Messages {
		content, images, e := contentText(m.Content)
		if e != nil {
			return nil, 0, false, e
		}
		role := m.Role
		if role == "developer" {
			role = "system"
		}
		if role == "system" {
			hasSystem = true
		}
		text += len(content)
		nm := map[string]any{"role": role, "content": content}
		if len(images) > 0 {
			nm["images"] = images
		}
		if len(m.ToolCalls) > 0 {
			calls := make([]map[string]any, 0, len(m.ToolCalls))
			for _, tc := range m.ToolCalls {
				var args json.RawMessage = []byte("{}")
				if strings.TrimSpace(tc.Function.Arguments) != "" {
					if !json.Valid([]byte(tc.Function.Arguments)) {
						return nil, 0, false, &apiError{Status: http.StatusBadRequest, Param: "messages", Message: "tool call arguments must be a JSON object string"}
					}
					args = json.RawMessage(tc.Function.Arguments)
				}
				toolNames[tc.ID] = tc.Function.Name
				calls = append(calls, map[string]any{"function": map[string]any{"name": tc.Function.Name, "arguments": args}})
			}
			nm["tool_calls"] = calls
		}
		if m.Role == "tool" && toolNames[m.ToolCallID] != "" {
			nm["tool_name"] = toolNames[m.ToolCallID]
		}
		msgs = append(msgs, nm)
	}
	body := map[string]any{"messages": msgs, "stream": q.Stream}
	if len(q.Tools) > 0 && string(q.Tools) != "null" {
		body["tools"] = q.Tools
	}
	if rf := q.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			body["format"] = "json"
		case "json_schema":
			if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
				body["format"] = rf.JSONSchema.Schema
			}
		}
	}
	return body, text, hasSystem, nil
}

// prepareOpenAI finishes a native body: resolves the model, merges options,
// applies keep-alive, system prompt and the prompt-size rule.
func (g *Gateway) prepareOpenAI(ep endpoint, model string, body map[string]any, reqOpts map[string]any,
	keepAlive json.RawMessage, text int, hasSystem, stream bool) (*prepared, *apiError) {
	if model == "" {
		return nil, &apiError{Status: http.StatusBadRequest, Param: "model", Message: "you must provide a model parameter"}
	}
	t, pending, ok := g.res.Resolve(model)
	if !ok {
		return nil, &apiError{Status: http.StatusNotFound, Code: "model_not_found", Param: "model", Message: fmt.Sprintf("persona %q has no model yet: %s", model, pending)}
	}
	opts, numCtx := MergeOptions(t.Options, reqOpts, t.NumCtx)
	body["model"] = t.Upstream
	if len(opts) > 0 {
		body["options"] = opts
	}
	ka := string(bytes.Trim(keepAlive, `"`))
	switch {
	case len(keepAlive) > 0:
		body["keep_alive"] = keepAlive
	case t.KeepAlive != "":
		ka = t.KeepAlive
		body["keep_alive"] = keepAliveJSON(t.KeepAlive)
	}
	if t.System != "" {
		switch ep {
		case epChat:
			if !hasSystem {
				msgs := body["messages"].([]map[string]any)
				body["messages"] = append([]map[string]any{{"role": "system", "content": t.System}}, msgs...)
			}
		case epGenerate:
			body["system"] = t.System
		}
	}
	if ep != epEmbed {
		text += len(t.System)
	}
	tokens := EstimateTokens(text)
	if e := g.checkPromptSize(tokens, numCtx); e != nil {
		return nil, e
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &apiError{Status: http.StatusInternalServerError, Message: "encoding upstream request: " + err.Error()}
	}
	return &prepared{target: t, req: &dispatch.Request{
		Kind: dispatch.Inference, Method: http.MethodPost, Path: ep.path(), Persona: personaName(t),
		Model: t.Upstream, NumCtx: numCtx, KeepAlive: ka, PromptTokens: tokens, Stream: stream, Body: b,
	}}, nil
}

func (g *Gateway) openAIChat(w http.ResponseWriter, r *http.Request) {
	obs := observation{endpoint: "v1/chat", start: time.Now()}
	body, e := readBody(r)
	var q oaChatReq
	if e == nil {
		e = decodeBody(body, &q)
	}
	var opts map[string]any
	if e == nil {
		opts, e = q.options()
	}
	var p *prepared
	if e == nil {
		if len(q.Messages) == 0 {
			e = &apiError{Status: http.StatusBadRequest, Param: "messages", Message: "messages must be a non-empty array"}
		}
	}
	if e == nil {
		nb, text, hasSystem, e2 := q.native()
		if e = e2; e == nil {
			p, e = g.prepareOpenAI(epChat, q.Model, nb, opts, q.KeepAlive, text, hasSystem, q.Stream)
		}
	}
	if e != nil {
		g.fail(w, r, &obs, e)
		return
	}
	tr := &chatTranslator{id: "chatcmpl-" + newID(), model: q.Model, created: time.Now().Unix(),
		usage: q.StreamOptions != nil && q.StreamOptions.IncludeUsage}
	g.runOpenAI(w, r, p, &obs, tr.whole, tr.chunk, tr.usageChunk)
}

func (g *Gateway) openAICompletions(w http.ResponseWriter, r *http.Request) {
	obs := observation{endpoint: "v1/completions", start: time.Now()}
	body, e := readBody(r)
	var q oaCompletionReq
	if e == nil {
		e = decodeBody(body, &q)
	}
	var opts map[string]any
	if e == nil {
		opts, e = q.options()
	}
	var prompt string
	if e == nil {
		var list []string
		switch {
		case json.Unmarshal(q.Prompt, &prompt) == nil:
		case json.Unmarshal(q.Prompt, &list) == nil && len(list) == 1:
			prompt = list[0]
		default:
			e = &apiError{Status: http.StatusBadRequest, Param: "prompt", Message: "prompt must be a string (or an array of one string)"}
		}
	}
	var p *prepared
	if e == nil {
		nb := map[string]any{"prompt": prompt, "stream": q.Stream}
		if q.Suffix != "" {
			nb["suffix"] = q.Suffix
		}
		p, e = g.prepareOpenAI(epGenerate, q.Model, nb, opts, q.KeepAlive, len(prompt)+len(q.Suffix), false, q.Stream)
	}
	if e != nil {
		g.fail(w, r, &obs, e)
		return
	}
	tr := &completionTranslator{id: "cmpl-" + newID(), model: q.Model, created: time.Now().Unix(),
		usage: q.StreamOptions != nil && q.StreamOptions.IncludeUsage}
	g.runOpenAI(w, r, p, &obs, tr.whole, tr.chunk, tr.usageChunk)
}

func (g *Gateway) openAIEmbeddings(w http.ResponseWriter, r *http.Request) {
	obs := observation{endpoint: "v1/embeddings", start: time.Now()}
	body, e := readBody(r)
	var q oaEmbedReq
	if e == nil {
		e = decodeBody(body, &q)
	}
	longest := 0
	if e == nil {
		if len(q.Input) == 0 || string(q.Input) == "null" {
			e = &apiError{Status: http.StatusBadRequest, Param: "input", Message: "input is required"}
		} else if longest, e = inputText(q.Input); e != nil {
			e.Message = "input must be a string or an array of strings (token arrays are not supported)"
		}
	}
	if e == nil && q.EncodingFormat != "" && q.EncodingFormat != "float" && q.EncodingFormat != "base64" {
		e = &apiError{Status: http.StatusBadRequest, Param: "encoding_format", Message: "encoding_format must be float or base64"}
	}
	var p *prepared
	if e == nil {
		nb := map[string]any{"input": q.Input}
		if q.Dimensions != nil {
			nb["dimensions"] = *q.Dimensions
		}
		p, e = g.prepareOpenAI(epEmbed, q.Model, nb, q.Options, q.KeepAlive, longest, false, false)
	}
	if e != nil {
		g.fail(w, r, &obs, e)
		return
	}
	tr := &embedTranslator{model: q.Model, base64: q.EncodingFormat == "base64"}
	g.runOpenAI(w, r, p, &obs, tr.whole, nil, nil)
}

// openAIModels lists personas first, then upstream models.
func (g *Gateway) openAIModels(w http.ResponseWriter, r *http.Request) {
	tags, err := g.upstreamTags(r)
	if err != nil {
		e, ok := err.(*apiError)
		if !ok {
			e = errf(http.StatusBadGateway, "upstream_error", err.Error())
		}
		writeError(w, r, e)
		return
	}
	data := []oaModel{}
	for _, name := range g.res.Personas() {
		data = append(data, oaModel{ID: name, Object: "model", Created: time.Now().Unix(), OwnedBy: "switchyard"})
	}
	for _, m := range tags {
		data = append(data, oaModel{ID: m.Name, Object: "model", Created: m.ModifiedAt.Unix(), OwnedBy: "library"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

type oaModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (g *Gateway) openAIModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := g.res.Persona(id); ok {
		writeJSON(w, http.StatusOK, oaModel{ID: id, Object: "model", Created: time.Now().Unix(), OwnedBy: "switchyard"})
		return
	}
	tags, err := g.upstreamTags(r)
	if err != nil {
		writeError(w, r, errf(http.StatusBadGateway, "upstream_error", err.Error()))
		return
	}
	for _, m := range tags {
		if m.Name == id || m.Name == id+":latest" {
			writeJSON(w, http.StatusOK, oaModel{ID: id, Object: "model", Created: m.ModifiedAt.Unix(), OwnedBy: "library"})
			return
		}
	}
	writeError(w, r, g.modelNotFound(r, &Target{Name: id, Upstream: id}))
}
