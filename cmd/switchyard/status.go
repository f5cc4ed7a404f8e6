package main

import (
	"context"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/syncer"
)

func init() { extraCommands = append(extraCommands, newStatusCmd) }

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show declared vs installed vs loaded models and personas in Ollama ($OLLAMA_HOST)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, args []string) error { return runStatus(c, g) },
	}
}

// connect reaches Ollama at $OLLAMA_HOST; not reachable is a failure (1)
// with the hint to start it.
func connect(ctx context.Context) (*ollama.Client, string, error) {
	cl, err := ollama.NewClient("")
	if err != nil {
		return nil, "", usageErr("%v", err)
	}
	v, err := cl.Version(ctx)
	if err != nil {
		return nil, "", withCode(exitFailure, err)
	}
	return cl, v, nil
}

// managedFor loads the record of personas switchyard created on cl.
func managedFor(cl *ollama.Client) (*ollama.Managed, []string, error) {
	m, err := ollama.LoadManaged()
	if err != nil {
		return nil, nil, withCode(exitFailure, err)
	}
	return m, m.Personas(cl.URL), nil
}

func runStatus(c *cobra.Command, g *globals) error {
	ctx := c.Context()
	s, cat, err := g.loadStrategy(c.ErrOrStderr())
	if err != nil {
		return err
	}
	cl, version, err := connect(ctx)
	if err != nil {
		return err
	}
	installed, err := cl.List(ctx)
	if err != nil {
		return withCode(exitFailure, err)
	}
	running, err := cl.ListRunning(ctx)
	if err != nil {
		return withCode(exitFailure, err)
	}
	shows := map[string]*api.ShowResponse{}
	for _, m := range installed {
		// A model removed between the two calls is simply left out.
		if sh, err := cl.Show(ctx, m.Name); err == nil {
			shows[m.Name] = sh
		}
	}
	_, managed, err := managedFor(cl)
	if err != nil {
		return err
	}
	st := syncer.BuildStatus(syncer.StatusInput{
		Strategy: s, Catalog: cat, Host: cl.URL, Version: version,
		Installed: installed, Running: running, Shows: shows, Managed: managed,
	})
	if g.json {
		return writeJSON(c.OutOrStdout(), st)
	}
	return st.WriteText(c.OutOrStdout(), time.Now())
}
