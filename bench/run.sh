#!/bin/bash
# tidings' measured speed beside its peers, all from one run on this machine.
#
#   ingest  : `tidings serve` takes smtp-source's load at 20 sessions and at 1
#             (every 250 is answered after the fsync that holds the message)
#   import  : `tidings import --maildir` of a generated team-mail corpus
#   sink    : smtp-sink, the loopback SMTP ceiling (accepts and discards)
#   postfix : a throwaway Postfix, Maildir delivery, fsync before 250
#   notmuch : `notmuch new` indexing the same corpus as import
#
# usage: bench/run.sh [--quick] [ingest] [import] [sink] [postfix] [notmuch]
#        (default: all five; --quick: small counts, a smoke run in well under a minute)
# env:   M (10000 msgs at 20 sessions)  M1 (3000 at 1 session)  N (20000 corpus msgs)
#        REPS (1: run every part REPS times, interleaved, and print medians)
#        SEED (1)  OUT (/tmp/tidings-bench: binary, data, logs, results.tsv)
#        CORPUS (/tmp/tidings-corpus-nN-sSEED, generated once and reused)
#        PEERS (the shared peer scripts, default <repo>/../shared/bench)
#
# Loopback only; every process it starts is stopped by its PID; each load has a
# time limit. It installs Debian's postfix (for smtp-source, smtp-sink and the
# peer instance; the system postfix service is never started), notmuch, time
# and jq when they are missing. It exits non-zero only when something could
# not be run, never because of a figure: speed is measured here, not asserted.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/bench}

QUICK=0
PARTS=()
for a in "$@"; do
  case $a in
  --quick) QUICK=1 ;;
  ingest | import | sink | postfix | notmuch) PARTS+=("$a") ;;
  -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  *) echo "run.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(ingest import sink postfix notmuch)
want() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

if [ $QUICK = 1 ]; then
  M=${M:-400}; M1=${M1:-150}; N=${N:-1000}
else
  M=${M:-10000}; M1=${M1:-3000}; N=${N:-20000}
fi
SEED=${SEED:-1}
REPS=${REPS:-1}
OUT=${OUT:-/tmp/tidings-bench}
CORPUS=${CORPUS:-/tmp/tidings-corpus-n$N-s$SEED}
export PATH=$PATH:/usr/local/go/bin:/usr/sbin

if [ ! -f "$PEERS/peers.sh" ]; then
  echo "run.sh: the peer scripts are not at $PEERS (set PEERS=DIR)" >&2
  exit 1
fi
# The peers' helpers (wait_port, stop_pid, cpu_s, timed) are shared, not copied.
RES=$OUT/peers
# shellcheck source=/dev/null
. "$PEERS/lib.sh"

FAIL=0
fail() { echo "FAILED: $*" >&2; FAIL=1; }

# --- tools, installed once and only when missing

install_missing() {
  local pkgs=()
  [ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/postfix ] || pkgs+=(postfix)
  command -v notmuch >/dev/null || pkgs+=(notmuch)
  [ -x /usr/bin/time ] || pkgs+=(time)
  command -v jq >/dev/null || pkgs+=(jq)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  echo "installing ${pkgs[*]}"
  apt-get update -qq >/dev/null || return 1
  # "No configuration": the package installs without setting up or starting
  # the system's own mail service.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
}
install_missing || { echo "run.sh: could not install the tools it needs" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT" "$RES"
RESULTS=$OUT/results.tsv
printf 'what\tvalue\tunit\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
# get KEY: the median of KEY's recorded values (one per repetition).
get() {
  awk -F'\t' -v k="$1" '$1==k && $2!="" {v[++n]=$2; if ($2 ~ /\./) frac=1} END{
    if (!n) exit
    for (i=1;i<=n;i++) for (j=i+1;j<=n;j++) if (v[j]+0 < v[i]+0) {t=v[i]; v[i]=v[j]; v[j]=t}
    m = (n%2) ? v[(n+1)/2] : (v[n/2]+v[n/2+1])/2
    if (v[1] !~ /^[0-9.]+$/) print v[1]; else printf (frac ? "%.3f\n" : "%.0f\n"), m }' "$RESULTS"
}
rate() { awk -v n="$1" -v w="$2" 'BEGIN{ if (w > 0) printf "%.0f", n/w; else print "" }'; }

# free_port FROM: the first port from FROM up with nothing listening on it.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && stop_pid "$SERVE_PID"; SERVE_PID=; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

T=$OUT/tidings
if want ingest || want import; then
  echo "building ./cmd/tidings"
  if ! (cd "$ROOT" && go build -o "$T" ./cmd/tidings); then
    echo "run.sh: go build ./cmd/tidings failed" >&2
    exit 1
  fi
fi

