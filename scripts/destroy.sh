#!/usr/bin/env bash
# make destroy: delete the pipeline, production and staging stacks, in that
# order (the pipeline depends on both environments), or stop before deleting
# anything, saying what to do.
#
# A load balancer with deletion protection (production's, by default: it has
# it whenever production.removalPolicy is retain) cannot be deleted, so
# CloudFormation's deletion of its stack would fail half-way, after the
# pipeline is gone. This script therefore first:
#
#   1. synthesizes the app into cdk.out (arguments are passed to cdk synth,
#      for example -c environmentSuffix=v2), so that what it checks is what
#      it deletes: `cdk destroy --app cdk.out` deletes that same assembly;
#   2. asks CloudFormation which of the three stacks exist (one already
#      deleted is skipped, not an error);
#   3. asks Elastic Load Balancing whether each environment's load balancer
#      (named in its template) has deletion protection;
#   4. lists what stays behind: the resources whose template DeletionPolicy is
#      Retain (buckets, log groups, keys, the image repository), by physical id.
#
# A protected load balancer stops it, with the command that turns the
# protection off. CONFIRM_PRODUCTION=delete (CONFIRM_STAGING=delete for a
# staging that retains its data) lets it turn the protection off itself, just
# before that stack is deleted. It asks once before deleting; FORCE=yes does
# not ask.
set -euo pipefail
if ((BASH_VERSINFO[0] < 4)); then
	printf '%s: needs bash 4 or newer, this is bash %s (macOS: brew install bash)\n' "${0##*/}" "$BASH_VERSION" >&2
	exit 2
fi

ASSEMBLY=cdk.out

say() { printf 'destroy: %s\n' "$@"; }
fail() {
	printf 'destroy: %s\n' "$@" >&2
	exit 1
}
usage() {
	printf 'destroy: %s\n' "$@" >&2
	exit 2
}

for v in CONFIRM_PRODUCTION CONFIRM_STAGING; do
	case ${!v:-} in '' | delete) ;; *) usage "$v must be delete or unset, got \"${!v}\"" ;; esac
done
case ${FORCE:-} in '' | yes) ;; *) usage "FORCE must be yes or unset, got \"$FORCE\"" ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
node=$root/node_modules/.bin/node
[ -x "$node" ] || node=node
command -v cdk >/dev/null || PATH=$root/node_modules/.bin:$PATH

# --- 1. the cloud assembly --------------------------------------------------------
cdk synth --quiet --output "$ASSEMBLY" "$@" || fail "cdk synth failed; nothing was deleted"
records=$("$node" "$root/scripts/lib/stacks.js" assembly "$ASSEMBLY")

order=(Pipeline Production Staging)
declare -A name region lb
while IFS=$'\t' read -r kind id a b; do
	case $kind in
	stack)
		name[$id]=$a
		region[$id]=$b
		;;
	lb) lb[$id]=$a ;;
	esac
done <<<"$records"

# reg prints the --region argument of a stack, if its region is known.
reg() {
	[ "${region[$1]}" = - ] || printf -- '--region\n%s\n' "${region[$1]}"
}
# aws_at runs an aws command for the stack $1, with standard error in $err.
err=$(mktemp)
trap 'rm -f "$err"' EXIT
aws_at() {
	local id=$1
	shift
	local r=()
	mapfile -t r < <(reg "$id")
	aws "$1" "$2" ${r[@]+"${r[@]}"} "${@:3}" 2>"$err"
}

# --- 2. which stacks exist --------------------------------------------------------
declare -A status
for id in "${order[@]}"; do
	if out=$(aws_at "$id" cloudformation describe-stacks --stack-name "${name[$id]}" --query 'Stacks[0].StackStatus' --output text); then
		status[$id]=$out
	elif grep -q 'does not exist' "$err"; then
		status[$id]=''
		say "${name[$id]}: not deployed, nothing to delete"
	else
		cat "$err" >&2
		fail "cannot read stack ${name[$id]}; nothing was deleted"
	fi
done

# --- 3. load balancers with deletion protection -------------------------------------
declare -A protected
for id in Production Staging; do
	if [ -z "${status[$id]}" ] || [ -z "${lb[$id]:-}" ]; then continue; fi
	if ! arn=$(aws_at "$id" elbv2 describe-load-balancers --names "${lb[$id]}" --query 'LoadBalancers[0].LoadBalancerArn' --output text); then
		grep -q LoadBalancerNotFound "$err" && continue
		cat "$err" >&2
		fail "cannot read load balancer ${lb[$id]}; nothing was deleted"
	fi
	if ! on=$(aws_at "$id" elbv2 describe-load-balancer-attributes --load-balancer-arn "$arn" \
		--query "Attributes[?Key=='deletion_protection.enabled'].Value | [0]" --output text); then
		cat "$err" >&2
		fail "cannot read the attributes of load balancer ${lb[$id]}; nothing was deleted"
	fi
	if [ "$on" = true ]; then protected[$id]=$arn; fi
