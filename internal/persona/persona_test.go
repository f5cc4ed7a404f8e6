package persona

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/strategy"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		text  string
		kinds string // "+"-joined, primary first
		ctx   int
		speed bool
		ptbr  bool
	}{
		{"reviews Go pull requests", "review+coding", 16384, false, false},
		{"revisa código Go dos pull requests", "review+coding", 16384, false, false},
		{"writes Go code", "coding", 16384, false, false},
		{"escreve código Python", "coding", 16384, false, false},
		{"software architect, reasons about trade-offs; OK with 4K context", "architecture", 4096, false, false},
		{"arquiteto de software", "architecture", 4096, false, false},
		{"classify requests into coding or general", "classification+coding", 4096, true, false},
		{"classifica as perguntas por categoria", "classification", 4096, true, false},
		{"career coach who writes in PT-BR", "coaching", 16384, false, true},
		{"coach de carreira, redação em português", "coaching+writing", 16384, false, true},
		{"translate between Brazilian Portuguese and English", "translation", 8192, false, true},
		{"tradução PT-BR para inglês", "translation", 8192, false, true},
		{"avaliador estrito: dá uma nota", "evaluation", 4096, false, false},
		{"evaluates answers and gives a score", "evaluation", 4096, false, false},
		{"embeddings for semantic search", "embeddings", 2048, false, false},
		{"a friendly helper", "general", 8192, false, false},
		{"broader training for non-code text", "general", 8192, false, false},
		{"summarise long documents in pt-br", "general", 32768, false, true},
	} {
		r := Detect(tc.text)
		if got := strings.Join(r.Kinds, "+"); got != tc.kinds || r.Ctx != tc.ctx || r.SpeedCritical != tc.speed || r.PTBR != tc.ptbr {
			t.Errorf("%q: got %s ctx %d speed %v ptbr %v; want %s %d %v %v",
				tc.text, got, r.Ctx, r.SpeedCritical, r.PTBR, tc.kinds, tc.ctx, tc.speed, tc.ptbr)
		}
		var sum float64
		for _, w := range r.Weights {
			sum += w
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%q: weights sum to %g", tc.text, sum)
		}
	}
}

func defaultEnv(t *testing.T) Env {
	t.Helper()
	cat := catalog.Builtin()
	s, err := strategy.Parse(strategy.DefaultYAML(), strategy.EmbeddedSource, cat)
	if err != nil {
		t.Fatal(err)
	}
	return NewEnv(s, s.CatalogWith(cat), s.Hardware.VRAMMiB)
}

// TestRankSeedRoles pins the recommendations for the seed's roles, in
// English and Portuguese, on the default strategy (RTX 3060 12 GB).
func TestRankSeedRoles(t *testing.T) {
	env := defaultEnv(t)
	for _, tc := range []struct {
		role  string
		top   []string // the leading candidates, in order
		quant string   // the top candidate's quant
		excl  []string // must not rank (does not fit / cannot run)
	}{
		// Seed: coder and reviewer → Qwen3-8B at Q5_K_M, 16K.
		{"writes Go code", []string{"qwen3-8b", "qwen3-4b"}, "Q5_K_M", []string{"qwen3-14b", "mamba-codestral-7b"}},
		{"escreve código Go", []string{"qwen3-8b"}, "Q5_K_M", nil},
		{"reviews Go pull requests", []string{"qwen3-8b"}, "Q5_K_M", []string{"qwen3-30b-a3b"}},
		{"revisa pull requests em Go", []string{"qwen3-8b"}, "Q5_K_M", nil},
		// Seed: architect → Qwen3-14B at 4K, Q4_K_M.
		{"software architect; OK with 4K context", []string{"qwen3-14b", "qwen3-8b"}, "Q4_K_M", nil},
		{"arquiteto de software", []string{"qwen3-14b"}, "Q4_K_M", nil},
		// Seed: classifier → Qwen3-4B (or Phi-4-mini) at Q8_0.
		{"classifies questions as coding or general, fast", []string{"qwen3-4b"}, "Q8_0", nil},
		{"classifica perguntas por categoria", []string{"qwen3-4b"}, "Q8_0", nil},
		// Seed: evaluator → strongest local reasoner.
		{"evaluates answers against criteria and gives a score", []string{"qwen3-14b"}, "Q4_K_M", []string{"gpt-oss-20b"}},
		{"avaliador de respostas", []string{"qwen3-14b"}, "Q4_K_M", nil},
		// Seed: writer → Llama-3.1-8B; the data ranks Qwen3-8B first (see report).
		{"career coach who writes in PT-BR", []string{"qwen3-8b", "llama-3.1-8b"}, "Q5_K_M", nil},
		// Seed: translator "needs research": Gemma-3-12B leads on WMT24++.
		{"translates between Brazilian Portuguese and English", []string{"gemma-3-12b", "qwen3-14b", "qwen3-8b"}, "Q5_K_M", nil},
		{"tradutor PT-BR ↔ inglês", []string{"gemma-3-12b"}, "Q5_K_M", nil},
		// mxbai-embed-large scores higher on MTEB but holds only 512 tokens.
		{"embeddings for RAG", []string{"nomic-embed-text"}, "", []string{"qwen3-8b", "mxbai-embed-large"}},
	} {
		rec, err := Rank(Detect(tc.role), env)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range tc.top {
			if i >= len(rec.Candidates) || rec.Candidates[i].Model != want {
				t.Errorf("%q: rank %d want %s; got %v", tc.role, i+1, want, names(rec.Candidates, 4))
			}
		}
		if b := rec.Best(); b != nil && tc.quant != "" && b.Quant != tc.quant {
			t.Errorf("%q: quant %s, want %s", tc.role, b.Quant, tc.quant)
		}
		for _, x := range tc.excl {
			if rec.Find(x) != nil {
				t.Errorf("%q: %s should not rank", tc.role, x)
			}
		}
	}
}

