package test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
)

// Helpers over decoded JSON (templates, policies, API answers), used by
// every test of the package. They synthesize nothing and assert nothing;
// json_self_test.go holds their own tests.

// dig walks nested maps: dig(r, "Properties", "Name"). It returns nil as
// soon as a step is not a map or lacks the key.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// asMap is v if it is an object, else nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asList reads a value that CloudFormation and IAM accept as one item or a
// list of them (a statement's Action, Resource or Principal, DependsOn): a
// list as it is, nil as no items, anything else as a list of one.
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// containsValue tells whether a list holds a value equal to v.
func containsValue(list []any, v any) bool {
	for _, e := range list {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

// sortedStrings is the text of each item of a list, sorted.
func sortedStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	sort.Strings(out)
	return out
}

// normalize round-trips a value through JSON, so that a resolved token, a Go
// struct and a decoded template value compare equal with reflect.DeepEqual
// (numbers become float64, structs maps).
func normalize(v any) any {
	var out any
	if err := json.Unmarshal(mustJSON(v), &out); err != nil {
		panic(err)
	}
	return out
}

// mustJSON is the canonical text of a value (map keys sorted).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// compact is mustJSON for a message, cut at 600 characters.
func compact(v any) string {
	s := string(mustJSON(v))
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

// intrinsics calls visit for every intrinsic function call inside a template
// value, outermost first, in a stable order: the call's path (JSON-pointer
// style, from path), the function's name ("Ref", "Fn::GetAtt", ...) and its
// argument.
func intrinsics(v any, path string, visit func(path, fn string, arg any)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "Ref" || (len(k) > 4 && k[:4] == "Fn::") {
				visit(path, k, x[k])
			}
			intrinsics(x[k], path+"/"+k, visit)
		}
	case []any:
		for i, e := range x {
			intrinsics(e, fmt.Sprintf("%s/%d", path, i), visit)
		}
	}
}

// subReference is a ${Name} or ${Name.Attribute} of an Fn::Sub string;
// ${!Literal} is no reference.
var subReference = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(\.[A-Za-z0-9.]+)?\}`)

// referencedIDs lists the names a template value refers to, through Ref,
// Fn::GetAtt and Fn::Sub: logical IDs, parameters and pseudo parameters.
func referencedIDs(v any) []string {
	var ids []string
	intrinsics(v, "", func(_, fn string, arg any) {
		switch fn {
		case "Ref":
			ids = append(ids, fmt.Sprint(arg))
		case "Fn::GetAtt":
			if l := asList(arg); len(l) > 0 {
				ids = append(ids, fmt.Sprint(l[0]))
			}
		case "Fn::Sub":
			s := arg
			if l, ok := arg.([]any); ok && len(l) > 0 {
				s = l[0]
			}
			for _, m := range subReference.FindAllStringSubmatch(fmt.Sprint(s), -1) {
				ids = append(ids, m[1])
			}
		}
	})
	return ids
}