done

# --- 4. what stays behind --------------------------------------------------------------
kept=()
for id in "${order[@]}"; do
	[ -n "${status[$id]}" ] || continue
	retained=$(awk -F'\t' -v id="$id" '$1 == "retain" && $2 == id' <<<"$records")
	[ -n "$retained" ] || continue
	if ! physical=$(aws_at "$id" cloudformation list-stack-resources --stack-name "${name[$id]}" \
		--query 'StackResourceSummaries[].[LogicalResourceId,PhysicalResourceId]' --output text); then
		cat "$err" >&2
		fail "cannot list the resources of stack ${name[$id]}; nothing was deleted"
	fi
	while IFS=$'\t' read -r _ _ logical type literal; do
		what=$(awk -F'\t' -v l="$logical" '$1 == l { print $2; exit }' <<<"$physical")
		[ -n "$what" ] || what=$literal
		[ "$what" != - ] || what="$logical (not created)"
		[ "$literal" = - ] || what="$what (fixed name)"
		kept+=("$(printf '  %-24s %-22s %s' "${name[$id]}" "$type" "$what")")
	done <<<"$retained"
done
print_kept() {
	if [ ${#kept[@]} -eq 0 ]; then
		say "nothing is retained: every resource goes with its stack."
		return
	fi
	say "these stay in the account (DeletionPolicy Retain) until you delete them yourself:"
	printf '%s\n' "${kept[@]}"
	say "a new deploy of the same project and environmentSuffix fails while those with a fixed name exist:" \
		"delete them first, or deploy with another environmentSuffix."
}

# --- stop before anything is deleted ---------------------------------------------------
blocked=()
for id in Production Staging; do
	[ -n "${protected[$id]:-}" ] || continue
	v=CONFIRM_${id^^}
	[ "${!v:-}" = delete ] || blocked+=("$id")
done
if [ ${#blocked[@]} -gt 0 ]; then
	{
		for id in "${blocked[@]}"; do
			at=''
			[ "${region[$id]}" = - ] || at=" --region ${region[$id]}"
			say "${id,,}'s load balancer ${lb[$id]} (stack ${name[$id]}) has deletion protection:" \
				"CloudFormation cannot delete it, so deleting the stacks would stop half-way. Nothing was deleted." \
				"either turn the protection off and run make destroy again:"
			printf '\n  aws elbv2 modify-load-balancer-attributes%s --load-balancer-arn %s --attributes Key=deletion_protection.enabled,Value=false\n  make destroy\n\n' \
				"$at" "${protected[$id]}"
			say "or let make destroy turn it off itself, just before it deletes ${name[$id]}:"
			printf '\n  make destroy CONFIRM_%s=delete\n\n' "${id^^}"
		done
		print_kept
	} >&2
	exit 1
fi

# --- ask once, then delete in order --------------------------------------------------
todo=()
for id in "${order[@]}"; do
	[ -z "${status[$id]}" ] || todo+=("$id")
done
if [ ${#todo[@]} -eq 0 ]; then
	say "no stack of this app is deployed; nothing to delete"
	exit 0
fi
say "this deletes, in this order:"
i=0
for id in "${todo[@]}"; do
	i=$((i + 1))
	extra=''
	[ -z "${protected[$id]:-}" ] || extra=", after turning off the deletion protection of its load balancer ${lb[$id]}"
	printf '  %d. %s (%s)%s\n' "$i" "${name[$id]}" "${status[$id]}" "$extra"
done
print_kept
if [ "${FORCE:-}" != yes ]; then
	printf 'destroy: delete these stacks? [y/N] '
	answer=''
	read -r answer || true
	case $answer in
	y | Y | yes | YES) ;;
	*) fail "not confirmed; nothing was deleted" ;;
	esac
fi

for id in "${todo[@]}"; do
	if [ -n "${protected[$id]:-}" ]; then
		if ! on=$(aws_at "$id" elbv2 modify-load-balancer-attributes --load-balancer-arn "${protected[$id]}" \
			--attributes Key=deletion_protection.enabled,Value=false \
			--query "Attributes[?Key=='deletion_protection.enabled'].Value | [0]" --output text) || [ "$on" != false ]; then
			cat "$err" >&2
			fail "could not turn off the deletion protection of ${lb[$id]}; ${name[$id]} and the stacks after it were not deleted"
		fi
		say "deletion protection of ${lb[$id]} turned off"
	fi
	if ! cdk destroy --app "$ASSEMBLY" --force --exclusively "$id"; then
		fail "cdk destroy of ${name[$id]} failed (its events above say why); the stacks after it were not touched." \
			"fix the cause and run make destroy again: stacks already deleted are skipped"
	fi
done
deleted=()
for id in "${todo[@]}"; do deleted+=("${name[$id]}"); done
say "deleted ${deleted[*]}"
print_kept
