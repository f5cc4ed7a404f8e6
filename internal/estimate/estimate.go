// Package estimate owns the VRAM and disk arithmetic: given a catalog model, a
// quantization and a context, it returns a breakdown of weights, KV cache,
// compute buffer and runtime overhead as llama.cpp / Ollama would allocate
// them, a verdict against a GPU's memory, the largest context that fits, and
// which sets of models can share the GPU. Every function is pure.
package estimate

import (
	"fmt"
	"math"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/quant"
)

const (
	MiB = 1 << 20
	GiB = 1 << 30
)

// Runtime selects how the compute buffer is reserved.
type Runtime string

const (
	// RuntimeOllama is current Ollama / llama.cpp: the worst-case graph is
	// reserved with one output row per sequence, so the logits never take
	// device memory and the buffer peaks inside a layer.
	RuntimeOllama Runtime = "ollama"
	// RuntimeLegacy is llama.cpp before the n_outputs=1 reservation (and
	// Ollama builds on it): logits for the whole micro-batch are reserved on
	// the device that holds the output head.
	RuntimeLegacy Runtime = "llama.cpp-legacy"
)

// DefaultOverheadMiB is the per-runner overhead on CUDA: the minimum Ollama
// reserves, which stands for the CUDA context and library workspaces.
const DefaultOverheadMiB = 457

// DefaultBatch is llama.cpp's and Ollama's default micro-batch (n_ubatch / num_batch).
const DefaultBatch = 512

// Options are the knobs that change a model's footprint.
type Options struct {
	Quant string
	// Ctx is the context per parallel slot (Ollama's num_ctx); the KV cache
	// holds Ctx × Parallel tokens.
	Ctx            int
	Parallel       int
	KVType         string // f16 (default), q8_0, q4_0
	FlashAttention bool
	Batch          int
	Runtime        Runtime
	OverheadMiB    int
	// GGUF, when set, gives exact tensor sizes instead of bits-per-weight.
	GGUF *catalog.GGUFInfo
}

func (o Options) withDefaults() Options {
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Runtime == "" {
		o.Runtime = RuntimeOllama
	}
	if o.OverheadMiB == 0 {
		o.OverheadMiB = DefaultOverheadMiB
	}
	if o.OverheadMiB < 0 {
		o.OverheadMiB = 0
	}
	return o
}

// Breakdown is one model's estimated footprint. Bytes throughout.
type Breakdown struct {
	Model          string  `json:"model"`
	Quant          string  `json:"quant"`
	Ctx            int     `json:"ctx"`
	Parallel       int     `json:"parallel"`
	KVType         string  `json:"kv_type"`
	FlashAttention bool    `json:"flash_attention"`
	Runtime        Runtime `json:"runtime"`
	// WeightsSource says where the weight size came from: gguf, published, bpw.
	WeightsSource string `json:"weights_source"`
	FileBytes     int64  `json:"file_bytes"`
	// WeightsGPU is what the model buffer holds on the GPU; WeightsHost what
	// stays in system memory (the token-embedding table).
	WeightsGPU  int64 `json:"weights_gpu_bytes"`
	WeightsHost int64 `json:"weights_host_bytes"`
	KV          int64 `json:"kv_bytes"`
	// KVKind says how the cache was sized: gqa, swa, mla, ssm-state, hybrid, none.
	KVKind   string   `json:"kv_kind"`
	Compute  int64    `json:"compute_bytes"`
	Overhead int64    `json:"overhead_bytes"`
	Total    int64    `json:"total_gpu_bytes"`
	Notes    []string `json:"notes,omitempty"`
}

