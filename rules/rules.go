// Package rules holds the rules of the domain that the configuration, the
// blue/green construct and the release-time tool all apply: what a traffic
// shift is and which ones CodeDeploy accepts or predefines, which task sizes
// Fargate accepts, how long AWS lets the names be, and how long rollback
// alarms take to fire. It imports no CDK, so that each rule has one home
// whether or not a construct is being built.
package rules

// NameLimit is the most characters AWS allows in the name of an Application
// Load Balancer, a target group or a CodeConnections connection.
const NameLimit = 32

// GreenSuffix ends the name of the blue/green service's green target group,
// the longest of the NameLimit-bound names it derives from its prefix.
const GreenSuffix = "-green"

// LongestName is the longest NameLimit-bound physical name the blue/green
// service derives from prefix: its green target group's.
func LongestName(prefix string) string { return prefix + GreenSuffix }

// FitsNameLimit reports whether AWS accepts name for a load balancer, a
// target group or a connection.
func FitsNameLimit(name string) bool { return len(name) <= NameLimit }
