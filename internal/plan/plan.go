// Package plan owns the report that checks a strategy against arithmetic: for
// every planned model its footprint, verdict and longest context; the seed's
// size × quant table recomputed beside its claims; the disk budget; which
// models can share the GPU; and warnings where the written plan is wrong.
// Building the report is pure: disk space and the GPU come in as values.
package plan

import (
	"fmt"
	"math"
	"sort"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/gpu"
	"github.com/switchyard/switchyard/internal/strategy"
)

// ClaimTolerance is how far a plan's own figure may be from ours before it is
// flagged.
const ClaimTolerance = 0.10

// LargeFraction: a model whose footprint is at least this share of the budget
// counts against hardware.max_resident_large.
const LargeFraction = 0.25

// DefaultHeadroom is kept free when solving for the longest context: the
// "tight" verdict's upper bound.
const DefaultHeadroom = 0.15

// Disk is the free space where Ollama keeps models.
type Disk struct {
	Dir       string `json:"dir"`
	Exists    bool   `json:"exists"`
	FreeBytes int64  `json:"free_bytes,omitempty"`
	Err       string `json:"error,omitempty"`
}

// Input is everything a report is computed from.
type Input struct {
	Strategy *strategy.Strategy
	// Catalog is the base catalog; Build adds the strategy's own entries.
	Catalog  *catalog.Catalog
	GPU      gpu.GPU
	Disk     Disk
	Headroom float64
}

// Report is the whole plan check.
type Report struct {
	Source      string         `json:"strategy"`
	GPU         gpu.GPU        `json:"gpu"`
	BudgetBytes int64          `json:"budget_bytes"`
	Headroom    float64        `json:"headroom"`
	Models      []ModelRow     `json:"models"`
	Table       []TableRow     `json:"budget_table"`
	Disk        DiskReport     `json:"disk"`
	CoResident  []estimate.Set `json:"co_resident"`
	// Pairs answers "can these two share the GPU (with the pinned models)?"
	// for every pair of daily drivers (tiers 1 and 2).
	Pairs    []Pair       `json:"pairs"`
	Personas []PersonaRow `json:"personas"`
	Warnings []string     `json:"warnings"`
}

// ModelRow is one planned model.
type ModelRow struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Tier      int                `json:"tier"`
	Breakdown estimate.Breakdown `json:"breakdown"`
	Fraction  float64            `json:"fraction"`
	Verdict   estimate.Verdict   `json:"verdict"`
	MaxCtx    int                `json:"max_ctx"`
	Pull      catalog.PullRef    `json:"pull"`
	Large     bool               `json:"large"`
	Claims    strategy.Claims    `json:"claims"`
	Flags     []string           `json:"flags,omitempty"`
}

// Cell is one computed figure beside the plan's claim for it.
type Cell struct {
	Bytes   int64   `json:"bytes"`
	ClaimGB float64 `json:"claim_gb,omitempty"`
	// Off is (ours - claim) / claim; set only when there is a claim.
	Off  float64 `json:"off,omitempty"`
	Flag bool    `json:"flag,omitempty"`
}

// TableRow recomputes one row of the plan's size × quant table.
type TableRow struct {
	Class       string           `json:"class"`
	Model       string           `json:"model"`
	Quant       string           `json:"quant"`
	Weights     Cell             `json:"weights"`
	Ctx16k      Cell             `json:"ctx16k"`
	Ctx4k       Cell             `json:"ctx4k"`
	Verdict16k  estimate.Verdict `json:"verdict16k"`
	Verdict4k   estimate.Verdict `json:"verdict4k"`
	ClaimedFits string           `json:"claimed_fits,omitempty"`
	MaxCtx      int              `json:"max_ctx"`
}

