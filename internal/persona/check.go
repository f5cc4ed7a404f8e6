package persona

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/strategy"
)

// Verdicts of an audit.
const (
	VerdictOK       = "ok"
	VerdictConsider = "consider"
	VerdictPoor     = "poor fit"
	VerdictNoFit    = "does not fit"
	VerdictPending  = "pending"
	VerdictUnknown  = "unknown model"
)

// Audit is `persona check`'s finding for one persona.
type Audit struct {
	Persona string   `json:"persona"`
	Role    []string `json:"role"`
	Current string   `json:"current,omitempty"`
	Quant   string   `json:"quant,omitempty"`
	Ctx     int      `json:"ctx"`
	// CurrentVerdict is the estimator's verdict for the current model at the
	// strategy's quant and the persona's context.
	CurrentVerdict estimate.Verdict `json:"current_verdict,omitempty"`
	CurrentScore   float64          `json:"current_score,omitempty"`
	Best           string           `json:"best,omitempty"`
	BestScore      float64          `json:"best_score,omitempty"`
	Verdict        string           `json:"verdict"`
	Why            []string         `json:"why"`
	Frontier       string           `json:"frontier,omitempty"`
	Ranked         []Candidate      `json:"ranked,omitempty"`
	Missing        []string         `json:"missing_evidence,omitempty"`
}

// RoleText is what a persona's role is read from.
func RoleText(p *strategy.Persona) string {
	return strings.Join([]string{strings.ReplaceAll(p.Name, "-", " "), p.Rationale, p.System, p.Pending}, "\n")
}

// Check audits every persona of the strategy.
func Check(env Env) ([]Audit, error) {
	s := env.Strategy
	var out []Audit
	for i := range s.Personas {
		a, err := CheckOne(env, &s.Personas[i])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// CheckOne audits one persona: its detected role, the best base model for
// it on this GPU, and how the current one compares.
func CheckOne(env Env, p *strategy.Persona) (Audit, error) {
	s := env.Strategy
	role := Detect(RoleText(p))
	if c := s.PersonaContext(p); c > 0 {
		role.Ctx = c // the strategy's context wins over the role's default
	}
	env.Exclude = p.Name
	rec, err := Rank(role, env)
	if err != nil {
		return Audit{}, err
	}
	a := Audit{Persona: p.Name, Role: role.Kinds, Current: p.Model, Ctx: role.Ctx, Frontier: p.Frontier}
	if b := rec.Best(); b != nil {
		a.Best, a.BestScore = b.Model, b.Score
	}
	top := func(n int) []Candidate { return rec.Candidates[:min(n, len(rec.Candidates))] }

	if p.Model == "" {
		a.Verdict = VerdictPending
		a.Ranked, a.Missing = top(3), rec.Missing
		a.Why = append(a.Why, "no base model chosen yet ("+p.Pending+"); ranked candidates below")
		return a, nil
	}
	pm, _ := s.Model(p.Model)
	m, ok := env.Catalog.Get(pm.CatalogID())
	if !ok {
		a.Verdict = VerdictUnknown
		a.Why = []string{fmt.Sprintf("%s is not in the catalog: no capability data", pm.CatalogID())}
		return a, nil
	}
	a.Quant = pm.Quant
	if b, err := estimate.Estimate(m, plan.Options(s.Hardware, pm.Quant, role.Ctx)); err == nil {
		a.CurrentVerdict = estimate.Judge(b.Total+env.ResidentBytes, env.VRAMBytes)
	}
	cur := rec.Find(m.ID)
	if cur != nil {
		a.CurrentScore = cur.Score
	}
	if p.Frontier != "" {
		a.Why = append(a.Why, fmt.Sprintf("frontier model %s is configured and preferred for this role; the local choice is the strongest local reasoner", p.Frontier))
	}
	switch {
	case a.CurrentVerdict == estimate.NoFit || cur == nil:
		a.Verdict = VerdictNoFit
		a.Why = append(a.Why, fmt.Sprintf("%s at %s with %d context does not fit %.1f GiB beside the pinned models", m.ID, pm.Quant, role.Ctx, gib(env.VRAMBytes)))
		if a.Best != "" {
			a.Why = append(a.Why, fmt.Sprintf("best that fits: %s (%.2f)", a.Best, a.BestScore))
		}
	case cur.Model == a.Best:
		a.Verdict = VerdictOK
		a.Why = append(a.Why, fmt.Sprintf("best of %d fitting candidates (%.2f)", len(rec.Candidates), cur.Score))
		if len(rec.Candidates) > 1 {
			n := rec.Candidates[1]
			a.Why = append(a.Why, fmt.Sprintf("runner-up %s %.2f", n.Model, n.Score))
		}
	default:
		ratio := cur.Score / a.BestScore
		switch {
		case ratio >= OKRatio:
			a.Verdict = VerdictOK
		case ratio >= ConsiderRatio:
			a.Verdict = VerdictConsider
		default:
			a.Verdict = VerdictPoor
		}
		a.Why = append(a.Why, fmt.Sprintf("%s scores %.2f vs %s %.2f (%.0f%%)", cur.Model, cur.Score, a.Best, a.BestScore, ratio*100))
		a.Why = append(a.Why, gaps(m.ID, a.Best, role, env)...)
		if p.Rationale != "" {
			a.Why = append(a.Why, fmt.Sprintf("the persona's rationale (%q) has no public figure behind it in the catalog; keep %s if your own samples favour it", p.Rationale, m.ID))
		}
	}
	if a.Verdict != VerdictOK {
		a.Ranked = top(3)
	}
	return a, nil
}

// gaps explains a ranking difference by the weighted capabilities where the
// current model trails the best by a point or more, with their sources.
func gaps(cur, best string, role Role, env Env) []string {
	cm, _ := env.Catalog.Get(cur)
	bm, _ := env.Catalog.Get(best)
	var out []string
	for _, k := range Keys {
		if role.Weights[k] < 0.1 {
			continue
		}
		cc, bc := cm.Capabilities[k], bm.Capabilities[k]
		cs, bs := cc.Score, bc.Score
		if cc.Unknown {
			cs = UnknownPrior
		}
		if bc.Unknown {
			bs = UnknownPrior
		}
		switch {
		case bs-cs >= 1:
			out = append(out, fmt.Sprintf("%s: %s %s vs %s %s [%s]", k, cur, show(cc), best, show(bc), bc.Source))
		case cs-bs >= 1:
			out = append(out, fmt.Sprintf("%s: %s leads (%s vs %s) [%s]", k, cur, show(cc), show(bc), cc.Source))
		}
	}
	if len(out) == 0 {
		out = append(out, "no single capability differs by a point: the gap is fit, speed and swap cost")
	}
	return out
}

func show(c catalog.Capability) string {
	if c.Unknown {
		return "unknown"
	}
	return fmt.Sprintf("%.1f", c.Score)
}
