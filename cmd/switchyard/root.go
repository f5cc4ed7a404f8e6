package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/gpu"
	"github.com/switchyard/switchyard/internal/strategy"
)

// globals are the flags every command takes.
type globals struct {
	strategyPath string
	json         bool
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "switchyard",
		Short:         "Plan, sync and serve a local LLM strategy for one GPU",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.strategyPath, "strategy", "", "strategy file (default: $SWITCHYARD_STRATEGY, else the user's config dir, else the embedded default)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of text")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v (see %s --help)", err, c.CommandPath()) })
	root.AddCommand(newInitCmd(g), newPlanCmd(g), newFitCmd(g), newQuantCmd(g))
	for _, add := range extraCommands {
		root.AddCommand(add(g))
	}
	return root
}

// extraCommands lets each subcommand file register itself.
var extraCommands []func(*globals) *cobra.Command

func isFlagError(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.Contains(s, "accepts ") || strings.Contains(s, "requires at least")
}

// loadStrategy finds and validates the strategy; a bad file is a usage error.
func (g *globals) loadStrategy(stderr io.Writer) (*strategy.Strategy, *catalog.Catalog, error) {
	base := catalog.Builtin()
	s, err := strategy.Resolve(g.strategyPath, base)
	if err != nil {
		return nil, nil, &exitError{exitUsage, err}
	}
	if !g.json {
		fmt.Fprintf(stderr, "using strategy: %s\n", s.Source)
	}
	return s, s.CatalogWith(base), nil
}

// resolveGPU picks the GPU: --gpu if given, else the strategy's preset or
// size.
func resolveGPU(flag string, s *strategy.Strategy) (gpu.GPU, error) {
	if flag == "detect" {
		found, err := gpu.Detect(context.Background())
		if err != nil {
			return gpu.GPU{}, fmt.Errorf("--gpu detect: %w", err)
		}
		return found[0], nil
	}
	if flag != "" {
		g, err := gpu.Lookup(flag)
		if err != nil {
			return gpu.GPU{}, usageErr("%v", err)
		}
		return g, nil
	}
	g := gpu.GPU{Name: s.Hardware.GPU, VRAMMiB: s.Hardware.VRAMMiB}
	if p, err := gpu.Lookup(s.Hardware.GPU); err == nil {
		g.Preset, g.Name = p.Preset, p.Name
	}
	return g, nil
}

// noteDetectedGPU says when nvidia-smi sees a card other than the one the
// strategy plans for; without nvidia-smi it says nothing.
func noteDetectedGPU(ctx context.Context, w io.Writer, planned gpu.GPU) {
	found, err := gpu.Detect(ctx)
	if err != nil || len(found) == 0 {
		return
	}
	d := found[0]
	if diff := d.VRAMMiB - planned.VRAMMiB; diff > 512 || diff < -512 {
		fmt.Fprintf(w, "note: nvidia-smi reports %s with %d MiB; the strategy plans for %d MiB (use --gpu detect to plan for this card)\n",
			d.Name, d.VRAMMiB, planned.VRAMMiB)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
