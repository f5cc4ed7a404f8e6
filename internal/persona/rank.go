package persona

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/advise"
	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/strategy"
)

// Ranking constants. Each is a judgement, kept here so the table tests pin it.
const (
	// UnknownPrior stands in for a capability with no public figure: below
	// any measured model, so missing evidence costs rank but does not exclude.
	UnknownPrior = 3.0
	// ShareBonus: another persona already runs this base at the same context,
	// so both are served by one load (no swap between them).
	ShareBonus = 1.05
	// NewLargePenalty: a base model the strategy does not plan yet, big enough
	// that pulling it costs gigabytes and every switch to it a cold load.
	NewLargePenalty = 0.95
	// LargeParamsB is where NewLargePenalty starts.
	LargeParamsB = 6.0
	// SpeedRefGiB: weights read per token at which a speed-critical role is
	// fast enough (a 4B model at Q8_0 decodes ~60-80 tok/s on a 3060);
	// larger files slow decoding in proportion.
	SpeedRefGiB = 4.5
	// UnsoundPenalty: the only quant that fits is below advise.SoundFloor,
	// where the measured KL divergence triples.
	UnsoundPenalty = 0.85
	// OKRatio and ConsiderRatio grade the current model against the best in
	// `check`: within 10 % is ok, within 25 % worth a look, else a poor fit.
	OKRatio       = 0.90
	ConsiderRatio = 0.75
)

// fitFactor maps the estimator's verdict at the recommended quant to a
// multiplier: a tight fit is usable but leaves no room for the embedder.
var fitFactor = map[estimate.Verdict]float64{
	estimate.Comfortable: 1, estimate.Good: 1, estimate.Tight: 0.95, estimate.Marginal: 0.8,
}

// Env is the hardware and strategy a ranking is made for.
type Env struct {
	Strategy      *strategy.Strategy
	Catalog       *catalog.Catalog
	VRAMBytes     int64
	ResidentBytes int64 // pinned models beside the large one
	// Exclude names a persona to leave out of the swap bonus (the one being
	// audited must not vote for its own model).
	Exclude string
}

// NewEnv derives the budget and residents from the strategy's hardware.
func NewEnv(s *strategy.Strategy, cat *catalog.Catalog, vramMiB int) Env {
	return Env{Strategy: s, Catalog: cat, VRAMBytes: int64(vramMiB-s.Hardware.ReserveMiB) * estimate.MiB,
		ResidentBytes: plan.PinnedBytes(s, cat, "")}
}

