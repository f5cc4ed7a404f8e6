package catalog

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed models.yaml
var builtinYAML []byte

// QuantNames are the quantization names a catalog entry may key Ollama tags,
// sizes and Hugging Face quants by, from the most to the least precise.
var QuantNames = []string{
	"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0",
	"Q4_K_M", "Q4_K_S", "Q4_0", "IQ4_XS", "Q3_K_L", "Q3_K_M", "Q3_K_S", "IQ3_M", "Q2_K",
}

// nativeQuants are weight formats a model ships in that are not a
// llama.cpp quantization choice (gpt-oss is published in MXFP4). They may
// appear as an Ollama default_quant, never as a tag or HF quant key.
var nativeQuants = []string{"MXFP4"}

// KnownQuant reports whether q is one of QuantNames (exact spelling).
func KnownQuant(q string) bool { return slices.Contains(QuantNames, q) }

type catalogFile struct {
	Models []Model `yaml:"models"`
}

// Parse reads a catalog in the models.yaml schema: a top-level `models:` list
// of Model entries. It is strict: an unknown key anywhere is an error naming
// the key, every entry must pass Validate, and ids must be unique.
func Parse(data []byte) ([]Model, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("catalog: empty document")
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("catalog: more than one YAML document")
	}
	seen := map[string]string{}
	var errs []error
	for i := range f.Models {
		m := &f.Models[i]
		if err := m.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		n := normalize(m.ID)
		if prev, ok := seen[n]; ok {
			errs = append(errs, fmt.Errorf("catalog: model %q: id: duplicates %q", m.ID, prev))
		}
		seen[n] = m.ID
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f.Models, nil
}

var builtin = sync.OnceValue(func() []Model {
	ms, err := Parse(builtinYAML)
	if err != nil {
		panic("catalog: embedded models.yaml is broken: " + err.Error())
	}
	return ms
})

// Builtin returns a catalog of the embedded models.yaml. The YAML is parsed
// once; each call returns a new Catalog, so Put on it does not leak into
// other callers (the entries' maps are shared: treat them as read-only).
func Builtin() *Catalog { return New(builtin()) }

