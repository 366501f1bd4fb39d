#!/usr/bin/env bash
# Simulator speed (label bench): 5,000 users for an 8-hour working day, one worm.
#   bench_simulate.sh MAILTRIAGE_CLI WORKDIR
# MT_BENCH_ENFORCE=1 fails the run above MT_BENCH_MAX_SIM_S seconds (default 20).
set -euo pipefail
cli=$1
work=$2
limit=${MT_BENCH_MAX_SIM_S:-20}
users=${MT_BENCH_SIM_USERS:-5000}
mkdir -p "$work"
rm -rf "$work/sim"
start=$(date +%s.%N)
"$cli" simulate --out "$work/sim" --users "$users" --servers 8 --hours 8 --seed 1 --worm iloveyou --json > "$work/sim.json"
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
bytes=$(cat "$work"/sim/mail*.log | wc -c)
echo "== bench_simulate =="
echo "users                $users (8 servers, 8 h, worm iloveyou, seed 1)"
echo "result               $(cat "$work/sim.json")"
echo "log bytes            $bytes"
echo "wall time            $secs s (target under $limit s)"
if [[ "${MT_BENCH_ENFORCE:-0}" == 1 ]] && awk -v s="$secs" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
  echo "bench_simulate: over the limit" >&2
  exit 1
fi
