// Command readmegen writes the generated blocks of README.md, each between
// its <!-- name:start ... --> and <!-- name:end --> markers, from the code
// and the synthesized templates:
//
//   - config-table: the context keys the config package reads
//   - nag-suppressions: the cdk-nag suppressions the templates in cdk.out
//     carry (Metadata.cdk_nag.rules_to_suppress), by rule, finding and reason
//   - guard-exceptions: the entries of guard-exceptions.yaml
//   - guard-uncovered: the resource types no Control Tower rule checks
//     (`go run ./tools/cfnguard -uncovered`, over cdk.out and cdk.out.ecs)
//   - release-time: the output of `go run ./tools/releasetime cdk.out`
//   - release-time-ecs: the same for cdk.out.ecs, both environments on the
//     ecs engine (make ecs-synth)
//
// `go generate ./...` synthesizes the app (make synth) and rewrites the
// blocks in place. `go run ./tools/readmegen -check` (make readme-check, part
// of make test) reads the existing cdk.out instead, and fails when README.md
// differs from what it would write.
package main

//go:generate make --no-print-directory -C ../.. synth ecs-synth
//go:generate go run .
