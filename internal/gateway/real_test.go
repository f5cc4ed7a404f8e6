package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
	"github.com/switchyard/switchyard/internal/testbed"
)

// realGateway starts the real Ollama with the testbed's tiny role models and
// a gateway in front of it (tiny-coder, tiny-writer, tiny-embed match the
// test strategy's pull names).
func realGateway(t *testing.T) (*testbed.Ollama, *httptest.Server) {
	t.Helper()
	o := testbed.StartOllama(t)
	testbed.InstallRoleModels(t, o)
	srv := httptest.NewServer(newTestGateway(t, o.URL, func(c *Config) { c.FirstByteTimeout = time.Minute }))
	t.Cleanup(srv.Close)
	return o, srv
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func TestRealOllamaEndpoints(t *testing.T) {
	o, srv := realGateway(t)
	chat := `"messages":[{"role":"user","content":"hello"}],"options":{"num_predict":8,"seed":1}`
	tests := []struct {
		name, method, path, body string
		check                    func(t *testing.T, resp *http.Response, b []byte)
	}{
		{"chat", "POST", "/api/chat", `{"model":"my-coder","stream":false,` + chat + `}`, func(t *testing.T, resp *http.Response, b []byte) {
			m := decodeMap(t, b)
			if m["done"] != true || m["message"] == nil || resp.Header.Get("X-Switchyard-Load-Ms") == "" || resp.Header.Get("X-Switchyard-Persona") != "my-coder" {
				t.Errorf("%v %s", resp.Header, b)
			}
		}},
		{"chat stream", "POST", "/api/chat", `{"model":"my-coder",` + chat + `}`, func(t *testing.T, resp *http.Response, b []byte) {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], `"done":true`) || resp.Trailer.Get("X-Switchyard-Load-Ms") == "" {
				t.Errorf("%d lines, trailer %v: %s", len(lines), resp.Trailer, b)
			}
		}},
		{"generate", "POST", "/api/generate", `{"model":"my-writer","prompt":"once","stream":false,"options":{"num_predict":4}}`, func(t *testing.T, resp *http.Response, b []byte) {
			if decodeMap(t, b)["done"] != true {
				t.Errorf("%s", b)
			}
		}},
		{"generate stream", "POST", "/api/generate", `{"model":"tiny-coder:latest","prompt":"once","options":{"num_predict":4}}`, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), `"done":true`) || resp.Header.Get("X-Switchyard-Persona") != "" {
				t.Errorf("%s", b)
			}
		}},
		{"embed", "POST", "/api/embed", `{"model":"my-embedder","input":["a","b c"]}`, func(t *testing.T, resp *http.Response, b []byte) {
			if e, _ := decodeMap(t, b)["embeddings"].([]any); len(e) != 2 {
				t.Errorf("%s", b)
			}
		}},
		{"embeddings legacy", "POST", "/api/embeddings", `{"model":"my-embedder","prompt":"a"}`, func(t *testing.T, resp *http.Response, b []byte) {
			if e, _ := decodeMap(t, b)["embedding"].([]any); len(e) == 0 {
				t.Errorf("%s", b)
			}
		}},
		{"tags", "GET", "/api/tags", ``, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), `"name":"my-coder"`) || !strings.Contains(string(b), `"name":"tiny-coder:latest"`) {
				t.Errorf("%s", b)
			}
		}},
		{"ps", "GET", "/api/ps", ``, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), "tiny-") {
				t.Errorf("%s", b)
			}
		}},
		{"show persona", "POST", "/api/show", `{"model":"my-coder"}`, func(t *testing.T, resp *http.Response, b []byte) {
			m := decodeMap(t, b)
			if m["system"] != "You are a careful coder." || !strings.Contains(m["parameters"].(string), "num_ctx") || m["model_info"] == nil {
				t.Errorf("%s", b)
			}
		}},
		{"version", "GET", "/api/version", ``, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), "0.17.4") {
				t.Errorf("%s", b)
			}
		}},
		{"openai chat", "POST", "/v1/chat/completions", `{"model":"my-coder","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`, func(t *testing.T, resp *http.Response, b []byte) {
			m := decodeMap(t, b)
			if m["object"] != "chat.completion" || m["usage"].(map[string]any)["prompt_tokens"].(float64) == 0 {
				t.Errorf("%s", b)
			}
		}},
		{"openai chat stream", "POST", "/v1/chat/completions", `{"model":"my-coder","stream":true,"stream_options":{"include_usage":true},"max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.HasSuffix(strings.TrimSpace(string(b)), "data: [DONE]") || !strings.Contains(string(b), `"usage"`) {
				t.Errorf("%s", b)
			}
		}},
		{"openai completions", "POST", "/v1/completions", `{"model":"my-writer","prompt":"once","max_tokens":4}`, func(t *testing.T, resp *http.Response, b []byte) {
			if decodeMap(t, b)["object"] != "text_completion" {
				t.Errorf("%s", b)
			}
		}},
		{"openai completions stream", "POST", "/v1/completions", `{"model":"my-writer","prompt":"once","max_tokens":4,"stream":true}`, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), `"text_completion"`) || !strings.Contains(string(b), "[DONE]") {
				t.Errorf("%s", b)
			}
		}},
		{"openai embeddings", "POST", "/v1/embeddings", `{"model":"my-embedder","input":["x","y"]}`, func(t *testing.T, resp *http.Response, b []byte) {
			if d, _ := decodeMap(t, b)["data"].([]any); len(d) != 2 {
				t.Errorf("%s", b)
			}
		}},
		{"openai models", "GET", "/v1/models", ``, func(t *testing.T, resp *http.Response, b []byte) {
			if !strings.Contains(string(b), `"id":"my-writer"`) || !strings.Contains(string(b), `"id":"tiny-embed:latest"`) {
				t.Errorf("%s", b)
			}
		}},
		{"openai model", "GET", "/v1/models/my-coder", ``, func(t *testing.T, resp *http.Response, b []byte) {
			if decodeMap(t, b)["id"] != "my-coder" {
				t.Errorf("%s", b)
			}
		}},
		{"unknown model", "POST", "/api/chat", `{"model":"missing","messages":[]}`, func(t *testing.T, resp *http.Response, b []byte) {
			if resp.StatusCode != 404 || !strings.Contains(string(b), "tiny-writer:latest") {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && tt.name != "unknown model" {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			tt.check(t, resp, b)
		})
	}

	// The persona's context and keep-alive reached Ollama: /api/ps shows
	// the embedder pinned (expires far away) and the coder at num_ctx 1024.
	var ps struct {
		Models []struct {
			Name          string    `json:"name"`
			ExpiresAt     time.Time `json:"expires_at"`
			ContextLength int       `json:"context_length"`
		} `json:"models"`
	}
	_, b := get(t, o.URL+"/api/ps")
	json.Unmarshal(b, &ps)
	for _, m := range ps.Models {
		t.Logf("ps: %s ctx=%d expires=%s", m.Name, m.ContextLength, m.ExpiresAt)
		switch m.Name {
		case "tiny-embed:latest":
			if time.Until(m.ExpiresAt) < 24*time.Hour {
				t.Errorf("pinned embedder expires at %s", m.ExpiresAt)
			}
		case "tiny-coder:latest":
			if m.ContextLength != 0 && m.ContextLength != 1024 {
				t.Errorf("coder context %d, want the persona's 1024", m.ContextLength)
			}
		}
	}
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// TestRealOllamaProtectedFromHugePrompt: a 64 MiB prompt is refused at the
// gateway and the upstream keeps answering others at once.
func TestRealOllamaProtectedFromHugePrompt(t *testing.T) {
	o, srv := realGateway(t)
	huge := `{"model":"my-coder","stream":false,"messages":[{"role":"user","content":"` + strings.Repeat("word ", 64<<20/5) + `"}]}`
	start := time.Now()
	resp, b := post(t, srv.URL+"/api/chat", huge)
	if resp.StatusCode != 413 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	t.Logf("64 MiB refused in %s", time.Since(start))
	// Under the body limit but far beyond the persona's context: 400 before upstream.
	resp, b = post(t, srv.URL+"/api/chat", `{"model":"my-coder","stream":false,"messages":[{"role":"user","content":"`+strings.Repeat("word ", 1<<20/5)+`"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "context") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", o.URL+"/api/generate", strings.NewReader(`{"model":"tiny-coder:latest","prompt":"hi","stream":false,"options":{"num_predict":2}}`))
	r2, err := http.DefaultClient.Do(req)
	if err != nil || r2.StatusCode != 200 {
		t.Fatalf("upstream not responsive after the refusal: %v", err)
	}
	r2.Body.Close()
}

// TestRealOllamaCLI drives the real ollama CLI against the gateway.
func TestRealOllamaCLI(t *testing.T) {
	o, srv := realGateway(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	cli := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, o.Bin, args...)
		env := []string{}
		for _, kv := range o.Env {
			if !strings.HasPrefix(kv, "OLLAMA_HOST=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "OLLAMA_HOST="+host)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ollama %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// Tiny random models babble; only that an answer arrived matters.
	out := cli("run", "my-coder", "hello", "--nowordwrap", "--hidethinking")
	if len(strings.TrimSpace(out)) == 0 {
		t.Error("ollama run printed nothing")
	}
	out = cli("list")
	if !strings.Contains(out, "my-coder") || !strings.Contains(out, "tiny-coder:latest") {
		t.Errorf("ollama list:\n%s", out)
	}
	out = cli("ps")
	if !strings.Contains(out, "tiny-coder") {
		t.Errorf("ollama ps:\n%s", out)
	}
	out = cli("show", "my-writer")
	if !strings.Contains(out, "You write plainly.") {
		t.Errorf("ollama show:\n%s", out)
	}
	t.Logf("ollama show my-writer:\n%s", out)
}

// TestDirectOverRealOllama checks the dispatcher alone.
func TestDirectOverRealOllama(t *testing.T) {
	o := testbed.StartOllama(t)
	d, err := dispatch.NewDirect(o.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := d.Dispatch(context.Background(), &dispatch.Request{Kind: dispatch.Meta, Method: "GET", Path: "/api/version"})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	resp.Finish(dispatch.Outcome{})
	if resp.StatusCode != 200 || !strings.Contains(line, "version") {
		t.Errorf("%d %q", resp.StatusCode, line)
	}
}
