// Package logbucket creates the S3 buckets that receive AWS log deliveries
// (load balancer access logs, S3 server access logs). Those deliveries
// support only SSE-S3 encryption.
package logbucket

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// New creates a private, TLS-only, versioned SSE-S3 bucket whose objects
// expire after expiration. With RemovalPolicy DESTROY the bucket is emptied
// on stack deletion. serverAccessLogs, when not nil, receives the bucket's
// own access logs; the last bucket of such a chain keeps none (they would
// recurse into itself).
func New(scope constructs.Construct, id string, expiration awscdk.Duration, removal awscdk.RemovalPolicy, serverAccessLogs awss3.IBucket) awss3.Bucket {
	bucket := awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: serverAccessLogs,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-logs"),
			Expiration:                          expiration,
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(7)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
		RemovalPolicy:     removal,
		AutoDeleteObjects: jsii.Bool(removal == awscdk.RemovalPolicy_DESTROY),
	})
	SendEventsToEventBridge(bucket)
	return bucket
}

// EmptiedAfter orders a bucket's emptying on stack deletion after the given
// constructs are gone: each depends on the custom resource that empties the
// bucket, and CloudFormation deletes dependents first. A writer to the
// bucket (a load balancer delivering access logs, the emptying of a bucket
// whose server access logs S3 delivers here) is then gone before the bucket
// is emptied. CDK's handler also denies s3:PutObject to everyone before it
// empties the bucket. A bucket that is kept on deletion has no such custom
// resource, and nothing changes; nil writers are skipped.
func EmptiedAfter(bucket awss3.IBucket, writers ...constructs.IConstruct) {
	emptying := Emptying(bucket)
	if emptying == nil {
		return
	}
	for _, w := range writers {
		if w != nil {
			w.Node().AddDependency(emptying)
		}
	}
}

// Emptying is the custom resource that empties a bucket on stack deletion,
// or nil when the bucket is kept.
func Emptying(bucket awss3.IBucket) constructs.IConstruct {
	c := bucket.Node().TryFindChild(jsii.String("AutoDeleteObjectsCustomResource"))
	if c == nil {
		return nil
	}
	return c
}

// SendEventsToEventBridge turns on S3's EventBridge notifications (no cost,
// no consumer here), so that an account-level rule can watch object writes.
func SendEventsToEventBridge(bucket awss3.Bucket) {
	bucket.Node().DefaultChild().(awss3.CfnBucket).SetNotificationConfiguration(&awss3.CfnBucket_NotificationConfigurationProperty{
		EventBridgeConfiguration: &awss3.CfnBucket_EventBridgeConfigurationProperty{EventBridgeEnabled: jsii.Bool(true)},
	})
}