// DiskRow is one model in the disk budget.
type DiskRow struct {
	ID         string  `json:"id"`
	Quant      string  `json:"quant"`
	Bytes      int64   `json:"bytes"`
	Cumulative int64   `json:"cumulative_bytes"`
	ClaimGB    float64 `json:"claim_gb,omitempty"`
	Flag       bool    `json:"flag,omitempty"`
}

// DiskReport is the cumulative disk budget against free space.
type DiskReport struct {
	Rows  []DiskRow `json:"rows"`
	Total int64     `json:"total_bytes"`
	Disk  Disk      `json:"models_dir"`
}

// PersonaRow says where each persona runs and whether that fits.
type PersonaRow struct {
	Name    string           `json:"name"`
	Model   string           `json:"model"`
	Ctx     int              `json:"ctx"`
	Total   int64            `json:"total_bytes,omitempty"`
	Verdict estimate.Verdict `json:"verdict,omitempty"`
	Note    string           `json:"note,omitempty"`
}

// Pair is two models and whether they fit together beside the pinned ones.
type Pair struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Total int64  `json:"total_bytes"`
	Fits  bool   `json:"fits"`
	// Why is set when they cannot share: over budget, or both large.
	Why string `json:"why,omitempty"`
}

// Options derives estimator options from the strategy's hardware section.
func Options(h strategy.Hardware, q string, ctx int) estimate.Options {
	return estimate.Options{
		Quant: q, Ctx: ctx, Parallel: h.Parallel, KVType: h.KVCacheType,
		FlashAttention: h.FA(), OverheadMiB: h.OverheadMiB,
	}
}

// PinnedBytes is the estimated GPU footprint of the strategy's pinned models
// (the embedder), leaving out except (a model asked about on its own).
func PinnedBytes(s *strategy.Strategy, cat *catalog.Catalog, except string) int64 {
	var total int64
	for _, id := range s.Hardware.Pinned {
		pm, ok := s.Model(id)
		if !ok || id == except || pm.CatalogID() == except {
			continue
		}
		m, ok := cat.Get(pm.CatalogID())
		if !ok {
			continue
		}
		if b, err := estimate.Estimate(m, Options(s.Hardware, pm.Quant, pm.Context)); err == nil {
			total += b.Total
		}
	}
	return total
}

// Build computes the report.
func Build(in Input) (*Report, error) {
	s := in.Strategy
	cat := s.CatalogWith(in.Catalog)
	headroom := in.Headroom
	if headroom <= 0 || headroom >= 1 {
		headroom = DefaultHeadroom
	}
	budget := int64(in.GPU.VRAMMiB-s.Hardware.ReserveMiB) * estimate.MiB
	r := &Report{Source: s.Source, GPU: in.GPU, BudgetBytes: budget, Headroom: headroom}
	solveBudget := int64(float64(budget) * (1 - headroom))

	byID := map[string]*ModelRow{}
	for _, pm := range s.Models {
		m, ok := cat.Get(pm.CatalogID())
		if !ok {
			return nil, fmt.Errorf("model %q is not in the catalog", pm.CatalogID())
		}
		o := Options(s.Hardware, pm.Quant, pm.Context)
		b, err := estimate.Estimate(m, o)
		if err != nil {
			return nil, err
		}
		maxCtx, err := estimate.MaxContext(m, o, solveBudget)
		if err != nil {
			return nil, err
		}
		row := ModelRow{
			ID: pm.ID, Name: m.Name, Tier: pm.Tier, Breakdown: b,
			Fraction: frac(b.Total, budget), Verdict: estimate.Judge(b.Total, budget),
			MaxCtx: maxCtx, Pull: m.ResolvePull(pm.Quant, pm.Pull), Claims: pm.Claims,
			Large: float64(b.Total) >= LargeFraction*float64(budget),
		}
		if pm.Claims.WeightsGB > 0 && math.Abs(offSigned(b.FileBytes, pm.Claims.WeightsGB)) > ClaimTolerance {
			row.Flags = append(row.Flags, fmt.Sprintf("weights %.2f GiB vs claimed %.1f", gib(b.FileBytes), pm.Claims.WeightsGB))
		}
		if pm.Claims.VRAMGB > 0 && math.Abs(offSigned(b.Total, pm.Claims.VRAMGB)) > ClaimTolerance {
			row.Flags = append(row.Flags, fmt.Sprintf("VRAM %.2f GiB vs claimed %.1f", gib(b.Total), pm.Claims.VRAMGB))
		}
		r.Models = append(r.Models, row)
	}
	// Pointers taken only once the slice has stopped growing.
	for i := range r.Models {
		byID[r.Models[i].ID] = &r.Models[i]
	}

	if err := r.buildTable(s, cat, budget, solveBudget); err != nil {
		return nil, err
	}
	r.buildDisk(s, byID, in.Disk)
	var pinned int64 // what the pinned models hold beside any other
	for _, p := range s.Hardware.Pinned {
		pinned += byID[p].Breakdown.Total
	}
	r.buildCoResidency(s, byID, budget)
	r.buildPairs(s, pinned, budget)
	r.buildPersonas(s, cat, byID, budget)
	r.buildWarnings(s, cat, byID, pinned, budget)
	return r, nil
}

