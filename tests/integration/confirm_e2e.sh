#!/usr/bin/env bash
# Integration test of send confirmation (issue 8, claims 25-34) with a real Postfix on loopback.
#
#   tests/integration/confirm_e2e.sh /path/to/mailtriage-cli /path/to/mailtriage-confirm
#
# alice makes her signing key with mailtriage-confirm --keygen and is enrolled in the case from
# the enrolment line it prints. Then, all through Postfix's own sendmail (-C the test instance):
#   A  alice, 12 recipients, through the wrapper with her password: confirmed (token added);
#   B  alice, 12 recipients, straight to sendmail (a worm bypassing the wrapper): no token;
#   C  alice through the wrapper with a wrong password: refused, never reaches Postfix;
#   D  A's logged token pasted onto another message of alice (a worm replaying a header);
#   E  bob (not enrolled), 12 recipients straight to sendmail: never judged by the rule;
#   F  alice through the wrapper, one recipient: no criterion met, goes out without a token;
#   G  alice through the wrapper, one recipient and a .vbs attachment: confirmed.
# The log Postfix wrote (header_checks WARN logs X-Send-Confirm) is imported, detection runs,
# and the hits in the case must say: confirm fires on B (missing) and D (replayed) and on
# nothing else; A and G carry valid tokens.
#
# Needs root and postfix python3 (scripts/install-deps.sh --test). Everything lives in one
# mktemp -d folder; no listening port (submission goes through postdrop/pickup). The only
# change outside the folder is one entry in alternate_config_directories of
# /etc/postfix/main.cf, removed on exit (as the other Postfix tests do).
#
# Environment: MT_CONFIRM_KEEP=1 keeps the temporary folder.
# Exit status: 0 pass, 1 failure, 2 usage, 77 skipped (not root / tools missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s)
export TZ=UTC     # maillog_file stamps carry no zone; the CLI reads them as UTC

CLI=${1:-}; WRAPPER=${2:-}
[[ -n $CLI && -n $WRAPPER ]] || { echo "usage: $0 /path/to/mailtriage-cli /path/to/mailtriage-confirm" >&2; exit 2; }

say()  { printf '[confirm %3ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
skip() { echo "SKIP: $*"; exit 77; }

[[ $(id -u) -eq 0 ]] || skip "must run as root (starts Postfix)"
for tool in postfix postconf postqueue python3; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh --test)"
done
[[ -x /usr/sbin/sendmail && -x /usr/lib/postfix/sbin/virtual ]] || skip "Postfix's sendmail or virtual(8) missing"
getent passwd postfix >/dev/null && getent group postdrop >/dev/null || skip "postfix user/postdrop group missing"
getent passwd nobody >/dev/null || skip "system user 'nobody' missing"
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 without sqlite3"
[[ -x $CLI ]] || { echo "FAIL: mailtriage-cli not executable: $CLI" >&2; exit 1; }
[[ -x $WRAPPER ]] || { echo "FAIL: mailtriage-confirm not executable: $WRAPPER" >&2; exit 1; }

