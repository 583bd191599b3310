// Package jsiinode points the jsii runtime at the Node.js that package.json
// pins (node_modules/.bin/node), so that synth and tests never run on an
// older system Node.js and never print its end-of-life banner. Import it for
// its side effect, before the first CDK call. JSII_NODE set by the user wins.
package jsiinode

import (
	"os"
	"path/filepath"
)

const envVar = "JSII_NODE"

func init() {
	if os.Getenv(envVar) != "" {
		return
	}
	if node := Find(); node != "" {
		os.Setenv(envVar, node)
	}
}

// Find returns the pinned node binary in the nearest node_modules/.bin at or
// above the working directory, or "" when there is none.
func Find() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		node := filepath.Join(dir, "node_modules", ".bin", "node")
		if info, err := os.Stat(node); err == nil && !info.IsDir() {
			return node
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