# stored_count ARGS...: how many messages `tidings threads --json` lists.
stored_count() {
  "$T" threads --json "$@" 2>>"$OUT/cli.log" | jq '[.[].message_ids | length] | add // 0'
}

ensure_corpus() {
  local have
  have=$(find "$CORPUS/mail/cur" -type f 2>/dev/null | wc -l)
  [ "$have" = "$N" ] && return 0
  echo "generating a $N-message corpus (seed $SEED) in $CORPUS/mail"
  rm -rf "$CORPUS"
  (cd "$PEERS/gencorpus" && go run . -n "$N" -seed "$SEED" -out "$CORPUS/mail") >/dev/null
}

# --- tidings: durable SMTP ingest

bench_ingest() {
  local dir=$OUT/ingest sp hp cfg wall rc c0 c1 sent stored
  rm -rf "$dir"; mkdir -p "$dir"
  sp=$(free_port 25250) && hp=$(free_port $((sp + 1))) || { fail "ingest: no free port"; return; }
  cfg=$dir/tidings.toml
  cat >"$cfg" <<EOF
domain   = "localhost"
data_dir = "$dir/data"

[smtp]
listen = "127.0.0.1:$sp"

[http]
listen = "127.0.0.1:$hp"
EOF
  # smtp-source sends from and to foo@<-M name> unless told: name both, and
  # let the whole (loopback-only) domain post as an outside sender would.
  if ! "$T" team add bench --address bench@localhost --allow @localhost --config "$cfg" >>"$OUT/cli.log" 2>&1; then
    fail "ingest: tidings team add (see $OUT/cli.log)"; return
  fi
  "$T" serve --config "$cfg" >"$dir/serve.log" 2>&1 &
  SERVE_PID=$!
  if ! wait_port 127.0.0.1 "$sp"; then
    fail "ingest: tidings serve did not listen (see $dir/serve.log)"; cleanup; return
  fi
  local src=(/usr/sbin/smtp-source -M localhost -f sender@localhost -t bench@localhost -l 4096)

  c0=$(cpu_s "$SERVE_PID")
  timed wall timeout 300 "${src[@]}" -s 20 -m "$M" 127.0.0.1:"$sp"; rc=$TIMED_RC
  c1=$(cpu_s "$SERVE_PID")
  if [ "$rc" = 0 ]; then
    record ingest_s20 "$(rate "$M" "$wall")" msgs/s
    record ingest_s20_cpu_ms "$(awk -v a="$c0" -v b="$c1" -v n="$M" 'BEGIN{printf "%.3f", (b-a)*1000/n}')" ms/msg
  else
    fail "ingest: smtp-source -s 20 exited $rc"
  fi
  sleep 1
  c0=$(cpu_s "$SERVE_PID")
  timed wall timeout 300 "${src[@]}" -s 1 -m "$M1" 127.0.0.1:"$sp"; rc=$TIMED_RC
  c1=$(cpu_s "$SERVE_PID")
  if [ "$rc" = 0 ]; then
    record ingest_s1 "$(rate "$M1" "$wall")" msgs/s
    record ingest_s1_cpu_ms "$(awk -v a="$c0" -v b="$c1" -v n="$M1" 'BEGIN{printf "%.3f", (b-a)*1000/n}')" ms/msg
  else
    fail "ingest: smtp-source -s 1 exited $rc"
  fi
  record ingest_rss "$(awk '/^VmHWM:/{printf "%.0f", $2/1024}' /proc/"$SERVE_PID"/status)" MiB
  cleanup

  # Every smtp-source message differs (its Message-Id names the client's PID,
  # socket and a count), so all of them should be stored: none is a duplicate.
  sent=$((M + M1))
  stored=$(stored_count --team bench --config "$cfg")
  record ingest_sent "$sent" msgs
  record ingest_stored "${stored:-?}" msgs
}

# --- tidings: import

bench_import() {
  local dir=$OUT/import tf wall rss rc stored
  ensure_corpus || { fail "import: corpus generation failed"; return; }
  rm -rf "$dir"; mkdir -p "$dir"
  if ! "$T" team add bench --address bench@localhost --data "$dir/data" >>"$OUT/cli.log" 2>&1; then
    fail "import: tidings team add (see $OUT/cli.log)"; return
  fi
  tf=$dir/time.txt
  timeout 900 /usr/bin/time -v -o "$tf" "$T" import --maildir "$CORPUS/mail" --team bench --data "$dir/data" \
    >"$dir/import.log" 2>&1 </dev/null
  rc=$?
  if [ "$rc" != 0 ]; then
    fail "import: tidings import exited $rc (see $dir/import.log)"; return
  fi
  # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:02.34"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$tf")
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$tf")
  record import "$(rate "$N" "$wall")" msgs/s
  record import_wall "$wall" s
  record import_rss "$rss" MiB
  stored=$(stored_count --team bench --data "$dir/data")
  record import_stored "${stored:-?}" msgs
}

