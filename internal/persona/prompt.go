package persona

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/strategy"
)

// templates hold one system prompt per primary role; %s is the user's own
// role description, kept so the prompt says what the persona is for.
var templates = map[string]string{
	"coding":         "You are a senior software engineer (%s). Write correct, idiomatic, tested code.\nPrefer small, focused changes and explain trade-offs briefly.",
	"review":         "You review code (%s). Point out bugs, risks and unclear code first, then style.\nQuote the lines you mean and suggest a concrete fix for each finding.",
	"architecture":   "You are a software architect (%s). Reason step by step about requirements,\nconstraints and trade-offs before recommending a design.",
	"evaluation":     "You are an evaluator (%s). Judge answers against the question and the criteria\ngiven. Be strict and specific; give a score and the reasons for it.",
	"translation":    "You are a translator (%s). Preserve meaning, register and idiom.\nOutput only the translation.",
	"classification": "You are a classifier (%s). Answer with exactly one category name and nothing else.",
	"writing":        "You are a clear, careful writer (%s). Write plainly and concretely; prefer short\nsentences and concrete examples.",
	"coaching":       "You are a career coach (%s). Ask clarifying questions when needed, give concrete,\nactionable advice, and write warmly and plainly.",
	"embeddings":     "",
	"general":        "You are a helpful assistant (%s). Answer accurately and concisely.",
}

// temperatures: low where there is one right answer, higher for prose.
var temperatures = map[string]float64{
	"coding": 0.2, "review": 0.1, "architecture": 0.4, "evaluation": 0, "translation": 0.2,
	"classification": 0, "writing": 0.7, "coaching": 0.6, "general": 0.5,
}

// DraftSystem writes a system prompt for the role; PT-BR roles are told to
// answer in Brazilian Portuguese (a translator is told the language pair).
func DraftSystem(role Role, description string) string {
	t, ok := templates[role.Primary()]
	if !ok || t == "" {
		return ""
	}
	out := fmt.Sprintf(t, strings.TrimSpace(description))
	if role.PTBR {
		if role.Primary() == "translation" {
			out += "\nTranslate between Brazilian Portuguese (pt-BR) and English; use Brazilian, not European, usage."
		} else {
			out += "\nAlways answer in Brazilian Portuguese (pt-BR), whatever language the question is in."
		}
	}
	return out
}

// Draft builds the persona for a recommendation: base model, prompt,
// parameters and, when it differs from the model's planned one, its context.
func Draft(name, description string, rec Recommendation, s *strategy.Strategy) (strategy.Persona, error) {
	b := rec.Best()
	if b == nil {
		return strategy.Persona{}, fmt.Errorf("no catalog model fits the role on this GPU at %d context", rec.Role.Ctx)
	}
	p := strategy.Persona{Name: name, Model: b.Model, System: DraftSystem(rec.Role, description),
		Rationale: fmt.Sprintf("switchyard persona new: %s; %s", strings.Join(rec.Role.Kinds, "+"), description)}
	if t, ok := temperatures[rec.Role.Primary()]; ok {
		p.Parameters = map[string]any{"temperature": t}
	}
	pm := planned(s, b.Model)
	if pm != nil {
		p.Model = pm.ID // personas name the strategy's id, which may differ from the catalog's
	}
	if pm == nil || pm.Context != rec.Role.Ctx {
		p.Context = rec.Role.Ctx
	}
	if rec.Frontier != "" {
		p.Frontier = rec.Frontier
	}
	return p, nil
}

// PlannedModel is the models: entry a new persona needs when its base is not
// planned yet (nil when it is).
func PlannedModel(rec Recommendation, s *strategy.Strategy) *strategy.Model {
	b := rec.Best()
	if b == nil || planned(s, b.Model) != nil {
		return nil
	}
	return &strategy.Model{ID: b.Model, Quant: b.Quant, Context: b.Ctx, Tier: 2, Roles: rec.Role.Kinds,
		Notes: "added by switchyard persona new"}
}

func planned(s *strategy.Strategy, id string) *strategy.Model {
	for i := range s.Models {
		if s.Models[i].CatalogID() == id || s.Models[i].ID == id {
			return &s.Models[i]
		}
	}
	return nil
}
