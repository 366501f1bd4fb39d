#!/usr/bin/env python3
"""Looks at (and, for the scenario, changes) a mailbox over IMAP with STARTTLS, independently of
MailTriage: the recall integration test asserts on what the server says through this.

  imap_probe.py PORT CAFILE LOGIN PASSWORD COMMAND [ARGS...]

LOGIN is either a user ("carol@example.test", with their own password) or a master login
("carol@example.test*admin"). Commands:

  count FOLDER MID          number of messages with this Message-ID in FOLDER (0: no such folder)
  everywhere MID            "FOLDER:N ..." for every selectable folder holding it ("" when none)
  total MID                 number of copies in all selectable folders
  folders                   the selectable folders, one a line
  state FOLDER MID          "sha256 flags internaldate" of the first copy (BODY.PEEK[]: not marked read)
  read FOLDER MID           read the copy (FETCH BODY[]: sets \\Seen)
  move FOLDER MID TO        move the copy to TO (created when missing)
  flag FOLDER MID FLAG      add a flag (e.g. \\Flagged)
  transfer FOLDER MID LOGIN TO  move the copy to another account's folder (same password)
  select FOLDER             exit 0 when FOLDER can be selected
Exit status: 0 done, 1 refused / not found, 3 login refused.
"""
import hashlib
import imaplib
import re
import ssl
import sys


def connect(port, cafile, login, password):
    ctx = ssl.create_default_context(cafile=cafile)
    m = imaplib.IMAP4("127.0.0.1", int(port))
    m.starttls(ssl_context=ctx)
    try:
        m.login(login, password)
    except imaplib.IMAP4.error as e:
        print(f"login refused: {e}", file=sys.stderr)
        sys.exit(3)
    return m


def q(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folders(m):
    typ, data = m.list('""', '"*"')
    out = []
    for line in data or []:
        if line is None:
            continue
        if isinstance(line, tuple):
            line = line[0] + b'"' + line[1] + b'"'
        s = line.decode()
        mm = re.match(r'\((?P<attrs>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$', s)
        if not mm:
            continue
        if "\\noselect" in mm.group("attrs").lower() or "\\nonexistent" in mm.group("attrs").lower():
            continue
        name = mm.group("name")
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out.append(name)
    return out


def uids(m, folder, mid, readonly=True):
    typ, _ = m.select(q(folder), readonly=readonly)
    if typ != "OK":
        return None
    typ, data = m.uid("SEARCH", None, "HEADER", "Message-ID", q("<" + mid + ">"))
    if typ != "OK":
        return None
    return [int(x) for x in data[0].split()]


def main():
    port, cafile, login, password, cmd, *args = sys.argv[1:]
    m = connect(port, cafile, login, password)
    if cmd == "count":
        u = uids(m, args[0], args[1])
        print(len(u or []))
    elif cmd == "everywhere":
        print(" ".join(f"{f}:{len(u)}" for f in folders(m) for u in [uids(m, f, args[0]) or []] if u))
    elif cmd == "total":
        print(sum(len(uids(m, f, args[0]) or []) for f in folders(m)))
    elif cmd == "folders":
        print("\n".join(folders(m)))
    elif cmd == "state":
        u = uids(m, args[0], args[1])
        if not u:
            sys.exit(1)
        typ, data = m.uid("FETCH", str(u[0]), "(FLAGS INTERNALDATE BODY.PEEK[])")
        head, body = data[0]
        h = head.decode()
        flags = re.search(r"FLAGS \(([^)]*)\)", h).group(1)
        date = re.search(r'INTERNALDATE "([^"]*)"', h).group(1)
        flags = [f for f in flags.split() if f.lower() != "\\recent"]  # session-dependent
        print(hashlib.sha256(body).hexdigest(), "(" + " ".join(sorted(flags)) + ")", date.replace(" ", "_"))
    elif cmd == "read":
        u = uids(m, args[0], args[1], readonly=False)
        if not u:
            sys.exit(1)
        m.uid("FETCH", str(u[0]), "(BODY[])")
    elif cmd == "move":
        u = uids(m, args[0], args[1], readonly=False)
        if not u:
            sys.exit(1)
        m.create(q(args[2]))
        typ, _ = m.uid("MOVE", str(u[0]), q(args[2]))
        sys.exit(0 if typ == "OK" else 1)
    elif cmd == "flag":
        u = uids(m, args[0], args[1], readonly=False)
        if not u:
            sys.exit(1)
        typ, _ = m.uid("STORE", str(u[0]), "+FLAGS", "(" + args[2] + ")")
        sys.exit(0 if typ == "OK" else 1)
    elif cmd == "transfer":  # transfer FOLDER MID DEST_LOGIN DEST_FOLDER: move to another account (same password)
        u = uids(m, args[0], args[1], readonly=False)
        if not u:
            sys.exit(1)
        typ, data = m.uid("FETCH", str(u[0]), "(BODY.PEEK[])")
        body = data[0][1]
        d = connect(port, cafile, args[2], password)
        typ, _ = d.append(q(args[3]), None, None, body)
        if typ != "OK":
            sys.exit(1)
        m.uid("STORE", str(u[0]), "+FLAGS", "(\\Deleted)")
        m.expunge()
    elif cmd == "select":
        typ, _ = m.select(q(args[0]), readonly=True)
        sys.exit(0 if typ == "OK" else 1)
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        sys.exit(2)
    m.logout()


if __name__ == "__main__":
    main()
