#!/usr/bin/env bash
# make rename-module MODULE=github.com/<org>/<repo>: renames the Go module to
# the path of the repository it is published from, so that other modules can
# import its constructs (github.com/<org>/<repo>/constructs/bluegreen, ...).
# The module is named ecs-bluegreen until then: a path that names a host only
# works once the code is there.
#
# `go mod edit -module` renames the module (and refuses a malformed path);
# every import of one of its packages in a tracked Go file is rewritten;
# `go list ./...` then checks that every import resolves. Run it in a clean
# work tree, so that the change is one commit of its own.
set -euo pipefail
new=${1:?usage: rename-module.sh <module path, e.g. github.com/example-org/ecs-bluegreen>}
cd "$(dirname "$0")/.."
old=$(go list -m)
if [[ $new == "$old" ]]; then
	echo "rename-module: the module is already $new"
	exit 0
fi
go mod edit -module "$new"
# perl -pi rewrites in place alike on Linux and macOS (sed -i does not); it
# reads both paths from its environment, so neither is taken as a pattern.
export OLD=$old NEW=$new
# shellcheck disable=SC2016 # $ENV{...} is perl's, not the shell's
git ls-files -z -- '*.go' | xargs -0 perl -pi -e 's/"\Q$ENV{OLD}\E(\/|")/"$ENV{NEW}$1/g'
go list ./... >/dev/null
echo "rename-module: $old is now $new; imports rewritten in $(git diff --name-only -- '*.go' | wc -l) files"
