#!/bin/bash
# Live monitoring under load (issue 10): a simulated ILOVEYOU outbreak replayed over syslog
# (UDP, RFC 5424) at RATE lines/s for SECONDS into `mailtriage-cli import --follow`.
# Measures: alert latency (the first line at or after the campaign's detected_at sent -> ALERT
# printed), the writer's lag, RSS every 5 s (flat?), and lines lost (sent - committed).
#   bench_live.sh CLI REPLAY WORKDIR [SECONDS=120] [RATE=2000] [udp|tcp]
# MT_BENCH_ENFORCE=1: fail when the latency is 2 s or more, a line is lost, or RSS grows by
# more than 25% from the first quarter of the run to the last.
set -euo pipefail
CLI=$1; REPLAY=$2; WORK=$3; SECONDS_RUN=${4:-120}; RATE=${5:-2000}; PROTO=${6:-udp}
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"

# Enough lines for the run: about 79 lines per user and hour of the simulated day.
NEED=$(( SECONDS_RUN * RATE * 11 / 10 ))
HOURS=8
USERS=$(( NEED / (79 * HOURS) + 1 )); (( USERS < 300 )) && USERS=300
if (( USERS > 6000 )); then HOURS=24; USERS=$(( NEED / (79 * HOURS) + 1 )); fi
echo "bench_live: simulating $USERS users for $HOURS h (ILOVEYOU) for $SECONDS_RUN s at $RATE lines/s over $PROTO"
"$CLI" simulate --out sim --users "$USERS" --servers 4 --hours "$HOURS" --seed 10 --worm iloveyou --json > /dev/null
LINES=$(cat sim/mail*.log | wc -l)
echo "bench_live: $LINES lines simulated"

PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if "'"$PROTO"'"=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OPT=--syslog-udp; [[ $PROTO == tcp ]] && OPT=--syslog-tcp
"$CLI" import --case live.mtcase --org sim/org.csv > /dev/null
# BENCH_LIVE_ARGS: more options for the follower (e.g. --no-detect to measure ingest alone).
"$CLI" import --case live.mtcase --follow $OPT "$PORT" --bind 127.0.0.1 ${BENCH_LIVE_ARGS:-} > follow.out 2> follow.err &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^following' follow.out 2>/dev/null && break; sleep 0.1; done
grep -q '^following' follow.out || { echo "bench_live: the listener did not start"; cat follow.err; exit 1; }

: > rss.tsv
( start=$(date +%s.%N); while kill -0 $PID 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status 2>/dev/null || echo 0)
    echo "$(python3 -c "import time; print(round(time.time()-$start,1))") $rss" >> rss.tsv
    sleep 5; done ) &
SAMPLER=$!

REPLAY_ARGS=(--host 127.0.0.1 --port "$PORT" --rate "$RATE" --duration "$SECONDS_RUN" --sent-log sent.txt)
[[ $PROTO == tcp ]] && REPLAY_ARGS+=(--tcp)
"$REPLAY" "${REPLAY_ARGS[@]}" sim/mail*.log | tee replay.out
sleep 3
kill -INT $PID
wait $PID || true
trap - EXIT
kill $SAMPLER 2>/dev/null || true

python3 - "$SECONDS_RUN" "$RATE" <<'PY'
import bisect, datetime, os, re, sys
seconds, rate = int(sys.argv[1]), int(sys.argv[2])
sent = [tuple(map(int, l.split())) for l in open("sent.txt")]
out = open("follow.out").read()
m = re.search(r"session \d+: (\d+) lines committed in (\d+) batches.*?(\d+) syslog messages, (\d+) malformed, (\d+) oversized, (\d+) refused, (\d+) cut by a disconnect, (\d+) dropped, (\d+) detection runs", out)
committed, batches, received, malformed, oversized, refused, cut, dropped, runs = map(int, m.groups())
if not m: print("bench_live: no session summary from the follower"); sys.exit(1)
lags = [int(x) for x in re.findall(r" lag (\d+) ms", out)]
dets = [int(x) for x in re.findall(r"\(last (\d+) ms\)", out)]
alerts = re.findall(r'ALERT new campaign (\d+) "(.*)" detected_at (\S+) alert (\d+) wall_ms (\d+)', out)
print(f"bench_live: {len(sent)} lines sent in {seconds} s ({len(sent)/seconds:.0f}/s), {received} received, {committed} committed in {batches} batches, lost {len(sent)-committed}")
print(f"bench_live: malformed {malformed}, oversized {oversized}, refused {refused}, dropped {dropped}; {runs} detection runs, last {dets[-1] if dets else 0} ms, longest {max(dets) if dets else 0} ms")
if lags:
    s = sorted(lags)
    print(f"bench_live: writer lag (commit - oldest line received): median {s[len(s)//2]} ms, p99 {s[int(len(s)*0.99)]} ms, max {s[-1]} ms")
logt = [a for a, _ in sent]
worst = 0
for cid, label, det, alert, wall in alerts:
    dt = int(datetime.datetime.fromisoformat(det.replace("Z", "+00:00")).timestamp() * 1000)
    i = bisect.bisect_left(logt, dt)
    if i >= len(sent):
        print(f"bench_live: alert {alert} ({label}) detected_at {det}: no line sent at that time")
        continue
    lat = int(wall) - sent[i][1]
    worst = max(worst, lat) if int(alert) == 1 or worst else lat
    print(f"bench_live: ALERT {alert} campaign \"{label}\" detected_at {det}: latency {lat} ms (line sent -> ALERT printed)")
rss = [tuple(map(float, l.split())) for l in open("rss.tsv") if l.strip()]
rss = [r for r in rss if r[1] > 0]
if len(rss) >= 4:
    q = max(1, len(rss) // 4)
    first = sum(r[1] for r in rss[:q]) / q / 1024
    last = sum(r[1] for r in rss[-q:]) / q / 1024
    print(f"bench_live: RSS first quarter {first:.0f} MB, last quarter {last:.0f} MB, peak {max(r[1] for r in rss)/1024:.0f} MB ({len(rss)} samples)")
    growth = (last - first) / first if first else 0
else:
    growth = 0
first_alert = None
if alerts:
    cid, label, det, alert, wall = alerts[0]
    dt = int(datetime.datetime.fromisoformat(det.replace("Z", "+00:00")).timestamp() * 1000)
    i = bisect.bisect_left(logt, dt)
    first_alert = int(wall) - sent[min(i, len(sent)-1)][1]
if os.environ.get("MT_BENCH_ENFORCE") == "1":
    bad = []
    if first_alert is None: bad.append("no alert")
    elif first_alert >= 2000: bad.append(f"alert latency {first_alert} ms >= 2000")
    if len(sent) - committed > 0: bad.append(f"{len(sent)-committed} lines lost")
    if growth > 0.25: bad.append(f"RSS grew {growth*100:.0f}%")
    if bad:
        print("bench_live: FAILED: " + "; ".join(bad)); sys.exit(1)
PY
