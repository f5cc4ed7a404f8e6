package syncer

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/strategy"
)

// ModelStatus is one declared model: planned, installed, loaded.
type ModelStatus struct {
	ID        string            `json:"id"`
	Layer     *int              `json:"layer,omitempty"`
	Quant     string            `json:"planned_quant"`
	Ref       string            `json:"ref,omitempty"`
	RefSource catalog.RefSource `json:"ref_source,omitempty"`
	RefNote   string            `json:"ref_note,omitempty"`
	Installed bool              `json:"installed"`
	Name      string            `json:"installed_name,omitempty"`
	// InstalledQuant is Ollama's details.quantization_level.
	InstalledQuant string `json:"installed_quant,omitempty"`
	QuantMatches   bool   `json:"quant_matches"`
	DiskBytes      int64  `json:"disk_bytes,omitempty"`
	// EstimatedBytes is switchyard's estimate of the loaded footprint at
	// the planned context; compare with Loaded.Size.
	EstimatedBytes int64         `json:"estimated_bytes,omitempty"`
	Loaded         *LoadedStatus `json:"loaded,omitempty"`
}

// LoadedStatus is a model's /api/ps entry.
type LoadedStatus struct {
	Name          string    `json:"name"`
	Size          int64     `json:"size"`
	SizeVRAM      int64     `json:"size_vram"`
	ContextLength int       `json:"context_length,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// PersonaStatus is one declared persona.
type PersonaStatus struct {
	Name      string        `json:"name"`
	Model     string        `json:"model,omitempty"`
	Base      string        `json:"base,omitempty"`
	Pending   string        `json:"pending,omitempty"`
	Installed bool          `json:"installed"`
	Managed   bool          `json:"managed"`
	Matches   bool          `json:"matches"`
	Diffs     []string      `json:"diffs,omitempty"`
	Loaded    *LoadedStatus `json:"loaded,omitempty"`
}

// Status is declared vs installed vs loaded.
type Status struct {
	Host     string          `json:"host"`
	Version  string          `json:"version"`
	Models   []ModelStatus   `json:"models"`
	Personas []PersonaStatus `json:"personas"`
	// Extra are installed models the strategy does not mention.
	Extra []string `json:"extra,omitempty"`
}

// StatusInput is the data status is built from.
type StatusInput struct {
	Strategy  *strategy.Strategy
	Catalog   *catalog.Catalog
	Host      string
	Version   string
	Installed []api.ListModelResponse
	Running   []api.ProcessModelResponse
	// Shows holds /api/show by installed name (models and personas).
	Shows   map[string]*api.ShowResponse
	Managed []string
}

func loaded(running []api.ProcessModelResponse, name string) *LoadedStatus {
	for _, r := range running {
		if ollama.SameModel(r.Name, name) || ollama.SameModel(r.Model, name) {
			return &LoadedStatus{Name: r.Name, Size: r.Size, SizeVRAM: r.SizeVRAM, ContextLength: r.ContextLength, ExpiresAt: r.ExpiresAt}
		}
	}
	return nil
}

func showFor(shows map[string]*api.ShowResponse, name string) *api.ShowResponse {
	for n, s := range shows {
		if ollama.SameModel(n, name) {
			return s
		}
	}
	return nil
}

// BuildStatus compares the strategy with what the server reports.
func BuildStatus(in StatusInput) *Status {
	s := in.Strategy
	st := &Status{Host: in.Host, Version: in.Version, Models: []ModelStatus{}, Personas: []PersonaStatus{}}
	names := make([]string, len(in.Installed))
	size := map[string]int64{}
	quant := map[string]string{}
	for i, m := range in.Installed {
		names[i] = m.Name
		size[m.Name], quant[m.Name] = m.Size, m.Details.QuantizationLevel
	}
	used := map[string]bool{}
	layers := modelLayers(s)
	for i := range s.Models {
		m := &s.Models[i]
		ms := ModelStatus{ID: m.ID, Quant: m.Quant}
		if l, ok := layers[m.ID]; ok {
			ms.Layer = &l
		}
		cm, ok := in.Catalog.Get(m.CatalogID())
		if ok {
			r := cm.ResolvePull(m.Quant, m.Pull)
			ms.Ref, ms.RefSource, ms.RefNote = r.Ref, r.Source, r.Note
			if est, err := estimate.Estimate(cm, plan.Options(s.Hardware, m.Quant, max(m.Context, 1))); err == nil {
				ms.EstimatedBytes = est.Total
			}
		}
		if ms.Ref != "" {
			if n, ok := ollama.FindName(names, ms.Ref); ok {
				used[n] = true
				ms.Installed, ms.Name, ms.DiskBytes = true, n, size[n]
				ms.InstalledQuant = quant[n]
				if sh := showFor(in.Shows, n); sh != nil && sh.Details.QuantizationLevel != "" {
					ms.InstalledQuant = sh.Details.QuantizationLevel
				}
				ms.QuantMatches = strings.EqualFold(ms.InstalledQuant, m.Quant)
				ms.Loaded = loaded(in.Running, n)
			}
		}
		st.Models = append(st.Models, ms)
	}
	managed := map[string]bool{}
	for _, n := range in.Managed {
		managed[ollama.NormalizeName(n)] = true
	}
	for i := range s.Personas {
		pr := &s.Personas[i]
		ps := PersonaStatus{Name: pr.Name, Model: pr.Model, Pending: pr.Pending}
		var from string
		for _, ms := range st.Models {
			if ms.ID == pr.Model {
				from = ms.Name
				if from == "" {
					from = ms.Ref
				}
			}
		}
		ps.Base = from
		if n, ok := ollama.FindName(names, pr.Name); ok {
			used[n] = true
			ps.Installed = true
			ps.Managed = managed[ollama.NormalizeName(n)]
			ps.Loaded = loaded(in.Running, n)
			if sh := showFor(in.Shows, n); sh != nil {
				ps.Diffs = ollama.ComparePersona(PersonaSpecFor(s, pr, from), sh)
			} else {
				ps.Diffs = []string{"could not read it back (/api/show)"}
			}
			ps.Matches = len(ps.Diffs) == 0
		}
		st.Personas = append(st.Personas, ps)
	}
	for _, n := range names {
		if !used[n] {
			st.Extra = append(st.Extra, n)
		}
	}
	sort.Strings(st.Extra)
	return st
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText renders the status as two tables and a list of extras.
func (st *Status) WriteText(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Ollama %s at %s\n\n", st.Version, st.Host)
	fmt.Fprintln(tw, "MODEL\tLAYER\tREF\tINSTALLED\tQUANT (have/plan)\tDISK\tLOADED\tSIZE\tVRAM\tESTIMATED\tEXPIRES")
	for _, m := range st.Models {
		layer := "-"
		if m.Layer != nil {
			layer = fmt.Sprint(*m.Layer)
		}
		q := "-/" + m.Quant
		disk := "-"
		if m.Installed {
			q = orDash(m.InstalledQuant) + "/" + m.Quant
			if !m.QuantMatches {
				q += " (differs)"
			}
			disk = Bytes(m.DiskBytes)
		}
		lo, sz, vr, ex := "no", "-", "-", "-"
		if m.Loaded != nil {
			lo, sz, vr = "yes", Bytes(m.Loaded.Size), Bytes(m.Loaded.SizeVRAM)
			ex = expires(m.Loaded.ExpiresAt, now)
		}
		est := "-"
		if m.EstimatedBytes > 0 {
			est = Bytes(m.EstimatedBytes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, layer, orDash(m.Ref),
			yesNo(m.Installed), q, disk, lo, sz, vr, est, ex)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PERSONA\tBASE\tINSTALLED\tMANAGED\tMATCHES STRATEGY\tLOADED")
	for _, p := range st.Personas {
		match := "-"
		switch {
		case p.Pending != "":
			match = "pending: " + p.Pending
		case p.Installed && p.Matches:
			match = "yes"
		case p.Installed:
			match = "no: " + strings.Join(p.Diffs, "; ")
		}
		lo := "no"
		if p.Loaded != nil {
			lo = "yes, expires " + expires(p.Loaded.ExpiresAt, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, orDash(p.Base), yesNo(p.Installed), yesNo(p.Managed), match, lo)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Extra) > 0 {
		fmt.Fprintf(w, "\nInstalled but not in the strategy: %s\n", strings.Join(st.Extra, ", "))
	}
	return nil
}

func expires(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	if d > 100*365*24*time.Hour {
		return "never"
	}
	if d < 0 {
		return "now"
	}
	return "in " + d.String()
}
