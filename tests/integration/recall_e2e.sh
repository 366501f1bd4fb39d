#!/usr/bin/env bash
# Integration test of recall (issue 6) against a real Postfix and a real Dovecot on loopback.
#
#   tests/integration/recall_e2e.sh /path/to/mailtriage-cli
#
# A worm burst goes out with swaks: internal recipients (Dovecot over LMTP), two at a partner
# whose relay never answers (they stay in Postfix's deferred queue) and one handed to an
# outside server. Two recipients read their copy over IMAP first. The log Postfix wrote is
# imported, detection runs, and `mailtriage-cli recall` acts on the servers: unread copies
# must land in the Quarantine folder, read ones are already-retrieved, queued ones go on hold.
# A reader then "sends it on"; after re-import and re-detection (the campaign ids change) the
# virus verdict must delete what is quarantined and held and propose a cascade round for what
# the reader sent on; that round is recalled and judged in turn. A second campaign judged
# clean must come back to INBOX and out of hold, and detection must no longer flag it.
# Every server-side claim is checked over IMAP (curl) and with `postqueue -j`, never by the
# application's own word.
#
# Issue 16 (recall that truly blocks): suspended copies live in a quarantine service account;
# the recipients log in with their own password and must not find them anywhere; copies moved
# to other folders (Archive, Projects), plus-addressed (dave+news@), delivered after the plan
# (lena, luke), read while suspended (erin, who then sends it on); refused settings (password
# file readable by others, imap:// without tls, a wrong password) are refused with the reason;
# the release puts the copy back byte for byte with its flags and internal date
# (tests/integration/imap_probe.py reads the servers independently of MailTriage).
#
# Needs root and postfix dovecot-core dovecot-imapd dovecot-lmtpd swaks curl openssl python3
# (scripts/install-deps.sh --test). Everything lives in one mktemp -d folder; ports are
# picked free at run time. The only change outside the folder is one entry in
# alternate_config_directories of /etc/postfix/main.cf, removed on exit (as tests/e2e does).
#
# Environment: MT_RECALL_KEEP=1 keeps the temporary folder.
# Exit status: 0 pass, 1 failure, 2 usage, 77 skipped (not root / tools missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s)
export TZ=UTC     # maillog_file stamps carry no zone; the CLI reads them as UTC

CLI=${1:-}
[[ -n $CLI ]] || { echo "usage: $0 /path/to/mailtriage-cli" >&2; exit 2; }

say()  { printf '[recall %3ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
skip() { echo "SKIP: $*"; exit 77; }

[[ $(id -u) -eq 0 ]] || skip "must run as root (starts Postfix and Dovecot, runs postsuper)"
for tool in postfix postconf postqueue postsuper postcat dovecot doveconf swaks curl openssl python3 dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh --test)"
done
[[ -x /usr/lib/dovecot/lmtp && -x /usr/lib/dovecot/imap ]] || skip "dovecot-lmtpd / dovecot-imapd not installed"
getent passwd postfix >/dev/null && getent group postdrop >/dev/null || skip "postfix user/postdrop group missing"
getent passwd mail >/dev/null || skip "system user 'mail' missing"
[[ -x $CLI ]] || { echo "FAIL: mailtriage-cli not executable: $CLI" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A free loopback port, different from those already taken by this run.
TAKEN=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    [[ $TAKEN == *" $p "* ]] && continue
    port_busy "$p" && continue
    TAKEN+="$p "
    echo "$p"; return 0
  done
  echo "FAIL: no free port found" >&2; exit 1
}