func names(cs []Candidate, n int) []string {
	var out []string
	for i := 0; i < n && i < len(cs); i++ {
		out = append(out, cs[i].Model)
	}
	return out
}

func TestRankEvaluatorPrefersFrontier(t *testing.T) {
	rec, err := Rank(Detect("evaluates answers"), defaultEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Frontier != "claude" || !strings.Contains(strings.Join(rec.Explain, " "), "frontier model (claude)") {
		t.Errorf("frontier not preferred: %q %v", rec.Frontier, rec.Explain)
	}
}

func TestRankTranslatorNamesMissingEvidence(t *testing.T) {
	rec, err := Rank(Detect("tradução PT-BR"), defaultEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	m := strings.Join(rec.Missing, "\n")
	for _, want := range []string{"no candidate publishes a PT-BR<->EN translation score", "qwen3-14b: translation rests on", "55-language average"} {
		if !strings.Contains(m, want) {
			t.Errorf("missing evidence lacks %q:\n%s", want, m)
		}
	}
}

func TestCapabilityScoreUnknownIsPenalised(t *testing.T) {
	m := &catalog.Model{Capabilities: map[string]catalog.Capability{
		Coding: {Score: 9}, Reasoning: {Unknown: true},
	}}
	got, unknown := CapabilityScore(m, map[string]float64{Coding: 0.5, Reasoning: 0.5})
	if got != (9+UnknownPrior)/2 || len(unknown) != 1 || unknown[0] != Reasoning {
		t.Errorf("got %v %v", got, unknown)
	}
}

func TestSwapFactor(t *testing.T) {
	env := defaultEnv(t)
	for _, tc := range []struct {
		model   string
		ctx     int
		exclude string
		want    float64
	}{
		{"qwen3-8b", 16384, "", ShareBonus},             // my-coder, my-reviewer at 16K
		{"qwen3-8b", 4096, "", 1},                       // planned, but no persona at 4K
		{"qwen3-14b", 4096, "my-architect", ShareBonus}, // my-evaluator still shares
		{"gemma-3-12b", 8192, "", NewLargePenalty},      // new and large
		{"llama-3.2-3b", 4096, "", 1},                   // new but small
		{"llama-3.1-8b", 16384, "my-writer", 1},         // planned, its only user excluded
	} {
		e := env
		e.Exclude = tc.exclude
		got, _ := swapFactor(e.Catalog.MustGet(tc.model), tc.ctx, e)
		if got != tc.want {
			t.Errorf("%s@%d: %v, want %v", tc.model, tc.ctx, got, tc.want)
		}
	}
}

func TestDraftSystem(t *testing.T) {
	for _, tc := range []struct{ role, want, not string }{
		{"career coach who writes in PT-BR", "Always answer in Brazilian Portuguese", ""},
		{"tradutor PT-BR", "Translate between Brazilian Portuguese (pt-BR) and English", "Always answer"},
		{"reviews Go pull requests", "Quote the lines", "Portuguese"},
		{"classify requests", "exactly one category", ""},
	} {
		got := DraftSystem(Detect(tc.role), tc.role)
		if !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
			t.Errorf("%q: %q", tc.role, got)
		}
	}
}

func TestCheckDefault(t *testing.T) {
	as, err := Check(defaultEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"my-coder": VerdictOK, "my-architect": VerdictOK, "my-reviewer": VerdictOK,
		"my-classifier": VerdictOK, "my-writer": VerdictConsider, "my-translator": VerdictPending, "my-evaluator": VerdictOK}
	for _, a := range as {
		if a.Verdict != want[a.Persona] {
			t.Errorf("%s: %s (%v)", a.Persona, a.Verdict, a.Why)
		}
	}
}
