package test

import (
	"reflect"
	"testing"
)

// The JSON helpers of json_test.go on literal values: the tests that use
// them read templates through them, so a helper that answers nil or nothing
// would let those tests pass without looking.

func TestDigAndAsList(t *testing.T) {
	doc := map[string]any{"Properties": map[string]any{"Name": "web", "Tags": []any{"a"}}}
	rows := []struct {
		name      string
		got, want any
	}{
		{"dig follows keys", dig(doc, "Properties", "Name"), "web"},
		{"dig without a path is the value", dig("x"), "x"},
		{"dig stops at a missing key", dig(doc, "Properties", "Missing", "Deeper"), nil},
		{"dig stops at a non-object", dig(doc, "Properties", "Name", "Deeper"), nil},
		{"asList keeps a list", asList([]any{"a", "b"}), []any{"a", "b"}},
		{"asList reads one item as a list of one", asList("s3:GetObject"), []any{"s3:GetObject"}},
		{"asList reads an object as a list of one", asList(map[string]any{"Ref": "X"}), []any{map[string]any{"Ref": "X"}}},
		{"asList reads nil as no items", len(asList(nil)), 0},
		{"asMap of a non-object is nil", asMap("x") == nil, true},
		{"containsValue compares deeply", containsValue([]any{map[string]any{"Ref": "A"}}, map[string]any{"Ref": "A"}), true},
		{"containsValue finds no absent value", containsValue([]any{"a"}, "*"), false},
		{"normalize makes numbers float64", normalize(map[string]int{"n": 1}), map[string]any{"n": 1.0}},
		{"sortedStrings sorts the items' text", sortedStrings([]any{"b", 2.0, "a"}), []string{"2", "a", "b"}},
	}
	for _, r := range rows {
		if !reflect.DeepEqual(r.got, r.want) {
			t.Errorf("%s: got %#v, want %#v", r.name, r.got, r.want)
		}
	}
}

func TestReferencedIDs(t *testing.T) {
	rows := []struct {
		name  string
		value any
		want  []string
	}{
		{"Ref", map[string]any{"Ref": "Bucket"}, []string{"Bucket"}},
		{"Fn::GetAtt", map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}, []string{"Role"}},
		{"Fn::Sub string", map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${Role.Arn}/${!Literal}"}, []string{"AWS::Partition", "Bucket", "Role"}},
		{"Fn::Sub with variables", map[string]any{"Fn::Sub": []any{"${Queue}", map[string]any{"X": map[string]any{"Ref": "Topic"}}}}, []string{"Queue", "Topic"}},
		{"nested in Fn::Join, in key order", map[string]any{
			"B": map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": "Second"}}}},
			"A": []any{map[string]any{"Ref": "First"}},
		}, []string{"First", "Second"}},
		{"literals refer to nothing", map[string]any{"Name": "Ref", "List": []any{"Fn::GetAtt"}}, nil},
	}
	for _, r := range rows {
		if got := referencedIDs(r.value); !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: got %v, want %v", r.name, got, r.want)
		}
	}
}

func TestIntrinsicsReportsPaths(t *testing.T) {
	v := map[string]any{"Statement": []any{
		map[string]any{"Resource": map[string]any{"Fn::ImportValue": "shared-arn"}},
	}}
	var got []string
	intrinsics(v, "PolicyDocument", func(path, fn string, arg any) { got = append(got, path+" "+fn+" "+compact(arg)) })
	if want := []string{`PolicyDocument/Statement/0/Resource Fn::ImportValue "shared-arn"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
