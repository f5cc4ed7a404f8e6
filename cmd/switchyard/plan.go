package main

import (
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/plan"
)

type planOptions struct {
	gpu      string
	headroom float64
}

func newPlanCmd(g *globals) *cobra.Command {
	o := &planOptions{}
	c := &cobra.Command{
		Use:   "plan",
		Short: "Check the strategy: VRAM per model, the plan's own figures, disk, co-residency, warnings",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, args []string) error { return runPlan(c, g, o) },
	}
	c.Flags().StringVar(&o.gpu, "gpu", "", "GPU preset or size (e.g. rtx3060-12g, 16g, detect); default: the strategy's")
	c.Flags().Float64Var(&o.headroom, "headroom", plan.DefaultHeadroom, "fraction of VRAM kept free when solving for the longest context")
	return c
}

func runPlan(c *cobra.Command, g *globals, o *planOptions) error {
	if o.headroom <= 0 || o.headroom >= 1 {
		return usageErr("--headroom must be between 0 and 1, got %v", o.headroom)
	}
	s, cat, err := g.loadStrategy(c.ErrOrStderr())
	if err != nil {
		return err
	}
	card, err := resolveGPU(o.gpu, s)
	if err != nil {
		return err
	}
	if o.gpu == "" {
		noteDetectedGPU(c.Context(), c.ErrOrStderr(), card)
	}
	dir := ollama.ModelsDir()
	exists, free, derr := ollama.DiskFree(dir)
	disk := plan.Disk{Dir: dir, Exists: exists, FreeBytes: free}
	if derr != nil {
		disk.Err = derr.Error()
	}
	r, err := plan.Build(plan.Input{Strategy: s, Catalog: cat, GPU: card, Disk: disk, Headroom: o.headroom})
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(c.OutOrStdout(), r)
	}
	return r.WriteText(c.OutOrStdout())
}
