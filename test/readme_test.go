package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ecs-bluegreen/config"
	"ecs-bluegreen/test/testapp"
)

// TestReadmeConfigurationTableMatchesTheCode fails when a context key is
// added, removed or has its default changed without the README following.
func TestReadmeConfigurationTableMatchesTheCode(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testapp.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "<!-- config-table:start")
	end := strings.Index(readme, "<!-- config-table:end -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no config-table markers")
	}
	table := readme[start:end]
	table = table[strings.Index(table, "\n")+1:]
	if want := config.MarkdownTable(); table != want {
		t.Errorf("README configuration table is out of date; regenerate it with `go run ./tools/configdoc`.\n got:\n%s\nwant:\n%s", table, want)
	}
	for _, k := range config.Keys() {
		if !strings.Contains(table, "| `"+k.Name+"` |") {
			t.Errorf("key %s is not documented in README.md", k.Name)
		}
	}
}
