// Package providernag brings the resources that CDK writes as plain
// CfnResource objects, chiefly the IAM role and Lambda function of each of its
// custom-resource providers, under cdk-nag: Evaluate presents them to the
// app's NagPacks as the L1 classes they are.
package providernag