// Candidate is one base model scored for a role.
type Candidate struct {
	Model      string           `json:"model"`
	Name       string           `json:"name"`
	Quant      string           `json:"quant,omitempty"`
	Ctx        int              `json:"ctx"`
	TotalBytes int64            `json:"total_bytes,omitempty"`
	Verdict    estimate.Verdict `json:"verdict,omitempty"`
	Capability float64          `json:"capability"`
	Fit        float64          `json:"fit"`
	Speed      float64          `json:"speed"`
	Swap       float64          `json:"swap"`
	Score      float64          `json:"score"`
	// Unknown lists weighted capabilities with no public figure.
	Unknown  []string `json:"unknown,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	QuantWhy []string `json:"quant_why,omitempty"`
	Excluded string   `json:"excluded,omitempty"`
}

// Recommendation is the ranking for one role.
type Recommendation struct {
	Role       Role        `json:"role"`
	Candidates []Candidate `json:"candidates"`
	Excluded   []Candidate `json:"excluded,omitempty"`
	// Frontier is the hosted model preferred for evaluation, when configured.
	Frontier string   `json:"frontier,omitempty"`
	Missing  []string `json:"missing_evidence,omitempty"`
	Explain  []string `json:"explain,omitempty"`
}

// Best is the top candidate, or nil when nothing fits.
func (r *Recommendation) Best() *Candidate {
	if len(r.Candidates) == 0 {
		return nil
	}
	return &r.Candidates[0]
}

// Find returns the ranked candidate for a model id, or nil.
func (r *Recommendation) Find(id string) *Candidate {
	for i := range r.Candidates {
		if r.Candidates[i].Model == id {
			return &r.Candidates[i]
		}
	}
	return nil
}

// CapabilityScore is Σ w·capability over the role's weights (0-10), unknown
// capabilities counted at UnknownPrior and listed.
func CapabilityScore(m *catalog.Model, w map[string]float64) (float64, []string) {
	var sum, total float64
	var unknown []string
	for _, k := range Keys {
		wk := w[k]
		if wk == 0 {
			continue
		}
		total += wk
		c, ok := m.Capabilities[k]
		if !ok || c.Unknown {
			unknown = append(unknown, k)
			sum += wk * UnknownPrior
			continue
		}
		sum += wk * c.Score
	}
	if total == 0 {
		return 0, nil
	}
	return sum / total, unknown
}

// Rank scores every catalog model Ollama can run for the role.
func Rank(role Role, env Env) (Recommendation, error) {
	rec := Recommendation{Role: role}
	for _, m := range env.Catalog.All() {
		c, err := score(m, role, env)
		if err != nil {
			return rec, err
		}
		if c.Excluded != "" {
			rec.Excluded = append(rec.Excluded, c)
		} else {
			rec.Candidates = append(rec.Candidates, c)
		}
	}
	sort.SliceStable(rec.Candidates, func(i, j int) bool {
		a, b := rec.Candidates[i], rec.Candidates[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Model < b.Model
	})
	if role.Has("evaluation") {
		for _, p := range env.Strategy.Personas {
			if p.Frontier != "" && Detect(RoleText(&p)).Has("evaluation") {
				rec.Frontier = p.Frontier
				break
			}
		}
	}
	rec.Missing = missingEvidence(role, rec.Candidates, env.Catalog)
	rec.Explain = explain(rec)
	return rec, nil
}

// score computes one candidate; Excluded says why it cannot serve.
func score(m *catalog.Model, role Role, env Env) (Candidate, error) {
	c := Candidate{Model: m.ID, Name: m.Name, Ctx: role.Ctx, Fit: 0, Speed: 1, Swap: 1}
	wantEmbed := role.Primary() == "embeddings"
	switch {
	case !m.OnOllama():
		c.Excluded = "Ollama cannot run this architecture"
		return c, nil
	case wantEmbed != (m.Kind == catalog.Embedding):
		c.Excluded = "wrong kind of model for the role"
		return c, nil
	case m.TrainedCtx > 0 && role.Ctx > m.TrainedCtx:
		c.Excluded = fmt.Sprintf("trained context %d is below the %d needed", m.TrainedCtx, role.Ctx)
		return c, nil
	}
	c.Capability, c.Unknown = CapabilityScore(m, role.Weights)
	adv, err := advise.Quant(advise.QuantRequest{
		Model: m, Ctx: role.Ctx, SpeedCritical: role.SpeedCritical, VRAMBytes: env.VRAMBytes,
		ResidentBytes: env.ResidentBytes, Base: plan.Options(env.Strategy.Hardware, "", role.Ctx),
	})
	if err != nil {
		return c, fmt.Errorf("persona: advising a quant for %s: %w", m.ID, err)
	}
	pick := pullableChoice(m, adv)
	if pick == nil {
		c.Excluded = fmt.Sprintf("no pullable quant fits %.1f GiB at %d context", gib(env.VRAMBytes), role.Ctx)
		return c, nil
	}
	c.Quant, c.TotalBytes, c.Verdict, c.QuantWhy = pick.Quant, pick.Total, pick.Verdict, adv.Why
	c.Fit = fitFactor[pick.Verdict]
	if !pick.Sound {
		c.Fit *= UnsoundPenalty
		c.Notes = append(c.Notes, fmt.Sprintf("only %s fits, below %s: quality falls steeply", pick.Quant, advise.SoundFloor))
	}
	if role.SpeedCritical {
		if b, err := estimate.Estimate(m, plan.Options(env.Strategy.Hardware, pick.Quant, role.Ctx)); err == nil {
			c.Speed = math.Min(1, SpeedRefGiB/gib(b.FileBytes))
		}
	}
	c.Swap, c.Notes = swapFactor(m, role.Ctx, env)
	if len(c.Unknown) > 0 {
		c.Notes = append(c.Notes, "no public figure for "+strings.Join(c.Unknown, ", "))
	}
	c.Score = round2(c.Capability * c.Fit * c.Speed * c.Swap)
	c.Capability = round2(c.Capability)
	c.Speed = round2(c.Speed)
	return c, nil
}

// pullableChoice is the advisor's recommendation if it can be pulled, else
// the next lower-quality choice that fits and can.
func pullableChoice(m *catalog.Model, adv advise.QuantAdvice) *advise.Choice {
	from := -1
	for i := range adv.Choices {
		if adv.Choices[i].Quant == adv.Recommended {
			from = i
		}
	}
	if from < 0 {
		return nil
	}
	for i := from; i < len(adv.Choices); i++ {
		c := &adv.Choices[i]
		if c.Fits && c.Fraction <= advise.LoadBound && m.ResolvePull(c.Quant, "").Source != catalog.RefNone {
			return c
		}
	}
	return nil
}

// swapFactor rewards sharing a loaded base model and charges a new large one.
func swapFactor(m *catalog.Model, ctx int, env Env) (float64, []string) {
	s := env.Strategy
	planned := false
	for _, pm := range s.Models {
		if catID(env.Catalog, pm.CatalogID()) == m.ID {
			planned = true
		}
	}
	var sharers []string
	for i := range s.Personas {
		p := &s.Personas[i]
		if p.Name == env.Exclude || p.Model == "" {
			continue
		}
		pm, ok := s.Model(p.Model)
		if ok && catID(env.Catalog, pm.CatalogID()) == m.ID && s.PersonaContext(p) == ctx {
			sharers = append(sharers, p.Name)
		}
	}
	switch {
	case len(sharers) > 0:
		return ShareBonus, []string{fmt.Sprintf("shares one load with %s (same base, %d context)", strings.Join(sharers, ", "), ctx)}
	case planned:
		return 1, []string{"already in the strategy"}
	case m.ParamsB >= LargeParamsB:
		return NewLargePenalty, []string{"new large base model: another download and a cold load on every switch"}
	}
	return 1, []string{"new small base model"}
}

// missingEvidence names, for the leading candidates, the heavily weighted
// capabilities that rest on no figure, a claim or a derivation.
func missingEvidence(role Role, cs []Candidate, cat *catalog.Catalog) []string {
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		c := cs[i]
		for _, k := range Keys {
			if role.Weights[k] < 0.15 {
				continue
			}
			switch {
			case contains(c.Unknown, k):
				out = append(out, fmt.Sprintf("%s: no public %s figure", c.Model, k))
			case k == Translation || k == MultilingualPTBR:
				// Language coverage is where claims most often stand in for data.
				if src := sourceOf(cat, c.Model, k); strings.Contains(src, "claim") || strings.Contains(src, "no PT-BR") || strings.Contains(src, "average") {
					out = append(out, fmt.Sprintf("%s: %s rests on %q", c.Model, k, src))
				}
			}
		}
	}
	if role.Has("translation") {
		out = append(out, "no candidate publishes a PT-BR<->EN translation score; measure the top ones on your own sample (e.g. the en-pt_BR pairs of WMT24++ or FLORES-200 por_Latn) before choosing")
	}
	return out
}

func sourceOf(cat *catalog.Catalog, model, key string) string {
	if m, ok := cat.Get(model); ok {
		return m.Capabilities[key].Source
	}
	return ""
}

// catID resolves a strategy id to the catalog's id ("" when unknown).
func catID(cat *catalog.Catalog, id string) string {
	if m, ok := cat.Get(id); ok {
		return m.ID
	}
	return ""
}

func explain(r Recommendation) []string {
	var out []string
	b := r.Best()
	if b == nil {
		return []string{"no catalog model fits this role on this GPU at the needed context"}
	}
	out = append(out, fmt.Sprintf("%s ranks first: capability %.2f x fit %.2f (%s at %s) x speed %.2f x swap %.2f = %.2f",
		b.Model, b.Capability, b.Fit, b.Verdict, b.Quant, b.Speed, b.Swap, b.Score))
	if len(r.Candidates) > 1 {
		n := r.Candidates[1]
		out = append(out, fmt.Sprintf("runner-up %s scores %.2f (capability %.2f, %s)", n.Model, n.Score, n.Capability, n.Verdict))
	}
	if r.Frontier != "" {
		out = append(out, fmt.Sprintf("a frontier model (%s) is configured and preferred for evaluation; %s is the strongest local reasoner", r.Frontier, b.Model))
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func gib(b int64) float64 { return float64(b) / estimate.GiB }
