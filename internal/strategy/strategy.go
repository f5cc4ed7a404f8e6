// Package strategy owns the user's model strategy: the YAML file that says
// which models and quantizations to keep, which personas run on which base
// model, what gets pulled in which layer, and the hardware it is planned for.
// Loading is defaults → YAML → Validate, and every error names the file, the
// line and the field.
package strategy

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/catalog"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default strategy, comments included.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Strategy is the whole file.
type Strategy struct {
	Version  int             `yaml:"version" json:"version"`
	Hardware Hardware        `yaml:"hardware" json:"hardware"`
	Models   []Model         `yaml:"models" json:"models"`
	Personas []Persona       `yaml:"personas" json:"personas"`
	Layers   []Layer         `yaml:"layers" json:"layers"`
	Budget   []BudgetClaim   `yaml:"budget,omitempty" json:"budget,omitempty"`
	Catalog  []catalog.Model `yaml:"catalog,omitempty" json:"catalog,omitempty"`

	// Source is where the strategy came from: a path, or "embedded default".
	Source string `yaml:"-" json:"source"`
}

// Hardware is the GPU the strategy is planned for and how Ollama runs on it.
type Hardware struct {
	GPU      string `yaml:"gpu" json:"gpu"`
	VRAMMiB  int    `yaml:"vram_mib" json:"vram_mib"`
	MaxLarge int    `yaml:"max_resident_large" json:"max_resident_large"`
	// Pinned models stay resident beside the large one (the embedder).
	Pinned         []string  `yaml:"pinned,omitempty" json:"pinned,omitempty"`
	KeepAlive      KeepAlive `yaml:"keep_alive,omitempty" json:"keep_alive,omitempty"`
	ColdLoadS      float64   `yaml:"cold_load_s,omitempty" json:"cold_load_s,omitempty"`
	WarmLoadS      float64   `yaml:"warm_load_s,omitempty" json:"warm_load_s,omitempty"`
	FlashAttention *bool     `yaml:"flash_attention,omitempty" json:"flash_attention,omitempty"`
	KVCacheType    string    `yaml:"kv_cache_type,omitempty" json:"kv_cache_type,omitempty"`
	Parallel       int       `yaml:"parallel,omitempty" json:"parallel,omitempty"`
	// OverheadMiB is the per-runner CUDA overhead; 0 means the estimator default.
	OverheadMiB int `yaml:"overhead_mib,omitempty" json:"overhead_mib,omitempty"`
	// ReserveMiB is VRAM the desktop or other programs hold; it is taken off
	// the budget.
	ReserveMiB int `yaml:"reserve_mib,omitempty" json:"reserve_mib,omitempty"`
}

// FA reports whether flash attention is assumed (default on).
func (h Hardware) FA() bool { return h.FlashAttention == nil || *h.FlashAttention }

// BudgetMiB is the VRAM available to models.
func (h Hardware) BudgetMiB() int { return h.VRAMMiB - h.ReserveMiB }

