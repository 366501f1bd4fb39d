#!/usr/bin/env bash
# End-to-end test: a real Postfix and a real Dovecot on loopback, real mail sent
# with swaks, then the log Postfix itself wrote is imported with mailtriage-cli.
#
#   tests/e2e/postfix_dovecot_e2e.sh /path/to/mailtriage-cli
#   tests/e2e/postfix_dovecot_e2e.sh --daemons-only        # no CLI: mail servers only
#
# Needs root and the Debian packages postfix dovecot-core dovecot-imapd
# dovecot-lmtpd swaks curl (scripts/install-deps.sh --test). No systemd needed:
# the script starts and stops both daemons itself.
#
# Isolation from a system Postfix/Dovecot: everything lives in one mktemp -d
# folder (Postfix config dir, queue, data dir, maillog; Dovecot base_dir,
# state_dir, maildirs, log), on unusual loopback ports. The only change outside
# that folder is one entry in alternate_config_directories of
# /etc/postfix/main.cf (Postfix requires it there); it is removed again on exit
# (and /etc/postfix/main.cf deleted again if this script had to create it).
#
# Environment:
#   MT_E2E_SMTP_PORT / MT_E2E_IMAP_PORT / MT_E2E_LMTP_PORT   (2525 / 10143 / 24024)
#   MT_E2E_KEEP=1            keep the temporary folder
#   MT_E2E_SAVE_LOG=FILE     copy the Postfix maillog to FILE (fixture refresh)
#   MT_E2E_TZ=ZONE           time zone for the daemons and the CLI (default UTC)
#
# Exit status: 0 pass, 1 failure, 77 skipped (not root / tools missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s)
# Postfix's maillog_file stamps ("Nov 26 04:02:31") carry no zone and are written
# in the daemons' local time; mailtriage-cli reads zone-less stamps as UTC. Pin
# the zone so the time assertions hold on any host (MT_E2E_TZ to experiment).
export TZ=${MT_E2E_TZ:-UTC}

CLI=""
DAEMONS_ONLY=0
case "${1:-}" in
  --daemons-only) DAEMONS_ONLY=1 ;;
  "") echo "usage: $0 /path/to/mailtriage-cli | --daemons-only" >&2; exit 2 ;;
  *) CLI=$1 ;;
esac

SMTP_PORT=${MT_E2E_SMTP_PORT:-2525}
IMAP_PORT=${MT_E2E_IMAP_PORT:-10143}
LMTP_PORT=${MT_E2E_LMTP_PORT:-24024}
MYHOSTNAME=mx1.example.test
WAIT_MAX=60            # seconds, upper bound of every single wait

