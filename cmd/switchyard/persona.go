package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/persona"
	"github.com/switchyard/switchyard/internal/strategy"
)

func init() { extraCommands = append(extraCommands, newPersonaCmd) }

// syncPersona creates one persona of s in Ollama (pulling its base model if
// needed). A variable so tests can fake it.
var syncPersona = syncOnePersona

func newPersonaCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "persona",
		Short: "Recommend, list and audit personas (base model + system prompt)",
	}
	c.AddCommand(newPersonaNewCmd(g), newPersonaListCmd(g), newPersonaShowCmd(g), newPersonaCheckCmd(g))
	return c
}

// personaEnv loads the strategy and the ranking environment.
func personaEnv(g *globals, gpuFlag string, stderr io.Writer) (*strategy.Strategy, persona.Env, error) {
	s, cat, err := g.loadStrategy(stderr)
	if err != nil {
		return nil, persona.Env{}, err
	}
	card, err := resolveGPU(gpuFlag, s)
	if err != nil {
		return nil, persona.Env{}, err
	}
	return s, persona.NewEnv(s, cat, card.VRAMMiB), nil
}

// newResult is `persona new`'s JSON.
type newResult struct {
	Recommendation persona.Recommendation `json:"recommendation"`
	Persona        *strategy.Persona      `json:"persona,omitempty"`
	AddsModel      *strategy.Model        `json:"adds_model,omitempty"`
	Written        string                 `json:"written,omitempty"`
	Synced         bool                   `json:"synced,omitempty"`
}

func newPersonaNewCmd(g *globals) *cobra.Command {
	var role, gpuFlag string
	var ctx int
	var write, force, sync, insecure bool
	c := &cobra.Command{
		Use:   "new NAME --role TEXT",
		Short: "Rank base models for a role, recommend a quant and draft the persona",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(role) == "" {
				return usageErr("--role is required (e.g. --role \"reviews Go pull requests\")")
			}
			if ctx < 0 {
				return usageErr("--ctx must be positive")
			}
			s, env, err := personaEnv(g, gpuFlag, c.ErrOrStderr())
			if err != nil {
				return err
			}
			if (write || sync) && s.Source == strategy.EmbeddedSource {
				return usageErr("no strategy file to write to (using the embedded default): run `switchyard init` first")
			}
			r := persona.Detect(role)
			if ctx > 0 {
				r.Ctx = ctx
			}
			rec, err := persona.Rank(r, env)
			if err != nil {
				return err
			}
			res := newResult{Recommendation: rec}
			if p, err := persona.Draft(args[0], role, rec, s); err == nil {
				res.Persona = &p
				res.AddsModel = persona.PlannedModel(rec, s)
			}
			if write || sync {
				if res.Persona == nil {
					return withCode(exitNoFit, fmt.Errorf("nothing to write: no catalog model fits the role at %d context", r.Ctx))
				}
				if err := writePersona(s, env.Catalog, *res.Persona, res.AddsModel, force); err != nil {
					return err
				}
				res.Written = s.Source
			}
			if sync {
				fresh, err := strategy.LoadFile(s.Source, catalog.Builtin())
				if err != nil {
					return err
				}
				if err := syncPersona(c.Context(), fresh, args[0], insecure, c.ErrOrStderr()); err != nil {
					return withCode(exitFailure, err)
				}
				res.Synced = true
			}
			if g.json {
				return writeJSON(c.OutOrStdout(), res)
			}
			return writeNewResult(c.OutOrStdout(), res)
		},
	}
	c.Flags().StringVar(&role, "role", "", "what the persona does, in English or Portuguese")
	c.Flags().IntVar(&ctx, "ctx", 0, "context the persona needs (default: from the role)")
	c.Flags().BoolVar(&write, "write", false, "add the persona to the strategy file, keeping its comments")
	c.Flags().BoolVar(&insecure, "insecure", false, "with --sync: allow a plain-HTTP registry for the base model's pull")
	c.Flags().BoolVar(&force, "force", false, "with --write, replace a persona of the same name")
	c.Flags().BoolVar(&sync, "sync", false, "also create the persona in Ollama (implies --write)")
	c.Flags().StringVar(&gpuFlag, "gpu", "", "GPU preset or size (default: the strategy's)")
	return c
}

