package testbed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// TinyChatTemplate is a plain Go template that lets /api/chat render
// messages for the tiny llama models (they have no native chat format).
const TinyChatTemplate = `{{- if .System }}<|system|>
{{ .System }}
{{ end }}
{{- range .Messages }}<|{{ .Role }}|>
{{ .Content }}
{{ end }}<|assistant|>
`

// CreateOption adjusts the /api/create request.
type CreateOption func(*api.CreateRequest)

// WithTemplate overrides the chat template (default TinyChatTemplate for
// llama models; none for embedding models).
func WithTemplate(tmpl string) CreateOption {
	return func(r *api.CreateRequest) { r.Template = tmpl }
}

// WithSystem sets the model's default system prompt.
func WithSystem(s string) CreateOption {
	return func(r *api.CreateRequest) { r.System = s }
}

// WithParameters merges Modelfile-style parameters (e.g. "num_ctx": 1024).
func WithParameters(p map[string]any) CreateOption {
	return func(r *api.CreateRequest) {
		if r.Parameters == nil {
			r.Parameters = map[string]any{}
		}
		for k, v := range p {
			r.Parameters[k] = v
		}
	}
}

// BlobDigest returns the "sha256:<hex>" digest Ollama uses for data.
func BlobDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CreateModel uploads gguf as a blob (skipped if the server already has it)
// and creates model name from it via POST /api/create.
func CreateModel(ctx context.Context, baseURL, name string, gguf []byte, extra ...CreateOption) error {
	baseURL = strings.TrimRight(baseURL, "/")
	digest := BlobDigest(gguf)
	if err := uploadBlob(ctx, baseURL, digest, gguf); err != nil {
		return err
	}
	stream := false
	req := &api.CreateRequest{
		Model:  name,
		Files:  map[string]string{sanitizeFileName(name) + ".gguf": digest},
		Stream: &stream,
	}
	for _, o := range extra {
		o(req)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := doJSON(ctx, http.MethodPost, baseURL+"/api/create", body)
	if err != nil {
		return err
	}
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		return fmt.Errorf("create %s: decode %q: %w", name, resp, err)
	}
	if out.Error != "" || out.Status != "success" {
		return fmt.Errorf("create %s: status=%q error=%q", name, out.Status, out.Error)
	}
	return nil
}

func uploadBlob(ctx context.Context, baseURL, digest string, data []byte) error {
	u := baseURL + "/api/blobs/" + digest
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("upload blob %s: %s: %s", digest, resp.Status, b)
	}
	return nil
}

func doJSON(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// sanitizeFileName turns "host:port/ns/name:tag" into a plain file name.
func sanitizeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ':', '\\':
			return '_'
		}
		return r
	}, name)
}

// CreateTiny generates a tiny model from spec and creates it as name,
// adding the chat template for llama models.
func CreateTiny(ctx context.Context, baseURL, name string, spec TinySpec, extra ...CreateOption) error {
	var buf bytes.Buffer
	if err := WriteTinyModel(&buf, spec); err != nil {
		return err
	}
	if spec.withDefaults().Arch == "llama" {
		extra = append([]CreateOption{WithTemplate(TinyChatTemplate)}, extra...)
	}
	return CreateModel(ctx, baseURL, name, buf.Bytes(), extra...)
}

// SeedFor derives a stable model seed from a name, so differently named
// tiny models get distinct digests.
func SeedFor(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// RoleModels names the tiny models InstallRoleModels creates.
type RoleModels struct {
	Coder      string // llama, chat
	Classifier string // llama, chat, 1 layer
	Writer     string // llama, chat, 3 layers, larger context
	Embed      string // bert, embedding only
}

// Names lists all role model names.
func (r RoleModels) Names() []string {
	return []string{r.Coder, r.Classifier, r.Writer, r.Embed}
}

// InstallRoleModels creates distinct tiny models standing in for the roles
// a model strategy assigns (coding, classification, writing, embedding).
func InstallRoleModels(t testing.TB, o *Ollama) RoleModels {
	t.Helper()
	r := RoleModels{
		Coder:      "tiny-coder:latest",
		Classifier: "tiny-classifier:latest",
		Writer:     "tiny-writer:latest",
		Embed:      "tiny-embed:latest",
	}
	specs := map[string]TinySpec{
		r.Coder:      {Name: "tiny-coder", Seed: SeedFor(r.Coder)},
		r.Classifier: {Name: "tiny-classifier", Seed: SeedFor(r.Classifier), Layers: 1, ContextLength: 1024},
		r.Writer:     {Name: "tiny-writer", Seed: SeedFor(r.Writer), Layers: 3, Embd: 48, KVHeads: 2, ContextLength: 4096},
		r.Embed:      {Name: "tiny-embed", Arch: "bert", Seed: SeedFor(r.Embed)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range r.Names() {
		if err := CreateTiny(ctx, o.URL, name, specs[name]); err != nil {
			t.Fatalf("install %s: %v", name, err)
		}
	}
	return r
}
