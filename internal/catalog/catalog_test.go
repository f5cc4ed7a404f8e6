package catalog

import (
	"math"
	"strings"
	"testing"
)

var seedIDs = []string{
	"qwen3-4b", "qwen3-8b", "qwen3-14b", "phi-4-mini", "llama-3.1-8b", "nomic-embed-text",
	"deepseek-coder-v2-lite", "deepseek-r1-distill-qwen-14b", "mamba-codestral-7b", "qwen2.5-coder-7b",
}

func TestBuiltinParsesAndValidates(t *testing.T) {
	ms, err := Parse(builtinYAML)
	if err != nil {
		t.Fatalf("embedded models.yaml: %v", err)
	}
	if len(ms) < 24 {
		t.Fatalf("want at least 24 entries, got %d", len(ms))
	}
	c := Builtin()
	if got := len(c.All()); got != len(ms) {
		t.Fatalf("Builtin has %d entries, Parse %d", got, len(ms))
	}
	kinds := map[Kind]int{}
	for _, m := range c.All() {
		if err := m.Validate(); err != nil {
			t.Errorf("%v", err)
		}
		if len(m.Sources) == 0 {
			t.Errorf("%s: no sources", m.ID)
		}
		checkCapabilities(t, m)
		kinds[m.Kind]++
	}
	for _, k := range []Kind{Dense, MoE, MLA, SSM, Embedding} {
		if kinds[k] == 0 {
			t.Errorf("no %s model in the catalog", k)
		}
	}
}

func TestBuiltinReturnsIndependentCatalogs(t *testing.T) {
	a := Builtin()
	a.Put(Model{ID: "qwen3-8b", Name: "changed"})
	if m := Builtin().MustGet("qwen3-8b"); m.Name != "Qwen3-8B" {
		t.Fatalf("Put on one Builtin() leaked into another: %q", m.Name)
	}
}

func TestSeedModelsPresent(t *testing.T) {
	c := Builtin()
	for _, id := range seedIDs {
		m, ok := c.Get(id)
		if !ok {
			t.Errorf("seed model %s missing", id)
			continue
		}
		if m.ID != id {
			t.Errorf("Get(%q) returned %q", id, m.ID)
		}
	}
	if m := c.MustGet("mamba-codestral-7b"); m.OnOllama() || m.Kind != SSM || m.SSM == nil {
		t.Errorf("mamba-codestral-7b: want ssm, not on Ollama; got kind %s on=%v", m.Kind, m.OnOllama())
	}
	if m := c.MustGet("nomic-embed-text"); m.Kind != Embedding || m.Arch != "nomic-bert" {
		t.Errorf("nomic-embed-text: kind %s arch %s", m.Kind, m.Arch)
	}
	m := c.MustGet("deepseek-coder-v2-lite")
	if m.Kind != MLA || m.MLA == nil || m.MLA.KVLoraRank != 512 || m.MLA.RopeDim != 64 ||
		m.MLA.KeyDim != 192 || m.MLA.ValueDim != 128 || m.Experts != 64 || m.ExpertsUsed != 6 {
		t.Errorf("deepseek-coder-v2-lite geometry: %+v mla=%+v", m, m.MLA)
	}
}

// f16 KV cache bytes per token: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes.
func kvBytesPerTokenF16(m *Model) int { return 2 * m.Layers * m.KVHeads * m.KVHeadDim() * 2 }

func TestKVBytesPerToken(t *testing.T) {
	c := Builtin()
	for id, want := range map[string]int{
		"qwen3-4b":                     147456, // 144 KiB
		"qwen3-8b":                     147456,
		"qwen3-14b":                    163840, // 160 KiB
		"llama-3.1-8b":                 131072, // 128 KiB
		"phi-4-mini":                   131072,
		"deepseek-r1-distill-qwen-14b": 196608, // 192 KiB
		"qwen2.5-coder-7b":             57344,  // 56 KiB
		"mistral-nemo-12b":             163840,
		"codellama-7b":                 524288,
	} {
		if got := kvBytesPerTokenF16(c.MustGet(id)); got != want {
			t.Errorf("%s: f16 KV/token = %d, want %d", id, got, want)
		}
	}
}

