// Command configdoc prints the README's configuration table from the keys
// the config package reads: `go run ./tools/configdoc`.
package main

import (
	"fmt"

	"ecs-bluegreen/config"
)

func main() {
	fmt.Print(config.MarkdownTable())
}
