#!/usr/bin/env bash
# make connect: the step after the GitHub connection handshake.
#
# The pipeline stack creates the connection PENDING, and the pipeline with its
# V2 push trigger, before anyone can approve the connection. A trigger saved
# while its connection was PENDING may never start the pipeline after the
# handshake, and nothing reports it. Saving the pipeline again once the
# connection is AVAILABLE registers the trigger anew. This script:
#
#   1. finds the pipeline stack and reads its PipelineName output;
#   2. reads the connection from the pipeline's source action that the push
#      trigger names (so it works for a connection given as connectionArn too);
#   3. if the connection is PENDING, prints where to approve it and waits,
#      polling every CONNECT_INTERVAL seconds for at most CONNECT_TIMEOUT
#      seconds of waiting (CONNECT_TIMEOUT=0: check once, do not wait);
#   4. fails on ERROR or on timeout, having changed nothing;
#   5. saves the pipeline's current definition unchanged (get-pipeline
#      without its metadata, then update-pipeline), which raises its version
#      by one, and checks that the saved definition still has the trigger.
#
# Running it again is safe: an AVAILABLE connection is not waited for, and the
# pipeline is saved again with the same definition.
#
# Which stack: PIPELINE_STACK=<name> if given (region: the aws CLI's own, from
# AWS_REGION or the profile); otherwise the Pipeline stack of cdk.out, as the
# last `make deploy` or `make synth` wrote it (name and region); otherwise the
# name cdk.json's context gives (project, environmentSuffix, region). Reading
# files first keeps the lookup offline and free of a 45 s synth.
set -euo pipefail
if ((BASH_VERSINFO[0] < 4)); then
	printf '%s: needs bash 4 or newer, this is bash %s (macOS: brew install bash)\n' "${0##*/}" "$BASH_VERSION" >&2
	exit 2
fi

CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-900}
CONNECT_INTERVAL=${CONNECT_INTERVAL:-10}
ASSEMBLY=cdk.out

# say and fail print each argument as a line of its own.
say() { printf 'connect: %s\n' "$@"; }
fail() {
	printf 'connect: %s\n' "$@" >&2
	exit 1
}

case $CONNECT_TIMEOUT in '' | *[!0-9]*) printf 'connect: CONNECT_TIMEOUT must be a whole number of seconds, got "%s"\n' "$CONNECT_TIMEOUT" >&2; exit 2 ;; esac
case $CONNECT_INTERVAL in '' | *[!0-9]* | 0) printf 'connect: CONNECT_INTERVAL must be a whole number of seconds above 0, got "%s"\n' "$CONNECT_INTERVAL" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
node=$root/node_modules/.bin/node
[ -x "$node" ] || node=node

# --- the pipeline stack ---------------------------------------------------------
region=''
if [ -n "${PIPELINE_STACK:-}" ]; then
	stack=$PIPELINE_STACK
	from='PIPELINE_STACK'
else
	if [ -f "$ASSEMBLY/manifest.json" ]; then
		records=$("$node" "$root/scripts/lib/stacks.js" assembly "$ASSEMBLY")
		from="$ASSEMBLY/manifest.json"
	elif [ -f cdk.json ]; then
		records=$("$node" "$root/scripts/lib/stacks.js" context cdk.json)
		from='cdk.json'
	else
		fail "no $ASSEMBLY/manifest.json and no cdk.json here: run make connect in the project, or set PIPELINE_STACK"
	fi
	read -r stack region < <(awk -F'\t' '$1 == "stack" && $2 == "Pipeline" { print $3, $4 }' <<<"$records") || true
	[ -n "${stack:-}" ] || fail "$from names no Pipeline stack"
	[ "$region" != - ] || region=''
fi
reg=()
[ -z "$region" ] || reg=(--region "$region")
say "pipeline stack $stack${region:+ in $region} (from $from)"

# aws_or_fail runs an aws command; on failure it prints the CLI's error and the
# given hint, and exits.
aws_or_fail() {
	local hint=$1 out err
	shift
	err=$(mktemp)
	if ! out=$(aws "$@" 2>"$err"); then
		cat "$err" >&2
		rm -f "$err"
		fail "$hint"
	fi
	rm -f "$err"
	printf '%s' "$out"
}

err=$(mktemp)
trap 'rm -f "$err"' EXIT
if ! out=$(aws cloudformation describe-stacks ${reg[@]+"${reg[@]}"} --stack-name "$stack" \
	--query "Stacks[0].[StackStatus, Outputs[?OutputKey=='PipelineName'].OutputValue | [0]]" --output text 2>"$err"); then
	if grep -q 'does not exist' "$err"; then
		fail "stack $stack does not exist${region:+ in $region}: deploy first (make deploy), or set PIPELINE_STACK"
	fi
	cat "$err" >&2
	fail "cannot read stack $stack (are the aws CLI's credentials and region those of the deploy?)"