# --- peers, through the shared scripts; their lines are parsed, not re-measured

run_peer() { # NAME
  local log=$OUT/peer-$1.log
  M=$M M1=$M1 N=$N SEED=$SEED CORPUS=$CORPUS RES=$RES timeout 900 bash "$PEERS/peers.sh" "$1" >"$log" 2>&1 ||
    fail "peer $1 (see $log)"
  cat "$log" >>"$OUT/peers.log"
  case $1 in
  sink)
    record sink_s20 "$(peer_rate '^smtp-sink +20 sessions' "$log")" msgs/s
    record sink_s1 "$(peer_rate '^smtp-sink +1 session' "$log")" msgs/s ;;
  postfix)
    record postfix_s20 "$(peer_rate '^postfix +20 sessions' "$log")" msgs/s
    record postfix_s1 "$(peer_rate '^postfix +1 session' "$log")" msgs/s ;;
  notmuch)
    record notmuch "$(peer_rate '^notmuch new:' "$log")" msgs/s ;;
  esac
}

# peer_rate REGEX FILE: the number before "msgs/s" on the line matching REGEX.
peer_rate() {
  awk -v re="$1" '$0 ~ re { for (i = 2; i <= NF; i++) if ($i == "msgs/s") v = $(i-1) } END { print v }' "$2"
}

# Interleaved so that a passing burst of other load on the machine is less
# likely to favour one side: each peer runs next to the tidings figure it is
# compared with.
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
if want import || want notmuch; then ensure_corpus || fail "corpus generation failed"; fi
for rep in $(seq 1 "$REPS"); do
  [ "$REPS" -gt 1 ] && echo "repetition $rep of $REPS"
  if want sink; then echo "peer: smtp-sink"; run_peer sink; fi
  if want ingest; then echo "tidings: SMTP ingest ($M msgs at 20 sessions, $M1 at 1)"; bench_ingest; fi
  if want postfix; then echo "peer: postfix"; run_peer postfix; fi
  if want import; then echo "tidings: import ($N msgs)"; bench_import; fi
  if want notmuch; then echo "peer: notmuch new"; run_peer notmuch; fi
done

# --- the table

num() { local v; v=$(get "$1"); printf '%s' "${v:--}"; }
commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)
dirty=$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null | head -1)
echo
echo "tidings $commit${dirty:+ (with uncommitted changes)}, $(go version | awk '{print $3}'), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')$([ $QUICK = 1 ] && echo ', --quick')"
echo "load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine lowers every figure)"
[ "$REPS" -gt 1 ] && echo "medians of $REPS interleaved repetitions"
echo "load: smtp-source -l 4096 (4 KiB bodies); import corpus: $N msgs, seed $SEED ($CORPUS/mail)"
echo
fmt='%-34s %12s %12s   %s\n'
printf "$fmt" "measure" "tidings" "target" "peers (same run)"
printf "$fmt" "----------------------------------" "------------" "------------" "------------------------------------------"
printf "$fmt" "SMTP ingest, 20 sessions (msgs/s)" "$(num ingest_s20)" ">= 3500" "postfix $(num postfix_s20) (durable) · smtp-sink $(num sink_s20) (ceiling)"
printf "$fmt" "SMTP ingest, 1 session (msgs/s)" "$(num ingest_s1)" ">= 1000" "postfix $(num postfix_s1) (durable) · smtp-sink $(num sink_s1) (ceiling)"
printf "$fmt" "serve peak RSS (MiB)" "$(num ingest_rss)" "" ""
printf "$fmt" "serve CPU per msg, 20 / 1 (ms)" "$(get ingest_s20_cpu_ms) / $(get ingest_s1_cpu_ms)" "" ""
printf "$fmt" "stored / sent (SMTP)" "$(num ingest_stored) / $(num ingest_sent)" "all" ""
printf "$fmt" "import $N msgs (msgs/s)" "$(num import)" ">= 10000" "notmuch new $(num notmuch)"
printf "$fmt" "import peak RSS (MiB)" "$(num import_rss)" "< 200" ""
printf "$fmt" "stored / in corpus (import)" "$(num import_stored) / $N" "all" ""
echo
s=$(get ingest_stored); t=$(get ingest_sent)
if [ -n "$s" ] && [ -n "$t" ] && [ "$s" != "$t" ]; then
  echo "note: SMTP stored $s of $t sent: the rest were refused or taken as duplicates (see $OUT/ingest/serve.log)"
fi
echo "raw figures: $RESULTS; logs: $OUT"
exit $FAIL