func (r *Report) buildTable(s *strategy.Strategy, cat *catalog.Catalog, budget, solveBudget int64) error {
	for _, c := range s.Budget {
		m, ok := cat.Get(c.Model)
		if !ok {
			return fmt.Errorf("budget row %s: %q is not in the catalog", c.Class, c.Model)
		}
		at := func(ctx int) (estimate.Breakdown, error) {
			return estimate.Estimate(m, Options(s.Hardware, c.Quant, ctx))
		}
		b16, err := at(16384)
		if err != nil {
			return err
		}
		b4, err := at(4096)
		if err != nil {
			return err
		}
		maxCtx, err := estimate.MaxContext(m, Options(s.Hardware, c.Quant, 4096), solveBudget)
		if err != nil {
			return err
		}
		r.Table = append(r.Table, TableRow{
			Class: c.Class, Model: m.Name, Quant: c.Quant,
			Weights: cell(b4.FileBytes, c.WeightsGB), Ctx16k: cell(b16.Total, c.Ctx16kGB), Ctx4k: cell(b4.Total, c.Ctx4kGB),
			Verdict16k: estimate.Judge(b16.Total, budget), Verdict4k: estimate.Judge(b4.Total, budget),
			ClaimedFits: c.Fits, MaxCtx: maxCtx,
		})
	}
	return nil
}

func (r *Report) buildDisk(s *strategy.Strategy, byID map[string]*ModelRow, d Disk) {
	order := append([]strategy.Model(nil), s.Models...)
	// Existing installs first, then by layer (unlayered last), then tier.
	rank := func(m strategy.Model) (int, int) {
		if m.Existing {
			return -1, 0
		}
		if m.Layer == nil {
			return 1 << 20, m.Tier
		}
		return *m.Layer, m.Tier
	}
	sort.SliceStable(order, func(i, j int) bool {
		a1, a2 := rank(order[i])
		b1, b2 := rank(order[j])
		if a1 != b1 {
			return a1 < b1
		}
		return a2 < b2
	})
	var cum int64
	for _, m := range order {
		row := byID[m.ID]
		if row.Pull.Source == catalog.RefNone && !m.Existing {
			continue // nothing Ollama can pull costs no disk
		}
		cum += row.Breakdown.FileBytes
		dr := DiskRow{ID: m.ID, Quant: m.Quant, Bytes: row.Breakdown.FileBytes, Cumulative: cum, ClaimGB: m.Claims.DiskGB}
		if m.Claims.DiskGB > 0 && math.Abs(offSigned(dr.Bytes, m.Claims.DiskGB)) > ClaimTolerance {
			dr.Flag = true
		}
		r.Disk.Rows = append(r.Disk.Rows, dr)
	}
	r.Disk.Total = cum
	r.Disk.Disk = d
}

