package provider

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// format renders a resource type's tags, sorted by key, in the shape its
// CloudFormation schema gives the Tags property.
type format func(keys []string, values map[string]string) any

// keyValueList is the [{"Key": k, "Value": v}] shape of most types.
func keyValueList(keys []string, values map[string]string) any {
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"Key": k, "Value": values[k]})
	}
	return out
}

// formats maps each resource type that CDK writes as a plain CfnResource to
// the format of its Tags property. A plain resource of a type not listed is
// left untagged, and the app's tags test names it.
var formats = map[string]format{
	"AWS::IAM::Role":        keyValueList,
	"AWS::Lambda::Function": keyValueList,
}

// tag gives a plain resource of a listed type the tags that Tags_Of would
// have given it, unless it renders a Tags property of its own (CDK's
// log-retention function does, from its construct's tag manager).
//
// It does not take tags of its own: it replays every Tags_Of(scope).Add and
// Tags_Of(scope).Remove made on the resource's scopes, in the order CDK
// applies them, onto a tag manager of the resource's type, and writes the
// result into the template in that type's CloudFormation format. Include
// and exclude lists, priorities and removals therefore mean what they mean
// for every other resource. Resources of one type under the same tag
// aspects share one replay.
func (p *Pass) tag(r resource) {
	render, ok := formats[r.typ]
	if !ok {
		return
	}
	if _, has := r.props["Tags"]; has {
		return
	}
	aspects := p.tagAspects(r.node)
	key := r.typ
	for _, a := range aspects {
		key += fmt.Sprintf("|%p", a)
	}
	tags, done := p.replayed[key]
	if !done {
		tags = replay(r.typ, aspects)
		p.replayed[key] = tags
	}
	if tags == nil {
		return
	}
	r.res.AddPropertyOverride(jsii.String("Tags"), render(tags.keys, tags.values))
}

// tagSet is the outcome of a replay, its keys sorted.
type tagSet struct {
	keys   []string
	values map[string]string
}

// replay applies aspects to a tag manager of type typ; nil when no tag is
// left.
func replay(typ string, aspects []tagAspect) *tagSet {
	view := &taggable{mgr: awscdk.NewTagManager(awscdk.TagType_STANDARD, jsii.String(typ), nil, nil)}
	for _, t := range aspects {
		t.ApplyTag(view)
	}
	values := map[string]string{}
	var keys []string
	for k, v := range *view.mgr.TagValues() {
		values[k] = *v
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	return &tagSet{keys, values}
}

// tagAspect is what Tag and RemoveTag have in common: they apply themselves
// to a taggable resource, honouring their include and exclude lists.
type tagAspect interface {
	ApplyTag(resource awscdk.ITaggable)
}

// taggable lends a tag manager to the Tag and RemoveTag aspects.
type taggable struct{ mgr awscdk.TagManager }

func (t *taggable) Tags() awscdk.TagManager { return t.mgr }

// prioritized is a tag aspect and the priority it was added with.
type prioritized struct {
	aspect   tagAspect
	priority float64
}

// tagAspects lists the Tag and RemoveTag aspects that apply to node, in the
// order CDK invokes aspects: by priority, and for equal priorities from the
// outermost scope inwards, each scope's in the order they were added. What
// each scope holds is read once per pass.
func (p *Pass) tagAspects(node constructs.Node) []tagAspect {
	var found []prioritized
	for _, scope := range *node.Scopes() {
		held, ok := p.scopeTags[scope]
		if !ok {
			held = scopeTagAspects(scope)
			p.scopeTags[scope] = held
		}
		found = append(found, held...)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].priority < found[j].priority })
	out := make([]tagAspect, len(found))
	for i, e := range found {
		out[i] = e.aspect
	}
	return out
}

// scopeTagAspects lists the Tag and RemoveTag aspects added to scope itself.
func scopeTagAspects(scope constructs.IConstruct) []prioritized {
	applied := awscdk.Aspects_Of(scope).Applied()
	if applied == nil {
		return nil
	}
	var out []prioritized
	for _, app := range *applied {
		switch a := app.Aspect().(type) {
		case awscdk.Tag:
			out = append(out, prioritized{a, *app.Priority()})
		case awscdk.RemoveTag:
			out = append(out, prioritized{a, *app.Priority()})
		}
	}
	return out
}
