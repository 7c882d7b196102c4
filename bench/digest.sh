#!/bin/bash
# Building and rendering digests: BenchmarkBuildRender in ./digest builds
# and renders the digests of 10,000 members over 50,000 new messages in 500
# threads (10 teams; each member in one or two), one member after another,
# and the figures are read from its output. Each run is a process of its
# own, so that its peak RSS (VmHWM) is its own.
#
# usage: bench/digest.sh [--parallel]
#        --parallel: BenchmarkBuildRenderParallel as well (members shared
#        out over GOMAXPROCS goroutines)
# env:   COUNT (3: runs, the median is printed)  OUT (/tmp/tidings-bench-digest)
#
# Exits non-zero only when the benchmark could not be built or run, never
# because of a figure. Targets: under 10 s and 300 MiB.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COUNT=${COUNT:-3}
OUT=${OUT:-/tmp/tidings-bench-digest}
PARALLEL=0
for a in "$@"; do
  case $a in
  --parallel) PARALLEL=1 ;;
  -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  *) echo "digest.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
export PATH=$PATH:/usr/local/go/bin

mkdir -p "$OUT"
echo "building the digest benchmark"
if ! (cd "$ROOT" && go test -c -o "$OUT/digest.test" ./digest); then
  echo "digest.sh: go test -c ./digest failed" >&2
  exit 1
fi

# run NAME: COUNT runs of one benchmark, each line of output kept.
run() {
  local i
  : >"$OUT/$1.txt"
  for i in $(seq 1 "$COUNT"); do
    echo "  $1, run $i of $COUNT"
    if ! (cd "$ROOT/digest" && "$OUT/digest.test" -test.run '^$' -test.bench "^$1\$" -test.benchtime 1x) >"$OUT/$1.$i.log" 2>&1; then
      echo "digest.sh: $1 failed (see $OUT/$1.$i.log)" >&2
      exit 1
    fi
    grep "^$1" "$OUT/$1.$i.log" >>"$OUT/$1.txt"
  done
}

# median FILE UNIT: the median of the number before UNIT on each line.
median() {
  awk -v u="$2" '{ for (i = 2; i <= NF; i++) if ($i == u) v[++n] = $(i-1) } END {
    if (!n) exit
    for (i = 1; i <= n; i++) for (j = i+1; j <= n; j++) if (v[j]+0 < v[i]+0) { t = v[i]; v[i] = v[j]; v[j] = t }
    print (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2 }' "$1"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
run BenchmarkBuildRender
[ $PARALLEL = 1 ] && run BenchmarkBuildRenderParallel

row() { # NAME LABEL
  local f=$OUT/$1.txt ns s
  ns=$(median "$f" ns/op)
  s=$(awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1e9 }')
  local html; html=$(median "$f" max-HTML-KiB)
  printf '%-34s %10s %14s %12s %12s\n' "$2" "$s" "$(median "$f" members/s)" "$(median "$f" peak-RSS-MiB)" "${html:--}"
}

commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)
echo
echo "tidings $commit, $(go version | awk '{print $3}'), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg); medians of $COUNT runs"
echo "10,000 members, 50,000 new messages in 500 threads; targets: < 10 s, < 300 MiB"
echo
printf '%-34s %10s %14s %12s %12s\n' "" "time (s)" "members/s" "peak MiB" "max HTML KiB"
row BenchmarkBuildRender "build + render, one at a time"
[ $PARALLEL = 1 ] && row BenchmarkBuildRenderParallel "build + render, $(nproc) goroutines"
echo
echo "raw output: $OUT"