fi
read -r status pipeline <<<"$out"
if [ -z "${pipeline:-}" ] || [ "$pipeline" = None ]; then
	fail "stack $stack ($status) has no PipelineName output: wait for its deploy to finish (make deploy)"
fi

# --- the connection the push trigger uses --------------------------------------
action=$(aws_or_fail "cannot read pipeline $pipeline" codepipeline get-pipeline ${reg[@]+"${reg[@]}"} --name "$pipeline" \
	--query "pipeline.triggers[?providerType=='CodeStarSourceConnection'].gitConfiguration.sourceActionName" --output text)
case $action in
'' | None) fail "pipeline $pipeline has no push trigger on a connection: nothing to register" ;;
*[[:space:]]*) fail "pipeline $pipeline has several connection triggers ($action); this script handles one" ;;
esac
out=$(aws_or_fail "cannot read pipeline $pipeline" codepipeline get-pipeline ${reg[@]+"${reg[@]}"} --name "$pipeline" \
	--query "pipeline.stages[].actions[?name=='$action'][].configuration.[ConnectionArn, FullRepositoryId, BranchName]" --output text)
read -r connection repository branch <<<"$out"
case ${connection:-} in
arn:*:codeconnections:*:connection/* | arn:*:codestar-connections:*:connection/*) ;;
*) fail "the trigger's source action $action in pipeline $pipeline names no connection (got \"${connection:-}\")" ;;
esac
connection_region=$(cut -d: -f4 <<<"$connection")
say "pipeline $pipeline: push trigger on source action $action ($repository, branch $branch)"
say "connection $connection"

# --- wait until the connection is AVAILABLE --------------------------------------
waited=0
told=''
while :; do
	out=$(aws_or_fail "cannot read connection $connection" codeconnections get-connection --region "$connection_region" \
		--connection-arn "$connection" --query 'Connection.[ConnectionStatus, ConnectionName]' --output text)
	read -r state name <<<"$out"
	console="https://console.aws.amazon.com/codesuite/settings/connections?region=$connection_region"
	case $state in
	AVAILABLE)
		if [ -n "$told" ]; then say "connection $name is AVAILABLE"; else say "connection $name is AVAILABLE already"; fi
		break
		;;
	PENDING)
		if [ -z "$told" ]; then
			say "connection $name is PENDING: approve it once (the one manual step):" \
				"  AWS console > Developer Tools > Settings > Connections > $name > Update pending connection" \
				"  ($console)" \
				"  then install or choose the AWS Connector for GitHub app with access to $repository, and choose Connect."
			told=1
		fi
		if [ "$waited" -ge "$CONNECT_TIMEOUT" ]; then
			fail "connection $name is still PENDING after ${waited} s; nothing was changed." \
				"approve it as above, then run make connect again (CONNECT_TIMEOUT=<seconds> waits longer)"
		fi
		say "waiting for the approval (${waited} of ${CONNECT_TIMEOUT} s; checking every ${CONNECT_INTERVAL} s)"
		sleep "$CONNECT_INTERVAL"
		waited=$((waited + CONNECT_INTERVAL))
		;;
	ERROR)
		fail "connection $name is in ERROR: it cannot be used until it is AVAILABLE again; nothing was changed." \
			"open it in the console ($console) to see why; the GitHub app installation it uses may have been removed, suspended or denied access to $repository." \
			"fix it there (Update pending connection, or choose another installation), then run make connect again"
		;;
	*)
		fail "connection $name has the status \"$state\"; expected PENDING, AVAILABLE or ERROR; nothing was changed"
		;;
	esac
done

# --- save the pipeline again: registers its trigger with the available connection --
definition=$(aws_or_fail "cannot read pipeline $pipeline" codepipeline get-pipeline ${reg[@]+"${reg[@]}"} --name "$pipeline" --query pipeline --output json)
version=$(aws_or_fail "could not save pipeline $pipeline; its definition is unchanged" codepipeline update-pipeline ${reg[@]+"${reg[@]}"} \
	--pipeline "$definition" --query pipeline.version --output text)
out=$(aws_or_fail "cannot read pipeline $pipeline back" codepipeline get-pipeline ${reg[@]+"${reg[@]}"} --name "$pipeline" \
	--query "[pipeline.version, length(pipeline.triggers[?providerType=='CodeStarSourceConnection' && gitConfiguration.sourceActionName=='$action'] || \`[]\`)]" --output text)
read -r saved triggers <<<"$out"
if [ "${triggers:-0}" = 0 ]; then
	fail "pipeline $pipeline was saved (version $version) but its definition has no push trigger on $action any more;" \
		"redeploy the pipeline stack (make deploy) and run make connect again"
fi
say "pipeline $pipeline saved again (version $saved) with its push trigger on $action: pushes to $branch start a release."
say "to release the branch's latest commit now: aws codepipeline start-pipeline-execution${region:+ --region $region} --name $pipeline"
