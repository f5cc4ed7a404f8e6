package gateway

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNativePersonaRequests(t *testing.T) {
	up := newRecordingUpstream(t, fakeOllama)
	g := newTestGateway(t, up.URL, nil)
	tests := []struct {
		name, path string
		body       map[string]any
		check      func(t *testing.T, sent map[string]any)
	}{
		{"chat gets system, options, ctx, keep-alive", "/api/chat",
			map[string]any{"model": "my-coder", "stream": false, "messages": []any{map[string]any{"role": "user", "content": "hi"}},
				"options": map[string]any{"temperature": 0.9}, "think": false},
			func(t *testing.T, s map[string]any) {
				msgs := s["messages"].([]any)
				if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" || msgs[0].(map[string]any)["content"] != "You are a careful coder." {
					t.Errorf("messages = %v", msgs)
				}
				o := s["options"].(map[string]any)
				if o["temperature"] != 0.9 || o["top_p"] != 0.9 || o["num_ctx"] != 1024.0 {
					t.Errorf("options = %v", o)
				}
				if s["keep_alive"] != "30m" || s["model"] != "tiny-coder:latest" || s["think"] != false {
					t.Errorf("body = %v", s)
				}
			}},
		{"own system message wins", "/api/chat",
			map[string]any{"model": "my-coder", "stream": false, "keep_alive": 0, "messages": []any{
				map[string]any{"role": "system", "content": "mine"}, map[string]any{"role": "user", "content": "hi"}}},
			func(t *testing.T, s map[string]any) {
				if msgs := s["messages"].([]any); len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "mine" {
					t.Errorf("messages = %v", msgs)
				}
				if s["keep_alive"] != 0.0 {
					t.Errorf("request keep_alive not kept: %v", s["keep_alive"])
				}
			}},
		{"generate gets system", "/api/generate", map[string]any{"model": "my-writer", "prompt": "x", "stream": false},
			func(t *testing.T, s map[string]any) {
				if s["system"] != "You write plainly." || s["keep_alive"] != "2m" || s["options"].(map[string]any)["num_ctx"] != 512.0 {
					t.Errorf("body = %v", s)
				}
			}},
		{"pinned embedder keep-alive -1 as a number", "/api/embed", map[string]any{"model": "my-embedder", "input": []string{"a", "b"}},
			func(t *testing.T, s map[string]any) {
				if s["keep_alive"] != -1.0 || s["system"] != nil {
					t.Errorf("body = %v", s)
				}
			}},
		{"plain model untouched", "/api/chat", map[string]any{"model": "plain:latest", "stream": false, "messages": []any{}},
			func(t *testing.T, s map[string]any) {
				if s["options"] != nil || s["keep_alive"] != nil || len(s["messages"].([]any)) != 0 {
					t.Errorf("plain body changed: %v", s)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, g, "POST", tt.path, tt.body)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			tt.check(t, up.last(t))
		})
	}
}

func TestNativeResponsesAndHeaders(t *testing.T) {
	up := newRecordingUpstream(t, fakeOllama)
	g := newTestGateway(t, up.URL, nil)
	srv := httptest.NewServer(g)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/api/chat", "application/json", strings.NewReader(`{"model":"my-coder","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/x-ndjson" || resp.Header.Get("X-Switchyard-Persona") != "my-coder" ||
		resp.Header.Get("X-Switchyard-Model") != "tiny-coder:latest" || resp.Header.Get("X-Switchyard-Queue-Ms") == "" {
		t.Errorf("headers = %v", resp.Header)
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || !strings.Contains(lines[2], `"done":true`) {
		t.Errorf("lines = %q", lines)
	}
	if got := resp.Trailer.Get("X-Switchyard-Load-Ms"); got != "2.500" {
		t.Errorf("load trailer = %q", got)
	}

	rec := do(t, g, "POST", "/api/generate", map[string]any{"model": "my-coder", "prompt": "x", "stream": false})
	if rec.Header().Get("X-Switchyard-Load-Ms") != "2.500" || decodeMap(t, rec.Body.Bytes())["response"] != "hello world" {
		t.Errorf("generate: %v %s", rec.Header(), rec.Body)
	}
	rec = do(t, g, "POST", "/api/embeddings", map[string]any{"model": "my-embedder", "prompt": "x"})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "embedding") {
		t.Errorf("embeddings: %d %s", rec.Code, rec.Body)
	}
}

