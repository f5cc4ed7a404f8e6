package plan

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/strategy"
)

// buildWarnings lists where the written plan is wrong or will not work.
func (r *Report) buildWarnings(s *strategy.Strategy, cat *catalog.Catalog, byID map[string]*ModelRow, pinnedBytes, budget int64) {
	w := func(format string, a ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...)) }
	for _, m := range r.Models {
		pm, _ := s.Model(m.ID)
		cm, _ := cat.Get(pm.CatalogID())
		switch {
		case m.Pull.Source == catalog.RefNone:
			w("%s: cannot be pulled: %s", m.ID, m.Pull.Note)
		case m.Pull.Note != "":
			w("%s: %s; switchyard pulls %s", m.ID, m.Pull.Note, m.Pull.Ref)
		}
		switch m.Verdict {
		case estimate.NoFit:
			w("%s at %s with %d context needs %.2f GiB: does not fit in %.2f GiB (longest context that fits with %.0f%% headroom: %s)",
				m.ID, pm.Quant, pm.Context, gib(m.Breakdown.Total), gib(budget), r.Headroom*100, ctxText(m.MaxCtx))
		case estimate.Marginal:
			w("%s at %s with %d context needs %.2f GiB (%.0f%% of VRAM): marginal, it does not fit usefully",
				m.ID, pm.Quant, pm.Context, gib(m.Breakdown.Total), m.Fraction*100)
		}
		if !isPinned(s, m.ID) && m.Verdict.Fits() && len(s.Hardware.Pinned) > 0 && m.Breakdown.Total+pinnedBytes > estimate.FitBudget(budget) {
			w("%s does not fit beside the pinned %s (%.2f GiB together): loading it evicts them",
				m.ID, strings.Join(s.Hardware.Pinned, ", "), gib(m.Breakdown.Total+pinnedBytes))
		}
		if cm.TrainedCtx > 0 && pm.Context > cm.TrainedCtx {
			w("%s: planned context %d is beyond the trained %d", m.ID, pm.Context, cm.TrainedCtx)
		}
		if cm.Experts > 0 && pm.Claims.VRAMGB > 0 && gib(m.Breakdown.WeightsGPU) > pm.Claims.VRAMGB {
			w("%s is a mixture of experts: all %.1fB parameters sit in VRAM, not just the %.1fB active ones",
				m.ID, cm.ParamsB, cm.ActiveParamsB)
		}
		for _, f := range m.Flags {
			w("%s: the plan is off: %s", m.ID, f)
		}
	}
	for _, t := range r.Table {
		var off []string
		for _, c := range []struct {
			name string
			cell Cell
		}{{"weights", t.Weights}, {"16K", t.Ctx16k}, {"4K", t.Ctx4k}} {
			if c.cell.Flag {
				off = append(off, fmt.Sprintf("%s %.2f GiB vs %.1f claimed (%+.0f%%)", c.name, gib(c.cell.Bytes), c.cell.ClaimGB, c.cell.Off*100))
			}
		}
		if len(off) > 0 {
			w("budget table %s %s: %s", t.Class, t.Quant, strings.Join(off, "; "))
		}
		if !t.Verdict4k.Useful() {
			w("budget table %s %s: at 4K it is %s (%.2f GiB); it does not fit usefully on %.0f GiB",
				t.Class, t.Quant, t.Verdict4k, gib(t.Ctx4k.Bytes), gib(budget))
		}
	}
	for _, p := range r.Personas {
		switch {
		case p.Model == "":
			w("persona %s has no base model yet (%s)", p.Name, strings.TrimPrefix(p.Note, "pending: "))
		case !p.Verdict.Fits():
			w("persona %s runs on %s, which does not fit at %d context", p.Name, p.Model, p.Ctx)
		case byID[p.Model].Pull.Source == catalog.RefNone:
			w("persona %s runs on %s, which cannot be pulled", p.Name, p.Model)
		}
	}
	if r.Disk.Disk.Err != "" {
		w("models directory %s: %s", r.Disk.Disk.Dir, r.Disk.Disk.Err)
	} else if !r.Disk.Disk.Exists {
		w("models directory %s does not exist yet (set OLLAMA_MODELS if Ollama keeps models elsewhere)", r.Disk.Disk.Dir)
	} else if r.Disk.Total > r.Disk.Disk.FreeBytes {
		w("disk: the plan needs %.1f GiB but %s has %.1f GiB free", gib(r.Disk.Total), r.Disk.Disk.Dir, gib(r.Disk.Disk.FreeBytes))
	}
}

func isPinned(s *strategy.Strategy, id string) bool {
	for _, p := range s.Hardware.Pinned {
		if p == id {
			return true
		}
	}
	return false
}

func ctxText(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d", n)
}
