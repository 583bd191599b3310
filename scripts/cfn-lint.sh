#!/usr/bin/env bash
# Runs cfn-lint (configured by .cfnlintrc) on the given templates. cfn-lint's
# exit status is a bitmask (2 error, 4 warning, 8 informational): errors and
# warnings fail, informational findings are shown but pass.
set -uo pipefail
if [ "$#" -eq 0 ] || [ ! -e "$1" ]; then
  echo "cfn-lint.sh: no templates given; run 'make synth' first" >&2
  exit 2
fi
cfn-lint --version
cfn-lint -- "$@"
rc=$?
if (( rc & 6 )); then
  echo "cfn-lint: errors or warnings (exit $rc)" >&2
  exit 1
fi
echo "cfn-lint: $# templates, no errors or warnings"