func writePersona(s *strategy.Strategy, cat *catalog.Catalog, p strategy.Persona, m *strategy.Model, force bool) error {
	data, err := os.ReadFile(s.Source)
	if err != nil {
		return err
	}
	out, err := strategy.AddPersona(data, s.Source, p, m, force, catalog.Builtin())
	if errors.Is(err, strategy.ErrPersonaExists) {
		return usageErr("%v", err)
	}
	if err != nil {
		return err
	}
	return strategy.WriteFileAtomic(s.Source, out)
}

func writeNewResult(w io.Writer, res newResult) error {
	rec := res.Recommendation
	r := rec.Role
	fmt.Fprintf(w, "Role: %s (matched: %s); context %d", strings.Join(r.Kinds, " + "), orDash(strings.Join(r.Matched, ", ")), r.Ctx)
	if r.SpeedCritical {
		fmt.Fprint(w, "; speed-critical")
	}
	if r.PTBR {
		fmt.Fprint(w, "; PT-BR")
	}
	fmt.Fprintf(w, "\nWeights: %s\n\n", weights(r.Weights))
	writeRanking(w, rec.Candidates, 8)
	fmt.Fprintln(w, "\nWhy:")
	for _, e := range rec.Explain {
		fmt.Fprintf(w, "  - %s\n", e)
	}
	if b := rec.Best(); b != nil {
		for _, n := range b.Notes {
			fmt.Fprintf(w, "  - %s: %s\n", b.Model, n)
		}
		for _, q := range b.QuantWhy {
			fmt.Fprintf(w, "  - quant: %s\n", q)
		}
	}
	if len(rec.Missing) > 0 {
		fmt.Fprintln(w, "Missing evidence:")
		for _, m := range rec.Missing {
			fmt.Fprintf(w, "  - %s\n", m)
		}
	}
	if res.Persona != nil {
		fmt.Fprintln(w, "\nDraft (add with --write):")
		if res.AddsModel != nil {
			fmt.Fprintf(w, "  also adds %s %s at %d context to models:\n", res.AddsModel.ID, res.AddsModel.Quant, res.AddsModel.Context)
		}
		b, err := yaml.Marshal([]strategy.Persona{*res.Persona})
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if res.Written != "" {
		fmt.Fprintf(w, "\nWrote %s to %s.\n", res.Persona.Name, res.Written)
	}
	if res.Synced {
		fmt.Fprintf(w, "Created %s in Ollama.\n", res.Persona.Name)
	}
	return nil
}

// writeRanking prints the top n candidates as a table.
func writeRanking(w io.Writer, cs []persona.Candidate, n int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tMODEL\tQUANT\tCTX\tGiB\tVERDICT\tCAPABILITY\tFIT\tSPEED\tSWAP\tSCORE\tNOTES")
	for i, c := range cs {
		if i >= n {
			break
		}
		notes := strings.Join(c.Notes, "; ")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n", i+1, c.Model, c.Quant, c.Ctx,
			float64(c.TotalBytes)/estimate.GiB, c.Verdict, c.Capability, c.Fit, c.Speed, c.Swap, c.Score, notes)
	}
	tw.Flush()
}

func newPersonaListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the strategy's personas with their base model and detected role",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, _, err := g.loadStrategy(c.ErrOrStderr())
			if err != nil {
				return err
			}
			type row struct {
				strategy.Persona
				Ctx  int      `json:"ctx"`
				Role []string `json:"role"`
			}
			var rows []row
			for i := range s.Personas {
				p := &s.Personas[i]
				rows = append(rows, row{*p, s.PersonaContext(p), persona.Detect(persona.RoleText(p)).Kinds})
			}
			if g.json {
				return writeJSON(c.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PERSONA\tMODEL\tCTX\tROLE\tNOTE")
			for _, r := range rows {
				note := r.Rationale
				if r.Pending != "" {
					note = "pending: " + r.Pending
				}
				if r.Frontier != "" {
					note += " (frontier: " + r.Frontier + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.Name, orDash(r.Model), r.Ctx, strings.Join(r.Role, "+"), note)
			}
			return tw.Flush()
		},
	}
}

func newPersonaShowCmd(g *globals) *cobra.Command {
	var gpuFlag string
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one persona and how its base model ranks for its role",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, env, err := personaEnv(g, gpuFlag, c.ErrOrStderr())
			if err != nil {
				return err
			}
			p, ok := s.Persona(args[0])
			if !ok {
				var names []string
				for _, q := range s.Personas {
					names = append(names, q.Name)
				}
				return usageErr("no persona %q; known: %s", args[0], strings.Join(names, ", "))
			}
			a, err := persona.CheckOne(env, p)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(c.OutOrStdout(), struct {
					Persona *strategy.Persona `json:"persona"`
					Audit   persona.Audit     `json:"audit"`
				}{p, a})
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "%s on %s (%d context)\n", p.Name, orDash(p.Model), a.Ctx)
			if p.System != "" {
				fmt.Fprintf(w, "System:\n  %s\n", strings.ReplaceAll(p.System, "\n", "\n  "))
			}
			if len(p.Parameters) > 0 {
				fmt.Fprintf(w, "Parameters: %v\n", p.Parameters)
			}
			fmt.Fprintln(w)
			writeAudits(w, []persona.Audit{a})
			return nil
		},
	}
	c.Flags().StringVar(&gpuFlag, "gpu", "", "GPU preset or size (default: the strategy's)")
	return c
}

func newPersonaCheckCmd(g *globals) *cobra.Command {
	var gpuFlag string
	c := &cobra.Command{
		Use:   "check",
		Short: "Audit each persona's base model against its role and the GPU",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, env, err := personaEnv(g, gpuFlag, c.ErrOrStderr())
			if err != nil {
				return err
			}
			as, err := persona.Check(env)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(c.OutOrStdout(), as)
			}
			writeAudits(c.OutOrStdout(), as)
			return nil
		},
	}
	c.Flags().StringVar(&gpuFlag, "gpu", "", "GPU preset or size (default: the strategy's)")
	return c
}

func writeAudits(w io.Writer, as []persona.Audit) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSONA\tROLE\tCURRENT\tCTX\tFITS\tSCORE\tBEST\tSCORE\tVERDICT")
	for _, a := range as {
		fits := string(a.CurrentVerdict)
		if a.Current == "" {
			fits = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%s\n", a.Persona, strings.Join(a.Role, "+"), orDash(a.Current),
			a.Ctx, fits, score(a.CurrentScore), orDash(a.Best), a.BestScore, a.Verdict)
	}
	tw.Flush()
	for _, a := range as {
		fmt.Fprintf(w, "\n%s: %s\n", a.Persona, a.Verdict)
		for _, y := range a.Why {
			fmt.Fprintf(w, "  - %s\n", y)
		}
		if len(a.Ranked) > 0 {
			var b strings.Builder
			writeRanking(&b, a.Ranked, len(a.Ranked))
			fmt.Fprint(w, "  "+strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\n", "\n  ")+"\n")
		}
		for _, m := range a.Missing {
			fmt.Fprintf(w, "  missing: %s\n", m)
		}
	}
}

func weights(w map[string]float64) string {
	var parts []string
	for _, k := range persona.Keys {
		if w[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, w[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func score(f float64) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", f)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
