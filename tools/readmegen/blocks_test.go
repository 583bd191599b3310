package main

import (
	"strings"
	"testing"
)

func TestReplaceBlocks(t *testing.T) {
	readme := "# Title\n\n<!-- a:start (old note) -->\nstale\n<!-- a:end -->\n\nprose\n<!-- b:start -->\n<!-- b:end -->\n"
	blocks := []block{
		{name: "a", source: "x", content: "| new |\n"},
		{name: "b", source: "y", content: "line 1\nline 2\n"},
	}
	got, err := replaceBlocks(readme, blocks)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\n" +
		"<!-- a:start: generated from x by go generate ./... (tools/readmegen); do not edit -->\n| new |\n<!-- a:end -->\n\n" +
		"prose\n" +
		"<!-- b:start: generated from y by go generate ./... (tools/readmegen); do not edit -->\nline 1\nline 2\n<!-- b:end -->\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Writing the same blocks again changes nothing.
	if again, err := replaceBlocks(got, blocks); err != nil || again != got {
		t.Errorf("second run changed the text (%v):\n%s", err, again)
	}
}

func TestReplaceBlocksNamesEveryMissingMarker(t *testing.T) {
	readme := "<!-- a:start -->\nno end\n<!-- c:start -->\n<!-- c:end -->\n<!-- c:start -->\n<!-- c:end -->\n"
	_, err := replaceBlocks(readme, []block{{name: "a"}, {name: "b"}, {name: "c"}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"no <!-- a:end --> marker", "no <!-- b:start... marker", "two <!-- c:start... markers"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestMarkersOnlyAtTheStartOfALine(t *testing.T) {
	// A marker quoted in prose is not a marker.
	readme := "write `<!-- a:start -->` to start\n<!-- a:start -->\nold\n<!-- a:end -->\n"
	got, err := replaceBlocks(readme, []block{{name: "a", source: "x", content: "new\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "write `<!-- a:start -->` to start\n") || !strings.Contains(got, "\nnew\n<!-- a:end -->\n") {
		t.Errorf("got\n%s", got)
	}
}
