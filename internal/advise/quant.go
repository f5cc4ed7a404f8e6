// Package advise owns switchyard's recommendations: which quantization of a
// model to run on a given GPU and context. It generalises the seed's
// "quantization decision guide" into rules over the estimator's footprints
// and measured quality loss. Pure functions, table-tested.
package advise

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/quant"
)

// The bounds the advisor aims for, as fractions of VRAM, counting the pinned
// models (the embedder) that stay beside the model.
const (
	// PreferBound: "good" — room left for a longer prompt than planned.
	PreferBound = 0.75
	// AcceptBound: "tight" — fits with the residents, little room to grow.
	AcceptBound = 0.85
	// LoadBound: "marginal" — loads, but evicts the residents.
	LoadBound = 0.95
	// SpeedBound replaces PreferBound when speed is critical: a smaller
	// footprint reads fewer bytes per token.
	SpeedBound = 0.60
)

// SoundFloor is the lowest quant recommended without a warning: below it the
// measured KL divergence triples (Q4_K_M 0.031 → Q3_K_M 0.102), and a smaller
// model at a higher quant is usually better.
const SoundFloor = "Q4_K_M"

// QuantRequest is what `switchyard quant` asks.
type QuantRequest struct {
	Model         *catalog.Model
	Ctx           int
	SpeedCritical bool
	VRAMBytes     int64
	// ResidentBytes is what stays on the GPU beside the model (pinned models).
	ResidentBytes int64
	Base          estimate.Options // flash attention, KV type, parallel, overhead
	// Siblings are smaller models of the same family, for speed advice.
	Siblings []*catalog.Model
}

// Choice is one quant with its footprint and quality cost.
type Choice struct {
	Quant    string           `json:"quant"`
	Total    int64            `json:"total_bytes"`
	WithRes  int64            `json:"with_residents_bytes"`
	Fraction float64          `json:"fraction"`
	Verdict  estimate.Verdict `json:"verdict"`
	KLD      float64          `json:"kld"`
	PPLDelta float64          `json:"ppl_delta"`
	// RelSpeed is generation speed relative to Q4_K_M: decoding reads every
	// weight once per token, so it scales with the inverse of the bytes.
	RelSpeed float64 `json:"rel_speed"`
	Sound    bool    `json:"sound"`
	Fits     bool    `json:"fits"`
}

// QuantAdvice is the recommendation with the alternatives and reasons.
type QuantAdvice struct {
	Model       string   `json:"model"`
	Ctx         int      `json:"ctx"`
	Recommended string   `json:"recommended"`
	Choices     []Choice `json:"choices"`
	Why         []string `json:"why"`
	// GuideSays is the seed's decision guide for this case, and Agrees whether
	// the recommendation matches it.
	GuideSays string   `json:"guide_says,omitempty"`
	Agrees    bool     `json:"agrees"`
	Speed     []string `json:"speed_advice,omitempty"`
}

// Quant recommends a quantization for the request.
func Quant(req QuantRequest) (QuantAdvice, error) {
	m := req.Model
	adv := QuantAdvice{Model: m.ID, Ctx: req.Ctx}
	var refBytes float64
	for _, q := range quant.Practical() {
		o := req.Base
		o.Quant, o.Ctx = q.Name, req.Ctx
		b, err := estimate.Estimate(m, o)
		if err != nil {
			return adv, err
		}
		if q.Name == "Q4_K_M" {
			refBytes = float64(b.FileBytes)
		}
		c := Choice{
			Quant: q.Name, Total: b.Total, WithRes: b.Total + req.ResidentBytes,
			Fraction: float64(b.Total+req.ResidentBytes) / float64(req.VRAMBytes),
			Verdict:  estimate.Judge(b.Total, req.VRAMBytes), KLD: q.KLD, PPLDelta: q.PPLDelta,
			Sound: q.KLD <= quant.MustLookup(SoundFloor).KLD,
		}
		c.Fits = c.Verdict.Fits()
		c.RelSpeed = float64(b.FileBytes)
		adv.Choices = append(adv.Choices, c)
	}
	for i := range adv.Choices {
		adv.Choices[i].RelSpeed = refBytes / adv.Choices[i].RelSpeed
	}

	prefer := PreferBound
	if req.SpeedCritical {
		prefer = SpeedBound
	}
	pick := func(bound float64, soundOnly bool) (Choice, bool) {
		for _, c := range adv.Choices { // best quality first
			if c.Fraction <= bound && (c.Sound || !soundOnly) {
				return c, true
			}
		}
		return Choice{}, false
	}
	res := ""
	if req.ResidentBytes > 0 {
		res = fmt.Sprintf(" with %.2f GiB of pinned models beside it", gib(req.ResidentBytes))
	}
	vram := gib(req.VRAMBytes)
	switch {
	case try(&adv, pick, prefer, true):
		adv.Why = append(adv.Why, fmt.Sprintf("%s is the best-quality quant that stays within %.0f%% of %.1f GiB at %d context%s, leaving room for longer prompts",
			adv.Recommended, prefer*100, vram, req.Ctx, res))
	case try(&adv, pick, AcceptBound, true):
		adv.Why = append(adv.Why, fmt.Sprintf("no quant stays within %.0f%%; %s is the best-quality one within %.0f%% of %.1f GiB at %d context%s: tight, little room to grow",
			prefer*100, adv.Recommended, AcceptBound*100, vram, req.Ctx, res))
	case tryLightest(&adv, LoadBound):
		adv.Why = append(adv.Why, fmt.Sprintf("%s loads only by evicting the pinned models (%.0f%% of VRAM with them): marginal; shorten the context or choose a smaller model",
			adv.Recommended, fractionOf(adv)*100))
	case try(&adv, pick, LoadBound, false):
		adv.Why = append(adv.Why, fmt.Sprintf("only %s fits, below %s: quality falls steeply there (KL divergence %.3f vs %.3f); a smaller model at a higher quant is usually better",
			adv.Recommended, SoundFloor, quant.MustLookup(adv.Recommended).KLD, quant.MustLookup(SoundFloor).KLD))
	default:
		adv.Why = append(adv.Why, fmt.Sprintf("no quant of %s fits %.1f GiB at %d context", m.Name, vram, req.Ctx))
	}
	if r := adv.Recommended; r != "" {
		better := betterThan(adv.Choices, r)
		if better != nil {
			adv.Why = append(adv.Why, fmt.Sprintf("%s would cut the KL divergence from %.4f to %.4f but needs %.2f GiB with the residents (%.0f%%)",
				better.Quant, quant.MustLookup(r).KLD, better.KLD, gib(better.WithRes), better.Fraction*100))
		}
	}
	if req.SpeedCritical {
		adv.Speed = speedAdvice(req)
	}
	compareWithGuide(&adv, m, req)
	return adv, nil
}