# Runs killed without cleanup (SIGKILL on a CTest timeout): stop their Postfix and drop their
# alternate_config_directories entry and folder - only for runs whose script is gone.
reap_stale_runs() {
  local d pid owner cur new="" x changed=0
  for d in /tmp/mailtriage-confirm.*; do
    [[ -d $d ]] || continue
    owner=$({ tr -dc 0-9 <"$d/owner.pid"; } 2>/dev/null || true)
    if [[ -n $owner ]] && kill -0 "$owner" 2>/dev/null; then continue; fi
    pid=$({ tr -dc 0-9 <"$d/postfix/queue/pid/master.pid"; } 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      echo "confirm: stopping Postfix left running by an earlier run in $d (pid $pid)"
      postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
    fi
    [[ -e $d/.keep ]] || rm -rf "$d"
  done
  [[ -f /etc/postfix/main.cf ]] || return 0
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  for x in ${cur//,/ }; do
    if [[ $x == /tmp/mailtriage-confirm.* && ! -d $x ]]; then changed=1; else new+="${new:+ }$x"; fi
  done
  if [[ $changed -eq 1 ]]; then
    if [[ -n $new ]]; then postconf -c /etc/postfix -e "alternate_config_directories = $new"
    else postconf -c /etc/postfix -X alternate_config_directories; fi
  fi
}
reap_stale_runs

TMP=$(mktemp -d /tmp/mailtriage-confirm.XXXXXX)
chmod 755 "$TMP"
echo $$ >"$TMP/owner.pid"
PF_CONF=$TMP/postfix/etc; PF_QUEUE=$TMP/postfix/queue; PF_DATA=$TMP/postfix/data
MAILLOG=$TMP/postfix.log
CASE=$TMP/confirm.mtcase
mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" "$TMP/vmail" "$TMP/alice" "$TMP/msgs"
VUID=$(id -u nobody); VGID=$(id -g nobody)
chown "$VUID:$VGID" "$TMP/vmail"

SYS_MAINCF=/etc/postfix/main.cf
SYS_MAINCF_CREATED=0; ALT_ADDED=0; PF_STARTED=0

fail() { echo "FAIL: $*" >&2; exit 1; }
dump_logs() {
  echo "----- Postfix maillog (last 60 lines) -----"; tail -n 60 "$MAILLOG" 2>/dev/null || true
  echo "----- Postfix queue -----"; postqueue -c "$PF_CONF" -j 2>&1 | tail -n 20 || true
}
stop_postfix() {
  [[ $PF_STARTED -eq 1 ]] || return 0
  PF_STARTED=0
  postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
  local pid i
  pid=$(tr -dc 0-9 <"$PF_QUEUE/pid/master.pid" 2>/dev/null || true)
  if [[ -n $pid ]]; then
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
}
restore_system_maincf() {
  if [[ $SYS_MAINCF_CREATED -eq 1 ]] && cmp -s "$SYS_MAINCF" "$TMP/sys-main.cf.ours"; then rm -f "$SYS_MAINCF"; return 0; fi
  [[ $ALT_ADDED -eq 1 && -f $SYS_MAINCF ]] || return 0
  local cur new="" d
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  for d in ${cur//,/ }; do [[ $d == "$PF_CONF" ]] || new+="${new:+ }$d"; done
  if [[ -n $new ]]; then postconf -c /etc/postfix -e "alternate_config_directories = $new"
  else postconf -c /etc/postfix -X alternate_config_directories; fi
}
cleanup() {
  local rc=$?
  set +e
  [[ $rc -ne 0 ]] && dump_logs
  stop_postfix; restore_system_maincf
  if [[ -n ${MT_CONFIRM_KEEP:-} ]]; then touch "$TMP/.keep"; rm -f "$TMP/owner.pid"; say "kept $TMP"; else rm -rf "$TMP"; fi
  if [[ $rc -eq 0 ]]; then say "PASS"; else say "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fill() {
  sed -e "s|@TMP@|$TMP|g" -e "s|@PF_CONF@|$PF_CONF|g" -e "s|@PF_QUEUE@|$PF_QUEUE|g" -e "s|@PF_DATA@|$PF_DATA|g" \
      -e "s|@VUID@|$VUID|g" -e "s|@VGID@|$VGID|g" "$1" >"$2"
}
say "temporary folder $TMP"

# ---------------------------------------------------------------- Postfix
if [[ ! -f $SYS_MAINCF ]]; then
  printf '# Created by MailTriage tests/integration/confirm_e2e.sh; removed again when the test ends.\ncompatibility_level = 3.6\nalternate_config_directories = %s\n' "$PF_CONF" >"$TMP/sys-main.cf.ours"
  cp "$TMP/sys-main.cf.ours" "$SYS_MAINCF"; SYS_MAINCF_CREATED=1
else
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  if [[ " ${cur//,/ } " != *" $PF_CONF "* ]]; then
    postconf -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur }$PF_CONF"; ALT_ADDED=1
  fi
fi
fill "$HERE/confirm/main.cf.in" "$PF_CONF/main.cf"
cp "$HERE/confirm/master.cf.in" "$PF_CONF/master.cf"
cp "$HERE/confirm/header_checks" "$PF_CONF/"
{
  for u in alice bob; do echo "$u@example.test $u/"; done
  for i in $(seq 1 12); do echo "r$i@example.test r$i/"; done
} >"$PF_CONF/vmailbox"
chown postfix "$PF_QUEUE" "$PF_DATA"
postfix -c "$PF_CONF" check >"$TMP/postfix-check.out" 2>&1 || { cat "$TMP/postfix-check.out"; fail "postfix check failed"; }
PF_STARTED=1
postfix -c "$PF_CONF" start >"$TMP/postfix-start.out" 2>&1 || { cat "$TMP/postfix-start.out"; fail "postfix start failed"; }
for ((i = 0; i < 100; i++)); do [[ -S $PF_QUEUE/public/pickup || -p $PF_QUEUE/public/pickup ]] && break; sleep 0.2; done
say "Postfix up"

# ---------------------------------------------------------------- alice's key and the wrapper's config
CFG=$TMP/alice/config.ini
cat >"$CFG" <<INI
[sendmail]
command=/usr/sbin/sendmail -C $PF_CONF
[user]
address=alice@example.test
key_file=$TMP/alice/key.json
history_file=$TMP/alice/sent
[criteria]
max_messages=5
window_minutes=10
max_recipients=10
INI
PASSWORD='alice-loves-mail'
"$WRAPPER" --config "$CFG" --keygen --user alice@example.test --password-fd 3 3<<<"$PASSWORD" >"$TMP/enrol.csv" 2>"$TMP/keygen.err" \
  || { cat "$TMP/keygen.err"; fail "keygen failed"; }
[[ $(stat -c %a "$TMP/alice/key.json") == 600 ]] || fail "key file is not mode 0600"
grep -q "^alice@example.test,ed25519," "$TMP/enrol.csv" || fail "no enrolment line: $(cat "$TMP/enrol.csv")"
say "alice's key: $(cut -d, -f3 "$TMP/enrol.csv" | tail -1)"

RUNID=$(date +%Y%m%d%H%M%S).$$
RCPTS12=$(for i in $(seq 1 12); do printf 'r%s@example.test, ' "$i"; done); RCPTS12=${RCPTS12%, }
# msg ID FROM TO SUBJECT [ATTACHMENT-NAME]
msg() {
  local id=$1 from=$2 to=$3 subject=$4 att=${5:-}
  {
    printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%s@example.test>\nDate: %s\nMIME-Version: 1.0\n' \
      "$from" "$to" "$subject" "$id" "$RUNID" "$(date -R)"
    if [[ -n $att ]]; then
      printf 'Content-Type: multipart/mixed; boundary="b-%s"\n\n--b-%s\nContent-Type: text/plain\n\nSee attached.\n' "$id" "$id"
      printf -- '--b-%s\nContent-Type: application/octet-stream; name="%s"\nContent-Disposition: attachment; filename="%s"\n\n' "$id" "$att" "$att"
      printf 'TXNnQm94ICJ0ZXN0Ig==\n--b-%s--\n' "$id"
    else
      printf 'Content-Type: text/plain\n\nMailTriage confirmation test %s\n' "$id"
    fi
  } >"$TMP/msgs/$id.eml"
}
mid() { echo "$1.$RUNID@example.test"; }

# A: confirmed through the wrapper.
msg A alice@example.test "$RCPTS12" "quarterly figures"
"$WRAPPER" --config "$CFG" --password-fd 3 -i -t <"$TMP/msgs/A.eml" 3<<<"$PASSWORD" 2>"$TMP/A.err" || { cat "$TMP/A.err"; fail "wrapper did not send A"; }
# B: the same kind of message straight into Postfix, as a worm would.
msg B alice@example.test "$RCPTS12" "quarterly figures (copy)"
/usr/sbin/sendmail -C "$PF_CONF" -f alice@example.test -i -t <"$TMP/msgs/B.eml" || fail "sendmail refused B"
# C: wrong password: the wrapper must refuse (77) and send nothing.
msg C alice@example.test "$RCPTS12" "should never leave"
set +e
"$WRAPPER" --config "$CFG" --password-fd 3 -i -t <"$TMP/msgs/C.eml" 3<<<"not-her-password" 2>"$TMP/C.err"; rc=$?
set -e
[[ $rc -eq 77 ]] || fail "wrapper with a wrong password exited $rc, not 77: $(cat "$TMP/C.err")"
grep -q "not sent" "$TMP/C.err" || fail "wrapper did not say why C was not sent: $(cat "$TMP/C.err")"
# E: bob is not enrolled.
msg E bob@example.test "$RCPTS12" "bob's list"
/usr/sbin/sendmail -C "$PF_CONF" -f bob@example.test -i -t <"$TMP/msgs/E.eml" || fail "sendmail refused E"
# F: one recipient through the wrapper: nothing to confirm.
msg F alice@example.test r1@example.test "lunch?"
"$WRAPPER" --config "$CFG" -i -t <"$TMP/msgs/F.eml" 2>"$TMP/F.err" || { cat "$TMP/F.err"; fail "wrapper did not send F"; }
# G: a script attachment through the wrapper: confirmed.
msg G alice@example.test r2@example.test "the script you asked for" "cleanup.vbs"
"$WRAPPER" --config "$CFG" --password-fd 3 -i -t <"$TMP/msgs/G.eml" 3<<<"$PASSWORD" 2>"$TMP/G.err" || { cat "$TMP/G.err"; fail "wrapper did not send G"; }

wait_logged() { # wait until Message-ID $1 has its removed line
  local id=$1 i qid
  for ((i = 0; i < 150; i++)); do
    qid=$(grep -F "message-id=<$id>" "$MAILLOG" 2>/dev/null | head -1 | sed -E 's/.*: ([0-9A-F]+): message-id=.*/\1/' || true)
    [[ -n $qid ]] && grep -q ": $qid: removed" "$MAILLOG" && return 0
    sleep 0.2
  done
  fail "Postfix did not finish message <$id>"
}
for id in A B E F G; do wait_logged "$(mid "$id")"; done
grep -q "$(mid C)" "$MAILLOG" && fail "message C reached Postfix although it was not confirmed"
TOKEN_A=$(grep -F "header X-Send-Confirm:" "$MAILLOG" | head -1 | sed -E 's/.*header X-Send-Confirm: (v=1;[^ ]+) from .*/\1/')
[[ $TOKEN_A == v=1\;k=* ]] || fail "A's token is not in the log: $(grep -F X-Send-Confirm "$MAILLOG" | head -2)"
say "A's token as logged: $TOKEN_A"
[[ $(grep -c "header X-Send-Confirm:" "$MAILLOG") -eq 2 ]] || fail "expected two logged tokens (A and G)"

# D: a worm replays A's token on a message of its own.
msg D alice@example.test "$RCPTS12" "quarterly figures"
{ printf 'X-Send-Confirm: %s\n' "$TOKEN_A"; cat "$TMP/msgs/D.eml"; } >"$TMP/msgs/D2.eml"
/usr/sbin/sendmail -C "$PF_CONF" -f alice@example.test -i -t <"$TMP/msgs/D2.eml" || fail "sendmail refused D"
wait_logged "$(mid D)"
say "sent A B D E F G through Postfix (C refused by the wrapper)"

# ---------------------------------------------------------------- analysis
printf 'email,unit\nalice@example.test,Finance\nbob@example.test,Finance\n' >"$TMP/org.csv"
for i in $(seq 1 12); do echo "r$i@example.test,Sales" >>"$TMP/org.csv"; done
"$CLI" import --case "$CASE" --org "$TMP/org.csv" --json "$MAILLOG" >"$TMP/import.json" || fail "import failed"
"$CLI" enrol --case "$CASE" "$TMP/enrol.csv" || fail "enrol failed"
"$CLI" detect --case "$CASE" --json >"$TMP/detect.json" || fail "detect failed"
python3 - "$CASE" "$RUNID" <<'PY' || fail "the confirmation rule's hits are not what was sent"
import sqlite3, sys
case, run = sys.argv[1], sys.argv[2]
db = sqlite3.connect(case)
def mid(x): return f"{x}.{run}@example.test"
hits = {}
for message_id, detail in db.execute(
        "SELECT m.message_id, h.detail FROM hits h JOIN messages m ON m.id = h.message_id WHERE h.rule_id = 'confirm'"):
    hits.setdefault(message_id.strip('<>'), []).append(detail)
tokens = {r[0].strip('<>'): r[1] for r in db.execute("SELECT message_id, coalesce(confirm_token, '') FROM messages")}
ok = True
def expect(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok &= bool(cond)
for x in "ABDEFG":
    expect(mid(x) in tokens, f"{x} is in the case")
expect(mid("C") not in tokens, "C is not in the case")
expect(tokens.get(mid("A"), "").startswith("v=1;k="), "A carries its logged token")
expect(tokens.get(mid("G"), "").startswith("v=1;k="), "G carries its logged token")
expect(tokens.get(mid("B"), "") == "" and tokens.get(mid("F"), "") == "", "B and F carry no token")
expect(mid("A") not in hits, f"no confirm hit on A (confirmed): {hits.get(mid('A'))}")
expect(mid("G") not in hits, f"no confirm hit on G (confirmed attachment): {hits.get(mid('G'))}")
expect(any(d.startswith("missing:") and "12 recipients" in d for d in hits.get(mid("B"), [])), f"B: missing ({hits.get(mid('B'))})")
expect(any(d.startswith("replayed:") and mid("A") in d for d in hits.get(mid("D"), [])), f"D: replayed from A ({hits.get(mid('D'))})")
expect(mid("E") not in hits, "E: bob is not enrolled, never judged")
expect(mid("F") not in hits, "F: nothing to confirm")
expect(len(hits) == 2, f"confirm fired on exactly two messages: {sorted(hits)}")
sys.exit(0 if ok else 1)
PY
say "confirm rule: B missing, D replayed; A, E, F, G clean"
