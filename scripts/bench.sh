#!/usr/bin/env bash
# Measures the developer loop, several runs each, and prints min/median/max:
#   warm cdk synth          `cdk synth` of the whole app, build cache warm: the
#                           CLI, `go run .` and the app, validation included
#   app synthesis           the app's own process, as `cdk synth --no-validation`
#                           runs it (built once, started by the CLI, timed from
#                           its start to its exit): the CLI's start-up and
#                           `go run`'s build check are not in it
#   template validation     CDK's built-in template validation, which runs in
#                           the app's process: the same process timed with
#                           validation on, minus without, run by run
#   warm go test            `go test ./...` as a developer reruns it (results cached)
#   warm go test -count=1   every test really runs, build cache warm
#   cold                    fresh clone, empty Go module and build caches:
#                           module download + compile + npm ci + first synth
# RUNS (default 5) sets the repetitions, TEST_RUNS (default RUNS; 0 skips the
# go test lines) and COLD_RUNS (default 3; 0 skips the cold path) override it.
# BASE=<commit> also times the app synthesis of that commit beside this tree's
# (each app built from its own tree, run from it), alternately, RUNS times
# each, and prints the ratio: a change is measured against what it changes
# within one run.
# Machines are shared and noisy: compare the ratios printed at the end, not
# absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
TEST_RUNS=${TEST_RUNS:-$RUNS}
COLD_RUNS=${COLD_RUNS:-3}
BASE=${BASE:-}
export PATH="$PWD/node_modules/.bin:$PATH"
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

now() { date +%s.%N; }

# TIMES[NAME] holds the seconds of each run of NAME, space-separated;
# MEDIAN[NAME] is set by report.
declare -A TIMES MEDIAN

# measure NAME CMD...: runs CMD once and appends its time to TIMES[NAME].
measure() {
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >"$work/last.log" 2>&1 || { echo "bench: '$name' failed:"; tail -20 "$work/last.log"; exit 1; }
  t1=$(now)
  TIMES[$name]+="$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }') "
}

# runs NAME: the times of NAME, one a line.
runs() { tr -s ' ' '\n' <<<"${TIMES[$1]}" | grep .; }

# report NAME: prints the stats line of TIMES[NAME] and records the median
# (unrounded, for the ratios).
report() {
  local name=$1 stats n min med max
  stats=$(runs "$name" | sort -n | awk '{a[NR]=$1} END {
    med = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
    printf "%d %.3f %.3f %.3f", NR, a[1], med, a[NR]}')
  read -r n min med max <<<"$stats"
  MEDIAN[$name]=$med
  printf '%-26s runs=%-2d min=%6.1fs  median=%6.1fs  max=%6.1fs\n' "$name" "$n" "$min" "$med" "$max"
}

# time_runs NAME N CMD...: runs CMD N times and prints the stats line.
time_runs() {
  local name=$1 n=$2; shift 2
  for ((i = 1; i <= n; i++)); do measure "$name" "$@"; done
  report "$name"
}

# difference NAME A B: TIMES[NAME] is TIMES[A] minus TIMES[B], run by run.
difference() {
  TIMES[$1]=$(paste -d' ' <(runs "$2") <(runs "$3") | awk '{printf "%s ", $1 - $2}')
}

# timed: the app command the CLI runs for the app synthesis lines. It runs
# the built app and appends its start and exit times to $TIMES_FILE.
cat >"$work/timed" <<'SH'
#!/usr/bin/env bash
start=$(date +%s.%N)
"$@"
rc=$?
echo "$start $(date +%s.%N)" >>"$TIMES_FILE"
exit $rc
SH
chmod +x "$work/timed"
export TIMES_FILE="$work/times"

# measure_app NAME DIR BINARY [CDK ARGS...]: the CLI synthesizes DIR's app
# from BINARY (into a directory of its own, not cdk.out, whose validation
# report `make test` checks); TIMES[NAME] gets the app process's time.
measure_app() {
  local name=$1 dir=$2 bin=$3; shift 3
  : >"$TIMES_FILE"
  (cd "$dir" && cdk synth --quiet --app "$work/timed $bin" -o "$work/out-$RANDOM" "$@") >"$work/last.log" 2>&1 ||
    { echo "bench: '$name' failed:"; tail -20 "$work/last.log"; exit 1; }
  TIMES[$name]+="$(awk '{print $2 - $1}' "$TIMES_FILE") "
}

make --no-print-directory tools >/dev/null
go build -o "$work/app-tree" .
if [[ -n $BASE ]]; then
  # The base commit's tree with this tree's tools; Go builds it like any
  # other module, with the same caches.
  base_name="base $(git rev-parse --short "$BASE")"
  base_dir="$work/base"
  mkdir "$base_dir"
  git archive "$BASE" | tar -x -C "$base_dir"
  ln -s "$PWD/node_modules" "$base_dir/node_modules"
  (cd "$base_dir" && go build -o "$work/app-base" .)
fi
echo "warming up (one synth of each kind, one test run)..."
cdk synth --quiet >/dev/null 2>&1
measure_app warmup . "$work/app-tree" --no-validation
if [[ -n $BASE ]]; then
  measure_app warmup "$base_dir" "$work/app-base" --no-validation ||
    { echo "bench: $base_name does not synthesize"; exit 1; }
fi
if ((TEST_RUNS > 0)); then go test ./... >/dev/null 2>&1; fi

# Each run times the three back to back, so the difference compares runs
# made under the same load.
for ((i = 1; i <= RUNS; i++)); do
  measure "warm cdk synth" cdk synth --quiet
  measure_app "app synthesis" . "$work/app-tree" --no-validation
  measure_app "app, validation on" . "$work/app-tree"
done
difference "template validation" "app, validation on" "app synthesis"
report "warm cdk synth"
report "app synthesis"
report "template validation"

if [[ -n $BASE ]]; then
  # Alternately, so that both see the same changes in load.
  for ((i = 1; i <= RUNS; i++)); do
    measure_app "app synth, $base_name" "$base_dir" "$work/app-base" --no-validation
    measure_app "app synth, this tree" . "$work/app-tree" --no-validation
  done
  report "app synth, $base_name"
  report "app synth, this tree"
fi

if ((TEST_RUNS > 0)); then
  time_runs "warm go test ./..." "$TEST_RUNS" go test ./...
  time_runs "warm go test -count=1" "$TEST_RUNS" go test -count=1 ./...
fi

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
awk -v s="${MEDIAN[warm cdk synth]}" -v a="${MEDIAN[app synthesis]}" -v v="${MEDIAN[template validation]}" 'BEGIN {
  printf "share of warm synth: app synthesis %.2f, template validation %.2f\n", a / s, v / s
}'
if [[ -n $BASE ]]; then
  awk -v n="${MEDIAN[app synth, this tree]}" -v b="${MEDIAN[app synth, $base_name]}" -v name="$base_name" 'BEGIN {
    printf "ratio app synth this tree / %s: %.2f\n", name, n / b
  }'
fi
if ((TEST_RUNS > 0)); then
  awk -v s="${MEDIAN[warm cdk synth]}" -v t="${MEDIAN[warm go test -count=1]}" -v c="${MEDIAN[warm go test ./...]}" 'BEGIN {
    printf "ratio warm go test -count=1 / warm synth: %.2f (budget 2.00)\n", t / s
    printf "ratio warm go test ./... (cached) / warm synth: %.2f\n", c / s
  }'
fi
