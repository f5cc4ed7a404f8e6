package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

func TestBadInput(t *testing.T) {
	var calls atomic.Int32
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/tags" {
			calls.Add(1)
		}
		fakeOllama(w, r)
	})
	g := newTestGateway(t, up.URL, func(c *Config) { c.MaxBodyBytes = 1 << 20 })
	huge := `{"model":"my-coder","stream":false,"messages":[{"role":"user","content":"` + strings.Repeat("a", 900_000) + `"}]}`
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // substring of the error message
		openAI                   bool
	}{
		{"malformed JSON", "POST", "/api/chat", `{"model":`, 400, "malformed JSON", false},
		{"malformed JSON openai", "POST", "/v1/chat/completions", `{"model":`, 400, "malformed JSON", true},
		{"wrong type", "POST", "/api/chat", `{"model":5}`, 400, `"model" must be a string`, false},
		{"wrong type openai", "POST", "/v1/chat/completions", `{"model":"my-coder","messages":"hi"}`, 400, `"messages" must be an array`, true},
		{"empty body", "POST", "/api/generate", ``, 400, "missing request body", false},
		{"missing model", "POST", "/api/generate", `{"prompt":"x"}`, 400, "model is required", false},
		{"missing model openai", "POST", "/v1/completions", `{"prompt":"x"}`, 400, "model parameter", true},
		{"unknown model lists what exists", "POST", "/api/chat", `{"model":"nope","messages":[]}`, 404, "personas: my-coder, my-embedder, my-writer; installed models: tiny-coder:latest", false},
		{"unknown model openai", "POST", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, 404, "installed models", true},
		{"pending persona", "POST", "/api/chat", `{"model":"my-translator","messages":[]}`, 404, "needs research", false},
		{"bad input type", "POST", "/api/embed", `{"model":"my-embedder","input":5}`, 400, "string or an array", false},
		{"token arrays refused", "POST", "/v1/embeddings", `{"model":"my-embedder","input":[1,2]}`, 400, "token arrays", true},
		{"n>1 refused", "POST", "/v1/chat/completions", `{"model":"my-coder","n":2,"messages":[{"role":"user","content":"x"}]}`, 400, "n=1", true},
		{"body over limit", "POST", "/api/chat", `{"model":"my-coder","messages":[{"role":"user","content":"` + strings.Repeat("a", 1<<20) + `"}]}`, 413, "limit", false},
		{"prompt beyond context", "POST", "/api/chat", huge, 400, "more than 4× the model's context of 1024", false},
		{"prompt beyond context openai", "POST", "/v1/chat/completions", strings.Replace(huge, `"stream":false,`, "", 1), 400, "context", true},
		{"unknown route", "GET", "/api/nothing", ``, 404, "no route", false},
		{"unknown route openai", "GET", "/v1/nothing", ``, 404, "no route", true},
		{"wrong method", "GET", "/api/chat", ``, 405, "not allowed", false},
		{"wrong method openai", "DELETE", "/v1/models", ``, 405, "not allowed", true},
		{"admin refused", "POST", "/api/pull", `{"model":"x"}`, 403, "--allow-admin", false},
		{"admin delete refused", "DELETE", "/api/delete", `{"model":"x"}`, 403, "--allow-admin", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, g, tt.method, tt.path, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			m := decodeMap(t, rec.Body.Bytes())
			var msg string
			if tt.openAI {
				e, ok := m["error"].(map[string]any)
				if !ok || e["type"] == nil {
					t.Fatalf("not OpenAI-shaped: %s", rec.Body)
				}
				msg, _ = e["message"].(string)
			} else {
				msg, _ = m["error"].(string)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if tt.status == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	if n := calls.Load(); n != 2 { // only the two unknown-model requests reach upstream
		t.Errorf("upstream saw %d inference calls, want 2", n)
	}
	if rec := do(t, g, "POST", "/v1/chat/completions", strings.Replace(huge, `"stream":false,`, "", 1)); !strings.Contains(rec.Body.String(), `"code":"context_length_exceeded"`) {
		t.Errorf("OpenAI code: %s", rec.Body)
	}
}

// TestHugeBodyRefusedFast sends 64 MiB with a Content-Length: the gateway
// answers 413 without reading it and the upstream never sees it.
func TestHugeBodyRefusedFast(t *testing.T) {
	var calls atomic.Int32
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); fakeOllama(w, r) })
	srv := httptest.NewServer(newTestGateway(t, up.URL, nil))
	defer srv.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(strings.Repeat("a", 64<<20))
		if chunked {
			body = io.MultiReader(body) // hides the length: chunked encoding
		}
		resp, err := http.Post(srv.URL+"/api/chat", "application/json", body)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("chunked=%v: %d %s", chunked, resp.StatusCode, b)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("upstream saw %d calls", calls.Load())
	}
}

func TestUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	g := newTestGateway(t, addr, nil)
	for _, p := range []string{"/api/chat", "/v1/chat/completions"} {
		rec := do(t, g, "POST", p, `{"model":"my-coder","messages":[{"role":"user","content":"x"}]}`)
		if rec.Code != 503 || rec.Header().Get("Retry-After") != "5" || !strings.Contains(rec.Body.String(), "unavailable") {
			t.Errorf("%s: %d %v %s", p, rec.Code, rec.Header(), rec.Body)
		}
	}
	if rec := do(t, g, "GET", "/readyz", nil); rec.Code != 503 {
		t.Errorf("readyz = %d", rec.Code)
	}
	if rec := do(t, g, "GET", "/healthz", nil); rec.Code != 200 {
		t.Errorf("healthz = %d", rec.Code)
	}
}

// faultUpstream streams one chunk and then dies, stalls, or sends an error.
func faultUpstream(t *testing.T, mode string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the gateway hanging up
		if mode == "stall-first" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, `{"model":"m","message":{"role":"assistant","content":"par"},"done":false}`+"\n")
		w.(http.Flusher).Flush()
		switch mode {
		case "die":
			hj, _, _ := http.NewResponseController(w).Hijack()
			hj.Close()
		case "stall":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case "error":
			io.WriteString(w, `{"error":"model runner crashed"}`+"\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		mode, path string
		status     int
		want       string
	}{
		{"die", "/api/chat", 200, `{"error":"upstream closed the stream before it finished"}`},
		{"die", "/v1/chat/completions", 200, `data: {"error":{"message":"upstream closed the stream before it finished"`},
		{"stall", "/api/chat", 200, `idle timeout`},
		{"stall", "/v1/chat/completions", 200, `idle timeout`},
		{"error", "/api/chat", 200, `{"error":"model runner crashed"}`},
		{"error", "/v1/chat/completions", 200, `"message":"model runner crashed"`},
		{"stall-first", "/api/chat", 504, `first-byte timeout`},
		{"stall-first", "/v1/chat/completions", 504, `first-byte timeout`},
	}
	for _, tt := range tests {
		t.Run(tt.mode+tt.path, func(t *testing.T) {
			up := faultUpstream(t, tt.mode)
			// Only the stall modes need short deadlines; the others get
			// generous ones so a loaded machine cannot turn them into timeouts.
			deadline := 10 * time.Second
			if strings.HasPrefix(tt.mode, "stall") {
				deadline = 300 * time.Millisecond
			}
			g := newTestGateway(t, up.URL, func(c *Config) {
				c.FirstByteTimeout, c.IdleTimeout = deadline, deadline
			})
			srv := httptest.NewServer(g)
			defer srv.Close()
			resp, err := http.Post(srv.URL+tt.path, "application/json", strings.NewReader(`{"model":"my-coder","stream":true,"messages":[{"role":"user","content":"x"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
			if strings.Contains(string(b), "[DONE]") {
				t.Errorf("failed stream ended with [DONE]: %s", b)
			}
		})
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"message":{"content":"a"},"done":false}`+"\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	}))
	defer up.Close()
	srv := httptest.NewServer(newTestGateway(t, up.URL, nil))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/chat", strings.NewReader(`{"model":"my-coder","messages":[]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(resp.Body).ReadString('\n')
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request not cancelled after the client left")
	}
}

func TestAuth(t *testing.T) {
	up := newRecordingUpstream(t, fakeOllama)
	g := newTestGateway(t, up.URL, func(c *Config) { c.APIKeys = []string{"k1", "secret-2"} })
	tests := []struct {
		path, auth string
		status     int
	}{
		{"/api/tags", "", 401},
		{"/api/tags", "Bearer wrong", 401},
		{"/api/tags", "Bearer secret-2", 200},
		{"/v1/models", "Basic k1", 401},
		{"/v1/models", "Bearer k1", 200},
		{"/healthz", "", 200},
		{"/metrics", "", 401},
	}
	for _, tt := range tests {
		rec := do(t, g, "GET", tt.path, nil, "Authorization", tt.auth)
		if rec.Code != tt.status {
			t.Errorf("%s %q = %d %s", tt.path, tt.auth, rec.Code, rec.Body)
		}
		if rec.Code == 401 && strings.HasPrefix(tt.path, "/v1") && !strings.Contains(rec.Body.String(), `"code":"invalid_api_key"`) {
			t.Errorf("401 not OpenAI-shaped: %s", rec.Body)
		}
	}
}

func TestAdminAllowed(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, `{"status":"pulling manifest"}`+"\n"+`{"status":"success"}`+"\n")
	})
	g := newTestGateway(t, up.URL, func(c *Config) { c.AllowAdmin = true })
	rec := do(t, g, "POST", "/api/pull", `{"model":"x"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "success") || up.last(t)["_path"] != "/api/pull" {
		t.Errorf("pull: %d %s", rec.Code, rec.Body)
	}
}

type panicDispatcher struct{}

func (panicDispatcher) Dispatch(context.Context, *dispatch.Request) (*dispatch.Response, error) {
	panic("boom")
}

func TestPanicIsAPIShaped(t *testing.T) {
	s, cat := testStrategy(t)
	g, err := New(Config{Strategy: s, Catalog: cat, Dispatcher: panicDispatcher{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := do(t, g, "POST", "/v1/chat/completions", `{"model":"my-coder","messages":[{"role":"user","content":"x"}]}`)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"type":"server_error"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
