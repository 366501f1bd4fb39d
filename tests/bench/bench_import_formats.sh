#!/usr/bin/env bash
# Import speed per traffic format (issue 9 target: at least 100 MB/s into the case, each).
#
#   bench_import_formats.sh GENERATOR MAILTRIAGE_CLI WORKDIR
#
# For each format, gen_traffic_logs writes MT_BENCH_BYTES of realistic logs (cached in WORKDIR
# per generator version, size and seed), then `mailtriage-cli import` reads them with format
# detection on (as a user would) into a fresh case. MB/s counts every input byte (Zeek's
# files.log included) over the whole import: sniffing, parsing, writing, linking, commit.
#
# Environment:
#   MT_BENCH_BYTES     bytes per format (default 268435456 = 256 MiB)
#   MT_BENCH_SEED      generator seed (default 1)
#   MT_BENCH_SERVERS   servers (default 4)
#   MT_BENCH_FORMATS   formats to run (default "exim zeek zeek-json exchange m365 csv jsonl")
#   MT_BENCH_ENFORCE   1: exit 1 when a format is below MT_BENCH_MIN_MBPS (default 100)
set -euo pipefail
export LC_ALL=C
if [[ $# -ne 3 ]]; then
  echo "usage: $0 GENERATOR MAILTRIAGE_CLI WORKDIR" >&2
  exit 2
fi
gen=$1
cli=$2
work=$3
bytes=${MT_BENCH_BYTES:-268435456}
seed=${MT_BENCH_SEED:-1}
servers=${MT_BENCH_SERVERS:-4}
formats=${MT_BENCH_FORMATS:-"exim zeek zeek-json exchange m365 csv jsonl"}
min_mbps=${MT_BENCH_MIN_MBPS:-100}
mkdir -p "$work"
work=$(cd "$work" && pwd)
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
version=$("$gen" --version | tr -c 'A-Za-z0-9.\n' '-' | tr -d '\n')

failed=0
printf '%-10s %10s %9s %9s %10s %10s %8s\n' format MB seconds MB/s messages copies rejected
for fmt in $formats; do
  corpus="$work/$fmt-$version-b$bytes-s$seed-k$servers"
  if [[ ! -f $corpus/.complete ]]; then
    rm -rf "$corpus" "$corpus.tmp"
    "$gen" --format "$fmt" --out "$corpus.tmp" --bytes "$bytes" --servers "$servers" --seed "$seed" 2>/dev/null
    touch "$corpus.tmp/.complete"
    mv "$corpus.tmp" "$corpus"
  fi
  mapfile -t files < <(find "$corpus" -type f ! -name .complete | sort)
  input=$(cat "${files[@]}" | wc -c)
  case_file="$work/$fmt.mtcase"
  rm -f "$case_file" "$case_file-wal" "$case_file-shm"
  t0=$(now)
  if ! "$cli" import --case "$case_file" --json "${files[@]}" > "$work/$fmt.json" 2> "$work/$fmt.err"; then
    echo "bench: $fmt: import failed:" >&2
    head -5 "$work/$fmt.err" >&2
    failed=1
    continue
  fi
  t1=$(now)
  wall=$(calc '%.2f' "$t1 - $t0")
  mbps=$(calc '%.1f' "$input / 1000000 / ($t1 - $t0)")
  messages=$(grep -o '"messages": *[0-9]*' "$work/$fmt.json" | head -1 | grep -o '[0-9]*$')
  copies=$(grep -o '"copies": *[0-9]*' "$work/$fmt.json" | head -1 | grep -o '[0-9]*$')
  rejected=$(grep -o '"rejected_lines": *[0-9]*' "$work/$fmt.json" | head -1 | grep -o '[0-9]*$')
  printf '%-10s %10s %9s %9s %10s %10s %8s\n' "$fmt" "$(calc '%.1f' "$input / 1000000")" "$wall" "$mbps" "$messages" "$copies" "$rejected"
  if [[ ${MT_BENCH_ENFORCE:-0} == 1 ]] && awk "BEGIN { exit !($mbps < $min_mbps) }"; then
    echo "bench: $fmt: $mbps MB/s is below the $min_mbps MB/s target" >&2
    failed=1
  fi
  if [[ $rejected != 0 ]]; then
    echo "bench: $fmt: $rejected lines rejected (the generator and the importer disagree)" >&2
    failed=1
  fi
  rm -f "$case_file" "$case_file-wal" "$case_file-shm"
done
exit $failed
