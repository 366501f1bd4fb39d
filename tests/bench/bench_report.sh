#!/usr/bin/env bash
# Report and export speed (label bench; issue 7 target: the report of a million-message case
# in under 10 s). Builds the case with bench_detect (a simulated 20,000-user organisation over
# 40 hours with a worm, about a million messages, detected) unless CASE is given, then times
# `mailtriage-cli report` and the CSV export of the message table, with peak memory.
#   bench_report.sh BENCH_DETECT CLI WORKDIR [CASE]
set -euo pipefail
bench_detect=$1 cli=$2 work=$3 case_file=${4:-}
mkdir -p "$work"
if [[ -z "$case_file" ]]; then
  case_file="$work/bench.mtcase"
  if [[ ! -s "$case_file" ]]; then
    echo "bench_report: building a ~1M-message case with bench_detect (a few minutes)"
    "$bench_detect" --keep "$work" --repeat 1 > "$work/bench_detect.txt"
  fi
fi
messages=$("$cli" summary --case "$case_file" | awk '$1 == "messages" {print $2}')
echo "bench_report: case $case_file, $messages messages"
time_cmd() { /usr/bin/time -f "%e s, peak RSS %M KB" "$@"; }
echo "report (A4, every campaign):"
time_cmd "$cli" report --case "$case_file" --output "$work/report.pdf" --json
pdfinfo "$work/report.pdf" 2>/dev/null | grep -E "Pages|File size" || true
echo "export messages (CSV):"
time_cmd "$cli" export --case "$case_file" --table messages --output "$work/messages.csv"
echo "export campaigns (JSON):"
time_cmd "$cli" export --case "$case_file" --table campaigns --format json --output "$work/campaigns.json"