say()  { printf '[e2e %3ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
skip() { echo "SKIP: $*"; exit 77; }

# ---------------------------------------------------------------- preconditions
[[ $(id -u) -eq 0 ]] || skip "must run as root (starts Postfix and Dovecot)"
for tool in postfix postconf postqueue dovecot doveconf swaks curl; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh --test)"
done
[[ -x /usr/lib/dovecot/lmtp ]] || skip "dovecot-lmtpd not installed"
[[ -x /usr/lib/dovecot/imap ]] || skip "dovecot-imapd not installed"
getent passwd postfix >/dev/null && getent group postdrop >/dev/null || skip "postfix user/postdrop group missing"
getent passwd mail >/dev/null || skip "system user 'mail' missing"
if [[ $DAEMONS_ONLY -eq 0 && ! -x $CLI ]]; then
  echo "FAIL: mailtriage-cli not executable: $CLI" >&2; exit 1
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A run killed without a chance to clean up (e.g. SIGKILL on a CTest timeout)
# leaves its daemons on our fixed ports: stop them, drop their
# alternate_config_directories entry and their folder (unless MT_E2E_KEEP).
reap_stale_runs() {
  local d pid cur new="" x changed=0
  for d in /tmp/mailtriage-e2e.*; do
    [[ -d $d ]] || continue
    pid=$(tr -dc 0-9 <"$d/postfix/queue/pid/master.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      echo "e2e: stopping Postfix left running by an earlier run in $d (pid $pid)"
      postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
    fi
    pid=$(tr -dc 0-9 <"$d/dovecot/run/master.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      echo "e2e: stopping Dovecot left running by an earlier run in $d (pid $pid)"
      kill "$pid" 2>/dev/null || true; sleep 1; kill -9 "$pid" 2>/dev/null || true
    fi
    [[ -e $d/.keep ]] || rm -rf "$d"
  done
  [[ -f /etc/postfix/main.cf ]] || return 0
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  for x in ${cur//,/ }; do
    if [[ $x == /tmp/mailtriage-e2e.* && ! -d $x ]]; then changed=1; else new+="${new:+ }$x"; fi
  done
  if [[ $changed -eq 1 ]]; then
    if [[ -n $new ]]; then postconf -c /etc/postfix -e "alternate_config_directories = $new"
    else postconf -c /etc/postfix -X alternate_config_directories; fi
  fi
  # A main.cf that an earlier run created and that now holds nothing of use.
  if head -n 1 /etc/postfix/main.cf | grep -q '^# Created by MailTriage tests/e2e' \
     && [[ -z $(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null) ]]; then
    rm -f /etc/postfix/main.cf
  fi
}
reap_stale_runs

for p in "$SMTP_PORT" "$IMAP_PORT" "$LMTP_PORT"; do
  if port_busy "$p"; then echo "FAIL: 127.0.0.1:$p is already in use" >&2; exit 1; fi
done

# ---------------------------------------------------------------- layout
TMP=$(mktemp -d /tmp/mailtriage-e2e.XXXXXX)
chmod 755 "$TMP"                    # postfix, mail and dovenull must traverse it
PF_CONF=$TMP/postfix/etc
PF_QUEUE=$TMP/postfix/queue
PF_DATA=$TMP/postfix/data
DC_CONF=$TMP/dovecot/etc
DC_RUN=$TMP/dovecot/run
DC_STATE=$TMP/dovecot/state
DC_MAIL=$TMP/mail
MAILLOG=$TMP/postfix.log
DCLOG=$TMP/dovecot.log
mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" "$DC_CONF" "$DC_RUN" "$DC_STATE" "$DC_MAIL" "$TMP/swaks"
chown mail:mail "$DC_MAIL"

SYS_MAINCF=/etc/postfix/main.cf
SYS_MAINCF_CREATED=0
ALT_ADDED=0
PF_STARTED=0
DC_STARTED=0
FAILED=0

dump_logs() {
  echo "----- Postfix maillog ($MAILLOG, last 80 lines) -----"
  tail -n 80 "$MAILLOG" 2>/dev/null || echo "(none)"
  echo "----- Dovecot log ($DCLOG, last 60 lines) -----"
  tail -n 60 "$DCLOG" 2>/dev/null || echo "(none)"
  echo "----- Postfix queue -----"
  postqueue -c "$PF_CONF" -p 2>&1 | tail -n 30 || true
  local f
  for f in "$TMP"/swaks/*.log; do
    [[ -s $f ]] || continue
    if grep -q '^\*\*\*' "$f"; then echo "----- swaks: $f -----"; grep -E '^(\*\*\*|<~?\*)' "$f" | head -n 5; fi
  done
}

fail() {
  echo "FAIL: $*" >&2
  FAILED=1
  exit 1
}

stop_postfix() {
  [[ $PF_STARTED -eq 1 ]] || return 0
  PF_STARTED=0
  postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
  local pidf=$PF_QUEUE/pid/master.pid pid i
  pid=$(tr -dc 0-9 <"$pidf" 2>/dev/null || true)
  if [[ -n $pid ]]; then
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "Postfix master $pid did not stop, killing"
      kill -9 "$pid" 2>/dev/null || true
    fi
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
    if kill -0 "$pid" 2>/dev/null; then
      say "Dovecot master $pid did not stop, killing"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
}

restore_system_maincf() {
  if [[ $SYS_MAINCF_CREATED -eq 1 ]]; then
    # Created by us: delete it again unless someone changed it meanwhile.
    if cmp -s "$SYS_MAINCF" "$TMP/sys-main.cf.ours"; then rm -f "$SYS_MAINCF"; return 0; fi
  fi
  [[ $ALT_ADDED -eq 1 && -f $SYS_MAINCF ]] || return 0
  local cur new="" d
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  for d in ${cur//,/ }; do [[ $d == "$PF_CONF" ]] || new+="${new:+ }$d"; done
  if [[ -n $new ]]; then
    postconf -c /etc/postfix -e "alternate_config_directories = $new"
  else
    postconf -c /etc/postfix -X alternate_config_directories
  fi
}

cleanup() {
  local rc=$?
  set +e
  [[ $rc -ne 0 ]] && FAILED=1
  if [[ $FAILED -eq 1 ]]; then dump_logs; fi
  stop_postfix
  stop_dovecot
  restore_system_maincf
  if [[ -n ${MT_E2E_KEEP:-} ]]; then
    touch "$TMP/.keep"
    say "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  if [[ $rc -eq 0 ]]; then say "PASS"; else say "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for DESCRIPTION TIMEOUT_SECONDS COMMAND...   (polls every 0.2 s)
wait_for() {
  local desc=$1 timeout=$2; shift 2
  (( timeout > WAIT_MAX )) && timeout=$WAIT_MAX
  local end=$(( $(date +%s) + timeout ))
  until "$@"; do
    if (( $(date +%s) >= end )); then fail "timed out after ${timeout}s waiting for: $desc"; fi
    sleep 0.2
  done
}

# fill TEMPLATE OUTPUT: replace @NAME@ placeholders
fill() {
  sed -e "s|@TMP@|$TMP|g" -e "s|@PF_CONF@|$PF_CONF|g" -e "s|@PF_QUEUE@|$PF_QUEUE|g" \
      -e "s|@PF_DATA@|$PF_DATA|g" -e "s|@DC_CONF@|$DC_CONF|g" -e "s|@DC_RUN@|$DC_RUN|g" \
      -e "s|@DC_STATE@|$DC_STATE|g" -e "s|@DC_MAIL@|$DC_MAIL|g" \
      -e "s|@MYHOSTNAME@|$MYHOSTNAME|g" -e "s|@SMTP_ADDR@|127.0.0.1:$SMTP_PORT|g" \
      -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" "$1" >"$2"
}

say "temporary folder $TMP"

# ---------------------------------------------------------------- Dovecot
fill "$HERE/dovecot/dovecot.conf.in" "$DC_CONF/dovecot.conf"
cp "$HERE/dovecot/users" "$HERE/dovecot/master-users" "$DC_CONF/"
chmod 644 "$DC_CONF/users" "$DC_CONF/master-users"
doveconf -c "$DC_CONF/dovecot.conf" -n >"$TMP/doveconf.out" 2>&1 \
  || { cat "$TMP/doveconf.out"; fail "doveconf rejects $DC_CONF/dovecot.conf"; }
DC_STARTED=1
dovecot -c "$DC_CONF/dovecot.conf" || fail "dovecot did not start"
wait_for "Dovecot IMAP on 127.0.0.1:$IMAP_PORT" 20 port_busy "$IMAP_PORT"
wait_for "Dovecot LMTP on 127.0.0.1:$LMTP_PORT" 20 port_busy "$LMTP_PORT"
say "Dovecot $(dovecot --version | cut -d' ' -f1) up: IMAP 127.0.0.1:$IMAP_PORT, LMTP 127.0.0.1:$LMTP_PORT"

# ---------------------------------------------------------------- Postfix
# The default main.cf must list our config dir in alternate_config_directories.
if [[ ! -f $SYS_MAINCF ]]; then
  cat >"$TMP/sys-main.cf.ours" <<EOF
# Created by MailTriage tests/e2e/postfix_dovecot_e2e.sh (Postfix was installed
# with "No configuration"); removed again when the test ends.
compatibility_level = 3.6
alternate_config_directories = $PF_CONF
EOF
  cp "$TMP/sys-main.cf.ours" "$SYS_MAINCF"
  SYS_MAINCF_CREATED=1
else
  cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  if [[ " ${cur//,/ } " != *" $PF_CONF "* ]]; then
    postconf -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur }$PF_CONF"
    ALT_ADDED=1
  fi
fi

fill "$HERE/postfix/main.cf.in" "$PF_CONF/main.cf"
fill "$HERE/postfix/master.cf.in" "$PF_CONF/master.cf"
cp "$HERE/postfix/header_checks" "$HERE/postfix/vmailbox" "$PF_CONF/"
chown postfix "$PF_QUEUE" "$PF_DATA"
# "check" runs post-install create-missing: creates the queue subdirectories
# with the right owners and modes. (Not "set-permissions": that would also
# re-chmod the shared system binaries in /usr/sbin and /usr/lib/postfix.)
postfix -c "$PF_CONF" check >"$TMP/postfix-check.out" 2>&1 \
  || { cat "$TMP/postfix-check.out"; fail "postfix check failed"; }
[[ -d $PF_QUEUE/maildrop && $(stat -c %U "$PF_QUEUE/active") == postfix ]] \
  || fail "postfix check did not create the queue directories in $PF_QUEUE"
PF_STARTED=1
postfix -c "$PF_CONF" start >"$TMP/postfix-start.out" 2>&1 \
  || { cat "$TMP/postfix-start.out"; fail "postfix start failed"; }
wait_for "Postfix SMTP on 127.0.0.1:$SMTP_PORT" 20 port_busy "$SMTP_PORT"
say "Postfix $(postconf -d -h mail_version) up: SMTP 127.0.0.1:$SMTP_PORT, maillog $MAILLOG"

# ---------------------------------------------------------------- what we send
S_PHISH=billing@paypa1-secure.test      # external phisher
S_CEO=ceo@examp1e.test                  # look-alike domain
S_HELP=helpdesk@corp.example.test       # internal sender (a Dovecot user: gets the bounce)

# id | sender | recipients (comma) | subject | attachment name ("" = none)
MESSAGES=(
  "01|$S_PHISH|alice@example.test|E2E-01 Your account is suspended|"
  "02|$S_PHISH|alice@example.test,bob@example.test,carol@example.test|E2E-02 Invoice 4711 overdue|evil.vbs"
  "03|$S_PHISH|bob@example.test|E2E-03 Password reset required|"
  "04|$S_CEO|dave@corp.example.test|E2E-04 Urgent wire transfer|"
  "05|$S_CEO|alice@example.test,dave@corp.example.test,helpdesk@corp.example.test|E2E-05 Confidential board minutes|board_minutes.docm"
  "06|$S_CEO|carol@example.test|E2E-06 Quick favour|"
  "07|$S_HELP|alice@example.test|E2E-07 Scheduled maintenance|"
  "08|$S_HELP|bob@example.test,carol@example.test,dave@corp.example.test|E2E-08 New VPN client|vpn_setup.exe"
  "09|$S_PHISH|carol@example.test|E2E-09 Shared document|"
  "10|$S_CEO|bob@example.test|E2E-10 Gift cards|"
  "11|$S_HELP|alice@example.test,bob@example.test,carol@example.test|E2E-11 All staff phishing awareness|"
  "12|$S_HELP|ghost@example.test,dave@corp.example.test|E2E-12 Mailbox quota|"
)
# Known to Postfix, unknown to Dovecot: LMTP 550 -> status=bounced, and Postfix
# sends a non-delivery notification (from <>) to the sender, helpdesk@.
BOUNCE_RCPT=ghost@example.test
# Unknown to Postfix: "NOQUEUE: reject: RCPT" -> a rejected attempt, no message.
REJECT_FROM=$S_PHISH
REJECT_RCPT=nobody@example.test
REJECT_SUBJECT="E2E-13 Rejected attempt"

RUNID=$(date +%Y%m%d%H%M%S).$$
head -c 600 /dev/urandom | base64 >"$TMP/payload.bin"

declare -A EXP_MBOX=()     # mailbox address -> expected number of stored mails
EXP_MESSAGES=0             # logical messages (Message-IDs) in the maillog
EXP_DELIVERIES=0           # recipients of those messages (final outcome, any status)
EXP_SENT=0                 # recipients with status=sent
EXP_BOUNCED=0
EXP_ATTACH=()

say "sending ${#MESSAGES[@]} messages + 1 rejected attempt to 127.0.0.1:$SMTP_PORT"
printf '  %-3s %-28s %-72s %s\n' id sender recipients "subject [attachment]"
for m in "${MESSAGES[@]}"; do
  IFS='|' read -r id from rcpts subject attach <<<"$m"
  args=(--server 127.0.0.1 --port "$SMTP_PORT" --helo "ws-$id.sender.test" --from "$from" --to "$rcpts"
        --header "Subject: $subject" --header "Message-Id: <e2e-$id.$RUNID@mailtriage.test>"
        --body "MailTriage e2e message $id")
  if [[ -n $attach ]]; then
    args+=(--attach-type application/octet-stream --attach-name "$attach" --attach "@$TMP/payload.bin")
    EXP_ATTACH+=("$attach")
  fi
  printf '  %-3s %-28s %-72s %s\n' "$id" "$from" "$rcpts" "$subject${attach:+ [$attach]}"
  swaks "${args[@]}" >"$TMP/swaks/$id.log" 2>&1 || fail "swaks message $id was not accepted (see $TMP/swaks/$id.log)"
  EXP_MESSAGES=$((EXP_MESSAGES + 1))
  IFS=',' read -r -a rl <<<"$rcpts"
  for r in "${rl[@]}"; do
    EXP_DELIVERIES=$((EXP_DELIVERIES + 1))
    if [[ $r == "$BOUNCE_RCPT" ]]; then
      EXP_BOUNCED=$((EXP_BOUNCED + 1))
      # the non-delivery notification: one more message, one more delivery
      EXP_MESSAGES=$((EXP_MESSAGES + 1)); EXP_DELIVERIES=$((EXP_DELIVERIES + 1))
      EXP_SENT=$((EXP_SENT + 1)); EXP_MBOX[$from]=$(( ${EXP_MBOX[$from]:-0} + 1 ))
    else
      EXP_SENT=$((EXP_SENT + 1)); EXP_MBOX[$r]=$(( ${EXP_MBOX[$r]:-0} + 1 ))
    fi
  done
done
printf '  %-3s %-28s %-72s %s\n' "--" "$REJECT_FROM" "$REJECT_RCPT" "$REJECT_SUBJECT (must be rejected)"
if swaks --server 127.0.0.1 --port "$SMTP_PORT" --helo ws-13.sender.test --from "$REJECT_FROM" --to "$REJECT_RCPT" \
     --header "Subject: $REJECT_SUBJECT" >"$TMP/swaks/13.log" 2>&1; then
  fail "Postfix accepted mail for unknown user $REJECT_RCPT"
fi
grep -q '^<\*\* *550 5\.1\.1' "$TMP/swaks/13.log" || { cat "$TMP/swaks/13.log"; fail "expected 550 5.1.1 for $REJECT_RCPT"; }
EXP_REJECTS=1

# ---------------------------------------------------------------- wait for delivery
queue_empty() { local q; q=$(postqueue -c "$PF_CONF" -j 2>&1) && [[ -z $q ]]; }
all_removed() { (( $(grep -c ': removed$' "$MAILLOG" 2>/dev/null || true) >= EXP_MESSAGES )); }
wait_for "all $EXP_MESSAGES queue files removed" 45 all_removed
wait_for "empty Postfix queue" 30 queue_empty
say "queue empty, $(grep -c ': removed$' "$MAILLOG") queue files removed"

# ---------------------------------------------------------------- Dovecot stored them?
mbox_count() { # address -> number of stored messages
  local user=${1%@*} dom=${1#*@}
  find "$DC_MAIL/$dom/$user/Maildir/new" "$DC_MAIL/$dom/$user/Maildir/cur" -type f 2>/dev/null | wc -l
}
stored_total=0
bad=0
for a in $(printf '%s\n' "${!EXP_MBOX[@]}" | sort); do
  got=$(mbox_count "$a")
  stored_total=$((stored_total + got))
  printf '  maildir %-28s expected %2d stored %2d\n' "$a" "${EXP_MBOX[$a]}" "$got"
  [[ $got -eq ${EXP_MBOX[$a]} ]] || bad=1
done
[[ $bad -eq 0 ]] || fail "Dovecot maildir contents differ from what was sent"
[[ -z $(find "$DC_MAIL" -path "*/${BOUNCE_RCPT%@*}/*" -type f 2>/dev/null) ]] || fail "mail stored for $BOUNCE_RCPT"
say "Dovecot stored $stored_total messages as expected"

# IMAP via the master user (later issue: IMAP recall uses this).
imap_out=$(curl -sS --max-time 10 --url "imap://127.0.0.1:$IMAP_PORT/INBOX" \
             -u 'alice@example.test*admin:secret' -X 'UID SEARCH ALL' 2>&1) \
  || fail "IMAP master-user login alice@example.test*admin failed: $imap_out"
imap_n=$(sed -n 's/^\* SEARCH//p' <<<"$imap_out" | wc -w)
[[ $imap_n -eq ${EXP_MBOX[alice@example.test]} ]] \
  || fail "IMAP (master user) sees $imap_n messages in alice's INBOX, expected ${EXP_MBOX[alice@example.test]}: $imap_out"
if curl -sS --max-time 10 --url "imap://127.0.0.1:$IMAP_PORT/INBOX" \
     -u 'alice@example.test*admin:wrong' -X 'UID SEARCH ALL' >/dev/null 2>&1; then
  fail "IMAP master login with a wrong password succeeded"
fi
say "IMAP master login alice@example.test*admin OK, INBOX UIDs:$(sed -n 's/^\* SEARCH//p' <<<"$imap_out" | tr -d '\r')"

# ---------------------------------------------------------------- maillog sanity
n=$(grep -c ' status=sent ' "$MAILLOG" || true)
[[ $n -eq $EXP_SENT ]] || fail "maillog has $n status=sent lines, expected $EXP_SENT"
n=$(grep -c " to=<$BOUNCE_RCPT>, .* status=bounced " "$MAILLOG" || true)
[[ $n -eq $EXP_BOUNCED ]] || fail "maillog has $n status=bounced lines for $BOUNCE_RCPT, expected $EXP_BOUNCED"
grep -q 'sender non-delivery notification: ' "$MAILLOG" || fail "no bounce notice in the maillog"
grep -q 'NOQUEUE: reject: RCPT' "$MAILLOG" || fail "no NOQUEUE reject line"
for m in "${MESSAGES[@]}"; do
  IFS='|' read -r id from rcpts subject attach <<<"$m"
  grep -qF "warning: header Subject: $subject from" "$MAILLOG" || fail "subject of $id not in the maillog"
  [[ -z $attach ]] || grep -qF "name=\"$attach\"" "$MAILLOG" || fail "attachment $attach not in the maillog"
done
# maillog_file lines: "Mmm dd hh:mm:ss HOST postfix/daemon[pid]: text"; HOST is
# the first label of myhostname (mx1), not the FQDN.
LOG_HOST=$(awk '$5 ~ /^postfix\/smtpd\[[0-9]+\]:$/ { print $4; exit }' "$MAILLOG")
[[ -n $LOG_HOST ]] || fail "cannot find the host field in $MAILLOG"
say "maillog: $(wc -l <"$MAILLOG") lines, host field '$LOG_HOST', $(grep -c 'status=sent' "$MAILLOG") status=sent, $(grep -c 'status=bounced' "$MAILLOG") status=bounced, $(grep -c 'NOQUEUE: reject' "$MAILLOG") NOQUEUE rejects"

# ---------------------------------------------------------------- stop daemons
stop_postfix; say "Postfix stopped"
stop_dovecot
say "daemons stopped"
if [[ -n ${MT_E2E_SAVE_LOG:-} ]]; then cp "$MAILLOG" "$MT_E2E_SAVE_LOG"; say "maillog copied to $MT_E2E_SAVE_LOG"; fi

if [[ $DAEMONS_ONLY -eq 1 ]]; then
  say "--daemons-only: skipping the mailtriage-cli part"
  exit 0
fi

# ================================================================ mailtriage-cli
# JSON is read with grep/sed only (no jq/python on a fresh Debian).
# json_num KEY TEXT -> first integer value of "KEY": N in TEXT
json_num() { grep -oE "\"$1\"[[:space:]]*:[[:space:]]*-?[0-9]+" <<<"$2" | head -n 1 | grep -oE -- '-?[0-9]+$' || true; }
# json_str KEY TEXT -> first string value of "KEY": "..." in TEXT (no escaped quotes expected)
json_str() { grep -oE "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" <<<"$2" | head -n 1 | sed -E 's/^[^:]*:[[:space:]]*"//; s/"$//' || true; }
# json_array KEY TEXT -> the [...] of KEY, flat arrays of strings / objects without nesting
json_array() { grep -oE "\"$1\"[[:space:]]*:[[:space:]]*\[[^]]*\]" <<<"$2" | head -n 1 | sed -E 's/^[^[]*//' || true; }

CASE=$TMP/e2e.mtcase
ERRORS=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then printf '  ok    %-52s %s\n' "$1" "$3"
  else printf '  FAIL  %-52s expected %s, got %s\n' "$1" "$2" "${3:-<missing>}"; ERRORS=$((ERRORS + 1)); fi
}

run_import() {
  local out
  if ! out=$("$CLI" import --case "$CASE" --json "$MAILLOG" 2>"$TMP/cli-import.err"); then
    cat "$TMP/cli-import.err" >&2; echo "$out" >&2
    fail "mailtriage-cli import exited non-zero"
  fi
  printf '%s' "$out"
}

LOG_LINES=$(wc -l <"$MAILLOG")
say "mailtriage-cli import --case $CASE --json $MAILLOG"
IMP1=$(run_import)
echo "  import: $(tr -d '\n' <<<"$IMP1" | tr -s ' ')"
check "import messages (12 sent + 1 bounce notice)" "$EXP_MESSAGES" "$(json_num messages "$IMP1")"
check "import deliveries (one per recipient)" "$EXP_DELIVERIES" "$(json_num deliveries "$IMP1")"
check "import servers" 1 "$(json_num servers "$IMP1")"
check "import files[0].lines == wc -l maillog" "$LOG_LINES" "$(json_num lines "$IMP1")"
acc=$(json_num accepted "$IMP1"); rej=$(json_num rejected "$IMP1"); skp=$(json_num skipped "$IMP1")
check "import files[0].accepted+rejected+skipped == lines" "$LOG_LINES" "$(( ${acc:-0} + ${rej:-0} + ${skp:-0} ))"
if [[ -n $(json_num rejected_attempts "$IMP1") ]]; then   # optional field
  check "import rejected_attempts (NOQUEUE reject)" "$EXP_REJECTS" "$(json_num rejected_attempts "$IMP1")"
fi
check "import rejected_lines == files[0].rejected" "${rej:-?}" "$(json_num rejected_lines "$IMP1")"
path=$(json_str path "$IMP1")
check "import files[0].path" "$(basename "$MAILLOG")" "$(basename "${path:-none}")"

say "mailtriage-cli messages --case $CASE --format jsonl"
if ! MSGS=$("$CLI" messages --case "$CASE" --format jsonl 2>"$TMP/cli-messages.err"); then
  cat "$TMP/cli-messages.err" >&2; fail "mailtriage-cli messages exited non-zero"
fi
MSGS=$(grep -v '^[[:space:]]*$' <<<"$MSGS" || true)
check "messages: jsonl lines" "$EXP_MESSAGES" "$(grep -c . <<<"$MSGS" || true)"

T_START=$T0; T_END=$(date +%s)
in_window() { # ISO-8601 UTC stamp within the test run (+-5 s)?
  [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] || return 1
  local s; s=$(date -u -d "$1" +%s 2>/dev/null) || return 1
  (( s >= T_START - 5 && s <= T_END + 5 ))
}

for m in "${MESSAGES[@]}"; do
  IFS='|' read -r id from rcpts subject attach <<<"$m"
  mid="e2e-$id.$RUNID@mailtriage.test"
  line=$(grep -F "$mid" <<<"$MSGS" || true)
  if [[ -z $line ]]; then check "msg $id present (message_id $mid)" yes no; continue; fi
  check "msg $id lines with this message_id" 1 "$(grep -c . <<<"$line")"
  line=$(head -n 1 <<<"$line")
  mid_got=$(json_str message_id "$line")
  mid_got=${mid_got#<}; check "msg $id message_id" "$mid" "${mid_got%>}"
  check "msg $id sender" "$from" "$(json_str sender "$line")"
  check "msg $id subject" "$subject" "$(json_str subject "$line")"
  ts=$(json_str time "$line")
  check "msg $id time ISO-8601 UTC within the run" yes "$(in_window "$ts" && echo yes || echo "no ($ts)")"
  client=$(json_str client "$line")
  check "msg $id client mentions 127.0.0.1" yes "$([[ $client == *127.0.0.1* ]] && echo yes || echo "no ($client)")"
  size=$(json_num size "$line")
  check "msg $id size > 0" yes "$([[ ${size:-0} -gt 0 ]] && echo yes || echo "no ($size)")"
  atts=$(json_array attachments "$line")
  if [[ -n $attach ]]; then
    check "msg $id attachments has $attach" yes "$(grep -qF "\"$attach\"" <<<"$atts" && echo yes || echo "no ($atts)")"
  else
    check "msg $id attachments empty" yes "$([[ $atts =~ ^\[[[:space:]]*\]$ ]] && echo yes || echo "no ($atts)")"
  fi
  robjs=$(grep -oE '\{[^{}]*"address"[^{}]*\}' <<<"$(json_array recipients "$line")" || true)
  IFS=',' read -r -a rl <<<"$rcpts"
  check "msg $id number of recipients" "${#rl[@]}" "$(grep -c . <<<"$robjs" || true)"
  for r in "${rl[@]}"; do
    ro=$(grep -F "\"$r\"" <<<"$robjs" | head -n 1 || true)
    if [[ $r == "$BOUNCE_RCPT" ]]; then
      check "msg $id $r status" bounced "$(json_str status "$ro")"
    else
      check "msg $id $r status" sent "$(json_str status "$ro")"
      check "msg $id $r destination" "$LOG_HOST" "$(json_str destination "$ro")"
    fi
  done
done

# The non-delivery notification Postfix generated for the bounce.
ndr=$(grep -F "\"${S_HELP}\"" <<<"$MSGS" | grep -vF "$RUNID@mailtriage.test" || true)
check "bounce notice to $S_HELP present" 1 "$(grep -c . <<<"$ndr" || true)"
if [[ -n $ndr ]]; then
  ndr=$(head -n 1 <<<"$ndr")
  ro=$(grep -oE '\{[^{}]*"address"[^{}]*\}' <<<"$(json_array recipients "$ndr")" | grep -F "\"$S_HELP\"" | head -n 1 || true)
  check "bounce notice recipient status" sent "$(json_str status "$ro")"
  check "bounce notice recipient destination" "$LOG_HOST" "$(json_str destination "$ro")"
  check "bounce notice sender (null sender)" yes "$(s=$(json_str sender "$ndr"); [[ -z $s || $s == "<>" || ${s,,} == mailer-daemon* ]] && echo yes || echo "no ($s)")"
fi
# The rejected attempt must not show up as a message.
check "rejected attempt ($REJECT_RCPT) not a message" 0 "$(grep -cF "$REJECT_RCPT" <<<"$MSGS" || true)"

# Idempotence: the same log again gives the same counts and no new messages.
say "importing the same maillog again"
IMP2=$(run_import)
echo "  import: $(tr -d '\n' <<<"$IMP2" | tr -s ' ')"
for k in messages deliveries servers users units rejected_lines rejected_attempts; do
  check "re-import $k unchanged" "$(json_num "$k" "$IMP1")" "$(json_num "$k" "$IMP2")"
done
MSGS2=$("$CLI" messages --case "$CASE" --format jsonl 2>/dev/null | grep -v '^[[:space:]]*$' || true)
check "re-import: jsonl lines unchanged" "$EXP_MESSAGES" "$(grep -c . <<<"$MSGS2" || true)"

echo
echo "Sent:  ${#MESSAGES[@]} messages from 3 senders to $((EXP_DELIVERIES - EXP_BOUNCED)) recipients ($((EXP_SENT - EXP_BOUNCED)) delivered, $EXP_BOUNCED bounced),"
echo "       ${#EXP_ATTACH[@]} attachments (${EXP_ATTACH[*]}), $EXP_REJECTS rejected RCPT; Postfix added $EXP_BOUNCED bounce notice(s)."
echo "Expected: messages=$EXP_MESSAGES deliveries=$EXP_DELIVERIES (status=sent $EXP_SENT, bounced $EXP_BOUNCED)"
echo "Found: messages=$(json_num messages "$IMP1") deliveries=$(json_num deliveries "$IMP1") servers=$(json_num servers "$IMP1") users=$(json_num users "$IMP1") units=$(json_num units "$IMP1") rejected_lines=$(json_num rejected_lines "$IMP1")"
[[ $ERRORS -eq 0 ]] || fail "$ERRORS check(s) failed"
exit 0
