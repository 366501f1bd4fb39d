#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and open the bundled demo case.
# With a display: the GUI on the demo case. Without one: the headless equivalent, which
# imports the demo data and prints the case summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MT_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"

demo="$root/resources/demo"
case_file="$build/demo.mtcase"
logs=("$demo"/*.log.gz)
# Rebuild the demo case from the bundled data each time, so it matches this build.
rm -f "$case_file" "$case_file-wal" "$case_file-shm" "$case_file.truth.json"
"$build/app/mailtriage-cli" import --case "$case_file" --org "$demo/org.csv" "${logs[@]}"
# Detection, as the GUI does after an import: the case opens with its campaign.
"$build/app/mailtriage-cli" detect --case "$case_file"
# The demo is a drill: its answer sits beside the case (Drill > Show truth in the GUI).
gzip -dc "$demo/truth.json.gz" > "$case_file.truth.json"

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec "$build/app/mailtriage" --case "$case_file"
fi
echo
echo "No display: headless run. Summary of $case_file:"
"$build/app/mailtriage-cli" summary --case "$case_file"
echo
echo "First flagged messages:"
# (head closes the pipe early: that SIGPIPE is not a failure)
("$build/app/mailtriage-cli" messages --case "$case_file" --flagged || true) | head -n 4 | cut -c1-200
echo
echo "Recall plan on the simulated servers (nothing is sent; the GUI approves and runs it):"
("$build/app/mailtriage-cli" recall --case "$case_file" --campaign 1 --servers demo --approve-as "$(id -un)" --plan-only || true) | head -n 14
report="$build/demo-report.pdf"
"$build/app/mailtriage-cli" report --case "$case_file" --output "$report"
echo "Incident report: $report"