func TestMetaEndpoints(t *testing.T) {
	up := newRecordingUpstream(t, fakeOllama)
	g := newTestGateway(t, up.URL, nil)
	rec := do(t, g, "GET", "/api/tags", nil)
	tags := decodeMap(t, rec.Body.Bytes())["models"].([]any)
	names := []string{}
	for _, m := range tags {
		mm := m.(map[string]any)
		names = append(names, mm["name"].(string))
		if len(mm["digest"].(string)) < 12 {
			t.Errorf("short digest breaks `ollama list`: %v", mm)
		}
	}
	if strings.Join(names, ",") != "tiny-coder:latest,tiny-embed:latest,my-coder,my-embedder,my-writer" {
		t.Errorf("tags = %v", names)
	}

	rec = do(t, g, "POST", "/api/show", map[string]any{"model": "my-coder"})
	show := decodeMap(t, rec.Body.Bytes())
	if rec.Code != 200 || show["system"] != "You are a careful coder." || !strings.Contains(show["parameters"].(string), "temperature") ||
		!strings.Contains(show["parameters"].(string), "num_ctx") || !strings.Contains(show["parameters"].(string), "stop") ||
		show["switchyard"].(map[string]any)["upstream_model"] != "tiny-coder:latest" || show["capabilities"] == nil {
		t.Errorf("show = %d %v", rec.Code, show)
	}
	rec = do(t, g, "POST", "/api/show", map[string]any{"model": "nope"})
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "my-coder") {
		t.Errorf("show unknown = %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/api/version", "/api/ps", "/healthz", "/readyz"} {
		if rec := do(t, g, "GET", p, nil); rec.Code != 200 {
			t.Errorf("%s = %d %s", p, rec.Code, rec.Body)
		}
	}
	do(t, g, "POST", "/api/generate", map[string]any{"model": "my-coder", "prompt": "x", "stream": false})
	rec = do(t, g, "GET", "/metrics", nil)
	if !strings.Contains(rec.Body.String(), `switchyard_requests_total{endpoint="generate",model="tiny-coder:latest",persona="my-coder",status="200"} 1`) {
		t.Errorf("metrics missing counters:\n%s", rec.Body)
	}
}

func TestOpenAI(t *testing.T) {
	up := newRecordingUpstream(t, fakeOllama)
	g := newTestGateway(t, up.URL, nil)
	srv := httptest.NewServer(g)
	defer srv.Close()

	rec := do(t, g, "POST", "/v1/chat/completions", map[string]any{"model": "my-coder", "max_tokens": 5, "stop": "x", "temperature": 0,
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hi"}}}}})
	out := decodeMap(t, rec.Body.Bytes())
	sent := up.last(t)
	if sent["_path"] != "/api/chat" || sent["keep_alive"] != "30m" || sent["options"].(map[string]any)["num_predict"] != 5.0 ||
		sent["options"].(map[string]any)["num_ctx"] != 1024.0 || sent["options"].(map[string]any)["temperature"] != 0.0 {
		t.Errorf("upstream body = %v", sent)
	}
	ch := out["choices"].([]any)[0].(map[string]any)
	if out["object"] != "chat.completion" || ch["message"].(map[string]any)["content"] != "hello world" || ch["finish_reason"] != "stop" ||
		out["usage"].(map[string]any)["total_tokens"] != 9.0 || out["model"] != "my-coder" {
		t.Errorf("chat.completion = %v", out)
	}

	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(
		`{"model":"my-coder","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	events := sseEvents(t, resp)
	if resp.Header.Get("Content-Type") != "text/event-stream" || len(events) != 5 || events[4] != "[DONE]" ||
		!strings.Contains(events[0], `"role":"assistant"`) || !strings.Contains(events[2], `"finish_reason":"stop"`) ||
		!strings.Contains(events[3], `"usage"`) {
		t.Errorf("SSE events = %q", events)
	}

	rec = do(t, g, "POST", "/v1/completions", map[string]any{"model": "my-coder", "prompt": "once"})
	out = decodeMap(t, rec.Body.Bytes())
	if sent := up.last(t); sent["_path"] != "/api/generate" || sent["system"] != "You are a careful coder." || out["object"] != "text_completion" {
		t.Errorf("completions: sent %v got %v", sent, out)
	}

	rec = do(t, g, "POST", "/v1/embeddings", map[string]any{"model": "my-embedder", "input": "hi", "encoding_format": "base64"})
	out = decodeMap(t, rec.Body.Bytes())
	raw, _ := base64.StdEncoding.DecodeString(out["data"].([]any)[0].(map[string]any)["embedding"].(string))
	if len(raw) != 8 || math.Float32frombits(binary.LittleEndian.Uint32(raw)) != 0.5 {
		t.Errorf("base64 embedding = %v", out)
	}
	rec = do(t, g, "POST", "/v1/embeddings", map[string]any{"model": "my-embedder", "input": []string{"a", "b"}})
	if data := decodeMap(t, rec.Body.Bytes())["data"].([]any); len(data) != 2 {
		t.Errorf("float embeddings = %s", rec.Body)
	}

	rec = do(t, g, "GET", "/v1/models", nil)
	if !strings.Contains(rec.Body.String(), `"id":"my-coder"`) || !strings.Contains(rec.Body.String(), `"id":"tiny-coder:latest"`) {
		t.Errorf("models = %s", rec.Body)
	}
	for id, code := range map[string]int{"my-coder": 200, "tiny-coder": 200, "nope": 404} {
		if rec := do(t, g, "GET", "/v1/models/"+id, nil); rec.Code != code {
			t.Errorf("/v1/models/%s = %d %s", id, rec.Code, rec.Body)
		}
	}
}

// sseEvents returns the data: payloads of an SSE response.
func sseEvents(t *testing.T, resp *http.Response) []string {
	t.Helper()
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}
