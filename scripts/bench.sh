#!/usr/bin/env bash
# Measures the developer loop, several runs each, and prints min/median/max:
#   warm synth      `cdk synth` of the whole app, build cache warm
#   warm go test    `go test ./...` as a developer reruns it (results cached)
#   warm go test -count=1   every test really runs, build cache warm
#   cold            fresh clone, empty Go module and build caches:
#                   module download + compile + npm ci + first synth
# RUNS (default 5) and COLD_RUNS (default 3; 0 skips the cold path) set the
# repetitions. Machines are shared and noisy: compare the ratios printed at
# the end, not absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
COLD_RUNS=${COLD_RUNS:-3}
export PATH="$PWD/node_modules/.bin:$PATH"
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

now() { date +%s.%N; }

# time_runs NAME N CMD...: runs CMD N times, prints the stats line, records the median.
declare -A MEDIAN
time_runs() {
  local name=$1 n=$2; shift 2
  local times=()
  for ((i = 1; i <= n; i++)); do
    local t0 t1
    t0=$(now)
    "$@" >"$work/last.log" 2>&1 || { echo "bench: '$name' failed:"; tail -20 "$work/last.log"; exit 1; }
    t1=$(now)
    times+=("$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')")
  done
  local stats
  stats=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {
    med = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
    printf "%.1f %.1f %.1f", a[1], med, a[NR]}')
  read -r min med max <<<"$stats"
  MEDIAN[$name]=$med
  printf '%-26s runs=%-2d min=%6.1fs  median=%6.1fs  max=%6.1fs\n' "$name" "$n" "$min" "$med" "$max"
}

make --no-print-directory tools >/dev/null
echo "warming up (one synth, one test run)..."
cdk synth --quiet >/dev/null 2>&1
go test ./... >/dev/null 2>&1

time_runs "warm cdk synth" "$RUNS" cdk synth --quiet
time_runs "warm go test ./..." "$RUNS" go test ./...
time_runs "warm go test -count=1" "$RUNS" go test -count=1 ./...

cold() {
  local dir="$work/cold-$RANDOM"
  git clone -q . "$dir"
  (
    cd "$dir"
    export GOMODCACHE="$dir/.gomodcache" GOCACHE="$dir/.gocache" GOFLAGS=-modcacherw
    npm ci --no-audit --no-fund --loglevel=error
    go mod download
    go build ./...
    node_modules/.bin/cdk synth --quiet
  )
  rm -rf "$dir"
}
if ((COLD_RUNS > 0)); then
  time_runs "cold clone to first synth" "$COLD_RUNS" cold
fi

echo
awk -v s="${MEDIAN[warm cdk synth]}" -v t="${MEDIAN[warm go test -count=1]}" -v c="${MEDIAN[warm go test ./...]}" 'BEGIN {
  printf "ratio warm go test -count=1 / warm synth: %.2f (budget 2.00)\n", t / s
  printf "ratio warm go test ./... (cached) / warm synth: %.2f\n", c / s
}'