func try(adv *QuantAdvice, pick func(float64, bool) (Choice, bool), bound float64, sound bool) bool {
	c, ok := pick(bound, sound)
	if ok {
		adv.Recommended = c.Quant
	}
	return ok
}

// tryLightest picks the sound quant with the smallest footprint under bound:
// when nothing fits comfortably, room matters more than the last bit of quality.
func tryLightest(adv *QuantAdvice, bound float64) bool {
	for i := len(adv.Choices) - 1; i >= 0; i-- {
		c := adv.Choices[i]
		if c.Sound && c.Fraction <= bound {
			adv.Recommended = c.Quant
			return true
		}
	}
	return false
}

func fractionOf(adv QuantAdvice) float64 {
	for _, c := range adv.Choices {
		if c.Quant == adv.Recommended {
			return c.Fraction
		}
	}
	return math.NaN()
}

// betterThan returns the next better-quality choice than q, if any.
func betterThan(cs []Choice, q string) *Choice {
	for i := range cs {
		if cs[i].Quant == q && i > 0 {
			return &cs[i-1]
		}
	}
	return nil
}

// GuideVRAM is the card the seed's guide was written for (12 GB); the guide
// is only compared on cards within GuideSlack of it.
const (
	GuideVRAM  = 12288 * estimate.MiB
	GuideSlack = 1024 * estimate.MiB
)

// compareWithGuide records what the seed's decision guide says for this case
// and whether the recommendation agrees.
func compareWithGuide(adv *QuantAdvice, m *catalog.Model, req QuantRequest) {
	if d := req.VRAMBytes - GuideVRAM; d > GuideSlack || d < -GuideSlack {
		adv.Agrees = true
		adv.Why = append(adv.Why, "the seed's guide was written for a 12 GB card; not compared on this one")
		return
	}
	if req.SpeedCritical {
		adv.GuideSays = "a smaller model at a higher quant (rule 5: speed critical)"
		adv.Agrees = len(adv.Speed) > 0 && !strings.HasPrefix(adv.Speed[0], "no smaller")
		return
	}
	q, rule := guide(m, req.Ctx)
	if q == "" {
		adv.Agrees = true
		return
	}
	adv.GuideSays = q + " (" + rule + ")"
	adv.Agrees = q == adv.Recommended
	if !adv.Agrees {
		adv.Why = append(adv.Why, fmt.Sprintf("the seed's guide says %s; the arithmetic says %s (see the table)", q, orNone(adv.Recommended)))
	}
}

// guide is the seed's decision guide, as written.
func guide(m *catalog.Model, ctx int) (quantName, rule string) {
	p := m.ParamsB
	switch {
	case m.Kind == catalog.Embedding:
		return "", ""
	case p >= 13:
		return "Q4_K_M", "rule 1: 14B+ models"
	case p >= 6.5 && p <= 9 && ctx > 8192:
		return "Q5_K_M", "rule 2: 7-8B needing 16K"
	case p >= 6.5 && p <= 9:
		return "Q6_K", "rule 3: 7-8B with 8K"
	case p >= 2.5 && p <= 4.5:
		return "Q8_0", "rule 4: 3-4B"
	}
	return "", ""
}

// speedAdvice follows the guide's rule 5: a smaller model at a higher quant
// beats a larger one at a lower quant when speed matters.
func speedAdvice(req QuantRequest) []string {
	base := req.Base
	base.Quant = "Q4_K_M"
	var out []string
	sib := append([]*catalog.Model(nil), req.Siblings...)
	sort.Slice(sib, func(i, j int) bool { return sib[i].ParamsB > sib[j].ParamsB })
	var refBytes int64
	base.Ctx = req.Ctx
	if b, err := estimate.Estimate(req.Model, base); err == nil {
		refBytes = b.FileBytes
	}
	for _, s := range sib {
		if s.ParamsB >= req.Model.ParamsB || s.Kind != req.Model.Kind {
			continue
		}
		o := base
		o.Quant = "Q8_0"
		b, err := estimate.Estimate(s, o)
		if err != nil || float64(b.Total+req.ResidentBytes) > SpeedBound*float64(req.VRAMBytes) {
			continue
		}
		out = append(out, fmt.Sprintf("%s at Q8_0: %.2f GiB, about %.1f× the decode speed of %s at Q4_K_M",
			s.Name, gib(b.Total), float64(refBytes)/float64(b.FileBytes), req.Model.Name))
	}
	if len(out) == 0 {
		out = append(out, "no smaller model of the same family in the catalog fits comfortably at Q8_0")
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "nothing fits"
	}
	return s
}

func gib(b int64) float64 { return float64(b) / estimate.GiB }
