package estimate_test

import (
	"math"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
)

// measured holds buffer sizes printed by llama.cpp-based runners in public
// logs (shared/reference/FACTS.md). The estimator must land within ±5 % of
// each buffer.
func TestMeasuredPoints(t *testing.T) {
	cat := catalog.Builtin()
	cases := []struct {
		name                       string
		model                      string
		runtime                    estimate.Runtime
		weightsMiB, kvMiB, compMiB float64
	}{
		// llama-server, current llama.cpp (graph reserved with one output row).
		{"qwen3-4b llama-server", "qwen3-4b", estimate.RuntimeOllama, 2376, 1152, 85},
		// 304 MiB is exactly 4 × 512 × (vocab + embd) bytes: logits for the
		// whole micro-batch on the GPU, as older llama.cpp reserved them.
		{"qwen3-8b legacy", "qwen3-8b", estimate.RuntimeLegacy, 4589, 1152, 304},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := estimate.Estimate(cat.MustGet(c.model), estimate.Options{
				Quant: "Q4_K_M", Ctx: 8192, FlashAttention: true, Runtime: c.runtime,
			})
			if err != nil {
				t.Fatal(err)
			}
			within(t, "model buffer", float64(b.WeightsGPU)/estimate.MiB, c.weightsMiB)
			within(t, "KV cache", float64(b.KV)/estimate.MiB, c.kvMiB)
			within(t, "compute buffer", float64(b.Compute)/estimate.MiB, c.compMiB)
		})
	}
}

func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	off := (got - want) / want
	t.Logf("%s: estimated %.0f MiB, measured %.0f MiB (%+.1f%%)", what, got, want, off*100)
	if math.Abs(off) > 0.05 {
		t.Errorf("%s: got %.0f MiB, measured %.0f MiB (%+.1f%%)", what, got, want, off*100)
	}
}

func TestKVCacheByKind(t *testing.T) {
	cat := catalog.Builtin()
	cases := []struct {
		model  string
		ctx    int
		kvType string
		fa     bool
		par    int
		want   int64 // bytes
		kind   string
	}{
		// 2 × 36 layers × 8 KV heads × 128 × 2 bytes = 144 KiB per token.
		{"qwen3-8b", 16384, "f16", true, 1, 16384 * 147456, "gqa"},
		// Parallel slots multiply the cache.
		{"qwen3-8b", 4096, "f16", true, 4, 4 * 4096 * 147456, "gqa"},
		// q8_0 is 34 bytes per 32 elements.
		{"qwen3-8b", 4096, "q8_0", true, 1, int64(4096 * 147456 / 2 * 34.0 / 32), "gqa"},
		// Without flash attention a quantized cache falls back to f16.
		{"qwen3-8b", 4096, "q4_0", false, 1, 4096 * 147456, "gqa"},
		{"nomic-embed-text", 2048, "f16", true, 1, 0, "none"},
	}
	for _, c := range cases {
		b, err := estimate.Estimate(cat.MustGet(c.model), estimate.Options{Quant: "Q4_K_M", Ctx: c.ctx, KVType: c.kvType, FlashAttention: c.fa, Parallel: c.par})
		if err != nil {
			t.Fatal(err)
		}
		if b.KV != c.want || b.KVKind != c.kind {
			t.Errorf("%s ctx %d %s par %d: KV %d (%s), want %d (%s)", c.model, c.ctx, c.kvType, c.par, b.KV, b.KVKind, c.want, c.kind)
		}
	}
}

func TestKVSpecialArchitectures(t *testing.T) {
	cat := catalog.Builtin()
	dense := func(m *catalog.Model, ctx int) int64 {
		return int64(ctx) * 2 * int64(m.Layers) * int64(m.KVHeads) * int64(m.KVHeadDim()) * 2
	}
	// MLA: far smaller than a dense cache of the same head count would be.
	mla := cat.MustGet("deepseek-coder-v2-lite")
	b, _ := estimate.Estimate(mla, estimate.Options{Quant: "Q4_K_M", Ctx: 16384, FlashAttention: true})
	if b.KVKind != "mla" || b.KV <= 0 || b.KV >= dense(&catalog.Model{Layers: mla.Layers, KVHeads: mla.Heads, HeadDim: 192}, 16384)/4 {
		t.Errorf("MLA cache %d (%s) not sized as latent", b.KV, b.KVKind)
	}
	// SSM: the state does not grow with the context.
	ssm := cat.MustGet("mamba-codestral-7b")
	b4, _ := estimate.Estimate(ssm, estimate.Options{Quant: "Q5_K_M", Ctx: 4096, FlashAttention: true})
	b64, _ := estimate.Estimate(ssm, estimate.Options{Quant: "Q5_K_M", Ctx: 65536, FlashAttention: true})
	if b4.KVKind != "ssm-state" || b4.KV != b64.KV || b4.KV == 0 {
		t.Errorf("SSM state: %d at 4K, %d at 64K (%s); want equal and non-zero", b4.KV, b64.KV, b4.KVKind)
	}
	// Sliding window: Gemma 3 keeps a full cache only on its global layers.
	g := cat.MustGet("gemma-3-12b")
	bg, _ := estimate.Estimate(g, estimate.Options{Quant: "Q4_K_M", Ctx: 32768, FlashAttention: true})
	if bg.KVKind != "swa" || bg.KV >= dense(g, 32768)/2 {
		t.Errorf("SWA cache %d (%s) should be well under the dense %d", bg.KV, bg.KVKind, dense(g, 32768))
	}
}

