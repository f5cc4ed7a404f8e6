package estimate

import (
	"sort"

	"github.com/switchyard/switchyard/internal/catalog"
)

// CtxStep is the granularity of the max-context solver.
const CtxStep = 256

// MaxContext returns the largest context (a multiple of CtxStep, at most the
// model's trained context) whose footprint stays within budgetBytes, or 0 when
// even CtxStep tokens do not fit. The footprint grows monotonically with the
// context, so a binary search is exact at that granularity.
func MaxContext(m *catalog.Model, o Options, budgetBytes int64) (int, error) {
	limit := m.TrainedCtx
	if limit <= 0 {
		limit = 131072
	}
	fits := func(ctx int) (bool, error) {
		o.Ctx = ctx
		b, err := Estimate(m, o)
		if err != nil {
			return false, err
		}
		return b.Total <= budgetBytes, nil
	}
	lo, hi := 0, limit/CtxStep
	if ok, err := fits(hi * CtxStep); err != nil || ok {
		return hi * CtxStep, err
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		ok, err := fits(mid * CtxStep)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo * CtxStep, nil
}

// Resident is one member of a candidate co-resident set.
type Resident struct {
	Name  string
	Bytes int64
	// Large marks a model that counts against the GPU's large-model slots.
	Large bool
}

// Set is a group of models that can be on the GPU at once.
type Set struct {
	Members  []string `json:"members"`
	Total    int64    `json:"total_bytes"`
	Fraction float64  `json:"fraction"`
}

// MaxExtra bounds how many non-pinned models one co-resident set may hold, so
// that the search stays cheap on large strategies.
const MaxExtra = 3

// CoResidentSets lists the sets that fit within budgetBytes: all pinned
// models plus up to MaxExtra others, of which at most maxLarge are large. Only
// maximal sets are returned (no other model could be added), largest first.
// If the pinned models alone do not fit, the result is empty.
func CoResidentSets(pinned, others []Resident, maxLarge int, budgetBytes int64) []Set {
	var base int64
	var baseNames []string
	for _, p := range pinned {
		base += p.Bytes
		baseNames = append(baseNames, p.Name)
	}
	if base > budgetBytes {
		return nil
	}
	var out []Set
	chosen := make([]int, 0, MaxExtra)
	inSet := make([]bool, len(others))
	canAdd := func(j int, total int64, large int) bool {
		return !inSet[j] && total+others[j].Bytes <= budgetBytes && (!others[j].Large || large < maxLarge)
	}
	var walk func(start int, total int64, large int)
	walk = func(start int, total int64, large int) {
		extended := false
		if len(chosen) < MaxExtra {
			for j := start; j < len(others); j++ {
				if !canAdd(j, total, large) {
					continue
				}
				extended = true
				chosen = append(chosen, j)
				inSet[j] = true
				l := large
				if others[j].Large {
					l++
				}
				walk(j+1, total+others[j].Bytes, l)
				inSet[j] = false
				chosen = chosen[:len(chosen)-1]
			}
		}
		if extended {
			return
		}
		// Maximal only if no model at all (earlier index included) can join.
		if len(chosen) < MaxExtra {
			for j := range others {
				if canAdd(j, total, large) {
					return
				}
			}
		}
		if len(chosen) == 0 && len(pinned) == 0 {
			return
		}
		names := append([]string(nil), baseNames...)
		for _, j := range chosen {
			names = append(names, others[j].Name)
		}
		out = append(out, Set{Members: names, Total: total, Fraction: float64(total) / float64(budgetBytes)})
	}
	walk(0, base, 0)
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i].Members) != len(out[j].Members) {
			return len(out[i].Members) > len(out[j].Members)
		}
		return out[i].Total > out[j].Total
	})
	return out
}