// Estimate computes the footprint of m under o.
func Estimate(m *catalog.Model, o Options) (Breakdown, error) {
	o = o.withDefaults()
	if m == nil {
		return Breakdown{}, fmt.Errorf("estimate: no model")
	}
	qname := o.Quant
	if qname == "" && o.GGUF != nil {
		qname = o.GGUF.FileType
	}
	q, ok := quant.Lookup(qname)
	if !ok && o.GGUF == nil {
		return Breakdown{}, fmt.Errorf("estimate %s: unknown quantization %q", m.ID, o.Quant)
	}
	kvt, err := quant.LookupKV(o.KVType)
	if err != nil {
		return Breakdown{}, err
	}
	if o.Ctx <= 0 {
		return Breakdown{}, fmt.Errorf("estimate %s: context must be positive, got %d", m.ID, o.Ctx)
	}
	b := Breakdown{
		Model: m.ID, Quant: q.Name, Ctx: o.Ctx, Parallel: o.Parallel, KVType: kvt.Name,
		FlashAttention: o.FlashAttention, Runtime: o.Runtime,
	}
	if b.Quant == "" {
		b.Quant = qname
	}
	if kvt.Name != "f16" && !o.FlashAttention {
		b.Notes = append(b.Notes, "a quantized KV cache needs flash attention; Ollama falls back to f16 without it")
		kvt, _ = quant.LookupKV("f16")
		b.KVType = "f16"
	}
	weights(&b, m, q, o)
	kvCache(&b, m, kvt, o)
	b.Compute = computeBuffer(m, o)
	b.Overhead = int64(o.OverheadMiB) * MiB
	b.Total = b.WeightsGPU + b.KV + b.Compute + b.Overhead
	if o.Ctx > m.TrainedCtx && m.TrainedCtx > 0 {
		b.Notes = append(b.Notes, fmt.Sprintf("context %d is beyond the trained %d", o.Ctx, m.TrainedCtx))
	}
	return b, nil
}

// weights fills file size and the GPU/host split of the weights.
func weights(b *Breakdown, m *catalog.Model, q quant.Type, o Options) {
	embdParams := float64(m.Vocab) * float64(m.Embd)
	switch {
	case o.GGUF != nil:
		b.WeightsSource = "gguf"
		b.FileBytes = o.GGUF.FileBytes
		total := o.GGUF.TensorBytes
		b.WeightsHost = o.GGUF.TokenEmbdBytes
		b.WeightsGPU = total - o.GGUF.TokenEmbdBytes
		if o.GGUF.OutputBytes == 0 && m.Kind != catalog.Embedding {
			// Tied head: llama.cpp duplicates the table on the output device.
			b.WeightsGPU += o.GGUF.TokenEmbdBytes
		}
		return
	case m.Ollama.SizeGB[q.Name] > 0:
		b.WeightsSource = "published"
		b.FileBytes = int64(m.Ollama.SizeGB[q.Name] * 1e9)
	default:
		b.WeightsSource = "bpw"
		b.FileBytes = int64(m.ParamsB * 1e9 * q.BPW / 8)
	}
	embd := int64(embdParams * q.BPW / 8)
	if embd > b.FileBytes/2 {
		embd = b.FileBytes / 2 // guard against odd catalog entries
	}
	b.WeightsHost = embd
	b.WeightsGPU = b.FileBytes - embd
	if m.TiedEmbeddings && m.Kind != catalog.Embedding {
		b.WeightsGPU += embd
	}
}

// KVBytesPerToken is the f16-equivalent cache per token for attention
// models (all layers, K and V), before any sliding window.
func KVBytesPerToken(m *catalog.Model, bytesPerElem float64) float64 {
	layers := m.Layers
	if m.Kind == catalog.Hybrid && m.AttnLayers > 0 {
		layers = m.AttnLayers
	}
	if m.MLA != nil {
		// Latent cache: K holds the compressed KV plus the RoPE key; V holds
		// the compressed KV. (Newer llama.cpp views V inside K; counting both
		// keeps the estimate on the safe side.)
		per := float64(m.MLA.KVLoraRank+m.MLA.RopeDim) + float64(m.MLA.KVLoraRank)
		return float64(layers) * per * bytesPerElem
	}
	return 2 * float64(layers) * float64(m.KVHeads) * float64(m.KVHeadDim()) * bytesPerElem
}

func kvCache(b *Breakdown, m *catalog.Model, kvt quant.KVType, o Options) {
	tokens := float64(o.Ctx) * float64(o.Parallel)
	switch {
	case m.Kind == catalog.Embedding:
		b.KVKind = "none"
		b.Notes = append(b.Notes, "non-causal embedder: no KV cache is kept")
	case m.Kind == catalog.SSM:
		b.KVKind = "ssm-state"
		b.KV = int64(ssmState(m) * float64(o.Parallel))
	case m.Kind == catalog.Hybrid:
		b.KVKind = "hybrid"
		b.KV = int64(KVBytesPerToken(m, kvt.Bytes)*tokens + ssmState(m)*float64(o.Parallel))
	case m.MLA != nil:
		b.KVKind = "mla"
		b.KV = int64(KVBytesPerToken(m, kvt.Bytes) * tokens)
	case m.SlidingWindow > 0 && m.SWALayers > 0:
		b.KVKind = "swa"
		per := 2 * float64(m.KVHeads) * float64(m.KVHeadDim()) * kvt.Bytes
		window := math.Min(float64(o.Ctx), float64(m.SlidingWindow)) * float64(o.Parallel)
		global := float64(m.Layers - m.SWALayers)
		b.KV = int64(per * (global*tokens + float64(m.SWALayers)*window))
	default:
		b.KVKind = "gqa"
		b.KV = int64(KVBytesPerToken(m, kvt.Bytes) * tokens)
	}
}

