package delivery

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/jsii-runtime-go"
)

// imagesKept is how many images of any tag the repository keeps besides the
// environments' own.
const imagesKept = 50

// lifecycleRules keep the images the environments run. A rule counting every
// image ("keep the last 50") would let a burst of builds that never reach
// production expire the image production runs. ECR evaluates the rules from
// the lowest rulePriority up, and an image that matches the tagging
// requirements of a rule is never expired by a rule of lower priority
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html).
// So each environment's rule keeps the newest images carrying its tag
// (ImageTagPrefix), above the catch-all rule, which ECR requires to come
// last. The environment released last comes first: an image released to
// production also carries the staging tag, and a staging rule of higher
// priority would match it, and could expire it, before the production rule
// could keep it.
func lifecycleRules(r resolved) *[]*awsecr.LifecycleRule {
	rules := []*awsecr.LifecycleRule{{
		RulePriority: jsii.Number(1),
		Description:  jsii.String("expire untagged images after 7 days"),
		TagStatus:    awsecr.TagStatus_UNTAGGED,
		MaxImageAge:  awscdk.Duration_Days(jsii.Number(7)),
	}}
	for i := len(r.envs) - 1; i >= 0; i-- {
		e := r.envs[i]
		rules = append(rules, &awsecr.LifecycleRule{
			RulePriority:  jsii.Number(float64(len(rules) + 1)),
			Description:   jsii.String(fmt.Sprintf("keep the last %v images released to %s", r.imagesPerEnvironment, e.name)),
			TagStatus:     awsecr.TagStatus_TAGGED,
			TagPrefixList: jsii.Strings(ImageTagPrefix(e.name)),
			MaxImageCount: jsii.Number(r.imagesPerEnvironment),
		})
	}
	rules = append(rules, &awsecr.LifecycleRule{
		RulePriority:  jsii.Number(float64(len(rules) + 1)),
		Description:   jsii.String(fmt.Sprintf("keep the last %d images of any tag", imagesKept)),
		TagStatus:     awsecr.TagStatus_ANY,
		MaxImageCount: jsii.Number(imagesKept),
	})
	return &rules
}
