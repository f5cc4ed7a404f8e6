package testbed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// These tests run against a real ollama binary (scripts/install-ollama.sh)
// and skip without one unless SWITCHYARD_REQUIRE_OLLAMA=1.

func call(t *testing.T, method, u string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type psModel struct {
	Name          string `json:"name"`
	Model         string `json:"model"`
	ContextLength *int   `json:"context_length"`
	SizeVRAM      int64  `json:"size_vram"`
}

func running(t *testing.T, o *Ollama) []psModel {
	t.Helper()
	code, b := call(t, http.MethodGet, o.URL+"/api/ps", nil)
	if code != http.StatusOK {
		t.Fatalf("/api/ps: %d %s", code, b)
	}
	return decode[struct {
		Models []psModel `json:"models"`
	}](t, b).Models
}

var tinyOpts = map[string]any{"num_predict": 8, "seed": 42, "temperature": 0}

func TestOllamaModelsChatPsUnload(t *testing.T) {
	o := StartOllama(t)
	start := time.Now()
	roles := InstallRoleModels(t, o)
	t.Logf("created %d role models in %s", len(roles.Names()), time.Since(start))

	// /api/version reports the version baked in by the install script.
	code, b := call(t, http.MethodGet, o.URL+"/api/version", nil)
	if v := decode[map[string]string](t, b)["version"]; code != 200 || v != strings.TrimPrefix(OllamaVersion, "v") {
		t.Errorf("/api/version = %d %s", code, b)
	}

	ls, err := o.Client().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ls.Models {
		names = append(names, m.Name)
	}
	for _, want := range roles.Names() {
		if !slices.Contains(names, want) {
			t.Errorf("/api/tags missing %s (got %v)", want, names)
		}
	}

	// Non-streaming chat: one JSON object with done:true and timings.
	code, b = call(t, http.MethodPost, o.URL+"/api/chat", map[string]any{
		"model": roles.Coder, "stream": false, "options": tinyOpts,
		"messages": []map[string]string{{"role": "user", "content": "write the code"}},
	})
	if code != http.StatusOK {
		t.Fatalf("chat: %d %s", code, b)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	chat := decode[api.ChatResponse](t, b)
	if !chat.Done || chat.Message.Role != "assistant" || chat.EvalCount == 0 {
		t.Errorf("chat response = %s", b)
	}
	if _, ok := raw["load_duration"]; !ok || chat.LoadDuration <= 0 {
		t.Errorf("load_duration missing or zero: %s", b)
	}
	t.Logf("chat: done_reason=%q eval_count=%d load=%s total=%s content=%q",
		chat.DoneReason, chat.EvalCount, chat.LoadDuration, chat.TotalDuration, chat.Message.Content)

	// Streaming chat: NDJSON chunks, the last one done:true.
	var chunks []api.ChatResponse
	err = o.Client().Chat(context.Background(), &api.ChatRequest{
		Model:    roles.Writer,
		Messages: []api.Message{{Role: "user", Content: "say hello world"}},
		Options:  tinyOpts,
	}, func(r api.ChatResponse) error { chunks = append(chunks, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 || !chunks[len(chunks)-1].Done {
		t.Fatalf("stream: %d chunks, last %+v", len(chunks), chunks[len(chunks)-1])
	}
	last := chunks[len(chunks)-1]
	if last.EvalCount == 0 || last.LoadDuration <= 0 || chunks[0].Done {
		t.Errorf("stream: first %+v last %+v", chunks[0], last)
	}
	t.Logf("stream: %d chunks, done_reason=%q load=%s", len(chunks), last.DoneReason, last.LoadDuration)

	// /api/ps: both models loaded; record context_length (num_ctx after
	// clamping to the model's trained context).
	ps := running(t, o)
	ctxLen := map[string]int{}
	for _, m := range ps {
		if m.ContextLength == nil {
			t.Errorf("/api/ps %s has no context_length", m.Name)
			continue
		}
		ctxLen[m.Name] = *m.ContextLength
	}
	t.Logf("/api/ps context_length: %v", ctxLen)
	// CPU only => default num_ctx 4096, clamped to the trained 2048 for coder.
	if ctxLen[roles.Coder] != 2048 || ctxLen[roles.Writer] != 4096 {
		t.Errorf("context_length = %v, want coder 2048 (clamped) writer 4096 (default)", ctxLen)
	}

	// Unload with keep_alive 0: empty generate answers done_reason "unload".
	code, b = call(t, http.MethodPost, o.URL+"/api/generate", map[string]any{"model": roles.Coder, "keep_alive": 0})
	gen := decode[api.GenerateResponse](t, b)
	if code != 200 || !gen.Done || gen.DoneReason != "unload" {
		t.Errorf("unload response = %d %s", code, b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		gone := !slices.ContainsFunc(running(t, o), func(m psModel) bool { return m.Name == roles.Coder })
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still in /api/ps after unload", roles.Coder)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.ContainsFunc(running(t, o), func(m psModel) bool { return m.Name == roles.Writer }) {
		t.Errorf("unloading %s also unloaded %s", roles.Coder, roles.Writer)
	}

	// Errors arrive as {"error": "..."} with a 4xx status.
	code, b = call(t, http.MethodPost, o.URL+"/api/chat", map[string]any{"model": "no-such-model", "messages": []any{}})
	if e := decode[map[string]any](t, b)["error"]; code != http.StatusNotFound || e == nil {
		t.Errorf("missing model: %d %s", code, b)
	}
	t.Logf("missing model error: %d %s", code, bytes.TrimSpace(b))
}

func TestOllamaEmbed(t *testing.T) {
	o := StartOllama(t)
	ctx := context.Background()
	if err := CreateTiny(ctx, o.URL, "tiny-embed", TinySpec{Arch: "bert", Seed: 9}); err != nil {
		t.Fatal(err)
	}
	if err := CreateTiny(ctx, o.URL, "tiny-chat", TinySpec{Seed: 10}); err != nil {
		t.Fatal(err)
	}
	code, b := call(t, http.MethodPost, o.URL+"/api/embed", map[string]any{
		"model": "tiny-embed", "input": []string{"hello world", "classify this text"},
	})
	if code != 200 {
		t.Fatalf("embed: %d %s", code, b)
	}
	emb := decode[api.EmbedResponse](t, b)
	if len(emb.Embeddings) != 2 || len(emb.Embeddings[0]) != 64 {
		t.Fatalf("embeddings shape: %d x %d", len(emb.Embeddings), len(emb.Embeddings[0]))
	}
	var norm float64
	for _, v := range emb.Embeddings[0] {
		norm += float64(v) * float64(v)
	}
	if math.Abs(math.Sqrt(norm)-1) > 1e-3 {
		t.Errorf("embedding not L2-normalised: |v|=%f", math.Sqrt(norm))
	}
	if slices.Equal(emb.Embeddings[0], emb.Embeddings[1]) {
		t.Error("different inputs gave identical embeddings")
	}
	t.Logf("embed: dims=%d prompt_eval_count=%d load=%s", len(emb.Embeddings[0]), emb.PromptEvalCount, emb.LoadDuration)

	// An embedding-only model refuses chat.
	code, b = call(t, http.MethodPost, o.URL+"/api/chat", map[string]any{
		"model": "tiny-embed", "stream": false, "messages": []map[string]string{{"role": "user", "content": "hi"}},
	})
	if code == 200 {
		t.Errorf("chat on embedding model succeeded: %s", b)
	}
	t.Logf("chat on embed model: %d %s", code, bytes.TrimSpace(b))

	// Record what /api/embed does on the llama (chat) model.
	code, b = call(t, http.MethodPost, o.URL+"/api/embed", map[string]any{"model": "tiny-chat", "input": "hello"})
	if len(b) > 300 {
		b = append(b[:300], "..."...)
	}
	t.Logf("embed on llama model: %d %s", code, bytes.TrimSpace(b))
}

func TestRegistryPushPull(t *testing.T) {
	reg := StartRegistry(t)
	src := StartOllama(t)
	start := time.Now()
	name := PushTiny(t, src, reg, "pushed:v1")
	t.Logf("create+push took %s", time.Since(start))

	// The registry now serves the manifest.
	code, b := call(t, http.MethodGet, reg.URL+"/v2/library/pushed/tags/list", nil)
	if code != 200 || !strings.Contains(string(b), "v1") {
		t.Fatalf("registry tags: %d %s", code, b)
	}

	dst := StartOllama(t)
	start = time.Now()
	body, _ := json.Marshal(map[string]any{"model": name, "insecure": true})
	resp, err := http.Post(dst.URL+"/api/pull", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var statuses []string
	var sawProgress bool
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev struct {
			Status    string `json:"status"`
			Digest    string `json:"digest"`
			Total     int64  `json:"total"`
			Completed int64  `json:"completed"`
			Error     string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("pull event %s: %v", sc.Bytes(), err)
		}
		if ev.Error != "" {
			t.Fatalf("pull error: %s", ev.Error)
		}
		if ev.Digest != "" && ev.Total > 0 && ev.Completed == ev.Total &&
			strings.HasPrefix(ev.Status, "pulling ") {
			sawProgress = true
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != ev.Status {
			statuses = append(statuses, ev.Status)
		}
	}
	t.Logf("pull statuses: %q (took %s)", statuses, time.Since(start))
	for _, want := range []string{"pulling manifest", "verifying sha256 digest", "writing manifest", "success"} {
		if !slices.Contains(statuses, want) {
			t.Errorf("pull never reported %q", want)
		}
	}
	if !sawProgress {
		t.Error("no 'pulling <digest>' event with total == completed > 0")
	}

	// Same blobs on both sides. The /api/tags digest (sha256 of the local
	// manifest file) differs: the pulled manifest is stored as the registry
	// served it, not byte-identical to the pusher's local file.
	blobs := func(o *Ollama) []string {
		ents, err := os.ReadDir(filepath.Join(o.ModelsDir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	if b1, b2 := blobs(src), blobs(dst); len(b1) != 3 || !slices.Equal(b1, b2) {
		t.Errorf("blobs src=%v dst=%v", b1, b2)
	}
	tagDigest := func(o *Ollama) string {
		ls, err := o.Client().List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ls.Models {
			if m.Name == name {
				return m.Digest
			}
		}
		t.Fatalf("%s not in /api/tags", name)
		return ""
	}
	t.Logf("/api/tags digest src=%.12s dst=%.12s (equal=%v)", tagDigest(src), tagDigest(dst), tagDigest(src) == tagDigest(dst))
	code, b = call(t, http.MethodPost, dst.URL+"/api/generate", map[string]any{
		"model": name, "prompt": "hello", "stream": false, "options": tinyOpts,
	})
	if code != 200 || !decode[api.GenerateResponse](t, b).Done {
		t.Errorf("generate on pulled model: %d %s", code, b)
	}
}
