#!/usr/bin/env python3
"""Checks the consistency of logs written by gen_postfix_logs (a developer tool, not a test).

    check_postfix_logs.py [--org ORG.csv] DIR

Per file: time stamps never go backwards; every line is a Postfix or Dovecot line; each
queue id lives client= (or, for a bounce notification, cleanup) -> message-id -> qmgr from=
-> deliveries -> removed, in that order, and is only reused after removed; smtpd connect and
disconnect pair up per process. Across files: every "queued as X" to one of our servers
names a queue id that the other server's log received from this server with the same
Message-ID before the 250 reply; every local recipient is delivered on one server only.
With --org (the chart that gen_postfix_logs --org wrote): the chart is a tree (one person
without a manager, every manager in the chart, no cycles, units Division/Department/Team);
every SASL user is in the chart; every mailbox delivered by LMTP that is in the chart is
delivered on the chart's server for it; the mailboxes only the logs know are listed.
Prints counts, exits 1 on the first 20 problems found.
"""
import csv
import glob
import os
import re
import sys
from datetime import datetime

RFC = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\+00:00 (\S+) (.*)$')
CLASSIC = re.compile(r'^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) (.*)$')
TAG = re.compile(r'^(postfix/[a-z/]+)\[(\d+)\]: (.*)$')
QLINE = re.compile(r'^([0-9A-Za-z]{10,16}): (.*)$')
MONTHS = {m: i for i, m in enumerate('Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split())}

problems = []
sasl_users = set()


def bad(msg):
    problems.append(msg)
    if len(problems) >= 20:
        report_and_exit()


def report_and_exit():
    for p in problems:
        print('PROBLEM:', p)
    sys.exit(1 if problems else 0)


def stamp_key(s):
    if s[4] == '-':
        return s
    return '%02d%s' % (MONTHS[s[:3]], s[3:].replace(' ', '0', 1))


def check_file(path, lifecycles, lmtp_home, relays):
    host = None
    last = ''
    active = {}          # qid -> state dict
    pid_session = {}     # (tag, pid) -> client
    n = 0
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            m = RFC.match(line) or CLASSIC.match(line)
            if not m:
                bad(f'{path}:{n}: no syslog prefix: {line[:120]}')
                continue
            ts, h, rest = m.groups()
            host = host or h
            if h != host:
                bad(f'{path}:{n}: host {h} != {host}')
            k = stamp_key(ts)
            if k < last:
                bad(f'{path}:{n}: time goes backwards')
            last = k
            if rest.startswith('dovecot: '):
                continue
            tm = TAG.match(rest)
            if not tm:
                bad(f'{path}:{n}: unknown line: {rest[:120]}')
                continue
            tag, pid, msg = tm.groups()
            daemon = tag.rsplit('/', 1)[1]
            if daemon == 'smtpd':
                if msg.startswith('connect from '):
                    if (tag, pid) in pid_session:
                        bad(f'{path}:{n}: {tag}[{pid}] connect while busy')
                    pid_session[(tag, pid)] = msg[len('connect from '):]
                    continue
                if msg.startswith('disconnect from '):
                    client = msg[len('disconnect from '):].split(' ')[0]
                    if pid_session.pop((tag, pid), None) != client:
                        bad(f'{path}:{n}: disconnect without connect')
                    continue
            q = QLINE.match(msg)
            if not q or q.group(1) in ('NOQUEUE', 'warning', 'statistics'):
                continue
            qid, body = q.groups()
            st = active.get(qid)
            if daemon == 'smtpd' and body.startswith('client='):
                if st:
                    bad(f'{path}:{n}: {qid} client= while still queued')
                client = body[len('client='):].split(',')[0]
                if 'sasl_username=' in body:
                    sasl_users.add(body.rsplit('sasl_username=', 1)[1])
                active[qid] = {'state': 'client', 'client': client, 'ts': ts, 'line': n}
                continue
            if daemon == 'cleanup' and body.startswith('message-id='):
                if st is None:   # a notification made by bounce(8): no client
                    st = active[qid] = {'state': 'client', 'client': None, 'ts': ts, 'line': n,
                                        'ndr': True}
                if st['state'] != 'client':
                    bad(f'{path}:{n}: {qid} message-id in state {st["state"]}')
                st['state'] = 'msgid'
                st['msgid'] = body[len('message-id='):]
                continue
            if st is None:
                bad(f'{path}:{n}: {qid} not queued: {body[:80]}')
                continue
            if daemon == 'cleanup' and body.startswith('warning: header '):
                if st['state'] not in ('client', 'msgid'):
                    bad(f'{path}:{n}: {qid} header warning after qmgr')
                continue
            if daemon == 'qmgr' and body.startswith('from='):
                if st['state'] not in ('msgid', 'active', 'deferred'):
                    bad(f'{path}:{n}: {qid} qmgr from= in state {st["state"]}')
                st['state'] = 'active'
                continue
            if daemon in ('smtp', 'lmtp') and body.startswith('to=<'):
                if st['state'] != 'active':
                    bad(f'{path}:{n}: {qid} delivery in state {st["state"]}')
                rcpt = body[4:body.index('>')]
                status = re.search(r'status=(\w+)', body).group(1)
                if status == 'deferred':
                    st['deferred'] = True
                if daemon == 'lmtp':
                    prev = lmtp_home.setdefault(rcpt, host)
                    if prev != host:
                        bad(f'{path}:{n}: {rcpt} delivered on {prev} and {host}')
                rm = re.search(r'relay=(mx\d+)\.corp\.example\[[^\]]+\]:25.*queued as (\w+)\)$', body)
                if rm:
                    relays.append((host, rm.group(1), rm.group(2), ts, st['msgid'], path, n))
                continue
            if daemon == 'bounce':
                nq = body.rsplit(' ', 1)[1]
                if not active.get(nq, {}).get('ndr'):
                    bad(f'{path}:{n}: notification {nq} not made by cleanup first')
                continue
            if daemon == 'qmgr' and body == 'removed':
                if st['state'] != 'active':
                    bad(f'{path}:{n}: {qid} removed in state {st["state"]}')
                lifecycles.setdefault(host, {}).setdefault(qid, []).append(
                    (st['ts'], st['client'], st['msgid']))
                del active[qid]
                continue
            bad(f'{path}:{n}: unexpected {tag}: {msg[:100]}')
    for qid, st in active.items():
        bad(f'{path}: {qid} never removed (state {st["state"]}, line {st["line"]})')
    if pid_session:
        bad(f'{path}: {len(pid_session)} smtpd sessions never disconnected')
    return host, n


def check_org(path, lmtp_home):
    with open(path, encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f))
    people = {}
    for i, row in enumerate(rows, 2):
        email = row['email']
        if email in people:
            bad(f'{path}:{i}: {email} twice')
        people[email] = row
        if len(row['unit'].split('/')) != 3:
            bad(f'{path}:{i}: unit {row["unit"]} is not Division/Department/Team')
    roots = [e for e, r in people.items() if not r['manager']]
    if len(roots) != 1:
        bad(f'{path}: {len(roots)} people without a manager, not one (the CEO)')
    depth_max = 0
    for e in people:
        seen, cur = set(), e
        while people[cur]['manager']:
            seen.add(cur)
            cur = people[cur]['manager']
            if cur not in people:
                bad(f'{path}: manager {cur} is not in the chart')
                break
            if cur in seen:
                bad(f'{path}: management cycle through {cur}')
                break
        depth_max = max(depth_max, len(seen))
    for u in sorted(sasl_users - people.keys()):
        bad(f'SASL user {u} is not in the chart')
    log_only = []
    for rcpt, host in sorted(lmtp_home.items()):
        if rcpt not in people:
            log_only.append(f'{rcpt} ({host})')
        elif people[rcpt]['server'] != host:
            bad(f'{rcpt} delivered on {host}, the chart says {people[rcpt]["server"]}')
    levels = [set('/'.join(r['unit'].split('/')[:k]) for r in people.values()) for k in (1, 2, 3)]
    servers = {}
    for r in people.values():
        servers.setdefault(r['unit'].split('/')[0], {}).setdefault(r['server'], 0)
        servers[r['unit'].split('/')[0]][r['server']] += 1
    print(f'org: {len(people)} people, {len(levels[0])} divisions, {len(levels[1])} departments, '
          f'{len(levels[2])} teams, management chain at most {depth_max} deep, '
          f'{len(sasl_users)} SASL users all in the chart, '
          f'{len(lmtp_home) - len(log_only)} chart mailboxes delivered on their server')
    for div in sorted(servers):
        print(f'  {div}: ' + ', '.join(f'{s} {n}' for s, n in sorted(servers[div].items())))
    print(f'mailboxes only in the logs: {", ".join(log_only) if log_only else "none"}')


def main():
    args = sys.argv[1:]
    org = None
    if len(args) == 3 and args[0] == '--org':
        org, args = args[1], args[2:]
    if len(args) != 1:
        print(__doc__)
        sys.exit(2)
    files = sorted(glob.glob(os.path.join(args[0], 'mail*.log')))
    lifecycles, lmtp_home, relays = {}, {}, []
    lines = 0
    for p in files:
        _, n = check_file(p, lifecycles, lmtp_home, relays)
        lines += n
    for src, dst, qid2, ts, msgid, path, n in relays:
        cands = [c for c in lifecycles.get(dst, {}).get(qid2, []) if stamp_key(c[0]) <= stamp_key(ts)]
        if not cands:
            bad(f'{path}:{n}: queued as {qid2} on {dst}: no such queue id received before')
            continue
        ts2, client, msgid2 = max(cands, key=lambda c: stamp_key(c[0]))
        if not client or not client.startswith(src + '.corp.example['):
            bad(f'{path}:{n}: {qid2} on {dst} came from {client}, not {src}')
        if msgid2 != msgid:
            bad(f'{path}:{n}: {qid2} on {dst} has {msgid2}, not {msgid}')
    total = sum(len(v) for h in lifecycles.values() for v in h.values())
    print(f'{len(files)} files, {lines} lines, {total} queue-id lifecycles, '
          f'{len(relays)} relayed recipients checked across servers, '
          f'{len(lmtp_home)} local mailboxes')
    if org:
        check_org(org, lmtp_home)
    report_and_exit()


if __name__ == '__main__':
    main()
