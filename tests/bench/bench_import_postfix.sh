#!/usr/bin/env bash
# Import benchmark: how fast `mailtriage-cli import` reads a large multi-server Postfix corpus,
# and how much memory it needs, next to pflogsumm on the same files.
#
#   bench_import_postfix.sh GENERATOR MAILTRIAGE_CLI WORKDIR
#
# Environment:
#   MT_BENCH_BYTES     corpus size in bytes (default 1073741824 = 1 GiB)
#   MT_BENCH_SEED      generator seed (default 1)
#   MT_BENCH_SERVERS   number of servers / log files (default 4)
#   MT_BENCH_STAMP     rfc3339 (Debian 12 rsyslog default) or classic (default rfc3339)
#   MT_BENCH_RSS       time (GNU time -v, the default when installed) or poll (/proc VmHWM)
#   MT_BENCH_ENFORCE   1: exit 1 when below MT_BENCH_MIN_MBPS (150) MB/s or above
#                      MT_BENCH_MAX_RSS_MB (2048) MB peak RSS; otherwise only report
#
# The corpus is generated once per (generator version, size, seed, servers, stamp) and kept in
# WORKDIR; each run imports into a fresh case file. A failing import always fails the script.
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 3 ]]; then
  echo "usage: $0 GENERATOR MAILTRIAGE_CLI WORKDIR" >&2
  exit 2
fi
gen=$1
cli=$2
work=$3
bytes=${MT_BENCH_BYTES:-1073741824}
seed=${MT_BENCH_SEED:-1}
servers=${MT_BENCH_SERVERS:-4}
stamp=${MT_BENCH_STAMP:-rfc3339}
min_mbps=${MT_BENCH_MIN_MBPS:-150}
max_rss_mb=${MT_BENCH_MAX_RSS_MB:-2048}

for exe in "$gen" "$cli"; do
  if [[ ! -x $exe ]]; then
    echo "bench: $exe is not an executable (build it first)" >&2
    exit 1
  fi
done
mkdir -p "$work"
work=$(cd "$work" && pwd)

now() { date +%s.%N; }
# awk does the floating point; every figure goes through here.
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# ---------------------------------------------------------------- corpus (cached)
version=$("$gen" --version | tr -c 'A-Za-z0-9.\n' '-' | tr -d '\n')
corpus="$work/corpus-$version-b$bytes-s$seed-k$servers-$stamp"
if [[ ! -f $corpus/.complete ]]; then
  # Corpora of other generator versions are stale: drop them, they are large.
  for old in "$work"/corpus-*; do
    if [[ -d $old && $old != "$work/corpus-$version-"* ]]; then rm -rf "$old"; fi
  done
  rm -rf "$corpus" "$corpus.tmp"
  echo "bench: generating $bytes bytes of Postfix logs ($servers servers, seed $seed, $stamp) in $corpus"
  t0=$(now)
  "$gen" --out "$corpus.tmp" --bytes "$bytes" --servers "$servers" --seed "$seed" --stamp "$stamp" 2>&1 >/dev/null |
    sed "s/^/bench: /"
  t1=$(now)
  touch "$corpus.tmp/.complete"
  mv "$corpus.tmp" "$corpus"
  echo "bench: generated in $(calc '%.1f' "$t1 - $t0") s"
else
  echo "bench: reusing $corpus"
fi
logs=()
for ((i = 1; i <= servers; i++)); do logs+=("$corpus/mail$i.log"); done
input_bytes=$(cat "${logs[@]}" | wc -c)
manifest_msgs=$(grep -o '"accepted_messages": [0-9]*' "$corpus/manifest.json" | grep -o '[0-9]*$' || echo "?")
manifest_qids=$(grep -o '"queue_ids": [0-9]*' "$corpus/manifest.json" | grep -o '[0-9]*$' || echo "?")

# ---------------------------------------------------------------- timing helpers
# run_measured OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR; sets rc, wall
# (seconds) and rss_kb (peak resident set size, KiB).
have_gnu_time=0
if [[ ${MT_BENCH_RSS:-time} != poll && -x /usr/bin/time ]] && /usr/bin/time --version 2>&1 | grep -q GNU; then
  have_gnu_time=1
fi
rss_method=""
run_measured() {
  local out=$1 err=$2
  shift 2
  local tv="$work/time-v.txt"
  rc=0
  rss_kb=0
  if [[ $have_gnu_time == 1 ]]; then
    rss_method="GNU time -v (getrusage ru_maxrss)"
    local t0 t1
    t0=$(now)
    /usr/bin/time -v -o "$tv" "$@" >"$out" 2>"$err" || rc=$?
    t1=$(now)
    wall=$(calc '%.3f' "$t1 - $t0")
    rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
    rss_kb=${rss_kb:-0}
  else
    rss_method="polling VmHWM in /proc/PID/status every 50 ms (may miss the last 50 ms)"
    local t0 t1 pid hwm
    t0=$(now)
    "$@" >"$out" 2>"$err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      if [[ -n $hwm && $hwm -gt $rss_kb ]]; then rss_kb=$hwm; fi
      sleep 0.05
    done
    wait "$pid" || rc=$?
    t1=$(now)
    wall=$(calc '%.3f' "$t1 - $t0")
  fi
}

