package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/dispatch"
	"github.com/switchyard/switchyard/internal/strategy"
)

// testStrategyYAML declares tiny models (the testbed's role models) with
// explicit pull names, and personas on them.
const testStrategyYAML = `
version: 1
hardware:
  gpu: test
  vram_mib: 12288
  keep_alive: 30m
  pinned: [tiny-embed]
catalog:
  - {id: tiny-coder, name: Tiny Coder, kind: dense, params_b: 0.001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, vocab: 300, trained_ctx: 2048}
  - {id: tiny-writer, name: Tiny Writer, kind: dense, params_b: 0.001, layers: 3, heads: 4, kv_heads: 2, head_dim: 12, embd: 48, vocab: 300, trained_ctx: 4096}
  - {id: tiny-embed, name: Tiny Embed, kind: embedding, params_b: 0.001, layers: 2, heads: 4, kv_heads: 4, head_dim: 16, embd: 64, vocab: 300, trained_ctx: 512}
models:
  - {id: tiny-coder, quant: F32, context: 1024, tier: 1, pull: "tiny-coder:latest"}
  - {id: tiny-writer, quant: F32, context: 2048, tier: 1, pull: "tiny-writer:latest", keep_alive: 10m}
  - {id: tiny-embed, quant: F32, context: 512, tier: 2, pull: "tiny-embed:latest"}
personas:
  - name: my-coder
    model: tiny-coder
    system: You are a careful coder.
    parameters: {temperature: 0.2, top_p: 0.9, num_predict: 24} # bounds tiny models that never stop
  - name: my-writer
    model: tiny-writer
    system: You write plainly.
    parameters: {temperature: 0.7, num_ctx: 512}
    keep_alive: 2m
  - name: my-embedder
    model: tiny-embed
  - name: my-translator
    model: ""
    pending: needs research
`

func testStrategy(t testing.TB) (*strategy.Strategy, *catalog.Catalog) {
	t.Helper()
	base := catalog.Builtin()
	s, err := strategy.Parse([]byte(testStrategyYAML), "test", base)
	if err != nil {
		t.Fatalf("test strategy: %v", err)
	}
	return s, s.CatalogWith(base)
}

// newTestGateway builds a gateway over upstream with the test strategy.
func newTestGateway(t testing.TB, upstream string, mod func(*Config)) *Gateway {
	t.Helper()
	s, cat := testStrategy(t)
	d, err := dispatch.NewDirect(upstream, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Strategy: s, Catalog: cat, Dispatcher: d}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// recordingUpstream is a fake Ollama that records request bodies and
// answers with handler.
type recordingUpstream struct {
	*httptest.Server
	bodies chan map[string]any
}

func newRecordingUpstream(t testing.TB, handler http.HandlerFunc) *recordingUpstream {
	u := &recordingUpstream{bodies: make(chan map[string]any, 100)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			m["_path"] = r.URL.Path
			select {
			case u.bodies <- m:
			default:
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		handler(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) last(t testing.TB) map[string]any {
	t.Helper()
	var last map[string]any
	for {
		select {
		case m := <-u.bodies:
			last = m
		default:
			if last == nil {
				t.Fatal("upstream received no request")
			}
			return last
		}
	}
}

// do sends a request to the gateway handler and returns the recorder.
func do(t testing.TB, h http.Handler, method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON (%v): %q", err, b)
	}
	return m
}

// fakeOllama answers like Ollama for the endpoints the unit tests use.
func fakeOllama(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	_ = json.NewDecoder(r.Body).Decode(&req)
	w.Header().Set("Content-Type", "application/json")
	model, _ := req["model"].(string)
	switch r.URL.Path {
	case "/api/version":
		io.WriteString(w, `{"version":"0.17.4"}`)
	case "/api/tags":
		io.WriteString(w, `{"models":[{"name":"tiny-coder:latest","model":"tiny-coder:latest","modified_at":"2026-01-02T03:04:05Z","size":1234,"digest":"abcdef0123456789abcdef","details":{"family":"llama"}},{"name":"tiny-embed:latest","model":"tiny-embed:latest","size":99,"digest":"0123456789abcdef0123","details":{"family":"bert"}}]}`)
	case "/api/ps":
		io.WriteString(w, `{"models":[]}`)
	case "/api/show":
		if model != "tiny-coder:latest" {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":"model '`+model+`' not found"}`)
			return
		}
		io.WriteString(w, `{"modelfile":"FROM x","parameters":"stop                           \"<|user|>\"","template":"{{ .Prompt }}","details":{"family":"llama"},"capabilities":["completion"]}`)
	case "/api/chat", "/api/generate":
		if model != "tiny-coder:latest" && model != "tiny-writer:latest" && model != "plain:latest" {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":"model '`+model+`' not found"}`)
			return
		}
		chat := r.URL.Path == "/api/chat"
		piece := func(s string) string {
			if chat {
				return `"message":{"role":"assistant","content":"` + s + `"}`
			}
			return `"response":"` + s + `"`
		}
		if st, ok := req["stream"].(bool); ok && !st {
			io.WriteString(w, `{"model":"`+model+`",`+piece("hello world")+`,"done":true,"done_reason":"stop","load_duration":2500000,"prompt_eval_count":7,"eval_count":2}`)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, p := range []string{"hello", " world"} {
			io.WriteString(w, `{"model":"`+model+`",`+piece(p)+`,"done":false}`+"\n")
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, `{"model":"`+model+`",`+piece("")+`,"done":true,"done_reason":"stop","load_duration":2500000,"prompt_eval_count":7,"eval_count":2}`+"\n")
	case "/api/embed":
		io.WriteString(w, `{"model":"`+model+`","embeddings":[[0.5,-0.25],[1,0]],"prompt_eval_count":4,"load_duration":1000000}`)
	case "/api/embeddings":
		io.WriteString(w, `{"embedding":[0.5,-0.25]}`)
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"error":"unexpected `+r.URL.Path+`"}`)
	}
}