// Validate checks the fields an entry of its Kind needs. Errors name the
// model id and the field.
func (m *Model) Validate() error {
	id := m.ID
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("catalog: model %q: %s: %s", id, field, fmt.Sprintf(format, args...)))
	}
	positive := func(field string, v int) {
		if v <= 0 {
			bad(field, "must be > 0, got %d", v)
		}
	}
	nonNegative := func(field string, v int) {
		if v < 0 {
			bad(field, "must be >= 0, got %d", v)
		}
	}

	if strings.TrimSpace(id) == "" {
		bad("id", "missing")
	} else if id != strings.ToLower(id) || strings.ContainsAny(id, " \t:") {
		bad("id", "must be lower case without spaces or colons")
	}
	if strings.TrimSpace(m.Name) == "" {
		bad("name", "missing")
	}
	switch m.Kind {
	case Dense, MoE, MLA, SSM, Hybrid, Embedding:
	case "":
		bad("kind", "missing")
	default:
		bad("kind", "unknown kind %q (dense, moe, mla, ssm, hybrid, embedding)", m.Kind)
	}
	if m.ParamsB <= 0 {
		bad("params_b", "must be > 0, got %g", m.ParamsB)
	}
	if m.ActiveParamsB < 0 || m.ActiveParamsB > m.ParamsB {
		bad("active_params_b", "must be between 0 and params_b (%g), got %g", m.ParamsB, m.ActiveParamsB)
	}
	positive("layers", m.Layers)
	positive("embd", m.Embd)
	positive("vocab", m.Vocab)
	positive("trained_ctx", m.TrainedCtx)
	nonNegative("heads", m.Heads)
	nonNegative("kv_heads", m.KVHeads)
	nonNegative("head_dim", m.HeadDim)
	nonNegative("ff", m.FF)

	// Attention geometry: every kind but pure SSM attends.
	if m.Kind != SSM {
		positive("heads", m.Heads)
		if m.Kind != MLA {
			positive("kv_heads", m.KVHeads)
		}
		if m.Heads > 0 && m.KVHeads > 0 {
			if m.KVHeads > m.Heads {
				bad("kv_heads", "%d exceeds heads %d", m.KVHeads, m.Heads)
			} else if m.Heads%m.KVHeads != 0 {
				bad("kv_heads", "%d does not divide heads %d", m.KVHeads, m.Heads)
			}
		}
		if m.Kind != MLA && m.Heads > 0 && m.KVHeadDim() <= 0 {
			bad("head_dim", "missing and embd/heads is 0")
		}
	}

	// Experts: required for MoE, allowed on MLA and hybrid models (DeepSeek-V2
	// is both MLA and MoE).
	if m.Kind == MoE && m.Experts == 0 {
		bad("experts", "required for kind moe")
	}
	if m.Experts != 0 || m.ExpertsUsed != 0 {
		switch {
		case m.Kind != MoE && m.Kind != MLA && m.Kind != Hybrid:
			bad("experts", "set on kind %s", m.Kind)
		case m.ExpertsUsed <= 0:
			bad("experts_used", "must be > 0, got %d", m.ExpertsUsed)
		case m.Experts < m.ExpertsUsed:
			bad("experts", "%d is fewer than experts_used %d", m.Experts, m.ExpertsUsed)
		}
		if m.ActiveParamsB <= 0 {
			bad("active_params_b", "required when experts is set")
		} else if m.ActiveParamsB >= m.ParamsB {
			bad("active_params_b", "%g must be below params_b %g", m.ActiveParamsB, m.ParamsB)
		}
	} else if m.ActiveParamsB != 0 && m.ActiveParamsB != m.ParamsB {
		bad("active_params_b", "set without experts")
	}

	switch {
	case m.Kind == MLA && m.MLA == nil:
		bad("mla", "required for kind mla")
	case m.Kind != MLA && m.MLA != nil:
		bad("mla", "set on kind %s", m.Kind)
	case m.MLA != nil:
		positive("mla.kv_lora_rank", m.MLA.KVLoraRank)
		positive("mla.rope_dim", m.MLA.RopeDim)
		nonNegative("mla.key_dim", m.MLA.KeyDim)
		nonNegative("mla.value_dim", m.MLA.ValueDim)
	}

	needSSM := m.Kind == SSM || m.Kind == Hybrid
	switch {
	case needSSM && m.SSM == nil:
		bad("ssm", "required for kind %s", m.Kind)
	case !needSSM && m.SSM != nil:
		bad("ssm", "set on kind %s", m.Kind)
	case m.SSM != nil:
		positive("ssm.inner", m.SSM.Inner)
		positive("ssm.state", m.SSM.State)
		positive("ssm.conv", m.SSM.Conv)
		positive("ssm.groups", m.SSM.Groups)
	}
	if m.Kind == Hybrid {
		if m.AttnLayers <= 0 || m.AttnLayers >= m.Layers {
			bad("attn_layers", "hybrid needs 0 < attn_layers < layers (%d), got %d", m.Layers, m.AttnLayers)
		}
	} else if m.AttnLayers != 0 {
		bad("attn_layers", "only for kind hybrid")
	}

	nonNegative("sliding_window", m.SlidingWindow)
	nonNegative("swa_layers", m.SWALayers)
	if (m.SlidingWindow > 0) != (m.SWALayers > 0) {
		bad("sliding_window", "sliding_window and swa_layers go together (got %d and %d)", m.SlidingWindow, m.SWALayers)
	}
	if m.SWALayers > m.Layers {
		bad("swa_layers", "%d exceeds layers %d", m.SWALayers, m.Layers)
	}

	o := m.Ollama
	if !m.OnOllama() && (o.Default != "" || len(o.Tags) > 0) {
		bad("ollama", "set while runs_on_ollama is false")
	}
	if o.Default != "" && o.DefaultQuant == "" {
		bad("ollama.default_quant", "missing for default %q", o.Default)
	}
	if o.DefaultQuant != "" && !KnownQuant(o.DefaultQuant) && !slices.Contains(nativeQuants, o.DefaultQuant) {
		bad("ollama.default_quant", "unknown quant %q", o.DefaultQuant)
	}
	for _, q := range sortedKeys(o.Tags) {
		if !KnownQuant(q) {
			bad("ollama.tags", "unknown quant %q (want one of %s)", q, strings.Join(QuantNames, " "))
		}
		if t := o.Tags[q]; strings.TrimSpace(t) == "" || strings.ContainsAny(t, " \t") {
			bad("ollama.tags."+q, "bad tag %q", t)
		}
	}
	for _, q := range sortedKeys(o.SizeGB) {
		if !KnownQuant(q) && !slices.Contains(nativeQuants, q) {
			bad("ollama.size_gb", "unknown quant %q", q)
		}
		if o.SizeGB[q] <= 0 {
			bad("ollama.size_gb."+q, "must be > 0, got %g", o.SizeGB[q])
		}
	}
	if len(m.HF.Quants) > 0 && m.HF.Repo == "" {
		bad("hf.repo", "missing while hf.quants is set")
	}
	if m.HF.Repo != "" && strings.Count(m.HF.Repo, "/") != 1 {
		bad("hf.repo", "want <owner>/<repo>, got %q", m.HF.Repo)
	}
	for _, q := range m.HF.Quants {
		if !KnownQuant(q) {
			bad("hf.quants", "unknown quant %q", q)
		}
	}
	for _, k := range sortedKeys(m.Capabilities) {
		c := m.Capabilities[k]
		if !c.Unknown && (c.Score < 0 || c.Score > 10) {
			bad("capabilities."+k, "score %g outside 0-10", c.Score)
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
