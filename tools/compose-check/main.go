// compose-check validates a compose file the way `docker compose config` does (compose-go is the
// library Docker Compose v2 loads files with), for machines without a Docker engine or plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check docker-compose.yml")
		os.Exit(2)
	}
	path, err := filepath.Abs(os.Args[1])
	if err == nil {
		var options *cli.ProjectOptions
		options, err = cli.NewProjectOptions([]string{path}, cli.WithOsEnv, cli.WithWorkingDirectory(filepath.Dir(path)), cli.WithName("temporal-hume"))
		if err == nil {
			var project interface{ ServiceNames() []string }
			project, err = options.LoadProject(context.Background())
			if err == nil {
				fmt.Println(project.ServiceNames())
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
