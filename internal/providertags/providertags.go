// Package providertags tags the resources that CDK writes as plain
// CfnResource objects rather than as L1 classes: the IAM role and Lambda
// function of each custom-resource provider (CustomResourceProvider, behind
// Custom::VpcRestrictDefaultSG, Custom::S3AutoDeleteObjects and others).
// Tags_Of skips them, because a plain CfnResource has no tag manager, so
// without this aspect they would carry none of the app's tags.
//
// The aspect does not take tags of its own: for each such resource it
// replays every Tags_Of(scope).Add and Tags_Of(scope).Remove made on the
// resource's scopes, in the order CDK applies them, onto a tag manager of the
// resource's type, and writes the result into the template in that type's
// CloudFormation format. Include and exclude lists, priorities and removals
// therefore mean what they mean for every other resource.
package providertags

import (
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

type aspect struct {
	_ byte // jsii passes a Go object by reference only when it is not an empty struct
}

// New returns the aspect. Add it with Aspects_Of(app) and
// AspectPriority_MUTATING, like the aspects Tags_Of adds.
func New() awscdk.IAspect { return &aspect{} }

// Visit tags a plain CfnResource of a listed type, unless it renders a Tags
// property of its own (CDK's log-retention function does, from its
// construct's tag manager).
func (*aspect) Visit(node constructs.IConstruct) {
	res, ok := Plain(node)
	if !ok {
		return
	}
	render, ok := formats[*res.CfnResourceType()]
	if !ok {
		return
	}
	if props := res.CfnProperties(); props != nil {
		if _, has := (*props)["Tags"]; has {
			return
		}
	}
	view := &taggable{mgr: awscdk.NewTagManager(awscdk.TagType_STANDARD, res.CfnResourceType(), nil, nil)}
	for _, t := range tagAspects(node) {
		t.ApplyTag(view)
	}
	values := map[string]string{}
	var keys []string
	for k, v := range *view.mgr.TagValues() {
		values[k] = *v
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return
	}
	sort.Strings(keys)
	res.AddPropertyOverride(jsii.String("Tags"), render(keys, values))
}

// Plain reports whether node is a CloudFormation resource written as a plain
// CfnResource, not as an instance of the L1 class of its type. Every L1
// class implements IInspectable (it reports its properties to the construct
// tree); CfnResource itself does not.
func Plain(node constructs.IConstruct) (awscdk.CfnResource, bool) {
	if is := awscdk.CfnResource_IsCfnResource(node); is == nil || !*is {
		return nil, false
	}
	if _, l1 := node.(awscdk.IInspectable); l1 {
		return nil, false
	}
	res, ok := node.(awscdk.CfnResource)
	return res, ok
}

// tagAspect is what Tag and RemoveTag have in common: they apply themselves
// to a taggable resource, honouring their include and exclude lists.
type tagAspect interface {
	ApplyTag(resource awscdk.ITaggable)
}

// taggable lends a tag manager to the Tag and RemoveTag aspects.
type taggable struct{ mgr awscdk.TagManager }

func (t *taggable) Tags() awscdk.TagManager { return t.mgr }

// tagAspects lists the Tag and RemoveTag aspects that apply to node, in the
// order CDK invokes aspects: by priority, and for equal priorities from the
// outermost scope inwards, each scope's in the order they were added.
func tagAspects(node constructs.IConstruct) []tagAspect {
	type entry struct {
		aspect   tagAspect
		priority float64
	}
	var found []entry
	for _, scope := range *node.Node().Scopes() {
		applied := awscdk.Aspects_Of(scope).Applied()
		if applied == nil {
			continue
		}
		for _, app := range *applied {
			switch a := app.Aspect().(type) {
			case awscdk.Tag:
				found = append(found, entry{a, *app.Priority()})
			case awscdk.RemoveTag:
				found = append(found, entry{a, *app.Priority()})
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].priority < found[j].priority })
	out := make([]tagAspect, len(found))
	for i, e := range found {
		out[i] = e.aspect
	}
	return out
}
