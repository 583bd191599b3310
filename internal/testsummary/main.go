// Command testsummary reads `go test -json` on standard input and prints what
// a reader of `make test` needs: one line per package, the summary lines the
// tests print themselves (counts of syntheses, suppressions, checks), and the
// whole output of every failing test. It exits non-zero when anything failed.
//
//	go test -json ./... | go run ./internal/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
	// ImportPath names the package of build events.
	ImportPath string
}

// summaryPrefixes start the lines tests print for the record.
var summaryPrefixes = []string{"nag: ", "test: "}

func main() {
	outputs := map[string][]string{} // package/test -> output lines
	failed := false
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			fmt.Println(in.Text()) // build errors arrive as plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			outputs[key] = append(outputs[key], e.Output)
			for _, p := range summaryPrefixes {
				if strings.HasPrefix(e.Output, p) {
					fmt.Printf("  %s", e.Output)
				}
			}
		case "fail":
			failed = true
			if e.Test != "" {
				fmt.Printf("--- FAIL: %s %s\n%s", e.Package, e.Test, strings.Join(outputs[key], ""))
			} else {
				fmt.Printf("FAIL\t%s\t%.1fs\n%s", e.Package, e.Elapsed, strings.Join(outputs[key], ""))
			}
		case "pass":
			if e.Test == "" {
				fmt.Printf("ok\t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
			delete(outputs, key)
		case "build-output":
			fmt.Print(e.Output)
		case "build-fail":
			failed = true
		case "skip":
			if e.Test == "" {
				fmt.Printf("?\t%s\t[no test files]\n", e.Package)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}
