package config

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/jsii-runtime-go"
)

// reader fetches typed values from context, records every key it is asked for
// (with its default and description) and gathers problems instead of stopping
// at the first.
type reader struct {
	ctx      Context
	keys     []Key
	known    map[string]bool
	problems []error
}

func newReader(ctx Context) *reader {
	return &reader{ctx: ctx, known: map[string]bool{}}
}

func (r *reader) declare(key, def, doc string) {
	r.known[key] = true
	r.keys = append(r.keys, Key{Name: key, Default: def, Description: doc})
}

func (r *reader) fail(key string, value any, allowed string) {
	r.problems = append(r.problems, problem(key, value, allowed))
}

// retire reports a key the app read once and reads no more, with what
// replaces it: a value set for it is an error, not a silently ignored key.
// The key is not listed among the keys the app reads.
func (r *reader) retire(key, instead string) {
	r.known[key] = true
	all, _ := r.ctx.GetAllContext(nil).(map[string]any)
	if v, ok := all[key]; ok {
		r.fail(key, v, instead)
	}
}

// raw returns the value set for key, or nil when the key is unset. An empty
// string counts as set: "-c project=" is a mistake worth reporting.
func (r *reader) raw(key string) any {
	return r.ctx.TryGetContext(jsii.String(key))
}

// str reads a string key. check returns "" when the value is fine, otherwise
// a description of what is allowed.
func (r *reader) str(key, def, doc string, check func(string) string) string {
	r.declare(key, displayDefault(def), doc)
	v := r.raw(key)
	if v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, v, "must be a string")
		return def
	}
	s = strings.TrimSpace(s)
	if check != nil {
		if msg := check(s); msg != "" {
			r.fail(key, s, msg)
		}
	}
	return s
}

// integer reads a whole-number key given as a JSON number or a decimal string.
func (r *reader) integer(key string, def int, doc string, check func(int) string) int {
	r.declare(key, strconv.Itoa(def), doc)
	v := r.raw(key)
	if v == nil {
		return def
	}
	var n int
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1e9 {
			r.fail(key, v, "must be a whole number")
			return def
		}
		n = int(x)
	case string:
		parsed, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			r.fail(key, v, "must be a whole number")
			return def
		}
		n = parsed
	default:
		r.fail(key, v, "must be a whole number")
		return def
	}
	if check != nil {
		if msg := check(n); msg != "" {
			r.fail(key, v, msg)
		}
	}
	return n
}

// boolean reads a true/false key given as a JSON boolean or as the string
// "true" or "false" (as -c key=value passes it).
func (r *reader) boolean(key string, def bool, doc string) bool {
	r.declare(key, strconv.FormatBool(def), doc)
	switch v := r.raw(key).(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		switch strings.TrimSpace(v) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	r.fail(key, r.raw(key), "must be true or false")
	return def
}

// jsonValue reads a key whose value is JSON: a structured value in cdk.json,
// or a JSON string given with -c. It decodes into out.
func (r *reader) jsonValue(key, def, doc string, out any) bool {
	r.declare(key, def, doc)
	v := r.raw(key)
	var data []byte
	switch x := v.(type) {
	case nil:
		data = []byte(def)
	case string:
		data = []byte(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			r.fail(key, fmt.Sprint(v), "must be JSON")
			return false
		}
		data = b
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	err := dec.Decode(out)
	if err == nil && dec.More() {
		err = fmt.Errorf("unexpected data after the JSON value")
	}
	if err == nil {
		// dec.More misses a stray closing bracket; anything left must be blank.
		if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" {
			err = fmt.Errorf("unexpected data after the JSON value")
		}
	}
	if err != nil {
		r.fail(key, string(data), fmt.Sprintf("is not valid JSON for this key (%v)", err))
		return false
	}
	return true
}

func displayDefault(def string) string {
	if def == "" {
		return "(empty)"
	}
	return def
}

// unknownKeyWarnings returns a warning for each context key that the app does
// not read and that looks like one of its own (not a CDK feature flag or a CLI
// setting), with the closest known key as a suggestion.
func (r *reader) unknownKeyWarnings() []string {
	all, _ := r.ctx.GetAllContext(nil).(map[string]any)
	var warnings []string
	for _, key := range slices.Sorted(maps.Keys(all)) {
		if r.known[key] || strings.HasPrefix(key, "@") || strings.Contains(key, ":") {
			continue
		}
		if best, dist := r.closest(key); best != "" && dist <= 3 {
			warnings = append(warnings, fmt.Sprintf("unknown context key %q is ignored; did you mean %q?", key, best))
		} else {
			warnings = append(warnings, fmt.Sprintf("unknown context key %q is ignored (see README, Configuration, for the keys this app reads)", key))
		}
	}
	return warnings
}

func (r *reader) closest(key string) (string, int) {
	best, bestDist := "", math.MaxInt
	for _, k := range r.keys {
		if d := levenshtein(strings.ToLower(key), strings.ToLower(k.Name)); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best, bestDist
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
