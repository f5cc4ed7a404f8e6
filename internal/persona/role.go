// Package persona recommends base models for personas: it reads a free-text
// role description (English or Portuguese), maps it to weighted catalog
// capabilities, ranks the catalog's models by capability × fit on the
// strategy's GPU × decode speed × cost of a swap, drafts a system prompt, and
// audits a strategy's existing persona → model mapping. Everything here is
// pure: the command layer loads files and talks to Ollama.
//
// Keyword table (text is lower-cased and accent-folded; a keyword matches
// the start of a word, "+" marks a phrase matched anywhere):
//
//	role            keywords                                         ctx    weights
//	review          review revis(a/or/ão) audit +pull request +pr     16K    code_review .5 coding .2 reasoning .2 instr .1
//	coding          code coder coding program develop codigo golang   16K    coding .6 instr .15 reasoning .15 long .1
//	                python bug refactor implement +software engineer
//	architecture    architect arquitet design reason raciocin         4K     reasoning .65 coding .15 writing .1 instr .1
//	                analys analis +trade off
//	evaluation      evaluat avali judge juiz grade score critic       4K     reasoning .65 instr .35 (frontier preferred)
//	translation     translat tradu localiz +pt en                     8K     translation .55 ptbr .3 instr .15
//	classification  classif rout triage triag categor label rotul     4K     speed .35 instr .35 reasoning .3 (speed-critical)
//	                intent intenc
//	writing         writer writing escrev escrit redac redat essay   16K    writing .6 instr .25 long .15
//	                blog article artigo texto copy (write, escrev: weak)
//	coaching        coach mentor career carreira conselh advice       16K    writing .55 instr .25 reasoning .2
//	embeddings      embed vector vetor retriev rag +semantic search   2K     embeddings 1 (embedding models only)
//
// PT-BR (pt-br, ptbr, portugues, brasil, brazil...) mixes multilingual_ptbr
// in at a quarter of the weight; the primary role sets the context; "long document", "documentos longos" or a
// "32k"-style figure raise the context and weight long_context. Roles found
// together are averaged by how strongly each matched; a weak keyword (the
// verb "write", which a coder's prompt also uses) needs support to count.
package persona

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Capability keys, as the catalog's capabilities: blocks spell them.
const (
	Coding               = "coding"
	CodeReview           = "code_review"
	Reasoning            = "reasoning"
	Writing              = "writing"
	MultilingualPTBR     = "multilingual_ptbr"
	Translation          = "translation"
	InstructionFollowing = "instruction_following"
	ClassificationSpeed  = "classification_speed"
	Embeddings           = "embeddings"
	LongContext          = "long_context"
)

// Keys lists every capability key in display order.
var Keys = []string{Coding, CodeReview, Reasoning, Writing, MultilingualPTBR, Translation,
	InstructionFollowing, ClassificationSpeed, Embeddings, LongContext}

// RoleKind is one detected role.
type RoleKind struct {
	ID       string
	Keywords []string // word prefixes; "+" starts a phrase
	Weak     []string // count half
	Ctx      int
	Speed    bool
	Weights  map[string]float64
	Priority int // lower wins the primary role (and the prompt template)
}

// Kinds is the keyword table documented above.
var Kinds = []RoleKind{
	{ID: "embeddings", Priority: 0, Ctx: 2048,
		Keywords: []string{"embed", "vector", "vetor", "retriev", "rag", "+semantic search", "+busca semantica"},
		Weights:  map[string]float64{Embeddings: 1}},
	{ID: "classification", Priority: 1, Ctx: 4096, Speed: true,
		Keywords: []string{"classif", "routing", "router", "route", "triage", "triag", "categor", "label", "rotul", "intent", "intenc"},
		Weights:  map[string]float64{ClassificationSpeed: .35, InstructionFollowing: .35, Reasoning: .3}},
	{ID: "translation", Priority: 2, Ctx: 8192,
		Keywords: []string{"translat", "tradu", "localiz", "+pt en", "+en pt"},
		Weights:  map[string]float64{Translation: .55, MultilingualPTBR: .3, InstructionFollowing: .15}},
	{ID: "evaluation", Priority: 3, Ctx: 4096,
		Keywords: []string{"evaluat", "avali", "judge", "juiz", "julg", "grade", "grading", "score", "critic"},
		Weights:  map[string]float64{Reasoning: .65, InstructionFollowing: .35}},
	{ID: "review", Priority: 4, Ctx: 16384,
		Keywords: []string{"review", "revis", "audit", "+pull request", "+code review", "+pr"},
		Weights:  map[string]float64{CodeReview: .5, Coding: .2, Reasoning: .2, InstructionFollowing: .1}},
	{ID: "architecture", Priority: 5, Ctx: 4096,
		Keywords: []string{"architect", "arquitet", "design", "reason", "raciocin", "analys", "analis", "+trade off", "+step by step"},
		Weights:  map[string]float64{Reasoning: .65, Coding: .15, Writing: .1, InstructionFollowing: .1}},
	{ID: "coding", Priority: 6, Ctx: 16384,
		Keywords: []string{"code", "coder", "coding", "program", "develop", "desenvolv", "codigo", "golang", "python",
			"typescript", "javascript", "rust", "bug", "refactor", "implement", "autocomplet", "+software engineer", "+go"},
		Weights: map[string]float64{Coding: .6, InstructionFollowing: .15, Reasoning: .15, LongContext: .1}},
	{ID: "coaching", Priority: 7, Ctx: 16384,
		Keywords: []string{"coach", "mentor", "career", "carreira", "conselh", "advice", "aconselh"},
		Weights:  map[string]float64{Writing: .55, InstructionFollowing: .25, Reasoning: .2}},
	{ID: "writing", Priority: 8, Ctx: 16384,
		Keywords: []string{"writer", "writing", "escrit", "redac", "redat", "essay", "blog", "article", "artigo", "texto", "copywrit", "+cover letter"},
		Weak:     []string{"write", "escrev", "text"},
		Weights:  map[string]float64{Writing: .6, InstructionFollowing: .25, LongContext: .15}},
}