# ---------------------------------------------------------------- mailtriage-cli import
case_file="$work/bench.mtcase"
rm -f "$case_file" "$case_file"-* "$case_file".*
# Warm the page cache so that both tools are timed on cached files, as any repeated run is.
cat "${logs[@]}" >/dev/null
echo "bench: mailtriage-cli import --case $case_file --json (${#logs[@]} files)"
run_measured "$work/import.json" "$work/import.err" "$cli" import --case "$case_file" --json "${logs[@]}"
import_rc=$rc
import_s=$wall
import_rss_kb=$rss_kb
if [[ $import_rc -ne 0 ]]; then
  echo "bench: mailtriage-cli import failed with exit code $import_rc; its last words:" >&2
  tail -n 20 "$work/import.err" >&2 || true
  tail -c 2000 "$work/import.json" >&2 || true
  exit 1
fi
messages=$(grep -o '"messages"[[:space:]]*:[[:space:]]*[0-9]*' "$work/import.json" | head -n 1 | grep -o '[0-9]*$' || true)

# ---------------------------------------------------------------- pflogsumm
pfl_s=""
if command -v pflogsumm >/dev/null 2>&1; then
  echo "bench: pflogsumm --problems-first (${#logs[@]} files)"
  run_measured /dev/null "$work/pflogsumm.err" pflogsumm --problems-first "${logs[@]}"
  if [[ $rc -ne 0 ]]; then
    echo "bench: pflogsumm failed with exit code $rc (ignored):" >&2
    tail -n 5 "$work/pflogsumm.err" >&2 || true
  else
    pfl_s=$wall
  fi
else
  echo "bench: pflogsumm is not installed (scripts/install-deps.sh --test installs it); no comparison"
fi

# ---------------------------------------------------------------- report
input_mb=$(calc '%.1f' "$input_bytes / 1000000")
mbps=$(calc '%.1f' "$input_bytes / 1000000 / ($import_s > 0 ? $import_s : 0.001)")
rss_mb=$(calc '%.1f' "$import_rss_kb / 1024")
if [[ -n $messages ]]; then
  msgs_per_s=$(calc '%.0f' "$messages / ($import_s > 0 ? $import_s : 0.001)")
else
  messages="(no \"messages\" in the JSON)"
  msgs_per_s="n/a"
fi
if [[ -n $pfl_s ]]; then
  ratio=$(calc '%.2f' "$pfl_s / ($import_s > 0 ? $import_s : 0.001)")
  pfl_txt="$pfl_s s"
else
  ratio="n/a"
  pfl_txt="n/a"
fi

echo
echo "== bench_import_postfix =="
printf '%-34s %s\n' "corpus" "$corpus"
printf '%-34s %s\n' "input" "$input_mb MB ($input_bytes bytes, ${#logs[@]} files, $stamp stamps)"
printf '%-34s %s\n' "generated messages (manifest)" "$manifest_msgs accepted, $manifest_qids queue ids"
printf '%-34s %s\n' "import wall time" "$import_s s"
printf '%-34s %s\n' "import throughput" "$mbps MB/s"
printf '%-34s %s\n' "messages (import JSON)" "$messages"
printf '%-34s %s\n' "messages/s" "$msgs_per_s"
printf '%-34s %s\n' "import peak RSS" "$rss_mb MB ($rss_method)"
printf '%-34s %s\n' "pflogsumm wall time" "$pfl_txt"
printf '%-34s %s\n' "pflogsumm / import (x faster)" "$ratio"
cat >"$work/bench_result.json" <<EOF
{"input_bytes": $input_bytes, "import_s": $import_s, "mb_per_s": $mbps, "messages": "${messages//\"/}", "messages_per_s": "$msgs_per_s", "peak_rss_mb": $rss_mb, "pflogsumm_s": "${pfl_s}", "ratio": "$ratio"}
EOF

fail=0
if awk "BEGIN { exit !($mbps < $min_mbps) }"; then
  echo "bench: throughput $mbps MB/s is below $min_mbps MB/s"
  fail=1
fi
if awk "BEGIN { exit !($rss_mb > $max_rss_mb) }"; then
  echo "bench: peak RSS $rss_mb MB is above $max_rss_mb MB"
  fail=1
fi
if [[ $fail == 1 ]]; then
  if [[ ${MT_BENCH_ENFORCE:-0} == 1 ]]; then
    echo "bench: FAILED (MT_BENCH_ENFORCE=1)"
    exit 1
  fi
  echo "bench: limits not enforced (set MT_BENCH_ENFORCE=1 to fail on them)"
fi
exit 0