func TestComputeBufferFlashAttention(t *testing.T) {
	m := catalog.Builtin().MustGet("qwen3-8b")
	on, _ := estimate.Estimate(m, estimate.Options{Quant: "Q4_K_M", Ctx: 16384, FlashAttention: true})
	off, _ := estimate.Estimate(m, estimate.Options{Quant: "Q4_K_M", Ctx: 16384})
	// Without flash attention the KQ scores, n_ctx × n_ubatch × heads f32, dominate: 1 GiB at 16K.
	if off.Compute < 1<<30 || on.Compute > 200*estimate.MiB {
		t.Errorf("compute: %d MiB with FA, %d MiB without", on.Compute/estimate.MiB, off.Compute/estimate.MiB)
	}
}

func TestWeightsFromGGUFInfo(t *testing.T) {
	m := catalog.Builtin().MustGet("qwen3-8b")
	info := &catalog.GGUFInfo{FileType: "Q4_K_M", FileBytes: 5_000_000_000, TensorBytes: 4_990_000_000, TokenEmbdBytes: 350_000_000, OutputBytes: 500_000_000}
	b, err := estimate.Estimate(m, estimate.Options{Ctx: 4096, GGUF: info})
	if err != nil {
		t.Fatal(err)
	}
	if b.WeightsSource != "gguf" || b.WeightsGPU != 4_640_000_000 || b.WeightsHost != 350_000_000 {
		t.Errorf("gguf weights: %+v", b)
	}
	info.OutputBytes = 0 // tied: the table is duplicated onto the GPU
	b, _ = estimate.Estimate(m, estimate.Options{Ctx: 4096, GGUF: info})
	if b.WeightsGPU != 4_990_000_000 {
		t.Errorf("tied gguf weights on GPU = %d", b.WeightsGPU)
	}
}

func TestEstimateRejectsBadInput(t *testing.T) {
	m := catalog.Builtin().MustGet("qwen3-8b")
	for _, o := range []estimate.Options{
		{Quant: "Q9_Z", Ctx: 4096},
		{Quant: "Q4_K_M", Ctx: 0},
		{Quant: "Q4_K_M", Ctx: 4096, KVType: "q3"},
	} {
		if _, err := estimate.Estimate(m, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestJudgeThresholds(t *testing.T) {
	v := int64(12288) * estimate.MiB
	cases := []struct {
		frac float64
		want estimate.Verdict
	}{{0.5, estimate.Comfortable}, {0.60, estimate.Comfortable}, {0.7, estimate.Good}, {0.8, estimate.Tight}, {0.9, estimate.Marginal}, {0.96, estimate.NoFit}}
	for _, c := range cases {
		if got := estimate.Judge(int64(c.frac*float64(v)), v); got != c.want {
			t.Errorf("%.2f: %s, want %s", c.frac, got, c.want)
		}
	}
}

func TestMaxContext(t *testing.T) {
	m := catalog.Builtin().MustGet("qwen3-14b")
	o := estimate.Options{Quant: "Q4_K_M", Ctx: 4096, FlashAttention: true}
	budget := int64(12288) * estimate.MiB * 85 / 100
	n, err := estimate.MaxContext(m, o, budget)
	if err != nil {
		t.Fatal(err)
	}
	o.Ctx = n
	at, _ := estimate.Estimate(m, o)
	o.Ctx = n + estimate.CtxStep
	over, _ := estimate.Estimate(m, o)
	if n%estimate.CtxStep != 0 || at.Total > budget || over.Total <= budget {
		t.Errorf("max ctx %d: %d fits, %d over budget %d", n, at.Total, over.Total, budget)
	}
	// A budget below the weights fits nothing.
	if n, _ := estimate.MaxContext(m, o, 1<<30); n != 0 {
		t.Errorf("1 GiB budget: max ctx %d, want 0", n)
	}
	// The trained context caps the answer.
	small := catalog.Builtin().MustGet("qwen3-4b")
	if n, _ := estimate.MaxContext(small, o, 1<<40); n != small.TrainedCtx/estimate.CtxStep*estimate.CtxStep {
		t.Errorf("huge budget: %d, want trained %d", n, small.TrainedCtx)
	}
}

func TestCoResidentSets(t *testing.T) {
	gib := int64(estimate.GiB)
	pinned := []estimate.Resident{{Name: "embed", Bytes: gib / 2}}
	others := []estimate.Resident{
		{Name: "coder", Bytes: 8 * gib, Large: true},
		{Name: "thinker", Bytes: 9 * gib, Large: true},
		{Name: "classifier", Bytes: 3 * gib},
		{Name: "tiny", Bytes: gib / 2},
	}
	sets := estimate.CoResidentSets(pinned, others, 1, 12*gib)
	var got []string
	for _, s := range sets {
		got = append(got, join(s.Members))
	}
	want := []string{
		"embed+coder+classifier+tiny", // 12.0 GiB exactly
		"embed+thinker+tiny",          // classifier does not fit beside thinker
	}
	if join(got) != join(want) {
		t.Errorf("sets = %v, want %v", got, want)
	}
	// Two large models never share the GPU when max_resident_large is 1.
	for _, s := range sets {
		if contains(s.Members, "coder") && contains(s.Members, "thinker") {
			t.Errorf("two large models in %v", s.Members)
		}
	}
	if estimate.CoResidentSets([]estimate.Resident{{Name: "huge", Bytes: 13 * gib}}, others, 1, 12*gib) != nil {
		t.Error("pinned models over budget should give no sets")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "+"
		}
		out += x
	}
	return out
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