// Geometry pinned by the FACTS table and the published configs.
func TestSeedGeometry(t *testing.T) {
	c := Builtin()
	type g struct{ layers, heads, kv, hd, embd, ff, vocab, ctx int }
	for id, want := range map[string]g{
		"qwen3-4b":                     {36, 32, 8, 128, 2560, 9728, 151936, 40960},
		"qwen3-8b":                     {36, 32, 8, 128, 4096, 12288, 151936, 40960},
		"qwen3-14b":                    {40, 40, 8, 128, 5120, 17408, 151936, 40960},
		"llama-3.1-8b":                 {32, 32, 8, 128, 4096, 14336, 128256, 131072},
		"phi-4-mini":                   {32, 24, 8, 128, 3072, 8192, 200064, 131072},
		"deepseek-r1-distill-qwen-14b": {48, 40, 8, 128, 5120, 13824, 152064, 131072},
		"nomic-embed-text":             {12, 12, 12, 64, 768, 3072, 30522, 2048},
	} {
		m := c.MustGet(id)
		got := g{m.Layers, m.Heads, m.KVHeads, m.KVHeadDim(), m.Embd, m.FF, m.Vocab, m.TrainedCtx}
		if got != want {
			t.Errorf("%s: geometry %+v, want %+v", id, got, want)
		}
	}
	for _, id := range []string{"qwen3-1.7b", "qwen3-4b", "llama-3.2-1b", "llama-3.2-3b", "phi-4-mini", "gemma-3-4b", "gemma-3-12b"} {
		if !c.MustGet(id).TiedEmbeddings {
			t.Errorf("%s: want tied embeddings", id)
		}
	}
	for _, id := range []string{"qwen3-8b", "qwen3-14b", "llama-3.1-8b", "deepseek-r1-distill-qwen-14b"} {
		if c.MustGet(id).TiedEmbeddings {
			t.Errorf("%s: want untied embeddings", id)
		}
	}
}

// denseParams is a rough parameter count from geometry: embeddings (twice
// when untied) plus, per layer, Q/K/V/O projections and a gated MLP
// (3 x embd x ff). Norms and biases are ignored.
func denseParams(m *Model) float64 {
	hd := float64(m.KVHeadDim())
	embd := float64(m.Embd)
	emb := float64(m.Vocab) * embd
	if !m.TiedEmbeddings {
		emb *= 2
	}
	attn := embd*(float64(m.Heads)*hd+2*float64(m.KVHeads)*hd) + float64(m.Heads)*hd*embd
	mlp := 3 * embd * float64(m.FF)
	if m.Kind == MoE {
		mlp *= float64(m.Experts)
	}
	return emb + float64(m.Layers)*(attn+mlp)
}

