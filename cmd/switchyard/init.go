package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/strategy"
)

func newInitCmd(g *globals) *cobra.Command {
	var path string
	var force bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Write the default strategy (the seed plan) to a file you can edit",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if path == "" {
				p, err := strategy.DefaultPath()
				if err != nil {
					return err
				}
				path = p
			}
			if _, err := os.Stat(path); err == nil && !force {
				return usageErr("%s already exists; use --force to overwrite it", path)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			// Write to a temp file and rename, so an interrupted init never
			// leaves half a strategy behind.
			tmp := path + ".tmp"
			if err := os.WriteFile(tmp, strategy.DefaultYAML(), 0o644); err != nil {
				return err
			}
			if err := os.Rename(tmp, path); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", path)
			return nil
		},
	}
	c.Flags().StringVar(&path, "path", "", "where to write (default: $SWITCHYARD_STRATEGY, else <config dir>/switchyard/strategy.yaml)")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return c
}
