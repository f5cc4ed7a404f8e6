// Package syncer turns a strategy and what an Ollama server already holds
// into the actions that make the server match the strategy (pull models,
// create or update personas, prune personas), and runs them. Planning is
// pure: Build takes everything it needs as data, so every decision is
// tested without a server; Execute does the I/O through an interface.
package syncer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ollama/ollama/api"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/strategy"
)

// Kind is what an action does.
type Kind string

const (
	Pull   Kind = "pull"
	Create Kind = "create"
	Update Kind = "update"
	Delete Kind = "delete"
	Skip   Kind = "skip"
)

// Action is one step of a sync.
type Action struct {
	Kind    Kind   `json:"kind"`
	Model   string `json:"model,omitempty"`   // strategy model id
	Persona string `json:"persona,omitempty"` // persona name
	// Ref is what is pulled, or the Ollama model a persona is made from,
	// or the model deleted.
	Ref       string              `json:"ref,omitempty"`
	RefSource catalog.RefSource   `json:"ref_source,omitempty"`
	Spec      *ollama.PersonaSpec `json:"spec,omitempty"`
	// Bytes is the estimated download size of a pull.
	Bytes int64 `json:"bytes,omitempty"`
	// After names the pull this action needs; it is skipped if that fails.
	After  string `json:"after,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Problem marks a skip the user must act on; it makes the exit partial.
	Problem bool `json:"problem,omitempty"`
}

// Subject names what the action is about, for messages.
func (a Action) Subject() string {
	switch {
	case a.Persona != "":
		return "persona " + a.Persona
	case a.Model != "":
		return "model " + a.Model
	}
	return a.Ref
}

// Disk is what the models directory has free.
type Disk struct {
	Dir   string `json:"dir"`
	Known bool   `json:"known"`
	Free  int64  `json:"free_bytes"`
}

// DiskCheck compares the download against the free space.
type DiskCheck struct {
	Disk
	Needed int64 `json:"needed_bytes"`
	OK     bool  `json:"ok"`
	Forced bool  `json:"forced,omitempty"`
}

// Refusal explains a failed check with the figures, or "" when it passed.
func (d DiskCheck) Refusal() string {
	if d.OK || d.Forced {
		return ""
	}
	return fmt.Sprintf("not enough disk for the pull: need %s (estimated), %s free in %s; free space or pass --force",
		Bytes(d.Needed), Bytes(d.Free), d.Dir)
}

// Input is everything planning looks at.
type Input struct {
	Strategy *strategy.Strategy
	Catalog  *catalog.Catalog
	// Installed is /api/tags.
	Installed []api.ListModelResponse
	// Personas holds /api/show of each declared persona that is installed,
	// by persona name.
	Personas map[string]*api.ShowResponse
	Disk     Disk
	// Layer limits the pull to layers with id <= *Layer; nil means all.
	Layer *int
	Prune bool
	// PruneModels are installed models the user named for deletion.
	PruneModels []string
	Force       bool
	// Managed lists personas switchyard created on this server.
	Managed []string
}

// Plan is the ordered list of actions plus the disk check.
type Plan struct {
	Actions []Action  `json:"actions"`
	Disk    DiskCheck `json:"disk"`
}

// Work reports whether any action changes the server.
func (p *Plan) Work() bool {
	for _, a := range p.Actions {
		if a.Kind != Skip {
			return true
		}
	}
	return false
}

// Problems lists the skips the user must act on.
func (p *Plan) Problems() []Action {
	var out []Action
	for _, a := range p.Actions {
		if a.Problem {
			out = append(out, a)
		}
	}
	return out
}

// modelLayers maps model id to the lowest layer that pulls it, from both
// the layers list and a model's own layer field.
func modelLayers(s *strategy.Strategy) map[string]int {
	out := map[string]int{}
	set := func(id string, l int) {
		if old, ok := out[id]; !ok || l < old {
			out[id] = l
		}
	}
	for _, l := range s.Layers {
		for _, id := range l.Models {
			set(id, l.ID)
		}
	}
	for _, m := range s.Models {
		if m.Layer != nil {
			set(m.ID, *m.Layer)
		}
	}
	return out
}

// base is what planning knows about one strategy model.
type base struct {
	ref       catalog.PullRef
	installed string // installed name, "" if not installed
	pulling   bool
	selected  bool
}

// Build plans a sync. It fails only on bad input; everything else becomes
// an action, with a reason.
func Build(in Input) (*Plan, error) {
	s := in.Strategy
	if s == nil || in.Catalog == nil {
		return nil, fmt.Errorf("syncer: no strategy or catalog")
	}
	layers := modelLayers(s)
	if in.Layer != nil {
		ok := false
		seen := map[int]bool{}
		for _, l := range layers {
			seen[l] = true
			ok = ok || l <= *in.Layer
		}
		if !ok {
			var ids []string
			for l := range seen {
				ids = append(ids, fmt.Sprint(l))
			}
			sort.Strings(ids)
			list := strings.Join(ids, ", ")
			if list == "" {
				list = "none (no model has a layer)"
			}
			return nil, fmt.Errorf("--layer %d selects nothing: the strategy's layers are %s", *in.Layer, list)
		}
	}
	names := make([]string, len(in.Installed))
	for i, m := range in.Installed {
		names[i] = m.Name
	}
	p := &Plan{}
	bases := map[string]*base{}
	for i := range s.Models {
		m := &s.Models[i]
		b := &base{}
		bases[m.ID] = b
		l, layered := layers[m.ID]
		b.selected = layered && (in.Layer == nil || l <= *in.Layer) && !m.Existing
		cm, ok := in.Catalog.Get(m.CatalogID())
		if !ok {
			if b.selected {
				p.add(Action{Kind: Skip, Model: m.ID, Reason: fmt.Sprintf("%q is not in the catalog", m.CatalogID()), Problem: true})
			}
			continue
		}
		b.ref = cm.ResolvePull(m.Quant, m.Pull)
		if b.ref.Ref != "" {
			b.installed, _ = ollama.FindName(names, b.ref.Ref)
		}
		if !b.selected {
			continue
		}
		switch {
		case b.ref.Source == catalog.RefNone:
			p.add(Action{Kind: Skip, Model: m.ID, Reason: "no pull reference: " + b.ref.Note, Problem: true})
		case b.installed != "":
			p.add(Action{Kind: Skip, Model: m.ID, Ref: b.installed, RefSource: b.ref.Source, Reason: "installed"})
		default:
			b.pulling = true
			var size int64
			if est, err := estimate.Estimate(cm, plan.Options(s.Hardware, m.Quant, max(m.Context, 1))); err == nil {
				size = est.FileBytes
			}
			p.add(Action{Kind: Pull, Model: m.ID, Ref: b.ref.Ref, RefSource: b.ref.Source, Bytes: size, Reason: b.ref.Note})
		}
	}
	for i := range s.Personas {
		p.add(personaAction(s, &s.Personas[i], bases, in))
	}
	p.addPrunes(in, names, bases)
	p.Disk = DiskCheck{Disk: in.Disk, Forced: in.Force}
	for _, a := range p.Actions {
		if a.Kind == Pull {
			p.Disk.Needed += a.Bytes
		}
	}
	p.Disk.OK = !in.Disk.Known || p.Disk.Needed <= in.Disk.Free
	return p, nil
}

func (p *Plan) add(a Action) { p.Actions = append(p.Actions, a) }

// PersonaSpecFor derives the Ollama model a persona becomes: its base,
// system prompt, parameters, and num_ctx from the persona's context.
func PersonaSpecFor(s *strategy.Strategy, pr *strategy.Persona, from string) ollama.PersonaSpec {
	spec := ollama.PersonaSpec{Name: pr.Name, From: from, System: pr.System, Parameters: map[string]any{}}
	for k, v := range pr.Parameters {
		spec.Parameters[k] = v
	}
	if ctx := s.PersonaContext(pr); ctx > 0 {
		spec.Parameters["num_ctx"] = ctx
	}
	return spec
}

func personaAction(s *strategy.Strategy, pr *strategy.Persona, bases map[string]*base, in Input) Action {
	a := Action{Kind: Skip, Persona: pr.Name, Model: pr.Model}
	if pr.Pending != "" || pr.Model == "" {
		a.Reason = "pending: " + pr.Pending
		return a
	}
	b := bases[pr.Model]
	if b == nil {
		a.Reason, a.Problem = fmt.Sprintf("base model %q is not declared in the strategy", pr.Model), true
		return a
	}
	from := b.installed
	switch {
	case from != "":
	case b.pulling:
		from, a.After = b.ref.Ref, b.ref.Ref
	case b.ref.Source == catalog.RefNone:
		a.Reason, a.Problem = fmt.Sprintf("base model %s is not installed and has no pull reference", pr.Model), true
		return a
	case !b.selected && in.Layer != nil:
		a.Reason = fmt.Sprintf("base model %s (%s) is not installed and not in the layers pulled now", pr.Model, b.ref.Ref)
		return a
	default:
		a.Reason, a.Problem = fmt.Sprintf("base model %s is not installed (pull %s, or add it to a layer)", pr.Model, b.ref.Ref), true
		return a
	}
	spec := PersonaSpecFor(s, pr, from)
	a.Spec, a.Ref = &spec, from
	cur := in.Personas[pr.Name]
	if cur == nil {
		a.Kind = Create
		return a
	}
	if diffs := ollama.ComparePersona(spec, cur); len(diffs) > 0 {
		a.Kind, a.Reason = Update, "differs: "+strings.Join(diffs, "; ")
		return a
	}
	a.Reason = "up to date"
	return a
}

// addPrunes deletes managed personas the strategy no longer declares, and
// base models only when named.
func (p *Plan) addPrunes(in Input, installed []string, bases map[string]*base) {
	s := in.Strategy
	declared := func(name string) bool {
		for _, pr := range s.Personas {
			if ollama.SameModel(pr.Name, name) {
				return true
			}
		}
		return false
	}
	if in.Prune {
		managed := append([]string(nil), in.Managed...)
		sort.Strings(managed)
		for _, n := range managed {
			if declared(n) {
				continue
			}
			if got, ok := ollama.FindName(installed, n); ok {
				p.add(Action{Kind: Delete, Persona: got, Ref: got, Reason: "persona no longer in the strategy"})
			}
		}
	}
	for _, n := range in.PruneModels {
		got, ok := ollama.FindName(installed, n)
		if !ok {
			p.add(Action{Kind: Skip, Ref: n, Reason: "not installed, nothing to prune"})
			continue
		}
		if declared(n) {
			p.add(Action{Kind: Skip, Ref: got, Reason: "a declared persona; remove it from the strategy first", Problem: true})
			continue
		}
		var user string
		for id, b := range bases {
			if b.ref.Ref != "" && ollama.SameModel(b.ref.Ref, n) {
				user = id
			}
		}
		if user != "" {
			p.add(Action{Kind: Skip, Ref: got, Reason: fmt.Sprintf("model %s of the strategy uses it; remove it from the strategy first", user), Problem: true})
			continue
		}
		p.add(Action{Kind: Delete, Ref: got, Reason: "named with --prune-model"})
	}
}

// Bytes formats a size for people.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