func (r *Report) buildCoResidency(s *strategy.Strategy, byID map[string]*ModelRow, budget int64) {
	pinned := map[string]bool{}
	var pins, others []estimate.Resident
	for _, p := range s.Hardware.Pinned {
		pinned[p] = true
		pins = append(pins, estimate.Resident{Name: p, Bytes: byID[p].Breakdown.Total})
	}
	for _, m := range r.Models {
		if pinned[m.ID] || m.Pull.Source == catalog.RefNone {
			continue
		}
		others = append(others, estimate.Resident{Name: m.ID, Bytes: m.Breakdown.Total, Large: m.Large})
	}
	r.CoResident = estimate.CoResidentSets(pins, others, s.Hardware.MaxLarge, estimate.FitBudget(budget))
	for i := range r.CoResident {
		r.CoResident[i].Fraction = frac(r.CoResident[i].Total, budget) // of the whole card, like every other figure
	}
}

func (r *Report) buildPairs(s *strategy.Strategy, pinned, budget int64) {
	var daily []*ModelRow
	for i := range r.Models {
		m := &r.Models[i]
		if m.Tier >= 1 && m.Tier <= 2 && !isPinned(s, m.ID) && m.Pull.Source != catalog.RefNone {
			daily = append(daily, m)
		}
	}
	for i, a := range daily {
		for _, b := range daily[i+1:] {
			p := Pair{A: a.ID, B: b.ID, Total: pinned + a.Breakdown.Total + b.Breakdown.Total}
			switch {
			case p.Total > estimate.FitBudget(budget):
				p.Why = fmt.Sprintf("%.2f GiB with the pinned models, over the %.2f GiB that fit", gib(p.Total), gib(estimate.FitBudget(budget)))
			case a.Large && b.Large && s.Hardware.MaxLarge < 2:
				p.Why = fmt.Sprintf("%.2f GiB would fit, but both are large and max_resident_large is %d", gib(p.Total), s.Hardware.MaxLarge)
			default:
				p.Fits = true
			}
			r.Pairs = append(r.Pairs, p)
		}
	}
}

func (r *Report) buildPersonas(s *strategy.Strategy, cat *catalog.Catalog, byID map[string]*ModelRow, budget int64) {
	for i := range s.Personas {
		p := &s.Personas[i]
		row := PersonaRow{Name: p.Name, Model: p.Model, Ctx: s.PersonaContext(p)}
		if p.Model == "" {
			row.Note = "pending: " + p.Pending
			r.Personas = append(r.Personas, row)
			continue
		}
		pm, _ := s.Model(p.Model)
		mr := byID[p.Model]
		row.Total, row.Verdict = mr.Breakdown.Total, mr.Verdict
		if row.Ctx != pm.Context {
			m, _ := cat.Get(pm.CatalogID())
			if b, err := estimate.Estimate(m, Options(s.Hardware, pm.Quant, row.Ctx)); err == nil {
				row.Total, row.Verdict = b.Total, estimate.Judge(b.Total, budget)
			}
		}
		if p.Frontier != "" {
			row.Note = "frontier alternative: " + p.Frontier
		}
		r.Personas = append(r.Personas, row)
	}
}

func cell(bytes int64, claim float64) Cell {
	c := Cell{Bytes: bytes, ClaimGB: claim}
	if claim > 0 {
		c.Off = offSigned(bytes, claim)
		c.Flag = math.Abs(c.Off) > ClaimTolerance
	}
	return c
}

func gib(b int64) float64     { return float64(b) / estimate.GiB }
func frac(a, b int64) float64 { return float64(a) / float64(b) }

// offSigned is how far our bytes are from a claim in GiB, as a fraction of the claim.
func offSigned(bytes int64, claimGiB float64) float64 { return (gib(bytes) - claimGiB) / claimGiB }
