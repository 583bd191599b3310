package main

import "ecs-bluegreen/internal/guardexceptions"

// outcome is the failures held against the exceptions.
type outcome struct {
	excepted   int            // failures matched by at least one pattern
	uses       []int          // per entry, the failures its patterns matched
	matched    []match        // the excepted failures, in order
	unexpected []failure      // failures no entry matches
	stale      []stalePattern // patterns that match no failure
}

type match struct {
	failure failure
	lines   []int // the lines of the entries that match it
}

type stalePattern struct {
	entry   guardexceptions.Entry
	pattern string
}

// hold matches every failure against the entries of the same rule. A failure
// may match several patterns and entries; each pattern must match at least
// one failure.
func hold(failures []failure, entries []guardexceptions.Entry) outcome {
	out := outcome{uses: make([]int, len(entries))}
	used := make([][]int, len(entries))
	for i, e := range entries {
		used[i] = make([]int, len(e.Resources))
	}
	for _, f := range failures {
		var lines []int
		for i, e := range entries {
			if e.Rule != f.rule {
				continue
			}
			hit := false
			for j, p := range e.Resources {
				if guardexceptions.Match(p, f.target()) {
					used[i][j]++
					out.uses[i]++
					hit = true
				}
			}
			if hit {
				lines = append(lines, e.Line)
			}
		}
		if len(lines) > 0 {
			out.excepted++
			out.matched = append(out.matched, match{failure: f, lines: lines})
		} else {
			out.unexpected = append(out.unexpected, f)
		}
	}
	for i, e := range entries {
		for j, p := range e.Resources {
			if used[i][j] == 0 {
				out.stale = append(out.stale, stalePattern{entry: e, pattern: p})
			}
		}
	}
	return out
}