// General is the fallback when nothing matched.
var General = RoleKind{ID: "general", Priority: 9, Ctx: 8192,
	Weights: map[string]float64{Writing: .3, Reasoning: .3, InstructionFollowing: .3, Coding: .1}}

// Role is what a description asks of a base model.
type Role struct {
	Kinds         []string           `json:"kinds"` // primary first
	Weights       map[string]float64 `json:"weights"`
	Ctx           int                `json:"ctx"`
	SpeedCritical bool               `json:"speed_critical"`
	PTBR          bool               `json:"pt_br"`
	LongContext   bool               `json:"long_context"`
	Matched       []string           `json:"matched"`
}

// Primary is the role that picks the prompt template.
func (r Role) Primary() string {
	if len(r.Kinds) == 0 {
		return General.ID
	}
	return r.Kinds[0]
}

// Has reports whether kind was detected.
func (r Role) Has(kind string) bool {
	for _, k := range r.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

var (
	ptbrRe   = regexp.MustCompile(`\bpt[-_ ]?br\b|portugu|brasil|brazil`)
	longRe   = regexp.MustCompile(`long (document|context|input)|documentos? longos?|contexto longo|whole (repo|codebase|book)`)
	ctxRe    = regexp.MustCompile(`\b(\d{1,3})\s?k\b`)
	negateRe = regexp.MustCompile(`\b(non|nao|not)[- ][a-z]+`) // "non-code text" is not about code
	splitRe  = regexp.MustCompile(`[^a-z0-9]+`)
)

// folder strips the accents Portuguese, Spanish and French use; a table
// keeps the module free of golang.org/x/text for a dozen letters.
var folder = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "é", "e", "ê", "e", "è", "e", "ë", "e",
	"í", "i", "î", "i", "ï", "i", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ú", "u", "û", "u",
	"ü", "u", "ç", "c", "ñ", "n", "↔", " ", "→", " ")

// Fold lower-cases and strips accents so "Código" matches "codigo".
func Fold(s string) string { return folder.Replace(strings.ToLower(s)) }

// Detect maps a free-text role description to weighted capabilities.
func Detect(text string) Role {
	t := negateRe.ReplaceAllString(Fold(text), " ")
	words := splitRe.Split(t, -1)
	joined := " " + strings.Join(words, " ") + " "
	strength := map[string]float64{}
	var matched []string
	for _, k := range Kinds {
		hit := func(kw string, w float64) {
			found := false
			if p, ok := strings.CutPrefix(kw, "+"); ok {
				found = strings.Contains(joined, " "+p+" ")
			} else {
				for _, wd := range words {
					if strings.HasPrefix(wd, kw) {
						found = true
						break
					}
				}
			}
			if found {
				strength[k.ID] += w
				matched = append(matched, strings.TrimPrefix(kw, "+"))
			}
		}
		for _, kw := range k.Keywords {
			hit(kw, 1)
		}
		for _, kw := range k.Weak {
			hit(kw, 0.5)
		}
	}
	var kinds []RoleKind
	for _, k := range Kinds {
		if strength[k.ID] >= 1 {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		kinds = []RoleKind{General}
		strength[General.ID] = 1
	}
	// Embeddings is a different kind of model: it never mixes with the rest.
	if kinds[0].ID == "embeddings" {
		kinds = kinds[:1]
	}
	sort.SliceStable(kinds, func(i, j int) bool { return kinds[i].Priority < kinds[j].Priority })

	// The primary role sets the context: a classifier asked about code
	// still reads one short question.
	r := Role{Weights: map[string]float64{}, Matched: dedupe(matched), Ctx: kinds[0].Ctx}
	var total float64
	for _, k := range kinds {
		r.Kinds = append(r.Kinds, k.ID)
		r.SpeedCritical = r.SpeedCritical || k.Speed
		total += strength[k.ID]
	}
	for _, k := range kinds {
		for c, w := range k.Weights {
			r.Weights[c] += w * strength[k.ID] / total
		}
	}
	if r.Primary() != "embeddings" {
		r.PTBR = ptbrRe.MatchString(t)
		if r.PTBR && !r.Has("translation") {
			mix(r.Weights, MultilingualPTBR, 0.25)
		}
		if longRe.MatchString(t) {
			r.LongContext = true
			mix(r.Weights, LongContext, 0.2)
			r.Ctx = max(r.Ctx, 32768)
		}
	}
	// An explicit figure ("OK with 4K context") is what the user asked for.
	if m := ctxRe.FindStringSubmatch(t); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= 256 {
			r.Ctx = n * 1024
		}
	}
	return r
}

// mix scales the weights to 1-share and gives key the share.
func mix(w map[string]float64, key string, share float64) {
	for k := range w {
		w[k] *= 1 - share
	}
	w[key] += share
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