# Runs killed without cleanup (SIGKILL on a CTest timeout): stop their daemons, drop their
# alternate_config_directories entry and folder - only for runs whose script is gone.
reap_stale_runs() {
  local d pid owner cur new="" x changed=0
  for d in /tmp/mailtriage-recall.*; do
    [[ -d $d ]] || continue
    owner=$({ tr -dc 0-9 <"$d/owner.pid"; } 2>/dev/null || true)
    if [[ -n $owner ]] && kill -0 "$owner" 2>/dev/null; then continue; fi
    pid=$({ tr -dc 0-9 <"$d/postfix/queue/pid/master.pid"; } 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      echo "recall: stopping Postfix left running by an earlier run in $d (pid $pid)"
      postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
    fi
    pid=$({ tr -dc 0-9 <"$d/dovecot/run/master.pid"; } 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      echo "recall: stopping Dovecot left running by an earlier run in $d (pid $pid)"
      kill "$pid" 2>/dev/null || true; sleep 1; kill -9 "$pid" 2>/dev/null || true
    fi
    [[ -e $d/.keep ]] || rm -rf "$d"
  done
  [[ -f /etc/postfix/main.cf ]] || return 0
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  for x in ${cur//,/ }; do
    if [[ $x == /tmp/mailtriage-recall.* && ! -d $x ]]; then changed=1; else new+="${new:+ }$x"; fi
  done
  if [[ $changed -eq 1 ]]; then
    if [[ -n $new ]]; then postconf -c /etc/postfix -e "alternate_config_directories = $new"
    else postconf -c /etc/postfix -X alternate_config_directories; fi
  fi
}
reap_stale_runs

SMTP_PORT=$(free_port); IMAP_PORT=$(free_port); LMTP_PORT=$(free_port); DEAD_PORT=$(free_port)
MYHOSTNAME=mx1.example.test
WAIT_MAX=60

TMP=$(mktemp -d /tmp/mailtriage-recall.XXXXXX)
chmod 755 "$TMP"
echo $$ >"$TMP/owner.pid"
PF_CONF=$TMP/postfix/etc; PF_QUEUE=$TMP/postfix/queue; PF_DATA=$TMP/postfix/data
DC_CONF=$TMP/dovecot/etc; DC_RUN=$TMP/dovecot/run; DC_STATE=$TMP/dovecot/state; DC_MAIL=$TMP/mail
MAILLOG=$TMP/postfix.log; DCLOG=$TMP/dovecot.log
CASE=$TMP/recall.mtcase
mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" "$DC_CONF" "$DC_RUN" "$DC_STATE" "$DC_MAIL" "$TMP/swaks" "$TMP/tls" "$TMP/out"
chown mail:mail "$DC_MAIL"

SYS_MAINCF=/etc/postfix/main.cf
SYS_MAINCF_CREATED=0; ALT_ADDED=0; PF_STARTED=0; DC_STARTED=0

dump_logs() {
  echo "----- Postfix maillog (last 60 lines) -----"; tail -n 60 "$MAILLOG" 2>/dev/null || true
  echo "----- Dovecot log (last 40 lines) -----"; tail -n 40 "$DCLOG" 2>/dev/null || true
  echo "----- Postfix queue -----"; postqueue -c "$PF_CONF" -j 2>&1 | tail -n 20 || true
  if [[ -f $CASE ]]; then echo "----- audit (last 30) -----"; "$CLI" audit --case "$CASE" 2>&1 | tail -n 30 || true; fi
}
fail() { echo "FAIL: $*" >&2; exit 1; }

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
stop_dovecot() {
  [[ $DC_STARTED -eq 1 ]] || return 0
  DC_STARTED=0
  local pid i
  pid=$(tr -dc 0-9 <"$DC_RUN/master.pid" 2>/dev/null || true)
  dovecot -c "$DC_CONF/dovecot.conf" stop >/dev/null 2>&1 || { [[ -n $pid ]] && kill "$pid" 2>/dev/null; } || true
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
  stop_postfix; stop_dovecot; restore_system_maincf
  if [[ -n ${MT_RECALL_KEEP:-} ]]; then touch "$TMP/.keep"; rm -f "$TMP/owner.pid"; say "kept $TMP"; else rm -rf "$TMP"; fi
  if [[ $rc -eq 0 ]]; then say "PASS"; else say "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {
  local desc=$1 timeout=$2; shift 2
  (( timeout > WAIT_MAX )) && timeout=$WAIT_MAX
  local end=$(( $(date +%s) + timeout ))
  until "$@"; do
    (( $(date +%s) >= end )) && fail "timed out after ${timeout}s waiting for: $desc"
    sleep 0.2
  done
}

ADMIN_SECRET=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
QUARANTINE_SECRET=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
fill() {
  sed -e "s|@TMP@|$TMP|g" -e "s|@PF_CONF@|$PF_CONF|g" -e "s|@PF_QUEUE@|$PF_QUEUE|g" \
      -e "s|@PF_DATA@|$PF_DATA|g" -e "s|@DC_CONF@|$DC_CONF|g" -e "s|@DC_RUN@|$DC_RUN|g" \
      -e "s|@DC_STATE@|$DC_STATE|g" -e "s|@DC_MAIL@|$DC_MAIL|g" -e "s|@MYHOSTNAME@|$MYHOSTNAME|g" \
      -e "s|@SMTP_ADDR@|127.0.0.1:$SMTP_PORT|g" -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" \
      -e "s|@DEAD_PORT@|$DEAD_PORT|g" -e "s|@ADMIN_SECRET@|$ADMIN_SECRET|g" \
      -e "s|@QUARANTINE_SECRET@|$QUARANTINE_SECRET|g" "$1" >"$2"
}
say "temporary folder $TMP; ports SMTP $SMTP_PORT IMAP $IMAP_PORT LMTP $LMTP_PORT, dead relay $DEAD_PORT"

# ---------------------------------------------------------------- TLS: a test CA and a server certificate
(
  cd "$TMP/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=MailTriage recall test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
) || fail "openssl could not make the test certificates"
chmod 644 "$TMP/tls/ca.pem" "$TMP/tls/server.pem"; chmod 600 "$TMP/tls/server.key" "$TMP/tls/ca.key"

# ---------------------------------------------------------------- Dovecot
fill "$HERE/dovecot/dovecot.conf.in" "$DC_CONF/dovecot.conf"
fill "$HERE/dovecot/users" "$DC_CONF/users"
fill "$HERE/dovecot/master-users" "$DC_CONF/master-users"
chmod 644 "$DC_CONF/users" "$DC_CONF/master-users"
doveconf -c "$DC_CONF/dovecot.conf" -n >"$TMP/doveconf.out" 2>&1 || { cat "$TMP/doveconf.out"; fail "doveconf rejects the config"; }
DC_STARTED=1
dovecot -c "$DC_CONF/dovecot.conf" || fail "dovecot did not start"
wait_for "Dovecot IMAP" 20 port_busy "$IMAP_PORT"
wait_for "Dovecot LMTP" 20 port_busy "$LMTP_PORT"
say "Dovecot up (IMAP with STARTTLS, master user admin)"

# ---------------------------------------------------------------- Postfix
if [[ ! -f $SYS_MAINCF ]]; then
  printf '# Created by MailTriage tests/integration/recall_e2e.sh; removed again when the test ends.\ncompatibility_level = 3.6\nalternate_config_directories = %s\n' "$PF_CONF" >"$TMP/sys-main.cf.ours"
  cp "$TMP/sys-main.cf.ours" "$SYS_MAINCF"; SYS_MAINCF_CREATED=1
else
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  if [[ " ${cur//,/ } " != *" $PF_CONF "* ]]; then
    postconf -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur }$PF_CONF"; ALT_ADDED=1
  fi
fi
fill "$HERE/postfix/main.cf.in" "$PF_CONF/main.cf"
fill "$HERE/postfix/master.cf.in" "$PF_CONF/master.cf"
fill "$HERE/postfix/transport.in" "$PF_CONF/transport"
cp "$HERE/postfix/header_checks" "$HERE/postfix/vmailbox" "$PF_CONF/"
chown postfix "$PF_QUEUE" "$PF_DATA"
postfix -c "$PF_CONF" check >"$TMP/postfix-check.out" 2>&1 || { cat "$TMP/postfix-check.out"; fail "postfix check failed"; }
PF_STARTED=1
postfix -c "$PF_CONF" start >"$TMP/postfix-start.out" 2>&1 || { cat "$TMP/postfix-start.out"; fail "postfix start failed"; }
wait_for "Postfix SMTP" 20 port_busy "$SMTP_PORT"
say "Postfix up"

# ---------------------------------------------------------------- helpers: mail, IMAP, queue
RUNID=$(date +%Y%m%d%H%M%S).$$
head -c 900 /dev/urandom | base64 >"$TMP/worm.bin"
head -c 700 /dev/urandom | base64 >"$TMP/script.bin"
SENT=0
# send ID FROM TO SUBJECT ATTACHMENT-NAME PAYLOAD
send() {
  local id=$1 from=$2 to=$3 subject=$4 att=$5 payload=$6
  swaks --server 127.0.0.1 --port "$SMTP_PORT" --helo "ws-$id.example.test" --from "$from" --to "$to" \
        --header "Subject: $subject" --header "Message-Id: <$id.$RUNID@mailtriage.test>" \
        --body "MailTriage recall test $id" --attach-type application/octet-stream --attach-name "$att" \
        --attach "@$payload" >"$TMP/swaks/$id.log" 2>&1 || fail "swaks $id was not accepted (see $TMP/swaks/$id.log)"
  SENT=$((SENT + 1))
}
mid() { echo "$1.$RUNID@mailtriage.test"; }

# imap_probe.py as the master user ("user*admin") or as the user with their own password.
PROBE=$HERE/imap_probe.py
probe_master() { local u=$1; shift; python3 "$PROBE" "$IMAP_PORT" "$TMP/tls/ca.pem" "$u*admin" "$ADMIN_SECRET" "$@"; }
probe_user() { local u=$1; shift; python3 "$PROBE" "$IMAP_PORT" "$TMP/tls/ca.pem" "$u" userpass "$@"; }
QACCT=quarantine@example.test
# The quarantine account's folder of a mailbox: Quarantine.<mailbox with the delimiter "." as _>
qfolder() { echo "Quarantine.${1//./_}"; }
qcount() { probe_master "$QACCT" count "$(qfolder "$1")" "$2" 2>/dev/null || echo 0; }
# Copies of MID the user can reach with their own password, in any folder.
user_total() { probe_user "$1" total "$2"; }

IMAP_MASTER() { echo "$1*admin:$ADMIN_SECRET"; }
imap() { # imap USER MAILBOX COMMAND -> untagged output (STARTTLS, test CA)
  curl -sS --max-time 15 --ssl-reqd --cacert "$TMP/tls/ca.pem" --url "imap://127.0.0.1:$IMAP_PORT/$2" \
       -u "$(IMAP_MASTER "$1")" -X "$3"
}
# Number of messages with this Message-ID in USER's MAILBOX (0 when the folder does not exist).
count_in() {
  local out
  out=$(imap "$1" "$2" "UID SEARCH HEADER Message-ID \"<$3>\"" 2>/dev/null) || { echo 0; return; }
  sed -n 's/^\* SEARCH//p' <<<"$out" | wc -w
}
read_mail() { # the recipient reads their copy: FETCH BODY[] sets \Seen
  local uid
  uid=$(imap "$1" INBOX "UID SEARCH HEADER Message-ID \"<$2>\"" | sed -n 's/^\* SEARCH //p' | tr -d '\r' | awk '{print $1}')
  [[ -n $uid ]] || fail "$1 has no copy of <$2> to read"
  curl -sS --max-time 15 --ssl-reqd --cacert "$TMP/tls/ca.pem" -u "$(IMAP_MASTER "$1")" \
       --url "imap://127.0.0.1:$IMAP_PORT/INBOX;UID=$uid" >/dev/null || fail "$1 could not read <$2>"
  imap "$1" INBOX "UID FETCH $uid FLAGS" | grep -q '\\Seen' || fail "$1's copy of <$2> is not \\Seen after reading"
}
# queue_state ADDRESS -> "queue_name queue_id" of the queue file holding mail for ADDRESS (empty: none)
queue_state() {
  postqueue -c "$PF_CONF" -j | python3 -c '
import json, sys
want = sys.argv[1].lower()
for line in sys.stdin:
    if not line.strip(): continue
    q = json.loads(line)
    if any(r["address"].lower() == want for r in q.get("recipients", [])):
        print(q["queue_name"], q["queue_id"])
' "$1"
}

ERRORS=0
check() {
  if [[ "$2" == "$3" ]]; then printf '  ok    %-66s %s\n' "$1" "$3"
  else printf '  FAIL  %-66s expected %s, got %s\n' "$1" "$2" "${3:-<missing>}"; ERRORS=$((ERRORS + 1)); fi
}
json() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$1"; }

# ---------------------------------------------------------------- the outbreak
WORM_SUBJ="ILOVEYOU"; WORM_ATT="LOVE-LETTER-FOR-YOU.TXT.vbs"
INTERNAL=(alice bob carol dave erin)
say "worm burst from zed@example.test: ${INTERNAL[*]}, p1/p2@partner.test (relay down), x@outside.test"
for r in "${INTERNAL[@]}"; do send "worm-$r" zed@example.test "$r@example.test" "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"; done
send worm-p1 zed@example.test p1@partner.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-p2 zed@example.test p2@partner.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-x  zed@example.test x@outside.test  "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-davenews zed@example.test dave+news@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-lena zed@example.test lena@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-luke zed@example.test luke@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
say "a second, harmless mailing that looks alike: helpdesk@ sends a printer set-up script"
for r in carol dave hank; do send "drv-$r" helpdesk@example.test "$r@example.test" "New printer driver" "printer-setup.vbs" "$TMP/script.bin"; done
send drv-p3 helpdesk@example.test p3@partner.test "New printer driver" "printer-setup.vbs" "$TMP/script.bin"

mbox_has() { [[ $(count_in "$1" INBOX "$2") -ge 1 ]]; }
deferred() { [[ $(queue_state "$1" | awk '{print $1}') == deferred ]]; }
for r in "${INTERNAL[@]}"; do wait_for "$r's copy" 30 mbox_has "$r@example.test" "$(mid "worm-$r")"; done
for r in carol dave hank; do wait_for "$r's printer script" 30 mbox_has "$r@example.test" "$(mid "drv-$r")"; done
for r in p1 p2 p3; do wait_for "$r@partner.test deferred" 30 deferred "$r@partner.test"; done
wait_for "dave's plus-addressed copy" 30 mbox_has dave@example.test "$(mid worm-davenews)"
for r in lena luke; do wait_for "$r@example.test deferred (LMTP down)" 30 deferred "$r@example.test"; done
discarded() { grep -q 'to=<x@outside.test>.*status=sent' "$MAILLOG"; }
wait_for "x@outside.test handed on" 30 discarded
say "delivered: 8 copies in mailboxes, 3 deferred for partner.test, 1 handed to outside.test"

say "alice and bob read the worm over IMAP"
read_mail alice@example.test "$(mid worm-alice)"
read_mail bob@example.test "$(mid worm-bob)"
say "erin files the unread worm in Archive; hank files the printer script in Projects and flags it"
probe_master erin@example.test move INBOX "$(mid worm-erin)" Archive || fail "could not move erin's copy to Archive"
probe_master hank@example.test move INBOX "$(mid drv-hank)" Projects || fail "could not move hank's copy to Projects"
probe_master hank@example.test flag Projects "$(mid drv-hank)" '\Flagged' || fail "could not flag hank's copy"
HANK_BEFORE=$(probe_master hank@example.test state Projects "$(mid drv-hank)")
CAROL_DRV_BEFORE=$(probe_master carol@example.test state INBOX "$(mid drv-carol)")
CAROL_WORM_BEFORE=$(probe_master carol@example.test state INBOX "$(mid worm-carol)")
check "IMAP: erin's copy is in Archive, unread" 1 "$(probe_master erin@example.test count Archive "$(mid worm-erin)")"

# ---------------------------------------------------------------- import, detect
import_log() {
  "$CLI" import --case "$CASE" --json "$MAILLOG" >"$TMP/out/import.json" 2>"$TMP/out/import.err" \
    || { cat "$TMP/out/import.err"; fail "mailtriage-cli import failed"; }
}
detect() {
  "$CLI" detect --case "$CASE" --json >"$TMP/out/detect.json" 2>"$TMP/out/detect.err" \
    || { cat "$TMP/out/detect.err"; fail "mailtriage-cli detect failed"; }
}
# campaign_of MESSAGE-ID -> the campaign id that holds it now (empty: not flagged)
campaign_of() {
  "$CLI" messages --case "$CASE" --flagged --format jsonl | python3 -c '
import json, sys
for line in sys.stdin:
    if not line.strip(): continue
    m = json.loads(line)
    if m.get("message_id", "").strip("<>") == sys.argv[1]:
        print(m.get("campaign", m.get("campaign_id", ""))); break
' "$1"
}
import_log; detect
say "imported $(json messages <"$TMP/out/import.json") messages; detection: $(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["flagged"], "flagged in", len(d["campaigns"]), "campaigns:", "; ".join("%s %s (%d)" % (c["id"], c["label"], c["messages"]) for c in d["campaigns"]))' <"$TMP/out/detect.json")"
WORM_C=$(campaign_of "$(mid worm-alice)")
DRV_C=$(campaign_of "$(mid drv-carol)")
[[ -n $WORM_C ]] || fail "detection did not flag the worm"
[[ -n $DRV_C ]] || fail "detection did not flag the helpdesk mailing (the clean-verdict half of the test needs it)"
[[ $WORM_C != "$DRV_C" ]] || fail "worm and mailing ended up in one campaign ($WORM_C)"
for r in "${INTERNAL[@]}" p1 p2 x davenews lena luke; do
  [[ $(campaign_of "$(mid "worm-$r")") == "$WORM_C" ]] || fail "worm message to $r is not in campaign $WORM_C"
done

# ---------------------------------------------------------------- server directory
printf '%s\n' "$ADMIN_SECRET" >"$TMP/imap-secret"; chmod 600 "$TMP/imap-secret"
cat >"$TMP/servers.json" <<EOF
{
  "retry": {"attempts": 2, "backoff_ms": 100},
  "servers": [
    {"host": "mx1",
     "imap": {"url": "imap://127.0.0.1:$IMAP_PORT", "tls": "starttls", "ca_file": "$TMP/tls/ca.pem",
              "admin_user": "admin", "login": "master", "password_file": "$TMP/imap-secret", "timeout_s": 15,
              "quarantine_account": "$QACCT", "recipient_delimiter": "+"},
     "postfix": {"config_dir": "$PF_CONF"}}
  ]
}
EOF
# Refused settings (issue 16): a password file others can read, imap:// without "tls", a wrong password.
cp "$TMP/imap-secret" "$TMP/imap-secret-world"; chmod 644 "$TMP/imap-secret-world"
sed -e "s|$TMP/imap-secret\"|$TMP/imap-secret-world\"|" "$TMP/servers.json" >"$TMP/servers-world.json"
sed -e 's|"tls": "starttls", ||' "$TMP/servers.json" >"$TMP/servers-plain.json"
printf 'not-the-password\n' >"$TMP/imap-secret-wrong"; chmod 600 "$TMP/imap-secret-wrong"
sed -e "s|$TMP/imap-secret\"|$TMP/imap-secret-wrong\"|" "$TMP/servers.json" >"$TMP/servers-badpw.json"
# The queue only (no IMAP connector for mx1): a delivered copy is then not found.
cat >"$TMP/servers-pfonly.json" <<EOF
{"retry": {"attempts": 1, "backoff_ms": 0}, "servers": [{"host": "mx1", "postfix": {"config_dir": "$PF_CONF"}}]}
EOF
# The same, but without our CA: certificate verification must refuse the server.
sed -e 's|"ca_file": "[^"]*",||' "$TMP/servers.json" >"$TMP/servers-noca.json"
# SASL PLAIN with an authorization id instead of Dovecot's user*admin.
sed -e 's|"login": "master"|"login": "authzid"|' "$TMP/servers.json" >"$TMP/servers-authzid.json"

recall() { # recall OUTFILE ARGS...
  local out=$1; shift
  "$CLI" recall --case "$CASE" --json "$@" >"$TMP/out/$out" 2>"$TMP/out/$out.err" \
    || { cat "$TMP/out/$out.err"; fail "mailtriage-cli recall $* failed"; }
}
verdict() {
  local out=$1; shift
  "$CLI" verdict --case "$CASE" --json "$@" >"$TMP/out/$out" 2>"$TMP/out/$out.err" \
    || { cat "$TMP/out/$out.err"; fail "mailtriage-cli verdict $* failed"; }
}
# recall_rc OUTFILE ARGS... -> the exit status (the run may fail on purpose)
recall_rc() {
  local out=$1; shift
  set +e; "$CLI" recall --case "$CASE" --json "$@" >"$TMP/out/$out" 2>"$TMP/out/$out.err"; local rc=$?; set -e
  echo "$rc"
}
# copy_field OUTFILE MID FIELD -> FIELD of that copy in the JSON's "copies"
copy_field() {
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(next((str(c.get(sys.argv[3], "")) for c in d.get("copies", []) if c["message_id"] == sys.argv[2]), "<no such copy>"))' "$TMP/out/$1" "$2" "$3"
}
requests_in_case() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM recall_requests").fetchone()[0])' "$CASE"; }

# ---------------------------------------------------------------- refused settings (issue 16, item 5)
say "refused settings: refused when loaded (plan-only too), with the reason; a wrong password is auth-failed"
rc=$(recall_rc bad-world.json --campaign "$WORM_C" --servers "$TMP/servers-world.json" --plan-only)
check "password file readable by others: recall --plan-only refused (exit 1)" 1 "$rc"
check "password file readable by others: the reason is given" yes "$(grep -q 'readable by others' "$TMP/out/bad-world.json.err" && echo yes || echo no)"
rc=$(recall_rc bad-plain.json --campaign "$WORM_C" --servers "$TMP/servers-plain.json" --approve-as "Ann Analyst")
check "imap:// without \"tls\": recall refused (exit 1)" 1 "$rc"
check "imap:// without \"tls\": the reason names tls" yes "$(grep -q '"tls": "none"' "$TMP/out/bad-plain.json.err" && echo yes || echo no)"
check "refused settings: no request was planned" 0 "$(requests_in_case)"
rc=$(recall_rc bad-pw.json --message "$(mid worm-carol)" --servers "$TMP/servers-badpw.json" --approve-as "Ann Analyst")
check "wrong password: no request reached its server (exit 3)" 3 "$rc"
check "wrong password: carol's request is auth-failed" auth-failed "$(copy_field bad-pw.json "$(mid worm-carol)" state)"
check "IMAP: carol's copy untouched in INBOX (sha, flags, date)" "$CAROL_WORM_BEFORE" "$(probe_master carol@example.test state INBOX "$(mid worm-carol)")"

# ---------------------------------------------------------------- copies delivered after the plan (item 3)
say "plan while lena's and luke's copies wait in the queue; then they are delivered"
recall p0.json --campaign "$WORM_C" --servers "$TMP/servers.json" --plan-only
check "plan: lena's copy is in the queue" queue "$(copy_field p0.json "$(mid worm-lena)" place)"
sed -i -e "s|lmtp:inet:127.0.0.1:$DEAD_PORT|lmtp:inet:127.0.0.1:$LMTP_PORT|" "$PF_CONF/transport"
postfix -c "$PF_CONF" reload >/dev/null 2>&1 || fail "postfix reload failed"
for r in lena luke; do postqueue -c "$PF_CONF" -i "$(queue_state "$r@example.test" | awk '{print $2}')"; done
for r in lena luke; do wait_for "$r's late copy" 30 mbox_has "$r@example.test" "$(mid "worm-$r")"; done
check "postqueue -j: lena's copy left the queue (delivered)" "" "$(queue_state lena@example.test)"
say "luke's request with the queue connector only: not in the queue any more, so not found"
recall r-luke.json --message "$(mid worm-luke)" --servers "$TMP/servers-pfonly.json" --approve-as "Ann Analyst"
check "luke (queue only): not-found" not-found "$(copy_field r-luke.json "$(mid worm-luke)" state)"
check "IMAP: luke's copy in his INBOX" 1 "$(count_in luke@example.test INBOX "$(mid worm-luke)")"

# ---------------------------------------------------------------- recall with a CA we do not trust
say "recall campaign $WORM_C with certificate verification against the system CAs (must be refused)"
recall r0.json --campaign "$WORM_C" --servers "$TMP/servers-noca.json" --approve-as "Ann Analyst"
check "untrusted certificate: no copy suspended in a mailbox" 0 "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for r in d["results"] if r["connector"]=="imap" and r["to"]=="suspended"))' <"$TMP/out/r0.json")"
check "untrusted certificate: mailbox requests refused (not unreachable)" 7 "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for r in d["results"] if r["connector"]=="imap" and r["to"]=="refused"))' <"$TMP/out/r0.json")"
grep -qi 'certificate' "$TMP/out/r0.json" || fail "the refusal does not name the certificate: $(head -c 600 "$TMP/out/r0.json")"
for r in alice bob carol dave lena; do check "untrusted certificate: $r's copy still in INBOX" 1 "$(count_in "$r@example.test" INBOX "$(mid "worm-$r")")"; done

# ---------------------------------------------------------------- recall
say "recall campaign $WORM_C (approved by Ann Analyst): retries the unreachable requests"
recall r1.json --campaign "$WORM_C" --servers "$TMP/servers.json" --approve-as "Ann Analyst"
R1=$(cat "$TMP/out/r1.json")
check "recall: suspended (carol, dave, dave+news, erin, lena + 2 queued)" 7 "$(json states.suspended <<<"$R1")"
check "recall: already_retrieved (alice, bob)" 2 "$(json states.already_retrieved <<<"$R1")"
check "recall: not_recallable (outside.test)" 1 "$(json states.not_recallable <<<"$R1")"
check "recall: unreachable" 0 "$(json states.unreachable <<<"$R1")"
check "recall: refused / auth-failed left" 0 "$(( $(json states.refused <<<"$R1") + $(json states.auth_failed <<<"$R1") ))"
check "recall: per server mx1 suspended" 7 "$(json servers.mx1.suspended <<<"$R1")"
for r in carol dave erin lena; do
  check "IMAP: $r's worm copy in the quarantine account" 1 "$(qcount "$r@example.test" "$(mid "worm-$r")")"
  check "IMAP: $r's worm copy in none of $r's folders (master user)" "" "$(probe_master "$r@example.test" everywhere "$(mid "worm-$r")")"
  check "IMAP: $r, logging in with their own password, cannot reach it" 0 "$(user_total "$r@example.test" "$(mid "worm-$r")")"
done
check "IMAP: the quarantined copy is carol's copy byte for byte, unread" "$CAROL_WORM_BEFORE" \
      "$(probe_master "$QACCT" state "$(qfolder carol@example.test)" "$(mid worm-carol)")"
check "IMAP: carol cannot open the quarantine folder" no "$(probe_user carol@example.test select "$(qfolder carol@example.test)" 2>/dev/null && echo yes || echo no)"
check "IMAP: carol's password does not open the quarantine account" 3 "$(set +e; python3 "$PROBE" "$IMAP_PORT" "$TMP/tls/ca.pem" "$QACCT" userpass folders >/dev/null 2>&1; echo $?)"
check "plan: erin's copy was found in Archive (every folder searched)" Archive "$(copy_field r1.json "$(mid worm-erin)" folder)"
check "IMAP: erin's Archive no longer has it" 0 "$(probe_master erin@example.test count Archive "$(mid worm-erin)")"
check "plus-addressing: dave+news's copy suspended" suspended "$(copy_field r1.json "$(mid worm-davenews)" state)"
check "plus-addressing: the mailbox logged in to is dave's" dave@example.test "$(copy_field r1.json "$(mid worm-davenews)" mailbox)"
check "IMAP: dave+news's copy in dave's quarantine folder" 1 "$(qcount dave@example.test "$(mid worm-davenews)")"
check "IMAP: dave cannot reach the dave+news copy" 0 "$(user_total dave@example.test "$(mid worm-davenews)")"
check "late delivery: lena's request followed its copy to the mailbox" mailbox "$(copy_field r1.json "$(mid worm-lena)" place)"
check "late delivery: lena's copy suspended" suspended "$(copy_field r1.json "$(mid worm-lena)" state)"
check "late delivery: luke's (queue-only) request stays not-found until the case shows the delivery" not-found \
      "$(copy_field r1.json "$(mid worm-luke)" state)"
for r in alice bob; do
  check "IMAP: $r's (read) copy still in INBOX" 1 "$(count_in "$r@example.test" INBOX "$(mid "worm-$r")")"
done
for r in p1 p2; do check "postqueue -j: $r@partner.test on hold" hold "$(queue_state "$r@partner.test" | awk '{print $1}')"; done
check "postqueue -j: p3@partner.test (other campaign) untouched" deferred "$(queue_state p3@partner.test | awk '{print $1}')"

say "the same recall again: nothing is moved twice"
AUDIT_BEFORE=$("$CLI" audit --case "$CASE" | grep -c $'\tresult\t' || true)
recall r2.json --campaign "$WORM_C" --servers "$TMP/servers.json" --approve-as "Ann Analyst"
check "second recall: requests processed" 0 "$(json processed <"$TMP/out/r2.json")"
check "second recall: audit has no new server result" "$AUDIT_BEFORE" "$("$CLI" audit --case "$CASE" | grep -c $'\tresult\t' || true)"
for r in carol dave erin; do check "IMAP: $r still has exactly one copy in quarantine" 1 "$(qcount "$r@example.test" "$(mid "worm-$r")")"; done

say "a crash after the server acted, before the answer was recorded: the next run resumes"
# Put carol's and p1's requests back to 'requested' as a killed run would leave them (their
# copies are already in Quarantine / on hold). Only the audit trail is append-only.
python3 - "$CASE" "$(mid worm-carol)" "$(mid worm-p1)" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("UPDATE recall_requests SET state = 'requested' WHERE message_key IN (?, ?) AND state = 'suspended'",
              (sys.argv[2], sys.argv[3])).rowcount
c.commit()
sys.exit(0 if n == 2 else 1)
PY
recall r2b.json --campaign "$WORM_C" --servers "$TMP/servers.json" --approve-as "Ann Analyst"
check "resume: requests processed (the two interrupted ones)" 2 "$(json processed <"$TMP/out/r2b.json")"
check "resume: both suspended again" 7 "$(json states.suspended <"$TMP/out/r2b.json")"
check "resume: the server's answer says it was already done" 2 "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for r in d["results"] if r["answer"].startswith("already")))' <"$TMP/out/r2b.json")"
check "IMAP: carol has exactly one copy in quarantine" 1 "$(qcount carol@example.test "$(mid worm-carol)")"
check "IMAP: and none in her own folders" "" "$(probe_master carol@example.test everywhere "$(mid worm-carol)")"
check "postqueue -j: p1@partner.test still on hold" hold "$(queue_state p1@partner.test | awk '{print $1}')"

# ---------------------------------------------------------------- the other campaign: recall (authzid login)
say "recall campaign $DRV_C with SASL PLAIN + authorization id"
recall r3.json --campaign "$DRV_C" --servers "$TMP/servers-authzid.json" --approve-as "Ann Analyst"
check "helpdesk recall: suspended (3 mailboxes + 1 queued)" 4 "$(json states.suspended <"$TMP/out/r3.json")"
for r in carol dave hank; do check "IMAP: $r's printer script in quarantine" 1 "$(qcount "$r@example.test" "$(mid "drv-$r")")"; done
check "plan: hank's printer script was found in Projects" Projects "$(copy_field r3.json "$(mid drv-hank)" folder)"
check "postqueue -j: p3@partner.test on hold" hold "$(queue_state p3@partner.test | awk '{print $1}')"

# ---------------------------------------------------------------- alice sends it on
say "alice's machine sends the worm on to frank and gina; re-import, re-detect"
send worm-alice-frank alice@example.test frank@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
send worm-alice-gina alice@example.test gina@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
wait_for "frank's copy" 30 mbox_has frank@example.test "$(mid worm-alice-frank)"
wait_for "gina's copy" 30 mbox_has gina@example.test "$(mid worm-alice-gina)"
say "erin's suspended copy is opened in quarantine, and erin's machine sends the worm on to hank"
probe_master "$QACCT" read "$(qfolder erin@example.test)" "$(mid worm-erin)" || fail "could not open erin's quarantined copy"
check "IMAP: erin's quarantined copy is now \\Seen" yes "$(probe_master "$QACCT" state "$(qfolder erin@example.test)" "$(mid worm-erin)" | grep -q 'Seen' && echo yes || echo no)"
send worm-erin-hank erin@example.test hank@example.test "$WORM_SUBJ" "$WORM_ATT" "$TMP/worm.bin"
say "dave's suspended copy is put back in his INBOX by someone else, and dave reads it"
probe_master "$QACCT" transfer "$(qfolder dave@example.test)" "$(mid worm-dave)" "dave@example.test*admin" INBOX \
  || fail "could not put dave's copy back"
probe_user dave@example.test read INBOX "$(mid worm-dave)" || fail "dave could not read the copy put back"
wait_for "hank's copy from erin" 30 mbox_has hank@example.test "$(mid worm-erin-hank)"
sleep 1   # let the removed lines reach the log
import_log; detect
WORM_C2=$(campaign_of "$(mid worm-alice)")
[[ -n $WORM_C2 ]] || fail "re-detection lost the worm"
check "alice's forward is in the worm campaign" "$WORM_C2" "$(campaign_of "$(mid worm-alice-frank)")"
check "erin's forward is in the worm campaign" "$WORM_C2" "$(campaign_of "$(mid worm-erin-hank)")"
say "the case now shows luke's delivery: a new plan reopens his not-found request (admin password from the desktop keyring)"
# Issue 16, item 6: the secret in a real Secret Service (gnome-keyring on a private D-Bus, its
# keyring files under $TMP), written and read through QtKeychain; servers-keyring.json names no secret.
sed -e "s|\"password_file\": \"$TMP/imap-secret\"|\"password_keyring\": true|" "$TMP/servers.json" >"$TMP/servers-keyring.json"
mkdir -p "$TMP/keyring-home"; chmod 700 "$TMP/keyring-home"
cat >"$TMP/keyring-run.sh" <<EOF
set -u
echo -n keyring-unlock | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$CLI" recall --case "$CASE" --json --message "$(mid worm-luke)" --servers "$TMP/servers-keyring.json" --approve-as "Ann Analyst" \
  >"$TMP/out/r-luke-nokey.json" 2>"$TMP/out/r-luke-nokey.json.err"; echo \$? >"$TMP/out/nokey.rc"
printf '%s\n' "$ADMIN_SECRET" | "$CLI" keyring --host mx1 --set >"$TMP/out/keyring-set.out" 2>&1; echo \$? >"$TMP/out/keyring-set.rc"
"$CLI" recall --case "$CASE" --json --message "$(mid worm-luke)" --servers "$TMP/servers-keyring.json" --approve-as "Ann Analyst" \
  >"$TMP/out/r-luke2.json" 2>"$TMP/out/r-luke2.json.err"; echo \$? >"$TMP/out/r-luke2.rc"
EOF
HOME="$TMP/keyring-home" XDG_DATA_HOME="$TMP/keyring-home/data" XDG_CONFIG_HOME="$TMP/keyring-home/config" \
  XDG_CACHE_HOME="$TMP/keyring-home/cache" XDG_RUNTIME_DIR="$TMP/keyring-home/run" \
  timeout 120 dbus-run-session -- bash "$TMP/keyring-run.sh" 2>"$TMP/out/keyring-session.err" || true
check "keyring: no password in the keyring yet: refused when loaded (exit 1)" 1 "$(cat "$TMP/out/nokey.rc" 2>/dev/null)"
check "keyring: the refusal names the keyring" yes "$(grep -qi 'keyring' "$TMP/out/r-luke-nokey.json.err" && echo yes || echo no)"
check "keyring: mailtriage-cli keyring --set stored it" 0 "$(cat "$TMP/out/keyring-set.rc" 2>/dev/null)"
check "keyring: recall with the keyring's password" 0 "$(cat "$TMP/out/r-luke2.rc" 2>/dev/null)"
[[ -s $TMP/out/r-luke2.json ]] || { cat "$TMP/out/r-luke2.json.err" "$TMP/out/keyring-session.err" "$TMP/out/keyring-set.out"; fail "the keyring run wrote nothing"; }
check "keyring: the secret is not in servers-keyring.json" 0 "$(grep -c -F "$ADMIN_SECRET" "$TMP/servers-keyring.json" || true)"
check "keyring: the secret is not in the case file" 0 "$(grep -c -a -F "$ADMIN_SECRET" "$CASE" || true)"
check "keyring: the secret is in the keyring's own (encrypted) files only, not in plain text" 0 \
      "$(grep -r -l -a -F "$ADMIN_SECRET" "$TMP/keyring-home" 2>/dev/null | wc -l)"
check "luke: request reopened and suspended" suspended "$(copy_field r-luke2.json "$(mid worm-luke)" state)"
check "IMAP: luke's copy in the quarantine account" 1 "$(qcount luke@example.test "$(mid worm-luke)")"
check "IMAP: luke cannot reach it with his own password" 0 "$(user_total luke@example.test "$(mid worm-luke)")"

# ---------------------------------------------------------------- verdict virus
say "verdict virus on campaign $WORM_C2 (Bea Boss)"
verdict v1.json --campaign "$WORM_C2" virus --servers "$TMP/servers.json" --approve-as "Bea Boss"
V1=$(cat "$TMP/out/v1.json")
check "virus: deleted (5 quarantined + 2 held)" 7 "$(json deleted <<<"$V1")"
check "virus: states.deleted" 7 "$(json states.deleted <<<"$V1")"
check "virus: already read stays visible after the verdict (alice, bob; dave read it back in INBOX)" 3 "$(json states.already_retrieved <<<"$V1")"
check "virus: dave's copy, out of quarantine and read, says so" "read while suspended; cascade followed" "$(copy_field v1.json "$(mid worm-dave)" status)"
check "IMAP: dave's read copy is not deleted from his INBOX unasked" 1 "$(count_in dave@example.test INBOX "$(mid worm-dave)")"
check "virus: states.cascaded (the fact is no longer hidden by it)" 0 "$(json states.cascaded <<<"$V1")"
check "virus: alice's copy says already read; cascade followed" "already read; cascade followed" "$(copy_field v1.json "$(mid worm-alice)" status)"
check "virus: read while suspended found on the recheck (erin, dave)" 2 "$(json read_while_suspended <<<"$V1")"
check "virus: erin's copy says deleted; read while suspended" "deleted; read while suspended; cascade followed" "$(copy_field v1.json "$(mid worm-erin)" status)"
check "virus: the cascade follows alice, bob, erin and dave" 4 "$(json cascade.retrieved <<<"$V1")"
check "virus: cascade proposes frank, gina (alice) and hank (erin)" 3 "$(json cascade.proposed <<<"$V1")"
check "virus: cascade round" 1 "$(json cascade.next_round <<<"$V1")"
for r in carol erin lena luke; do
  check "IMAP: $r's worm copy gone from quarantine" 0 "$(qcount "$r@example.test" "$(mid "worm-$r")")"
  check "IMAP: $r's worm copy not back in any folder" "" "$(probe_master "$r@example.test" everywhere "$(mid "worm-$r")")"
done
check "IMAP: the dave+news copy gone from quarantine" 0 "$(qcount dave@example.test "$(mid worm-davenews)")"
for r in p1 p2; do check "postqueue -j: $r@partner.test deleted from the queue" "" "$(queue_state "$r@partner.test")"; done
for r in alice bob; do check "IMAP: $r's read copy untouched (no verdict deletes unconfirmed copies)" 1 "$(count_in "$r@example.test" INBOX "$(mid "worm-$r")")"; done
check "IMAP: carol's printer script still in quarantine (other campaign)" 1 "$(qcount carol@example.test "$(mid drv-carol)")"
check "postqueue -j: p3@partner.test still on hold (other campaign)" hold "$(queue_state p3@partner.test | awk '{print $1}')"

say "recall the proposed cascade round"
recall r4.json --proposed --servers "$TMP/servers.json" --approve-as "Ann Analyst"
check "cascade round: suspended" 3 "$(json states.suspended <"$TMP/out/r4.json")"
for r in frank gina; do check "IMAP: $r's copy (sent on by alice) in quarantine" 1 "$(qcount "$r@example.test" "$(mid "worm-alice-$r")")"; done
check "IMAP: hank's copy (sent on by erin, read while suspended) in quarantine" 1 "$(qcount hank@example.test "$(mid worm-erin-hank)")"
verdict v2.json --campaign "$WORM_C2" virus --servers "$TMP/servers.json" --approve-as "Bea Boss"
check "second virus verdict: deleted the cascade round" 3 "$(json deleted <"$TMP/out/v2.json")"
check "second virus verdict: nothing more to cascade" 0 "$(json cascade.proposed <"$TMP/out/v2.json")"
for r in frank gina; do check "IMAP: $r's copy gone" "" "$(probe_master "$r@example.test" everywhere "$(mid "worm-alice-$r")")$(qcount "$r@example.test" "$(mid "worm-alice-$r")" | sed 's/^0$//')"; done

# ---------------------------------------------------------------- verdict clean
DRV_C2=$(campaign_of "$(mid drv-carol)")
say "verdict clean on campaign $DRV_C2"
verdict v3.json --campaign "$DRV_C2" clean --servers "$TMP/servers.json" --approve-as "Bea Boss"
check "clean: released (3 mailboxes + 1 held)" 4 "$(json released <"$TMP/out/v3.json")"
check "clean: allow entries recorded" 1 "$(json allow_entries <"$TMP/out/v3.json")"
for r in carol dave hank; do check "IMAP: $r's printer script out of quarantine" 0 "$(qcount "$r@example.test" "$(mid "drv-$r")")"; done
for r in carol dave; do check "IMAP: $r's printer script back in INBOX" 1 "$(count_in "$r@example.test" INBOX "$(mid "drv-$r")")"; done
check "IMAP: hank's printer script back in Projects, byte for byte, flags and internal date" "$HANK_BEFORE" \
      "$(probe_master hank@example.test state Projects "$(mid drv-hank)")"
check "IMAP: carol's printer script back byte for byte, unread, same internal date" "$CAROL_DRV_BEFORE" \
      "$(probe_master carol@example.test state INBOX "$(mid drv-carol)")"
check "IMAP: hank can read his released copy with his own password" "Projects:1" "$(probe_user hank@example.test everywhere "$(mid drv-hank)")"
st=$(queue_state p3@partner.test | awk '{print $1}')
check "postqueue -j: p3@partner.test released from hold (still queued)" yes "$([[ -n $st && $st != hold ]] && echo yes || echo "no ($st)")"
detect
check "detection skips the allowed mailing" "" "$(campaign_of "$(mid drv-carol)")"
[[ -n $(campaign_of "$(mid worm-alice)") ]] || { echo "  FAIL  the worm is no longer flagged"; ERRORS=$((ERRORS + 1)); }

# ---------------------------------------------------------------- audit trail
"$CLI" audit --case "$CASE" --csv "$TMP/out/audit.csv" >/dev/null || fail "audit --csv failed"
check "audit CSV header" "id,time,analyst,action,server,request_id,message_id,recipient,from,to,answer" "$(head -n 1 "$TMP/out/audit.csv" | tr -d '\r')"
check "audit names the approver of the deletes" yes "$(grep -q ',Bea Boss,delete,mx1,' "$TMP/out/audit.csv" && echo yes || echo no)"
check "audit keeps the server's answer to the move into quarantine" yes "$(grep -q 'moved to quarantine' "$TMP/out/audit.csv" && echo yes || echo no)"
check "audit keeps postsuper's work" yes "$(grep -q 'postsuper -h ' "$TMP/out/audit.csv" && echo yes || echo no)"
if python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM audit"); c.commit()' "$CASE" 2>/dev/null; then
  echo "  FAIL  the audit trail accepted a DELETE"; ERRORS=$((ERRORS + 1))
else
  printf '  ok    %-66s %s\n' "audit trail refuses DELETE" yes
fi

echo
echo "Sent $SENT messages; the audit trail has $(( $(wc -l <"$TMP/out/audit.csv") - 1 )) entries."
[[ $ERRORS -eq 0 ]] || fail "$ERRORS check(s) failed"
exit 0
