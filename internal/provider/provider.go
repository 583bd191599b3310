// Package provider brings the resources that CDK writes as plain
// CfnResource objects rather than as L1 classes (chiefly the IAM role and
// Lambda function of each of its custom-resource providers, behind
// Custom::VpcRestrictDefaultSG, Custom::S3AutoDeleteObjects and others)
// under the rules the app's other resources follow: Tags_Of skips them,
// because a plain CfnResource has no tag manager, so a Pass gives them the
// app's tags; and it records on each provider role the one cdk-nag finding
// that CDK's provider framework causes, with its reason.
package provider

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// Pass acts on the plain resources of one app, once its stacks are built and
// its tags added: Visit each construct of the tree. It does nothing for
// constructs added after the pass.
type Pass struct {
	scopeTags map[constructs.IConstruct][]prioritized
	replayed  map[string]*tagSet
}

// NewPass returns a pass for one app.
func NewPass() *Pass {
	return &Pass{scopeTags: map[constructs.IConstruct][]prioritized{}, replayed: map[string]*tagSet{}}
}

// resource is a plain resource with what the pass reads of it.
type resource struct {
	res   awscdk.CfnResource
	node  constructs.Node
	typ   string
	props map[string]any
}

// Visit tags and suppresses node when it is a plain CfnResource, and
// reports whether it is. A construct whose Go type is that of an L1 class
// costs no call into the CDK runtime.
func (p *Pass) Visit(node constructs.IConstruct) bool {
	res, ok := Plain(node)
	if !ok {
		return false
	}
	r := resource{res: res, node: res.Node(), typ: *res.CfnResourceType()}
	if props := res.CfnProperties(); props != nil {
		r.props = *props
	}
	suppress(r)
	p.tag(r)
	return true
}

// Plain reports whether node is a CloudFormation resource written as a plain
// CfnResource, not as an instance of the L1 class of its type, from its Go
// type alone: the Go runtime gives a construct the Go type of the nearest
// jsii class of its JavaScript object, and every L1 class implements
// IInspectable (it reports its properties to the construct tree) where
// CfnResource itself does not.
func Plain(node constructs.IConstruct) (awscdk.CfnResource, bool) {
	res, ok := node.(awscdk.CfnResource)
	if !ok {
		return nil, false
	}
	if _, l1 := node.(awscdk.IInspectable); l1 {
		return nil, false
	}
	return res, true
}