// ssmState is the fixed recurrent state of one sequence: the convolution
// window and the SSM state, both f32, for every recurrent layer.
func ssmState(m *catalog.Model) float64 {
	if m.SSM == nil {
		return 0
	}
	layers := m.Layers
	if m.Kind == catalog.Hybrid && m.AttnLayers > 0 {
		layers -= m.AttnLayers
	}
	s := m.SSM
	conv := float64(s.Conv-1) * float64(s.Inner+2*s.Groups*s.State)
	state := float64(s.State) * float64(s.Inner)
	return float64(layers) * (conv + state) * 4
}

// computeBuffer is the device compute (graph) buffer. It peaks at one moment
// of one layer — attention or the FFN — or, for legacy runtimes, at the
// output projection. f32 activations, n_ubatch rows.
func computeBuffer(m *catalog.Model, o Options) int64 {
	ub := float64(min(o.Batch, o.Ctx))
	ctx := float64(o.Ctx * o.Parallel)
	embd := float64(m.Embd)
	ff := float64(m.FF)
	if m.Experts > 0 && m.ExpertsUsed > 0 {
		ff *= float64(m.ExpertsUsed) // routed rows, one per active expert
	}
	if ff == 0 {
		ff = 4 * embd
	}
	mask := 2 * ctx * ub // f16 KQ mask
	// FFN moment: gate, up and their product; input, residual, norm and
	// output rows of the hidden state.
	layer := 4*ub*(3*ff+4*embd) + mask
	if !o.FlashAttention && m.Kind != catalog.SSM {
		heads := float64(max(m.Heads, 1))
		attn := 4*ub*ctx*heads + 4*ub*4*embd + mask // KQ scores in f32
		layer = math.Max(layer, attn)
	}
	if o.Runtime == RuntimeLegacy && m.Kind != catalog.Embedding {
		layer = math.Max(layer, 4*ub*(float64(m.Vocab)+embd))
	}
	return int64(layer)
}

// Verdict is a coarse judgement of a footprint against the GPU.
type Verdict string

const (
	Comfortable Verdict = "comfortable"
	Good        Verdict = "good"
	Tight       Verdict = "tight"
	Marginal    Verdict = "marginal"
	NoFit       Verdict = "does not fit"
)

// FitLimit is the share of VRAM above which a model (or a set of models)
// does not fit; see Thresholds.
const FitLimit = 0.95

// FitBudget is the bytes that can be used on a GPU of vramBytes.
func FitBudget(vramBytes int64) int64 { return int64(float64(vramBytes) * FitLimit) }

// Thresholds, as fractions of the GPU's memory. Above 95 % a load fails in
// practice: the driver, the desktop (under WSL2 the Windows compositor) and
// allocator fragmentation take the last few hundred MiB of a 12 GB card.
var Thresholds = []struct {
	Max     float64
	Verdict Verdict
	Why     string
}{
	{0.60, Comfortable, "room for the embedder and a second small model"},
	{0.75, Good, "room for the embedder"},
	{0.85, Tight, "fits alone; little room beside it"},
	{FitLimit, Marginal, "loads alone, but nothing else fits and a longer prompt may not"},
	{math.Inf(1), NoFit, "over 95 % of VRAM"},
}

// Judge returns the verdict for total bytes on a GPU of vramBytes.
func Judge(total, vramBytes int64) Verdict {
	if vramBytes <= 0 {
		return NoFit
	}
	f := float64(total) / float64(vramBytes)
	for _, t := range Thresholds {
		if f <= t.Max {
			return t.Verdict
		}
	}
	return NoFit
}

// Fits reports whether a verdict means the model loads alone.
func (v Verdict) Fits() bool { return v != NoFit }

// Useful reports whether the model is usable for daily work: it loads and
// leaves at least a little room (not marginal).
func (v Verdict) Useful() bool { return v == Comfortable || v == Good || v == Tight }
