// Package catalog owns the facts about model architectures that switchyard
// plans with: geometry (layers, heads, KV heads, head size, vocabulary...),
// the kind of attention or state a model keeps, and where each quantization can
// be pulled from. The built-in catalog is embedded YAML; a strategy may add or
// override entries in the same schema, and a local GGUF can supply exact
// geometry through FromGGUF.
package catalog

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

// Kind is the architecture family that decides how the KV cache is sized.
type Kind string

const (
	Dense     Kind = "dense"     // ordinary transformer, grouped-query attention
	MoE       Kind = "moe"       // mixture of experts; all experts sit in VRAM, a few are active per token
	MLA       Kind = "mla"       // multi-head latent attention (DeepSeek-V2/V3): compressed KV
	SSM       Kind = "ssm"       // state-space model (Mamba): fixed-size state, no KV cache
	Hybrid    Kind = "hybrid"    // attention layers interleaved with SSM layers
	Embedding Kind = "embedding" // non-causal encoder: no KV cache kept between calls
)

// Model is one catalog entry. Sizes use plain counts; ParamsB is billions.
type Model struct {
	ID     string `yaml:"id" json:"id"`
	Name   string `yaml:"name" json:"name"`
	Family string `yaml:"family,omitempty" json:"family,omitempty"`
	// Arch is the GGUF general.architecture value (qwen3, llama, bert...).
	Arch          string  `yaml:"arch,omitempty" json:"arch,omitempty"`
	Kind          Kind    `yaml:"kind" json:"kind"`
	ParamsB       float64 `yaml:"params_b" json:"params_b"`
	ActiveParamsB float64 `yaml:"active_params_b,omitempty" json:"active_params_b,omitempty"`
	Layers        int     `yaml:"layers" json:"layers"`
	Heads         int     `yaml:"heads,omitempty" json:"heads,omitempty"`
	KVHeads       int     `yaml:"kv_heads,omitempty" json:"kv_heads,omitempty"`
	HeadDim       int     `yaml:"head_dim,omitempty" json:"head_dim,omitempty"`
	Embd          int     `yaml:"embd" json:"embd"`
	FF            int     `yaml:"ff,omitempty" json:"ff,omitempty"`
	Vocab         int     `yaml:"vocab" json:"vocab"`
	TrainedCtx    int     `yaml:"trained_ctx" json:"trained_ctx"`
	// TiedEmbeddings: the output head reuses the token-embedding table, so
	// llama.cpp keeps the table on the CPU and a copy of it on the GPU.
	TiedEmbeddings bool `yaml:"tied_embeddings,omitempty" json:"tied_embeddings,omitempty"`
	// SlidingWindow and SWALayers: layers with a sliding window keep at most
	// SlidingWindow tokens of KV (Gemma, some Mistral). Zero means none.
	SlidingWindow int `yaml:"sliding_window,omitempty" json:"sliding_window,omitempty"`
	SWALayers     int `yaml:"swa_layers,omitempty" json:"swa_layers,omitempty"`

	Experts     int `yaml:"experts,omitempty" json:"experts,omitempty"`
	ExpertsUsed int `yaml:"experts_used,omitempty" json:"experts_used,omitempty"`

	MLA *MLAGeometry `yaml:"mla,omitempty" json:"mla,omitempty"`
	SSM *SSMGeometry `yaml:"ssm,omitempty" json:"ssm,omitempty"`
	// AttnLayers is, for hybrid models, how many layers keep a KV cache.
	AttnLayers int `yaml:"attn_layers,omitempty" json:"attn_layers,omitempty"`

	Ollama Ollama `yaml:"ollama,omitempty" json:"ollama,omitempty"`
	HF     HF     `yaml:"hf,omitempty" json:"hf,omitempty"`
	// RunsOnOllama is false for architectures Ollama cannot load (Mamba-2).
	RunsOnOllama *bool `yaml:"runs_on_ollama,omitempty" json:"runs_on_ollama,omitempty"`

	Capabilities map[string]Capability `yaml:"capabilities,omitempty" json:"capabilities,omitempty"`
	Sources      []string              `yaml:"sources,omitempty" json:"sources,omitempty"`
	Notes        string                `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// MLAGeometry is what DeepSeek-style latent attention caches per token and layer:
// the compressed KV (KVLoraRank) plus the decoupled RoPE key (RopeDim).
type MLAGeometry struct {
	KVLoraRank int `yaml:"kv_lora_rank" json:"kv_lora_rank"`
	RopeDim    int `yaml:"rope_dim" json:"rope_dim"`
	// KeyDim / ValueDim: per-head sizes once decompressed; llama.cpp versions
	// without the MLA cache store these instead (see estimate).
	KeyDim   int `yaml:"key_dim,omitempty" json:"key_dim,omitempty"`
	ValueDim int `yaml:"value_dim,omitempty" json:"value_dim,omitempty"`
}

// SSMGeometry sizes a Mamba-style recurrent state, which is fixed per sequence.
type SSMGeometry struct {
	Inner  int `yaml:"inner" json:"inner"`   // d_inner
	State  int `yaml:"state" json:"state"`   // d_state
	Conv   int `yaml:"conv" json:"conv"`     // d_conv (kernel width)
	Groups int `yaml:"groups" json:"groups"` // n_group (Mamba-2)
}

// Ollama says how the model is named in Ollama's library.
type Ollama struct {
	// Default is the tag `ollama pull` gets without a quant suffix.
	Default      string `yaml:"default,omitempty" json:"default,omitempty"`
	DefaultQuant string `yaml:"default_quant,omitempty" json:"default_quant,omitempty"`
	// Tags maps a quant name (Q4_K_M, Q8_0, F16...) to a library tag known to exist.
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// SizeGB: published download size of a tag's quant, in GB (10^9 bytes) as
	// ollama.com shows it.
	SizeGB map[string]float64 `yaml:"size_gb,omitempty" json:"size_gb,omitempty"`
}

// HF names a Hugging Face GGUF repository, pulled as hf.co/<repo>:<QUANT>.
type HF struct {
	Repo   string   `yaml:"repo,omitempty" json:"repo,omitempty"`
	Quants []string `yaml:"quants,omitempty" json:"quants,omitempty"`
}

// Capability is one score (0-10) with where it came from. Unknown is explicit.
type Capability struct {
	Score   float64 `yaml:"score" json:"score"`
	Unknown bool    `yaml:"unknown,omitempty" json:"unknown,omitempty"`
	Source  string  `yaml:"source,omitempty" json:"source,omitempty"`
}

// OnOllama reports whether Ollama can run the model at all.
func (m *Model) OnOllama() bool { return m.RunsOnOllama == nil || *m.RunsOnOllama }

// KVHeadDim is the head size used for K and V (HeadDim, else Embd/Heads).
func (m *Model) KVHeadDim() int {
	if m.HeadDim > 0 {
		return m.HeadDim
	}
	if m.Heads > 0 {
		return m.Embd / m.Heads
	}
	return 0
}

// Catalog is a set of models looked up by id or alias.
type Catalog struct {
	models map[string]*Model
	order  []string
}

// New builds a catalog from entries; later entries replace earlier ones with the same id.
func New(entries ...[]Model) *Catalog {
	c := &Catalog{models: map[string]*Model{}}
	for _, list := range entries {
		for i := range list {
			c.Put(list[i])
		}
	}
	return c
}

// Put adds or replaces an entry.
func (c *Catalog) Put(m Model) {
	id := normalize(m.ID)
	if _, ok := c.models[id]; !ok {
		c.order = append(c.order, id)
	}
	mm := m
	c.models[id] = &mm
}

// Get finds a model by id, display name or Ollama default tag, ignoring case
// and punctuation differences ("Qwen3-8B", "qwen3:8b", "qwen3_8b").
func (c *Catalog) Get(name string) (*Model, bool) {
	n := normalize(name)
	if m, ok := c.models[n]; ok {
		return m, true
	}
	for _, id := range c.order {
		m := c.models[id]
		if normalize(m.Name) == n || (m.Ollama.Default != "" && normalize(m.Ollama.Default) == n) {
			return m, true
		}
	}
	return nil, false
}

// MustGet is Get for callers that already validated the name.
func (c *Catalog) MustGet(name string) *Model {
	m, ok := c.Get(name)
	if !ok {
		panic(fmt.Sprintf("catalog: %q not found", name))
	}
	return m
}

// All returns the entries in insertion order.
func (c *Catalog) All() []*Model {
	out := make([]*Model, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.models[id])
	}
	return out
}

// IDs returns the sorted ids, for error messages.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.order))
	for _, id := range c.order {
		ids = append(ids, c.models[id].ID)
	}
	sort.Strings(ids)
	return ids
}

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(":", "-", "_", "-", " ", "-", ".", "-").Replace(s)
}
