package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/ollama"
	"github.com/switchyard/switchyard/internal/strategy"
	"github.com/switchyard/switchyard/internal/syncer"
)

func init() { extraCommands = append(extraCommands, newSyncCmd) }

type syncOptions struct {
	layer       int
	dryRun      bool
	prune       bool
	pruneModels []string
	force       bool
	insecure    bool
	// only limits the sync to one persona and the pull of its base model
	// (persona new --sync).
	only     string
	layerSet bool
}

// diskFree is replaced by tests to simulate a full disk.
var diskFree = ollama.DiskFree

func newSyncCmd(g *globals) *cobra.Command {
	o := &syncOptions{}
	c := &cobra.Command{
		Use:   "sync",
		Short: "Pull the strategy's models and create its personas in Ollama ($OLLAMA_HOST)",
		Long: `sync makes Ollama match the strategy: it pulls each planned (model, quant)
from the reference the strategy or catalog gives, then creates or updates
each persona (base model, system prompt, parameters, num_ctx). A second run
does nothing. Ctrl-C stops a pull; Ollama keeps what it downloaded and the
next sync resumes.

--prune deletes personas switchyard created that the strategy no longer
declares (recorded in $SWITCHYARD_STATE_DIR, else $XDG_STATE_HOME/switchyard,
else ~/.local/state/switchyard, file managed.json). Base models are deleted
only when named with --prune-model.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runSync(c, g, o) },
	}
	f := c.Flags()
	f.IntVar(&o.layer, "layer", 0, "pull only the layers up to N of the upgrade path (0: the daily drivers); default all layers")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVar(&o.prune, "prune", false, "delete personas switchyard created that the strategy no longer declares")
	f.StringArrayVar(&o.pruneModels, "prune-model", nil, "also delete this installed model (repeatable; refused for models the strategy uses)")
	f.BoolVar(&o.force, "force", false, "pull even when the estimated download exceeds the free disk space")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (a local registry)")
	return c
}

func runSync(c *cobra.Command, g *globals, o *syncOptions) error {
	s, cat, err := g.loadStrategy(c.ErrOrStderr())
	if err != nil {
		return err
	}
	if c.Flags().Changed("layer") {
		o.layerSet = true
	}
	return doSync(c.Context(), s, cat, o, g.json, c.OutOrStdout(), c.ErrOrStderr())
}

// syncOnePersona is persona new --sync: the persona and, if needed, the pull
// of its base model, through the same planner and executor as sync.
func syncOnePersona(ctx context.Context, s *strategy.Strategy, name string, insecure bool, out io.Writer) error {
	if _, ok := s.Persona(name); !ok {
		return fmt.Errorf("persona %q is not in %s", name, s.Source)
	}
	return doSync(ctx, s, s.CatalogWith(catalog.Builtin()), &syncOptions{only: name, insecure: insecure}, false, out, out)
}

func doSync(ctx context.Context, s *strategy.Strategy, cat *catalog.Catalog, o *syncOptions, jsonOut bool, stdout, stderr io.Writer) error {
	cl, _, err := connect(ctx)
	if err != nil {
		return err
	}
	installed, err := cl.List(ctx)
	if err != nil {
		return withCode(exitFailure, err)
	}
	personas := map[string]*api.ShowResponse{}
	for _, p := range s.Personas {
		sh, err := cl.Show(ctx, p.Name)
		switch {
		case err == nil:
			personas[p.Name] = sh
		case !errors.Is(err, ollama.ErrNotFound):
			return withCode(exitFailure, err)
		}
	}
	state, managed, err := managedFor(cl)
	if err != nil {
		return err
	}
	dir := ollama.ModelsDir()
	exists, free, derr := diskFree(dir)
	in := syncer.Input{
		Strategy: s, Catalog: cat, Installed: installed, Personas: personas,
		Disk:  syncer.Disk{Dir: dir, Known: exists && derr == nil, Free: free},
		Prune: o.prune, PruneModels: o.pruneModels, Force: o.force, Managed: managed,
	}
	if o.layerSet {
		in.Layer = &o.layer
	}
	p, err := syncer.Build(in)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.only != "" {
		p.Actions = onlyPersona(p.Actions, s, o.only)
	}
	if o.dryRun {
		return printPlan(stdout, jsonOut, p)
	}
	if msg := p.Disk.Refusal(); msg != "" {
		return withCode(exitFailure, errors.New(msg))
	}
	log := stdout
	if jsonOut {
		log = stderr
	}
	if !jsonOut {
		for _, a := range p.Actions {
			if a.Kind == syncer.Skip {
				fmt.Fprintln(stdout, syncer.Describe(a))
			}
		}
	}
	var res syncer.Result
	if p.Work() {
		res = syncer.Execute(ctx, p, syncer.ClientServer{Client: cl, Insecure: o.insecure}, reporterFor(log))
	}
	if err := recordManaged(state, cl.URL, res, installed, managed); err != nil {
		fmt.Fprintf(stderr, "warning: could not record created personas: %v\n", err)
	}
	if jsonOut {
		if err := writeJSON(stdout, struct {
			Plan   *syncer.Plan  `json:"plan"`
			Result syncer.Result `json:"result"`
		}{p, res}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, res.Summary(p))
	}
	if res.Partial(p) {
		return withCode(exitPartial, errors.New("sync incomplete (see above)"))
	}
	return nil
}

// recordManaged notes created personas and forgets deleted or vanished
// ones, so prune only ever touches what switchyard made.
// onlyPersona keeps the actions about one persona and the pull of its base.
func onlyPersona(actions []syncer.Action, s *strategy.Strategy, name string) []syncer.Action {
	base := ""
	if p, ok := s.Persona(name); ok {
		base = p.Model
	}
	var out []syncer.Action
	for _, a := range actions {
		if a.Persona == name || (a.Persona == "" && a.Model == base && a.Kind != syncer.Delete) {
			out = append(out, a)
		}
	}
	return out
}

func recordManaged(state *ollama.Managed, host string, res syncer.Result, installed []api.ListModelResponse, managed []string) error {
	names := make([]string, len(installed))
	for i, m := range installed {
		names[i] = m.Name
	}
	changed := false
	for _, n := range managed {
		if _, ok := ollama.FindName(names, n); !ok {
			state.Remove(host, n)
			changed = true
		}
	}
	for _, a := range res.Done {
		switch {
		case (a.Kind == syncer.Create || a.Kind == syncer.Update) && a.Spec != nil:
			state.Add(host, a.Spec.Name, a.Spec.From, time.Now())
			changed = true
		case a.Kind == syncer.Delete:
			state.Remove(host, a.Ref)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return state.Save()
}

func reporterFor(w io.Writer) syncer.Reporter {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &syncer.BarReporter{W: w}
	}
	return &syncer.LineReporter{W: w, Every: time.Second}
}

func printPlan(w io.Writer, asJSON bool, p *syncer.Plan) error {
	if asJSON {
		return writeJSON(w, p)
	}
	for _, a := range p.Actions {
		fmt.Fprintln(w, syncer.Describe(a))
	}
	d := p.Disk
	switch {
	case !d.Known:
		fmt.Fprintf(w, "disk: %s does not exist yet; need ~%s\n", d.Dir, syncer.Bytes(d.Needed))
	case d.OK:
		fmt.Fprintf(w, "disk: need ~%s, %s free in %s\n", syncer.Bytes(d.Needed), syncer.Bytes(d.Free), d.Dir)
	default:
		fmt.Fprintln(w, "disk: "+d.Refusal())
	}
	if !p.Work() {
		fmt.Fprintln(w, "nothing to do")
	}
	return nil
}
