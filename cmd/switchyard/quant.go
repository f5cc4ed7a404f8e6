package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/advise"
	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/plan"
)

func newQuantCmd(g *globals) *cobra.Command {
	var ctx int
	var speed bool
	var gpuFlag string
	c := &cobra.Command{
		Use:   "quant MODEL",
		Short: "Recommend the best-quality quantization that fits, with the alternatives and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, cat, err := g.loadStrategy(c.ErrOrStderr())
			if err != nil {
				return err
			}
			card, err := resolveGPU(gpuFlag, s)
			if err != nil {
				return err
			}
			id := args[0]
			if pm, ok := s.Model(id); ok {
				id = pm.CatalogID()
				if ctx == 0 {
					ctx = pm.Context
				}
			}
			m, ok := cat.Get(id)
			if !ok {
				return usageErr("unknown model %q; known: %s", args[0], strings.Join(cat.IDs(), ", "))
			}
			if ctx == 0 {
				ctx = 4096
			}
			if ctx < 0 {
				return usageErr("--ctx must be positive")
			}
			adv, err := advise.Quant(advise.QuantRequest{
				Model: m, Ctx: ctx, SpeedCritical: speed,
				VRAMBytes:     int64(card.VRAMMiB-s.Hardware.ReserveMiB) * estimate.MiB,
				ResidentBytes: plan.PinnedBytes(s, cat, m.ID), Base: plan.Options(s.Hardware, "", ctx), Siblings: siblings(cat, m),
			})
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(c.OutOrStdout(), adv)
			}
			return writeQuantAdvice(c.OutOrStdout(), m, card.Name, adv)
		},
	}
	c.Flags().IntVar(&ctx, "ctx", 0, "context the model must hold (default: the strategy's, else 4096)")
	c.Flags().BoolVar(&speed, "speed-critical", false, "speed matters more than depth (autocomplete, classification)")
	c.Flags().StringVar(&gpuFlag, "gpu", "", "GPU preset or size (e.g. rtx3060-12g, 16g, detect)")
	return c
}

func siblings(cat *catalog.Catalog, m *catalog.Model) []*catalog.Model {
	var out []*catalog.Model
	for _, o := range cat.All() {
		if o.ID != m.ID && o.Family != "" && o.Family == m.Family {
			out = append(out, o)
		}
	}
	return out
}

func writeQuantAdvice(w io.Writer, m *catalog.Model, gpuName string, a advise.QuantAdvice) error {
	rec := a.Recommended
	if rec == "" {
		rec = "none fits"
	}
	if _, err := fmt.Fprintf(w, "%s on %s with %d context: %s\n\n", m.Name, gpuName, a.Ctx, rec); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUANT\tTOTAL GiB\tWITH PINNED\tVERDICT\tKL DIV\tPPL +\tSPEED vs Q4_K_M\t")
	for _, c := range a.Choices {
		mark := ""
		if c.Quant == a.Recommended {
			mark = "<- recommended"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.0f%%\t%s\t%.4f\t%.3f\t%.2fx\t%s\n", c.Quant, float64(c.Total)/estimate.GiB,
			c.Fraction*100, c.Verdict, c.KLD, c.PPLDelta, c.RelSpeed, mark)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nWhy:")
	for _, y := range a.Why {
		fmt.Fprintf(w, "  - %s\n", y)
	}
	if a.GuideSays != "" {
		agree := "agrees"
		if !a.Agrees {
			agree = "disagrees"
		}
		fmt.Fprintf(w, "Seed guide: %s — switchyard %s.\n", a.GuideSays, agree)
	}
	for _, s := range a.Speed {
		fmt.Fprintf(w, "Speed: %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}
