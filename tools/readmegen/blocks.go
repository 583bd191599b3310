package main

import (
	"fmt"
	"strings"
)

// block is one generated part of the README.
type block struct {
	name    string // the marker's name: <!-- name:start ... -->
	source  string // what it is generated from, named in the start marker
	content string // the lines between the markers, each ending in "\n"
}

func (b block) startMarker() string {
	return fmt.Sprintf("<!-- %s:start: generated from %s by go generate ./... (tools/readmegen); do not edit -->", b.name, b.source)
}

func endMarker(name string) string { return "<!-- " + name + ":end -->" }

// span finds a block's markers: the start of its start marker's line, the
// start of its content and the start of its end marker's line.
func span(text, name string) (start, content, end int, err error) {
	prefix := "<!-- " + name + ":start"
	start = lineStarting(text, prefix, 0)
	if start < 0 {
		return 0, 0, 0, fmt.Errorf("no %s... marker", prefix)
	}
	if lineStarting(text, prefix, start+1) >= 0 {
		return 0, 0, 0, fmt.Errorf("two %s... markers", prefix)
	}
	nl := strings.IndexByte(text[start:], '\n')
	if nl < 0 {
		return 0, 0, 0, fmt.Errorf("no %s marker after %s", endMarker(name), prefix)
	}
	content = start + nl + 1
	end = lineStarting(text, endMarker(name), content)
	if end < 0 {
		return 0, 0, 0, fmt.Errorf("no %s marker after %s", endMarker(name), prefix)
	}
	return start, content, end, nil
}

// lineStarting is the offset of the first line at or after from that starts
// with prefix, or -1.
func lineStarting(text, prefix string, from int) int {
	for i := from; i < len(text); {
		if (i == 0 || text[i-1] == '\n') && strings.HasPrefix(text[i:], prefix) {
			return i
		}
		nl := strings.IndexByte(text[i:], '\n')
		if nl < 0 {
			return -1
		}
		i += nl + 1
	}
	return -1
}

// blockContent is the text between a block's markers.
func blockContent(text, name string) (string, error) {
	_, content, end, err := span(text, name)
	if err != nil {
		return "", err
	}
	return text[content:end], nil
}

// replaceBlocks writes each block's markers and content into text.
func replaceBlocks(text string, blocks []block) (string, error) {
	var problems []string // every missing marker, not only the first
	for _, b := range blocks {
		start, _, end, err := span(text, b.name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		text = text[:start] + b.startMarker() + "\n" + b.content + text[end:]
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return text, nil
}
