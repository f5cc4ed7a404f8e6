package advise_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/advise"
	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
)

// embedder is what nomic-embed-text takes beside the large model.
func embedder(t *testing.T) int64 {
	b, err := estimate.Estimate(catalog.Builtin().MustGet("nomic-embed-text"), estimate.Options{Quant: "F16", Ctx: 2048, FlashAttention: true})
	if err != nil {
		t.Fatal(err)
	}
	return b.Total
}

func TestQuantAdviceAgreesWithSeedGuideOn12GB(t *testing.T) {
	cat := catalog.Builtin()
	res := embedder(t)
	cases := []struct {
		model string
		ctx   int
		want  string
	}{
		{"qwen3-14b", 4096, "Q4_K_M"},     // rule 1
		{"qwen2.5-14b", 4096, "Q4_K_M"},   // rule 1, another 14B
		{"qwen3-8b", 16384, "Q5_K_M"},     // rule 2
		{"llama-3.1-8b", 16384, "Q5_K_M"}, // rule 2
		{"qwen3-8b", 8192, "Q6_K"},        // rule 3
		{"llama-3.1-8b", 8192, "Q6_K"},    // rule 3
		{"qwen3-4b", 4096, "Q8_0"},        // rule 4
		{"phi-4-mini", 4096, "Q8_0"},      // rule 4
	}
	for _, c := range cases {
		adv, err := advise.Quant(advise.QuantRequest{
			Model: cat.MustGet(c.model), Ctx: c.ctx, VRAMBytes: 12288 * estimate.MiB, ResidentBytes: res,
			Base: estimate.Options{FlashAttention: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		if adv.Recommended != c.want || !adv.Agrees {
			t.Errorf("%s @%d: %s (agrees %v), want %s; why: %v", c.model, c.ctx, adv.Recommended, adv.Agrees, c.want, adv.Why)
		}
		if len(adv.Why) == 0 || len(adv.Choices) < 4 {
			t.Errorf("%s: no explanation or alternatives", c.model)
		}
	}
}

func TestQuantAdviceGeneralisesByVRAM(t *testing.T) {
	cat := catalog.Builtin()
	res := embedder(t)
	cases := []struct {
		model string
		ctx   int
		vram  int64
		want  string
	}{
		{"qwen3-14b", 4096, 24576, "Q8_0"},   // a 24 GB card holds the 14B at Q8_0
		{"qwen3-14b", 4096, 16384, "Q5_K_M"}, // 16 GB: one step up from the 12 GB answer
		{"qwen3-8b", 8192, 8192, "Q4_K_M"},   // 8 GB: 8K context forces Q4_K_M, tight
		{"qwen3-8b", 16384, 8192, ""},        // 8 GB: 16K only below Q4_K_M
		{"qwen3-14b", 16384, 8192, ""},       // nothing sound fits
		{"qwen3-8b", 65536, 12288, ""},       // 64K context: nothing fits at all
	}
	for _, c := range cases {
		adv, err := advise.Quant(advise.QuantRequest{
			Model: cat.MustGet(c.model), Ctx: c.ctx, VRAMBytes: c.vram * estimate.MiB, ResidentBytes: res,
			Base: estimate.Options{FlashAttention: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.want == "" {
			if adv.Recommended != "" && adv.Recommended != "Q3_K_M" && adv.Recommended != "Q2_K" {
				t.Errorf("%s @%d on %d MiB: %s, want nothing sound", c.model, c.ctx, c.vram, adv.Recommended)
			}
			continue
		}
		if adv.Recommended != c.want {
			t.Errorf("%s @%d on %d MiB: %s, want %s; why %v", c.model, c.ctx, c.vram, adv.Recommended, c.want, adv.Why)
		}
	}
}

func TestQuantAdviceSpeedCritical(t *testing.T) {
	cat := catalog.Builtin()
	var sib []*catalog.Model
	for _, m := range cat.All() {
		if m.Family == "qwen3" {
			sib = append(sib, m)
		}
	}
	adv, err := advise.Quant(advise.QuantRequest{
		Model: cat.MustGet("qwen3-8b"), Ctx: 4096, SpeedCritical: true, VRAMBytes: 12288 * estimate.MiB,
		Base: estimate.Options{FlashAttention: true}, Siblings: sib,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(adv.Speed) == 0 || !strings.Contains(adv.Speed[0], "Qwen3-4B at Q8_0") || !adv.Agrees {
		t.Errorf("speed advice = %v (agrees %v)", adv.Speed, adv.Agrees)
	}
	// Decode speed scales with the bytes read per token: Q8_0 is slower than Q4_K_M.
	for _, c := range adv.Choices {
		if c.Quant == "Q8_0" && c.RelSpeed >= 1 || c.Quant == "Q4_K_M" && c.RelSpeed != 1 {
			t.Errorf("%s rel speed %.2f", c.Quant, c.RelSpeed)
		}
	}
}