// Model is one planned (model, quant, context).
type Model struct {
	ID string `yaml:"id" json:"id"`
	// Catalog is the catalog id when it differs from ID.
	Catalog      string    `yaml:"catalog,omitempty" json:"catalog,omitempty"`
	Quant        string    `yaml:"quant" json:"quant"`
	Context      int       `yaml:"context" json:"context"`
	Tier         int       `yaml:"tier" json:"tier"`
	Roles        []string  `yaml:"roles,omitempty" json:"roles,omitempty"`
	Layer        *int      `yaml:"layer,omitempty" json:"layer,omitempty"`
	When         string    `yaml:"when,omitempty" json:"when,omitempty"`
	Pull         string    `yaml:"pull,omitempty" json:"pull,omitempty"`
	KeepAlive    KeepAlive `yaml:"keep_alive,omitempty" json:"keep_alive,omitempty"`
	Alternatives []string  `yaml:"alternatives,omitempty" json:"alternatives,omitempty"`
	// Existing marks a model already on the box that the plan keeps counting.
	Existing bool   `yaml:"existing,omitempty" json:"existing,omitempty"`
	Claims   Claims `yaml:"claims,omitempty" json:"claims,omitempty"`
	Notes    string `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// CatalogID is the id to look up in the catalog.
func (m Model) CatalogID() string {
	if m.Catalog != "" {
		return m.Catalog
	}
	return m.ID
}

// Claims are the hand-written plan's own figures, in GiB.
type Claims struct {
	WeightsGB float64 `yaml:"weights_gb,omitempty" json:"weights_gb,omitempty"`
	VRAMGB    float64 `yaml:"vram_gb,omitempty" json:"vram_gb,omitempty"`
	DiskGB    float64 `yaml:"disk_gb,omitempty" json:"disk_gb,omitempty"`
}

// Persona is a named base model with a system prompt and parameters.
type Persona struct {
	Name       string         `yaml:"name" json:"name"`
	Model      string         `yaml:"model" json:"model"`
	System     string         `yaml:"system,omitempty" json:"system,omitempty"`
	Parameters map[string]any `yaml:"parameters,omitempty" json:"parameters,omitempty"`
	KeepAlive  KeepAlive      `yaml:"keep_alive,omitempty" json:"keep_alive,omitempty"`
	// Context overrides the base model's planned context for this persona.
	Context   int    `yaml:"context,omitempty" json:"context,omitempty"`
	Rationale string `yaml:"rationale,omitempty" json:"rationale,omitempty"`
	// Pending marks a persona whose base model is still to be chosen; it is
	// planned but not created.
	Pending string `yaml:"pending,omitempty" json:"pending,omitempty"`
	// Frontier names a hosted model that may stand in for the local one.
	Frontier string `yaml:"frontier,omitempty" json:"frontier,omitempty"`
}

// Layer is a step of the upgrade path: what to pull when.
type Layer struct {
	ID     int      `yaml:"id" json:"id"`
	Name   string   `yaml:"name" json:"name"`
	Models []string `yaml:"models" json:"models"`
	Notes  string   `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// BudgetClaim is one row of the plan's VRAM budget table.
type BudgetClaim struct {
	Class     string  `yaml:"class" json:"class"`
	Model     string  `yaml:"model" json:"model"`
	Quant     string  `yaml:"quant" json:"quant"`
	WeightsGB float64 `yaml:"weights_gb,omitempty" json:"weights_gb,omitempty"`
	Ctx16kGB  float64 `yaml:"ctx16k_gb,omitempty" json:"ctx16k_gb,omitempty"`
	Ctx4kGB   float64 `yaml:"ctx4k_gb,omitempty" json:"ctx4k_gb,omitempty"`
	Fits      string  `yaml:"fits,omitempty" json:"fits,omitempty"`
}

// KeepAlive is an Ollama keep-alive: a Go duration ("30m"), a number of
// seconds, or a negative value for "forever". Empty means "inherit".
type KeepAlive string

// Duration parses the value; forever is reported as a negative duration.
func (k KeepAlive) Duration() (time.Duration, error) {
	s := strings.TrimSpace(string(k))
	if s == "" {
		return 0, fmt.Errorf("empty keep-alive")
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("keep-alive %q is neither a duration like 30m nor seconds", s)
	}
	return d, nil
}

// Model returns the planned model with id, if any.
func (s *Strategy) Model(id string) (*Model, bool) {
	for i := range s.Models {
		if s.Models[i].ID == id {
			return &s.Models[i], true
		}
	}
	return nil, false
}

// Persona returns the persona called name, if any.
func (s *Strategy) Persona(name string) (*Persona, bool) {
	for i := range s.Personas {
		if s.Personas[i].Name == name {
			return &s.Personas[i], true
		}
	}
	return nil, false
}

// PersonaContext is the context a persona runs with: its own, else its
// model's.
func (s *Strategy) PersonaContext(p *Persona) int {
	if p.Context > 0 {
		return p.Context
	}
	if m, ok := s.Model(p.Model); ok {
		return m.Context
	}
	return 0
}

// PersonaKeepAlive is the keep-alive a persona runs with: its own, else its
// model's, else the hardware default.
func (s *Strategy) PersonaKeepAlive(p *Persona) KeepAlive {
	if p.KeepAlive != "" {
		return p.KeepAlive
	}
	if m, ok := s.Model(p.Model); ok && m.KeepAlive != "" {
		return m.KeepAlive
	}
	return s.Hardware.KeepAlive
}

// Catalog returns the built-in catalog extended by the strategy's own entries.
func (s *Strategy) CatalogWith(base *catalog.Catalog) *catalog.Catalog {
	c := catalog.New(nil)
	for _, m := range base.All() {
		c.Put(*m)
	}
	for _, m := range s.Catalog {
		c.Put(m)
	}
	return c
}