func TestParamsAgreeWithGeometry(t *testing.T) {
	checked := 0
	for _, m := range Builtin().All() {
		if m.Kind != Dense && m.Kind != MoE {
			continue
		}
		got := denseParams(m) / 1e9
		if dev := got/m.ParamsB - 1; math.Abs(dev) > 0.15 {
			t.Errorf("%s: geometry implies %.2fB parameters, params_b says %.2fB (%+.0f%%): a typo?",
				m.ID, got, m.ParamsB, dev*100)
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("only %d dense/moe models checked", checked)
	}
}

func TestSlidingWindowGemma(t *testing.T) {
	c := Builtin()
	for id, global := range map[string]int{"gemma-3-4b": 5, "gemma-3-12b": 8} {
		m := c.MustGet(id)
		if m.SlidingWindow != 1024 || m.Layers-m.SWALayers != global {
			t.Errorf("%s: window %d, %d of %d layers windowed; want 1024 and %d global",
				id, m.SlidingWindow, m.SWALayers, m.Layers, global)
		}
	}
}

func TestLookup(t *testing.T) {
	c := Builtin()
	for name, want := range map[string]string{
		"Qwen3-8B":              "qwen3-8b",
		"qwen3:8b":              "qwen3-8b",
		"qwen3_8b":              "qwen3-8b",
		"QWEN3-14B":             "qwen3-14b",
		"qwen3:1.7b":            "qwen3-1.7b",
		"llama3.1:8b":           "llama-3.1-8b",
		"Llama-3.1-8B-Instruct": "llama-3.1-8b",
		"deepseek-r1:14b":       "deepseek-r1-distill-qwen-14b",
		"phi4-mini":             "phi-4-mini",
		"nomic-embed-text":      "nomic-embed-text",
		"qwen2.5-coder:7b":      "qwen2.5-coder-7b",
	} {
		m, ok := c.Get(name)
		if !ok {
			t.Errorf("Get(%q): not found", name)
			continue
		}
		if m.ID != want {
			t.Errorf("Get(%q) = %s, want %s", name, m.ID, want)
		}
	}
	if _, ok := c.Get("no-such-model"); ok {
		t.Error("Get(no-such-model) found something")
	}
	// Every id, name and Ollama default resolves to its own entry.
	for _, m := range c.All() {
		for _, n := range []string{m.ID, m.Name, m.Ollama.Default} {
			if n == "" {
				continue
			}
			if got, ok := c.Get(n); !ok || got.ID != m.ID {
				t.Errorf("Get(%q) does not resolve to %s", n, m.ID)
			}
		}
	}
}

func TestOllamaTagsLookSane(t *testing.T) {
	for _, m := range Builtin().All() {
		o := m.Ollama
		if m.OnOllama() && o.Default == "" {
			t.Errorf("%s: runs on Ollama but has no default tag", m.ID)
		}
		if o.Default != "" && o.SizeGB[o.DefaultQuant] == 0 {
			t.Errorf("%s: no size_gb for the default quant %s", m.ID, o.DefaultQuant)
		}
		base := strings.SplitN(o.Default, ":", 2)[0]
		for q, tag := range o.Tags {
			if !strings.HasPrefix(tag, base) {
				t.Errorf("%s: tag %s=%s is not under %s", m.ID, q, tag, base)
			}
		}
	}
	if _, ok := Builtin().MustGet("qwen3-8b").Ollama.Tags["Q5_K_M"]; ok {
		t.Error("qwen3:8b-q5_K_M does not exist on Ollama; it must not be listed")
	}
}

func TestParseRejectsUnknownKey(t *testing.T) {
	doc := `models:
  - id: x
    name: X
    kind: dense
    params_b: 1
    layers: 2
    heads: 4
    kv_heads: 2
    embd: 64
    vocab: 100
    trained_ctx: 512
    flux_capacitor: 3
`
	_, err := Parse([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "flux_capacitor") {
		t.Fatalf("want an error naming flux_capacitor, got %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(doc, "    flux_capacitor: 3\n", "", 1))); err != nil {
		t.Fatalf("valid document rejected: %v", err)
	}
	if _, err := Parse([]byte("modelz: []\n")); err == nil || !strings.Contains(err.Error(), "modelz") {
		t.Fatalf("want an error naming modelz, got %v", err)
	}
}

func TestParseRejectsDuplicateIDs(t *testing.T) {
	entry := `  - {id: dup, name: Dup, kind: dense, params_b: 1, layers: 2, heads: 4, kv_heads: 2, embd: 64, vocab: 100, trained_ctx: 512}
`
	_, err := Parse([]byte("models:\n" + entry + entry))
	if err == nil || !strings.Contains(err.Error(), "dup") {
		t.Fatalf("want a duplicate-id error, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	base := func() Model {
		return Model{ID: "m", Name: "M", Kind: Dense, ParamsB: 1, Layers: 2, Heads: 8, KVHeads: 2,
			Embd: 64, Vocab: 100, TrainedCtx: 512}
	}
	if m := base(); m.Validate() != nil {
		t.Fatalf("base model invalid: %v", m.Validate())
	}
	cases := []struct {
		field string
		edit  func(*Model)
	}{
		{"kv_heads", func(m *Model) { m.KVHeads = 3 }},
		{"kv_heads", func(m *Model) { m.KVHeads = 0 }},
		{"heads", func(m *Model) { m.Heads = 0 }},
		{"layers", func(m *Model) { m.Layers = 0 }},
		{"kind", func(m *Model) { m.Kind = "transformer" }},
		{"experts", func(m *Model) { m.Kind = MoE }},
		{"experts", func(m *Model) { m.Kind = MoE; m.Experts = 4; m.ExpertsUsed = 8; m.ActiveParamsB = 0.5 }},
		{"experts_used", func(m *Model) { m.Kind = MoE; m.Experts = 4; m.ActiveParamsB = 0.5 }},
		{"mla", func(m *Model) { m.Kind = MLA }},
		{"ssm", func(m *Model) { m.Kind = SSM }},
		{"attn_layers", func(m *Model) { m.Kind = Hybrid; m.SSM = &SSMGeometry{Inner: 1, State: 1, Conv: 1, Groups: 1} }},
		{"ollama.tags", func(m *Model) {
			m.Ollama = Ollama{Default: "m:1b", DefaultQuant: "Q4_K_M", Tags: map[string]string{"Q4_K_XL": "m:1b-q4"}}
		}},
		{"ollama.default_quant", func(m *Model) { m.Ollama = Ollama{Default: "m:1b"} }},
		{"hf.quants", func(m *Model) { m.HF = HF{Repo: "a/b", Quants: []string{"q4_k_m"}} }},
		{"sliding_window", func(m *Model) { m.SlidingWindow = 1024 }},
		{"ollama", func(m *Model) { f := false; m.RunsOnOllama = &f; m.Ollama = Ollama{Default: "m", DefaultQuant: "F16"} }},
	}
	for _, tc := range cases {
		m := base()
		tc.edit(&m)
		err := m.Validate()
		if err == nil {
			t.Errorf("%s: invalid model accepted", tc.field)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"m"`) || !strings.Contains(msg, tc.field+":") {
			t.Errorf("%s: error does not name the model and field: %v", tc.field, err)
		}
	}
}

var capabilityKeys = map[string]bool{
	"coding": true, "code_review": true, "reasoning": true, "writing": true, "multilingual_ptbr": true,
	"translation": true, "instruction_following": true, "classification_speed": true, "embeddings": true,
	"long_context": true,
}

// checkCapabilities: every profile uses the known keys, scores 0-10, and
// names a source (an "unknown" one says so).
func checkCapabilities(t *testing.T, m *Model) {
	t.Helper()
	if len(m.Capabilities) == 0 {
		t.Errorf("%s: no capability profile", m.ID)
	}
	for k, c := range m.Capabilities {
		if !capabilityKeys[k] {
			t.Errorf("%s: unknown capability %q", m.ID, k)
		}
		if c.Score < 0 || c.Score > 10 || c.Source == "" {
			t.Errorf("%s.%s: score %v, source %q", m.ID, k, c.Score, c.Source)
		}
	}
	want := "coding"
	if m.Kind == Embedding {
		want = "embeddings"
	}
	if _, ok := m.Capabilities[want]; !ok {
		t.Errorf("%s: profile lacks %s", m.ID, want)
	}
}
