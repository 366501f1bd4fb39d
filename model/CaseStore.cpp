#include "CaseStore.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <algorithm>
#include <unistd.h>
#include <cstdio>
#include <tuple>
#include <unordered_set>

namespace mt {

namespace {

// Migrations: entry i takes the schema from version i to i + 1. Never edit a released entry;
// append a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"SQL(
CREATE TABLE servers(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE imports(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  size INTEGER,
  lines INTEGER DEFAULT 0,
  accepted INTEGER DEFAULT 0,
  rejected INTEGER DEFAULT 0,
  skipped INTEGER DEFAULT 0,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER DEFAULT 0
);
CREATE TABLE import_issues(
  import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  excerpt TEXT
);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  msg_key TEXT NOT NULL UNIQUE,       -- Message-ID, or server/queue-id/time when it is missing or broken
  message_id TEXT,                    -- as logged, without angle brackets
  id_valid INTEGER NOT NULL DEFAULT 1,
  time INTEGER NOT NULL,              -- first sighting, ms since epoch UTC
  sender TEXT,
  client_host TEXT,
  client_ip TEXT,
  sasl_user TEXT,
  size INTEGER,
  subject TEXT,
  confirm_token TEXT,
  origin_server_id INTEGER REFERENCES servers(id),
  dirty INTEGER NOT NULL DEFAULT 0    -- an existing row changed by the import in progress
);
CREATE INDEX messages_time ON messages(time);
CREATE INDEX messages_dirty ON messages(id) WHERE dirty = 1;
CREATE TABLE attachments(
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  UNIQUE(message_id, name)
);
CREATE TABLE copies(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  server_id INTEGER NOT NULL REFERENCES servers(id),
  queue_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER,
  origin TEXT,
  client_host TEXT,
  client_ip TEXT,
  sasl_user TEXT,
  sender TEXT,
  size INTEGER,
  nrcpt INTEGER,
  removed INTEGER NOT NULL DEFAULT 0,
  import_id INTEGER REFERENCES imports(id),
  -- first_seen before queue_id: rows arrive in time order, so the index grows at its end
  UNIQUE(server_id, first_seen, queue_id)
);
CREATE INDEX copies_message ON copies(message_id);
CREATE TABLE deliveries(
  id INTEGER PRIMARY KEY,
  copy_id INTEGER NOT NULL REFERENCES copies(id) ON DELETE CASCADE,
  recipient TEXT NOT NULL,
  orig_recipient TEXT,
  transport TEXT,
  relay_host TEXT,
  relay_ip TEXT,
  relay_port INTEGER,
  dsn TEXT,
  status TEXT,
  delay REAL,
  time INTEGER,
  queued_as TEXT,
  response TEXT,
  attempts INTEGER NOT NULL DEFAULT 1,
  next_copy_id INTEGER REFERENCES copies(id),  -- the copy this hop handed the message to
  is_final INTEGER NOT NULL DEFAULT 1,         -- the recipient's last hop in our logs
  destination_server_id INTEGER REFERENCES servers(id), -- our server holding the recipient's copy
  destination TEXT,                            -- that server's name, or the external relay
  dirty INTEGER NOT NULL DEFAULT 0,            -- an existing row changed by the import in progress
  UNIQUE(copy_id, recipient)
);
-- Not limited to unlinked hops: linking a hop would then cost an index delete as well.
CREATE INDEX deliveries_queued_as ON deliveries(queued_as) WHERE queued_as IS NOT NULL;
CREATE INDEX deliveries_next ON deliveries(next_copy_id) WHERE next_copy_id IS NOT NULL;
CREATE INDEX deliveries_dirty ON deliveries(id) WHERE dirty = 1;
CREATE TABLE rejects(
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers(id),
  time INTEGER NOT NULL,
  client_host TEXT,
  client_ip TEXT,
  sender TEXT,
  recipient TEXT,
  stage TEXT,
  reason TEXT,
  import_id INTEGER REFERENCES imports(id),
  UNIQUE(server_id, time, client_ip, sender, recipient, stage)
);
CREATE TABLE units(
  id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES units(id),
  name TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE
);
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) STORED,
  name TEXT,
  unit_id INTEGER REFERENCES units(id),
  manager_email TEXT,
  workstation TEXT,
  server TEXT,
  source TEXT NOT NULL                         -- 'org' (from a chart) or 'log' (seen in traffic only)
);
CREATE INDEX users_domain ON users(domain);
CREATE INDEX users_unit ON users(unit_id);
)SQL",
    // 1 -> 2: detection (issue 4). The rule set as JSON, the evidence of flagged messages, the
    // campaigns with their messages, units and propagation graph, and the runs. A re-run of
    // detection replaces hits and campaigns in one transaction.
    R"SQL(
CREATE TABLE rulesets(
  id INTEGER PRIMARY KEY,
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE detection_runs(
  id INTEGER PRIMARY KEY,
  ruleset_id INTEGER REFERENCES rulesets(id),
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  messages INTEGER,                  -- messages in the case when it ran
  processed INTEGER,                 -- messages it judged (fewer when incremental)
  flagged INTEGER,
  campaigns INTEGER,
  max_message_id INTEGER,            -- the highest messages.id it saw
  last_time INTEGER,                 -- the latest message time it judged
  first_time INTEGER,                -- where its history starts
  incremental INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE hits(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  rule_id TEXT NOT NULL,
  key TEXT,                          -- what was counted: sender, client, link, attachment, parent message ...
  window_start INTEGER,
  window_end INTEGER,                -- when the rule fired
  count INTEGER,
  threshold INTEGER,
  weight REAL,
  detail TEXT
);
CREATE INDEX hits_message ON hits(message_id);
CREATE TABLE campaigns(
  id INTEGER PRIMARY KEY,
  label TEXT,
  patient_zero TEXT,
  patient_zero_message_id INTEGER,
  first_seen INTEGER,
  detected_at INTEGER,               -- log time at which the rules first fired on it
  generations INTEGER,
  messages INTEGER,
  senders INTEGER,
  recipients INTEGER
);
CREATE TABLE campaign_messages(
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  generation INTEGER,
  parent_message_id INTEGER,         -- the propagation tree's parent
  flagged_at INTEGER,
  score REAL,
  source TEXT                        -- 'rules', 'parent', 'burst': why it is in the campaign
);
CREATE INDEX campaign_messages_campaign ON campaign_messages(campaign_id);
CREATE TABLE campaign_units(
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  unit_id INTEGER NOT NULL,
  PRIMARY KEY(campaign_id, unit_id)
);
CREATE TABLE propagation_edges(
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  from_message_id INTEGER NOT NULL,  -- received by the sender of to_message_id shortly before
  to_message_id INTEGER NOT NULL,
  PRIMARY KEY(from_message_id, to_message_id)
);
CREATE INDEX propagation_edges_campaign ON propagation_edges(campaign_id);
CREATE INDEX propagation_edges_to ON propagation_edges(to_message_id);
)SQL",
    // 2 -> 3: recall (issue 6). Requests are keyed by message row, recipient and destination
    // server, never by campaign (campaign ids change when detection re-runs: the label and id
    // are kept as a snapshot). The audit trail refuses UPDATE and DELETE.
    R"SQL(
CREATE TABLE IF NOT EXISTS recall_runs(
  id INTEGER PRIMARY KEY,
  action TEXT NOT NULL,              -- 'recall', 'delete', 'release'
  analyst TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  requests INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'running' -- 'running', 'done', 'cancelled', 'failed'
);
CREATE TABLE IF NOT EXISTS recall_requests(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,       -- messages.id (no foreign key: a request outlives anything)
  message_key TEXT NOT NULL,         -- the Message-ID (or msg_key) as a snapshot
  recipient TEXT NOT NULL,           -- lower case
  server TEXT NOT NULL,              -- destination server as named in the logs; the relay when external
  place TEXT NOT NULL,               -- 'mailbox', 'queue', 'external', 'gone'
  queue_id TEXT,                     -- the queue id the case knows (place 'queue')
  delivered_at INTEGER,
  connector TEXT,                    -- 'imap', 'postfix', 'demo' or NULL
  campaign_id INTEGER,               -- snapshot at planning time
  campaign_label TEXT,               -- snapshot at planning time
  round INTEGER NOT NULL DEFAULT 0,  -- 0: the analyst's selection, 1..: cascade rounds
  parent_request_id INTEGER,         -- the already-retrieved request this cascade round came from
  state TEXT NOT NULL CHECK(state IN ('proposed','approved','requested','suspended','already-retrieved','not-found',
                                      'unreachable','not-recallable','deleted','released','cascaded')),
  detail TEXT,                       -- the last answer or reason
  attempts INTEGER NOT NULL DEFAULT 0,
  approved_by TEXT,
  approved_at INTEGER,
  run_id INTEGER REFERENCES recall_runs(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE(message_id, recipient, server)
);
CREATE INDEX IF NOT EXISTS recall_requests_state ON recall_requests(state);
CREATE TABLE IF NOT EXISTS verdicts(
  id INTEGER PRIMARY KEY,
  verdict TEXT NOT NULL CHECK(verdict IN ('virus','clean')),
  analyst TEXT NOT NULL,
  at INTEGER NOT NULL,
  campaign_id INTEGER,
  campaign_label TEXT,
  messages INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS verdict_messages(  -- the messages a verdict judged (deletes check these)
  verdict_id INTEGER NOT NULL REFERENCES verdicts(id),
  message_id INTEGER NOT NULL,
  PRIMARY KEY(message_id, verdict_id)
);
CREATE TABLE IF NOT EXISTS allow_entries(
  id INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,              -- lower case envelope sender
  subject_norm TEXT NOT NULL,        -- det::normaliseSubject
  attachments_norm TEXT NOT NULL,    -- det::normaliseName of each attachment, sorted, joined by '|'
  verdict_id INTEGER REFERENCES verdicts(id),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(sender, subject_norm, attachments_norm)
);
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  analyst TEXT NOT NULL,
  action TEXT NOT NULL,              -- 'plan', 'approve', 'request', 'result', 'delete', 'release', 'cascade', 'verdict', 'allow'
  server TEXT,
  request_id INTEGER,
  message_key TEXT,
  recipient TEXT,
  state_from TEXT,
  state_to TEXT,
  answer TEXT                        -- the server's answer, verbatim (trimmed)
);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)SQL",
    // 3 -> 4: send confirmation (issue 8). The users whose messages must carry a confirmation
    // token, with their key (public keys only; HMAC secrets never enter the case).
    R"SQL(
CREATE TABLE IF NOT EXISTS enrolment(
  user TEXT PRIMARY KEY,             -- lower case address
  algorithm TEXT NOT NULL CHECK(algorithm IN ('ed25519','hmac-sha256')),
  key_id TEXT NOT NULL,              -- 8 characters of base64url (confirm::keyIdFor)
  public_key TEXT,                   -- base64 of the raw Ed25519 public key; NULL for HMAC
  source TEXT,                       -- the enrolment file it came from
  enrolled_at INTEGER NOT NULL
);
)SQL",
    // 4 -> 5: live monitoring (issue 10). Where each followed file stopped (so a restart
    // resumes without losing or repeating a line), one row per monitoring session (an unclean
    // end says which lines may be missing), and the campaigns already announced (so a restart
    // does not announce them again), with the analyst's optional auto-suspend.
    R"SQL(
CREATE TABLE IF NOT EXISTS live_sessions(
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,           -- wall clock, ms since epoch UTC
  heartbeat_at INTEGER,                  -- the last committed batch
  ended_at INTEGER,                      -- NULL while running, or when it ended uncleanly
  clean INTEGER NOT NULL DEFAULT 0,      -- 1: stopped on purpose, everything received was written
  sources TEXT,                          -- what it followed and listened on
  lines INTEGER NOT NULL DEFAULT 0,      -- lines committed
  last_receive_at INTEGER,               -- receive time of the last committed line
  note TEXT                              -- e.g. what an unclean end of the previous session may have lost
);
CREATE TABLE IF NOT EXISTS live_files(
  path TEXT PRIMARY KEY,                 -- as followed (absolute)
  device INTEGER,
  inode INTEGER NOT NULL,                -- the file the offset belongs to (rotation renames it away)
  offset INTEGER NOT NULL,               -- bytes committed: the end of the last line written
  tail BLOB,                             -- the bytes just before offset, to notice copytruncate
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS live_alerts(
  id INTEGER PRIMARY KEY,
  session_id INTEGER,
  anchor_message_id INTEGER NOT NULL,    -- the campaign's patient-zero message when announced: campaign ids change on
                                         -- every detection run, a campaign is recognised by containing this message
  campaign_label TEXT,
  detected_at INTEGER,                   -- log time the rules first fired
  alerted_at INTEGER NOT NULL,           -- wall clock of the notification
  received_at INTEGER,                   -- wall clock the newest line of the batch that revealed it was received
  auto_suspend_by TEXT,                  -- the analyst who let this campaign's copies be suspended without asking
  auto_suspend_at INTEGER
);
CREATE INDEX IF NOT EXISTS live_alerts_anchor ON live_alerts(anchor_message_id);
)SQL",
    // 5 -> 6: recall that truly blocks (issue 16). Two new states (a login the server refused,
    // settings the connector refused), where each copy was found (folder or queue), the
    // mailbox the connector logged in to, whether the recipient had read the copy (before the
    // recall, or while it was suspended: a fact kept after any verdict) and when the cascade
    // followed it. Old 'cascaded' rows become 'already-retrieved' with cascaded_at set: the
    // state no longer hides that the copy had been read. SQLite cannot change a CHECK, so the
    // table is rebuilt.
    R"SQL(
CREATE TABLE recall_requests_v6(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,
  message_key TEXT NOT NULL,
  recipient TEXT NOT NULL,
  server TEXT NOT NULL,
  place TEXT NOT NULL,
  queue_id TEXT,
  delivered_at INTEGER,
  connector TEXT,
  campaign_id INTEGER,
  campaign_label TEXT,
  round INTEGER NOT NULL DEFAULT 0,
  parent_request_id INTEGER,
  state TEXT NOT NULL CHECK(state IN ('proposed','approved','requested','suspended','already-retrieved','not-found',
                                      'unreachable','auth-failed','refused','not-recallable','deleted','released','cascaded')),
  detail TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  approved_by TEXT,
  approved_at INTEGER,
  run_id INTEGER REFERENCES recall_runs(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  folder TEXT,                       -- where the connector found the copy: IMAP folder, or 'queue:hold' etc.
  mailbox TEXT,                      -- the mailbox logged in to (recipient without its +extension)
  read_state TEXT NOT NULL DEFAULT '' CHECK(read_state IN ('', 'before-recall', 'while-suspended')),
  cascaded_at INTEGER,               -- when the cascade followed this read copy
  UNIQUE(message_id, recipient, server)
);
INSERT INTO recall_requests_v6(id, message_id, message_key, recipient, server, place, queue_id, delivered_at, connector,
  campaign_id, campaign_label, round, parent_request_id, state, detail, attempts, approved_by, approved_at, run_id,
  created_at, updated_at, read_state, cascaded_at)
SELECT id, message_id, message_key, recipient, server, place, queue_id, delivered_at, connector, campaign_id,
  campaign_label, round, parent_request_id, CASE state WHEN 'cascaded' THEN 'already-retrieved' ELSE state END, detail,
  attempts, approved_by, approved_at, run_id, created_at, updated_at,
  CASE WHEN state IN ('already-retrieved', 'cascaded') THEN 'before-recall' ELSE '' END,
  CASE state WHEN 'cascaded' THEN updated_at END
FROM recall_requests;
DROP TABLE recall_requests;
ALTER TABLE recall_requests_v6 RENAME TO recall_requests;
CREATE INDEX IF NOT EXISTS recall_requests_state ON recall_requests(state);
)SQL",
    // 6 -> 7: real logs (issue 15). Every reject line is one event: the old key (server, second,
    // client, sender, recipient, stage) merged hundreds of a bot's identical attempts into one.
    // The key gains the line's number among the file's lines alike in all of these (so
    // re-importing a file still adds nothing, and a row kept from before is the first of its
    // group: importing its file again adds exactly the lines it had swallowed); the daemon's pid
    // and the queue id are kept beside it. The key's columns are never NULL, because NULLs never
    // collide in a UNIQUE index. And copies by queue id: a hop reaches the next copy by its
    // queue id even when the two sides carry different or no Message-IDs.
    R"SQL(
CREATE TABLE rejects_v6(
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers(id),
  time INTEGER NOT NULL,
  client_host TEXT,
  client_ip TEXT NOT NULL DEFAULT '',
  sender TEXT NOT NULL DEFAULT '',
  recipient TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL DEFAULT '',
  reason TEXT,
  import_id INTEGER REFERENCES imports(id),
  pid TEXT NOT NULL DEFAULT '',        -- the logging daemon's pid, when the line has one
  queue_id TEXT NOT NULL DEFAULT '',   -- a reject under a queue id (after DATA, cleanup, smtpd)
  seq INTEGER NOT NULL DEFAULT 0,      -- 0, 1, ... among the file's lines alike in the other key columns
  UNIQUE(server_id, time, client_ip, sender, recipient, stage, seq)
);
INSERT OR IGNORE INTO rejects_v6(id, server_id, time, client_host, client_ip, sender, recipient, stage, reason, import_id)
SELECT id, server_id, time, client_host, coalesce(client_ip, ''), coalesce(sender, ''), coalesce(recipient, ''),
       coalesce(stage, ''), reason, import_id FROM rejects;
DROP TABLE rejects;
ALTER TABLE rejects_v6 RENAME TO rejects;
CREATE INDEX IF NOT EXISTS copies_queue ON copies(queue_id);
)SQL",
};

constexpr int kMigrationCount = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
static_assert(kMigrationCount == CaseStore::kSchemaVersion);

std::int64_t nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

} // namespace

struct CaseStore::Statements {
    SqliteStmt selectDeliveryId, selectCopyMessage, expireDeferred, updateHop, updateOrigin, insertLogUser;
    SqliteStmt insertMessage, insertCopy, upsertMessage, upsertCopy, upsertDelivery, insertAttachment, insertReject, upsertOrgUser,
        insertIssue, insertServer, selectServer, insertUnit, selectUnit;
};

// The link of a bulk load, kept in memory. When a session starts on a case without copies,
// every hop, origin and user that link() needs lies among the rows this session writes, so
// the joins are made here with hash maps instead of by SQL over the tables: the SQL link
// costs several microseconds a row, about as much as writing the rows. Any rollback turns it
// off for the rest of the session (its maps would name rows that no longer exist); the SQL
// link, which handles any case, then takes over.
struct CaseStore::BulkLink {
    // Millions of these live at once on a big load: no heap strings where a number will do
    // (queue ids fit std::string's inline buffer; recipients are kept as hashes, compared
    // only within one copy's few recipients).
    struct Copy {
        std::int64_t messageId = 0, serverId = 0;
        TimeMs firstSeen = 0;
        std::string queueId;
        bool handedOver = false;               // another copy's hop reached it: not the origin
        std::vector<std::uint64_t> recipients; // hashes of recipient and orig_recipient
        std::vector<std::int64_t> upstream;    // hops (delivery ids) that reached it
        std::vector<std::int64_t> ownHops;     // its deliveries that said "queued as"
    };
    struct Hop {
        std::int64_t copyId = 0;
        std::uint64_t recipient = 0;
        std::string queuedAs;
        std::int64_t next = 0;
    };
    struct Message {
        std::vector<std::int64_t> copies;
        std::int64_t fieldsFrom = 0; // the copy whose fields the row holds; 0: unknown
    };
    // A queue id within one message.
    struct QueueKey {
        std::int64_t messageId;
        std::string queueId;
        bool operator==(const QueueKey&) const = default;
    };
    struct QueueKeyHash {
        std::size_t operator()(const QueueKey& k) const noexcept {
            return std::hash<std::string>()(k.queueId) ^ (static_cast<std::size_t>(k.messageId) * 0x9E3779B97F4A7C15ull);
        }
    };
    static std::uint64_t hashOf(const std::string& s) { return std::hash<std::string>()(s); }

    // Rows of a bulk load get dense ids from 1 (the tables were empty), so the maps by id are
    // vectors indexed by id: no hashing, no node per row, and cheap to free at the end.
    // operator[] grows the vector like unordered_map's default-inserts; a default-constructed
    // entry stands for "absent" (a Copy or Hop has copyId/messageId 0, a Message no copies).
    template <class T>
    struct ById {
        std::vector<T> rows;
        T& operator[](std::int64_t id) {
            const auto i = static_cast<std::size_t>(id);
            if (i >= rows.size()) rows.resize(std::max(i + 1, rows.size() * 2));
            return rows[i];
        }
        void erase(std::int64_t id) {
            if (static_cast<std::size_t>(id) < rows.size()) rows[static_cast<std::size_t>(id)] = T();
        }
    };

    bool active = false;
    ById<Copy> copies;                                                                  // copy id -> copy
    std::unordered_map<QueueKey, std::int64_t, QueueKeyHash> copyByQueue;              // -> copy
    std::unordered_map<QueueKey, std::vector<std::int64_t>, QueueKeyHash> pending;     // "queued as" -> hops
    ById<Hop> hops;                                                                     // delivery id -> hop
    ById<Message> messages;
    std::unordered_map<std::int64_t, std::string> serverNames;
    std::unordered_set<std::string> users, localDomains;
    // This file's share; the id lists may repeat ids (sorted and made unique by link()).
    std::vector<std::int64_t> fileHops, fileMessages;
    std::vector<std::string> fileRecipients, fileSenders;

    // The hop found its next copy.
    void connect(std::int64_t hopId, std::int64_t copyId) {
        Hop& h = hops[hopId];
        h.next = copyId;
        Copy& c = copies[copyId];
        c.handedOver = true;
        c.upstream.push_back(hopId);
        fileHops.push_back(hopId);
    }
    // A hop looks for its "queued as" among the session's copies of the message, else waits.
    void place(std::int64_t hopId, std::int64_t messageId) {
        const Hop& h = hops[hopId];
        QueueKey k{messageId, h.queuedAs};
        const auto it = copyByQueue.find(k);
        if (it != copyByQueue.end() && it->second != h.copyId) connect(hopId, it->second);
        else pending[std::move(k)].push_back(hopId);
    }
    // A copy arrived: register it and give it the hops that waited for it.
    void arrive(std::int64_t copyId) {
        const Copy& c = copies[copyId];
        QueueKey k{c.messageId, c.queueId};
        copyByQueue[k] = copyId;
        const auto it = pending.find(k);
        if (it == pending.end()) return;
        std::vector<std::int64_t> waiting = std::move(it->second);
        pending.erase(it);
        for (std::int64_t hopId : waiting) {
            if (hops[hopId].copyId == copyId) pending[k].push_back(hopId); // its own hop: keeps waiting
            else connect(hopId, copyId);
        }
    }
    void clearFile() {
        fileHops.clear();
        fileMessages.clear();
        fileRecipients.clear();
        fileSenders.clear();
    }
};

CaseStore::CaseStore() = default;
CaseStore::~CaseStore() { close(); }

void CaseStore::open(const QString& path, bool create) {
    close();
    const QFileInfo fi(path);
    if (!create && !fi.exists()) throw SqliteError("no such case file: " + path.toStdString());
    if (fi.isDir()) throw SqliteError(path.toStdString() + " is a folder, not a case file");
    if (fi.exists()) {
        // Evidence on a read-only mount or a write-protected file: say so before SQLite does
        // (it would report a failed PRAGMA or "attempt to write a readonly database").
        const QByteArray native = QFile::encodeName(fi.absoluteFilePath()), dir = QFile::encodeName(fi.absolutePath());
        const bool fileRo = ::access(native.constData(), W_OK) != 0, dirRo = ::access(dir.constData(), W_OK) != 0;
        if (fileRo || dirRo)
            throw SqliteError("case file " + path.toStdString() + " is read-only (" + (fileRo ? "the file" : "its folder")
                              + " cannot be written): this command changes the case; summary, messages and export can "
                                "read it as it is");
    } else if (::access(QFile::encodeName(fi.absolutePath()).constData(), W_OK) != 0) {
        throw SqliteError("cannot create case file " + path.toStdString() + ": its folder is read-only or missing");
    }
    m_db.open(QFile::encodeName(path).toStdString(), create);
    m_path = path;
    try {
        checkIdentity(); // before anything writes to the file
        m_db.exec("PRAGMA journal_mode=WAL");
        m_db.exec("PRAGMA foreign_keys=ON");
        m_db.exec("PRAGMA synchronous=NORMAL");
        m_db.exec("PRAGMA temp_store=MEMORY");
        m_db.exec("PRAGMA cache_size=-262144"); // 256 MiB
        migrate();
    } catch (...) {
        m_db.close();
        throw;
    }
    m_st = std::make_unique<Statements>();
    auto& s = *m_st;
    // The common case, a row not yet in the case, takes a plain insert; the upserts below run
    // only when it collides (re-import, a copy continued from the previous file).
    s.insertMessage = m_db.prepare(R"SQL(
INSERT OR IGNORE INTO messages(msg_key, message_id, id_valid, time, sender, client_host, client_ip, sasl_user, size,
                               subject, confirm_token, origin_server_id)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))SQL");
    s.insertCopy = m_db.prepare(R"SQL(
INSERT OR IGNORE INTO copies(message_id, server_id, queue_id, first_seen, last_seen, origin, client_host, client_ip,
                             sasl_user, sender, size, nrcpt, removed, import_id)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))SQL");
    s.upsertMessage = m_db.prepare(R"SQL(
INSERT INTO messages(msg_key, message_id, id_valid, time, sender, client_host, client_ip, sasl_user, size, subject,
                     confirm_token, origin_server_id)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT(msg_key) DO UPDATE SET
  -- The client is the origin's alone: a later copy's client is the server that relayed it.
  sender = CASE WHEN excluded.time < messages.time THEN coalesce(excluded.sender, messages.sender)
                ELSE coalesce(messages.sender, excluded.sender) END,
  client_host = CASE WHEN excluded.time < messages.time THEN excluded.client_host ELSE messages.client_host END,
  client_ip = CASE WHEN excluded.time < messages.time THEN excluded.client_ip ELSE messages.client_ip END,
  sasl_user = CASE WHEN excluded.time < messages.time THEN excluded.sasl_user ELSE messages.sasl_user END,
  size = CASE WHEN excluded.time < messages.time THEN coalesce(excluded.size, messages.size)
              ELSE coalesce(messages.size, excluded.size) END,
  origin_server_id = CASE WHEN excluded.time < messages.time THEN excluded.origin_server_id
                          ELSE messages.origin_server_id END,
  subject = coalesce(messages.subject, excluded.subject),
  confirm_token = coalesce(messages.confirm_token, excluded.confirm_token),
  time = min(messages.time, excluded.time),
  dirty = 1
RETURNING id)SQL");
    s.upsertCopy = m_db.prepare(R"SQL(
INSERT INTO copies(message_id, server_id, queue_id, first_seen, last_seen, origin, client_host, client_ip, sasl_user,
                   sender, size, nrcpt, removed, import_id)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
ON CONFLICT(server_id, first_seen, queue_id) DO UPDATE SET
  message_id = excluded.message_id,
  last_seen = max(coalesce(copies.last_seen, 0), coalesce(excluded.last_seen, 0)),
  origin = coalesce(excluded.origin, copies.origin),
  client_host = coalesce(excluded.client_host, copies.client_host),
  client_ip = coalesce(excluded.client_ip, copies.client_ip),
  sasl_user = coalesce(excluded.sasl_user, copies.sasl_user),
  sender = coalesce(excluded.sender, copies.sender),
  size = coalesce(excluded.size, copies.size),
  nrcpt = coalesce(excluded.nrcpt, copies.nrcpt),
  removed = max(copies.removed, excluded.removed)
RETURNING id)SQL");
    s.upsertDelivery = m_db.prepare(R"SQL(
INSERT INTO deliveries(copy_id, recipient, orig_recipient, transport, relay_host, relay_ip, relay_port, dsn, status,
                       delay, time, queued_as, response, attempts, destination_server_id, destination)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
ON CONFLICT(copy_id, recipient) DO UPDATE SET
  orig_recipient = excluded.orig_recipient, transport = excluded.transport, relay_host = excluded.relay_host,
  relay_ip = excluded.relay_ip, relay_port = excluded.relay_port, dsn = excluded.dsn, status = excluded.status,
  delay = excluded.delay, time = excluded.time, queued_as = excluded.queued_as, response = excluded.response,
  attempts = max(deliveries.attempts, excluded.attempts),
  next_copy_id = CASE WHEN excluded.queued_as IS deliveries.queued_as THEN deliveries.next_copy_id ELSE NULL END,
  destination_server_id = CASE WHEN excluded.queued_as IS deliveries.queued_as AND deliveries.next_copy_id IS NOT NULL
                               THEN deliveries.destination_server_id ELSE excluded.destination_server_id END,
  destination = CASE WHEN excluded.queued_as IS deliveries.queued_as AND deliveries.next_copy_id IS NOT NULL
                     THEN deliveries.destination ELSE excluded.destination END,
  dirty = 1
WHERE excluded.time >= deliveries.time)SQL");
    s.insertAttachment = m_db.prepare("INSERT OR IGNORE INTO attachments(message_id, name) VALUES(?1, ?2)");
    s.insertReject = m_db.prepare(R"SQL(
INSERT OR IGNORE INTO rejects(server_id, time, client_host, client_ip, sender, recipient, stage, reason, import_id, pid,
                              queue_id, seq)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))SQL");
    s.upsertOrgUser = m_db.prepare(R"SQL(
INSERT INTO users(email, name, unit_id, manager_email, workstation, server, source)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'org')
ON CONFLICT(email) DO UPDATE SET
  name = coalesce(excluded.name, users.name), unit_id = excluded.unit_id,
  manager_email = coalesce(excluded.manager_email, users.manager_email),
  workstation = coalesce(excluded.workstation, users.workstation),
  server = coalesce(excluded.server, users.server), source = 'org')SQL");
    s.insertIssue = m_db.prepare("INSERT INTO import_issues(import_id, line, reason, excerpt) VALUES(?1, ?2, ?3, ?4)");
    s.insertServer = m_db.prepare("INSERT INTO servers(name) VALUES(?1) ON CONFLICT(name) DO NOTHING");
    s.selectServer = m_db.prepare("SELECT id FROM servers WHERE name = ?1");
    s.insertUnit = m_db.prepare("INSERT INTO units(parent_id, name, path) VALUES(?1, ?2, ?3) ON CONFLICT(path) DO NOTHING");
    s.selectUnit = m_db.prepare("SELECT id FROM units WHERE path = ?1");
    s.expireDeferred = m_db.prepare("UPDATE deliveries SET status = 'expired', time = max(time, ?2), dirty = 1 "
                                    "WHERE copy_id = ?1 AND status = 'deferred'");
    s.selectCopyMessage = m_db.prepare("SELECT message_id FROM copies WHERE server_id = ?1 AND first_seen = ?2 AND queue_id = ?3");
    s.selectDeliveryId = m_db.prepare("SELECT id FROM deliveries WHERE copy_id = ?1 AND recipient = ?2");
    s.updateHop = m_db.prepare("UPDATE deliveries SET next_copy_id = ?2, is_final = ?3, destination_server_id = ?4, "
                               "destination = ?5 WHERE id = ?1");
    s.updateOrigin = m_db.prepare(R"SQL(
UPDATE messages SET (time, sender, client_host, client_ip, sasl_user, size, origin_server_id) = (
    SELECT c.first_seen, coalesce(c.sender, messages.sender), c.client_host, c.client_ip, c.sasl_user,
           coalesce(c.size, messages.size), c.server_id
    FROM copies c WHERE c.id = ?2)
WHERE id = ?1)SQL");
    s.insertLogUser = m_db.prepare("INSERT INTO users(email, unit_id, source) VALUES(?1, ?2, 'log') ON CONFLICT(email) DO NOTHING");

    // A case without copies gets the in-memory link for this session (see BulkLink).
    m_bulk = std::make_unique<BulkLink>();
    if (m_db.scalar("SELECT count(*) FROM (SELECT 1 FROM copies LIMIT 1)") == 0) {
        m_bulk->active = true;
        auto st = m_db.prepare("SELECT email, domain FROM users");
        while (st.step()) {
            m_bulk->users.insert(st.text(0));
            m_bulk->localDomains.insert(st.text(1));
        }
    }
}

void CaseStore::close() {
    if (m_inFile) rollbackFile();
    m_st.reset();
    m_servers.clear();
    m_units.clear();
    m_messageCache.clear();
    m_bulk.reset();
    m_handOverSetsLoaded = false;
    m_invalidQueueIds.clear();
    m_invalidHopTargets.clear();
    m_handOverCandidates.clear();
    m_db.close();
}

int CaseStore::schemaVersion() { return static_cast<int>(m_db.scalar("PRAGMA user_version")); }

void CaseStore::checkIdentity() {
    const std::string path = m_path.toStdString();
    std::int64_t appId = 0, version = 0, tables = 0;
    try {
        appId = m_db.scalar("PRAGMA application_id");
        version = m_db.scalar("PRAGMA user_version");
        tables = m_db.scalar("SELECT count(*) FROM sqlite_master");
    } catch (const SqliteError&) {
        throw SqliteError(path + " is not a MailTriage case file (SQLite says: file is not a database); it was left untouched");
    }
    if (appId == kApplicationId) return;
    auto hasTable = [&](const char* name) {
        auto st = m_db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
        st.bind(1, std::string_view(name));
        return st.step();
    };
    bool ours = appId == 0 && tables == 0 && version == 0; // new (or empty) file
    if (!ours && appId == 0 && version >= 1) {
        ours = true; // a case written before the application id: recognised by its tables
        for (const char* t : kCoreTables) ours = ours && hasTable(t);
    }
    if (!ours) {
        std::string names;
        auto st = m_db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 6");
        while (st.step()) names += (names.empty() ? "" : ", ") + st.text(0);
        char id[16];
        std::snprintf(id, sizeof id, "0x%08llx", static_cast<unsigned long long>(static_cast<std::uint32_t>(appId)));
        throw SqliteError(path + " is not a MailTriage case file: a SQLite database of " +
                          (appId ? std::string("another application (application_id ") + id + ")"
                                 : "another kind (tables: " + (names.empty() ? std::string("none") : names) + ")")
                          + "; it was refused and left untouched");
    }
    m_db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
}

void CaseStore::migrate() {
    const int version = schemaVersion();
    if (version > kSchemaVersion)
        throw SqliteError("the case file was written by a newer MailTriage (schema " + std::to_string(version)
                          + ", this build knows " + std::to_string(kSchemaVersion) + ")");
    for (int v = version; v < kSchemaVersion; ++v) {
        m_db.exec("BEGIN IMMEDIATE");
        try {
            m_db.exec(kMigrations[v]);
            m_db.exec("PRAGMA user_version = " + std::to_string(v + 1));
            m_db.exec("COMMIT");
        } catch (...) {
            m_db.exec("ROLLBACK");
            throw;
        }
    }
}

std::int64_t CaseStore::serverId(const std::string& name) {
    if (auto it = m_servers.find(name); it != m_servers.end()) return it->second;
    auto& s = *m_st;
    s.insertServer.bind(1, name).exec();
    s.selectServer.bind(1, name);
    s.selectServer.step();
    const std::int64_t id = s.selectServer.int64(0);
    s.selectServer.reset();
    m_servers.emplace(name, id);
    if (m_bulk) m_bulk->serverNames[id] = name;
    return id;
}

std::int64_t CaseStore::unitId(const std::string& path) {
    if (auto it = m_units.find(path); it != m_units.end()) return it->second;
    std::int64_t parent = 0;
    std::string name = path;
    if (const std::size_t slash = path.rfind('/'); slash != std::string::npos) {
        parent = unitId(path.substr(0, slash));
        name = path.substr(slash + 1);
    }
    auto& s = *m_st;
    if (parent) s.insertUnit.bind(1, parent); else s.insertUnit.bindNull(1);
    s.insertUnit.bind(2, name).bind(3, path).exec();
    s.selectUnit.bind(1, path);
    s.selectUnit.step();
    const std::int64_t id = s.selectUnit.int64(0);
    s.selectUnit.reset();
    m_units.emplace(path, id);
    return id;
}

void CaseStore::beginFile(const ImportFileFigures& file) {
    if (m_inFile) throw SqliteError("an import transaction is already open");
    m_db.exec("BEGIN IMMEDIATE");
    m_inFile = true;
    m_rejectSeq.clear();
    m_handOverCandidates.clear();
    m_fileTimer.start();
    loadHandOverSets();
    m_fileKind = file.kind;
    // The caches may hold ids of rows a rolled-back file created.
    m_servers.clear();
    m_units.clear();
    auto st = m_db.prepare("INSERT INTO imports(path, kind, size, started_at) VALUES(?1, ?2, ?3, ?4)");
    st.bind(1, file.path).bind(2, file.kind).bind(3, file.size).bind(4, nowMs()).exec();
    m_importId = m_db.lastInsertId();
    m_copyWatermark = m_db.scalar("SELECT coalesce(max(id), 0) FROM copies");
    m_deliveryWatermark = m_db.scalar("SELECT coalesce(max(id), 0) FROM deliveries");
    m_messageWatermark = m_db.scalar("SELECT coalesce(max(id), 0) FROM messages");
    // A bulk load into empty tables: the secondary indexes that no insert consults are dropped
    // here and built at commit from the finished tables, which costs less than growing them row
    // by row. Inside the transaction: a rollback brings them back.
    m_deferredIndexes.clear();
    if (m_bulk && m_bulk->active && m_fileKind != "org" && m_copyWatermark == 0 && m_deliveryWatermark == 0
        && m_messageWatermark == 0 && !qEnvironmentVariableIsSet("MT_NO_DEFER_INDEXES")) {
        {
            auto indexes = m_db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                        "AND name IN ('messages_time', 'copies_message', 'copies_queue', "
                                        "'deliveries_queued_as', 'deliveries_next')");
            while (indexes.step()) m_deferredIndexes.emplace_back(indexes.text(0), indexes.text(1));
        }
        for (const auto& [name, sql] : m_deferredIndexes) m_db.exec("DROP INDEX " + name);
    }
}

void CaseStore::buildDeferredIndexes(bool beforeLink) {
    // deliveries_next is built after the link, which sets next_copy_id; the others before it,
    // whose queries use them.
    auto& list = m_deferredIndexes;
    for (auto it = list.begin(); it != list.end();) {
        if ((it->first == "deliveries_next") == beforeLink) {
            ++it;
            continue;
        }
        m_db.exec(it->second);
        it = list.erase(it);
    }
}

void CaseStore::writeCopies(const std::vector<CopyRecord>& copies) {
    auto& s = *m_st;
    std::string key;
    for (const CopyRecord& c : copies) {
        const std::int64_t server = serverId(c.server);
        if (c.messageIdValid) {
            key = c.messageId;
        } else {
            key = "qid:" + c.server + "/" + c.queueId + "/" + std::to_string(c.firstSeen);
        }
        // What this copy can tell the message; a known message is written again only when
        // the copy knows something it lacks.
        const unsigned knows = (c.subject.empty() ? 0u : kHasSubject) | (c.confirmToken.empty() ? 0u : kHasToken)
                               | (c.sender.empty() ? 0u : kHasSender) | (c.size < 0 ? 0u : kHasSize);
        std::int64_t messageId = 0;
        bool newMessage = false, mergedMessage = false;
        if (!c.messageIdValid) {
            // A copy without a usable Message-ID that the case already holds (a re-import, a copy
            // continued from the last file) stays in the message it is in: a hand-over may have
            // joined it to another message, whose key is not this copy's.
            s.selectCopyMessage.bind(1, server).bind(2, c.firstSeen).bind(3, c.queueId);
            if (s.selectCopyMessage.step()) messageId = s.selectCopyMessage.int64(0);
            s.selectCopyMessage.reset();
            if (messageId) mergedMessage = true;
        }
        auto cached = m_messageCache.find(key);
        if (messageId) {
            // Known: the copy's own fields are written below; the message's come from its origin.
        } else if (cached == m_messageCache.end() || (knows & ~cached->second.knows) != 0) {
            auto bindMessage = [&](SqliteStmt& st) {
                st.bind(1, key).bindTextOrNull(2, c.messageId).bind(3, c.messageIdValid ? 1 : 0).bind(4, c.firstSeen)
                    .bindTextOrNull(5, c.sender).bindTextOrNull(6, c.clientHost).bindTextOrNull(7, c.clientIp)
                    .bindTextOrNull(8, c.saslUser);
                if (c.size >= 0) st.bind(9, c.size); else st.bindNull(9);
                st.bindTextOrNull(10, c.subject).bindTextOrNull(11, c.confirmToken).bind(12, server);
            };
            if (cached == m_messageCache.end()) {
                bindMessage(s.insertMessage);
                s.insertMessage.exec();
                if (m_db.changes() == 1) {
                    messageId = m_db.lastInsertId();
                    newMessage = true;
                }
            }
            if (!messageId) {
                bindMessage(s.upsertMessage);
                s.upsertMessage.step();
                messageId = s.upsertMessage.int64(0);
                s.upsertMessage.reset();
                mergedMessage = true;
            }
            if (cached == m_messageCache.end()) m_messageCache.emplace(key, CachedMessage{messageId, knows});
            else cached->second = {messageId, cached->second.knows | knows};
        } else {
            messageId = cached->second.id;
        }

        auto bindCopy = [&](SqliteStmt& st) {
            st.bind(1, messageId).bind(2, server).bind(3, c.queueId).bind(4, c.firstSeen).bind(5, c.lastSeen)
                .bindTextOrNull(6, c.origin).bindTextOrNull(7, c.clientHost).bindTextOrNull(8, c.clientIp)
                .bindTextOrNull(9, c.saslUser).bindTextOrNull(10, c.sender);
            if (c.size >= 0) st.bind(11, c.size); else st.bindNull(11);
            if (c.nrcpt >= 0) st.bind(12, c.nrcpt); else st.bindNull(12);
            st.bind(13, c.removed ? 1 : 0).bind(14, m_importId);
        };
        std::int64_t copyId = 0;
        bindCopy(s.insertCopy);
        s.insertCopy.exec();
        if (m_db.changes() == 1) {
            copyId = m_db.lastInsertId();
        } else {
            bindCopy(s.upsertCopy);
            s.upsertCopy.step();
            copyId = s.upsertCopy.int64(0);
            s.upsertCopy.reset();
        }

        if (!c.messageIdValid) {
            m_handOverCandidates.insert(copyId);
            m_invalidQueueIds.insert(c.queueId);
            for (const DeliveryRecord& d : c.deliveries)
                if (!d.queuedAs.empty()) m_invalidHopTargets.insert(d.queuedAs);
        } else if (m_invalidHopTargets.count(c.queueId)) {
            m_handOverCandidates.insert(copyId); // an earlier hop without a Message-ID may reach it
        } else {
            for (const DeliveryRecord& d : c.deliveries)
                if (!d.queuedAs.empty() && m_invalidQueueIds.count(d.queuedAs)) {
                    m_handOverCandidates.insert(copyId); // it may reach a copy without a Message-ID
                    break;
                }
        }
        BulkLink* bulk = m_bulk && m_bulk->active ? m_bulk.get() : nullptr;
        BulkLink::Copy* bulkCopy = nullptr;
        if (bulk) {
            BulkLink::Message& m = bulk->messages[messageId];
            if (newMessage) m.fieldsFrom = copyId;
            else if (mergedMessage) m.fieldsFrom = 0; // the upsert may have mixed fields: recompute
            bulk->fileMessages.push_back(messageId);
            bulkCopy = &bulk->copies[copyId];
            if (bulkCopy->messageId == 0) { // first sighting in this session
                bulkCopy->messageId = messageId;
                bulkCopy->serverId = server;
                bulkCopy->firstSeen = c.firstSeen;
                bulkCopy->queueId = c.queueId;
                m.copies.push_back(copyId);
                bulk->arrive(copyId);
                bulkCopy = &bulk->copies[copyId]; // arrive() may have rehashed
            }
            if (!c.sender.empty() && !bulk->users.count(c.sender)) bulk->fileSenders.push_back(c.sender);
        }

        for (const DeliveryRecord& d : c.deliveries) {
            // Where the recipient's copy is, as far as this hop knows: here when delivered
            // locally, else the relay. link() corrects hops that reach another of our servers.
            const bool local = d.transport == "lmtp" || d.transport == "local" || d.transport == "virtual"
                               || d.transport == "pipe";
            if (local) s.upsertDelivery.bind(15, server).bind(16, std::string_view(c.server));
            else if (!d.relayHost.empty() && d.relayHost != "none") s.upsertDelivery.bindNull(15).bind(16, std::string_view(d.relayHost));
            else s.upsertDelivery.bindNull(15).bindNull(16);
            s.upsertDelivery.bind(1, copyId).bind(2, d.recipient).bindTextOrNull(3, d.origRecipient)
                .bindTextOrNull(4, d.transport).bindTextOrNull(5, d.relayHost).bindTextOrNull(6, d.relayIp)
                .bind(7, d.relayPort).bindTextOrNull(8, d.dsn).bindTextOrNull(9, d.status).bind(10, d.delaySeconds)
                .bind(11, d.time).bindTextOrNull(12, d.queuedAs).bindTextOrNull(13, d.response).bind(14, d.attempts);
            const std::int64_t rowidBefore = m_db.lastInsertId();
            s.upsertDelivery.exec();
            const std::int64_t insertedId = m_db.lastInsertId() != rowidBefore ? m_db.lastInsertId() : 0;
            if (!bulk) continue;
            if (local && !bulk->users.count(d.recipient)) bulk->fileRecipients.push_back(d.recipient);
            auto& known = bulkCopy->recipients;
            const std::uint64_t recipientHash = BulkLink::hashOf(d.recipient);
            if (std::find(known.begin(), known.end(), recipientHash) == known.end()) {
                known.push_back(recipientHash);
                // Hops that reached this copy may stop being final.
                bulk->fileHops.insert(bulk->fileHops.end(), bulkCopy->upstream.begin(), bulkCopy->upstream.end());
            }
            if (!d.origRecipient.empty()) {
                const std::uint64_t origHash = BulkLink::hashOf(d.origRecipient);
                if (std::find(known.begin(), known.end(), origHash) == known.end()) known.push_back(origHash);
            }
            if (!d.queuedAs.empty()) {
                std::int64_t deliveryId = insertedId; // an update (a copy seen again) leaves the rowid alone
                if (!deliveryId) {
                    s.selectDeliveryId.bind(1, copyId).bind(2, d.recipient);
                    s.selectDeliveryId.step();
                    deliveryId = s.selectDeliveryId.int64(0);
                    s.selectDeliveryId.reset();
                }
                BulkLink::Hop& h = bulk->hops[deliveryId];
                if (h.copyId == 0) { // not yet known
                    h.copyId = copyId;
                    h.recipient = recipientHash;
                    h.queuedAs = d.queuedAs;
                    bulkCopy->ownHops.push_back(deliveryId);
                    bulk->place(deliveryId, messageId);
                    bulkCopy = &bulk->copies[copyId];
                }
            }
        }
        for (const std::string& a : c.attachments) s.insertAttachment.bind(1, messageId).bind(2, a).exec();
        // Deferrals an earlier import wrote (the log rotated between them and the expiry).
        if (c.expired) s.expireDeferred.bind(1, copyId).bind(2, c.lastSeen).exec();
    }
}

void CaseStore::writeRejects(const std::vector<RejectRecord>& rejects) {
    auto& s = *m_st;
    std::string key;
    for (const RejectRecord& r : rejects) {
        const std::int64_t server = serverId(r.server);
        // The n-th line alike in every key column within this file gets seq n: a file read
        // again numbers its lines the same way, and its rows are ignored as already there.
        key.clear();
        key.append(std::to_string(server)).append(1, '\x1f').append(std::to_string(r.time)).append(1, '\x1f');
        for (const std::string* part : {&r.clientIp, &r.sender, &r.recipient, &r.stage})
            key.append(*part).append(1, '\x1f');
        const std::int64_t seq = m_rejectSeq[key]++;
        s.insertReject.bind(1, server).bind(2, r.time).bindTextOrNull(3, r.clientHost).bind(4, r.clientIp)
            .bind(5, r.sender).bind(6, r.recipient).bind(7, r.stage).bindTextOrNull(8, r.reason).bind(9, m_importId)
            .bind(10, r.pid).bind(11, r.queueId).bind(12, seq);
        s.insertReject.exec();
    }
}

void CaseStore::writeOrgUsers(const std::vector<OrgUserRecord>& users) {
    auto& s = *m_st;
    for (const OrgUserRecord& u : users) {
        const std::int64_t unit = unitId(u.unitPath.empty() ? std::string(kUnassignedUnit) : u.unitPath);
        if (m_bulk && m_bulk->active) {
            m_bulk->users.insert(u.email);
            if (const auto at = u.email.find('@'); at != std::string::npos) m_bulk->localDomains.insert(u.email.substr(at + 1));
        }
        s.upsertOrgUser.bind(1, u.email).bindTextOrNull(2, u.name).bind(3, unit).bindTextOrNull(4, u.manager)
            .bindTextOrNull(5, u.workstation).bindTextOrNull(6, u.server);
        s.upsertOrgUser.exec();
    }
}

void CaseStore::writeIssues(const std::vector<ParseIssue>& issues) {
    auto& s = *m_st;
    for (const ParseIssue& i : issues)
        s.insertIssue.bind(1, m_importId).bind(2, i.line).bind(3, i.reason).bindTextOrNull(4, i.excerpt).exec();
}

namespace {
// MT_PROFILE=1 prints how long each linking statement takes (for tuning on big imports).
struct LinkTimer {
    bool on = qEnvironmentVariableIsSet("MT_PROFILE");
    QElapsedTimer t;
    LinkTimer() { t.start(); }
    void lap(const char* what) {
        if (on) fprintf(stderr, "link %-28s %6lld ms\n", what, static_cast<long long>(t.restart()));
    }
    void restart() { t.restart(); }
};
} // namespace

void CaseStore::resolveNextHops() {
    // Looked up into a side table first, so that only the hops that found their next copy are
    // rewritten (most unresolved ones are external relays that also say "queued as").
    m_db.exec(R"SQL(
CREATE TEMP TABLE IF NOT EXISTS hops(delivery_id INTEGER PRIMARY KEY, next_copy_id INTEGER);
DELETE FROM temp.hops;
INSERT INTO temp.hops
SELECT d.id, (SELECT c2.id FROM copies c2 INDEXED BY copies_message
              WHERE c2.message_id = (SELECT c1.message_id FROM copies c1 WHERE c1.id = d.copy_id)
                AND c2.queue_id = d.queued_as AND c2.id <> d.copy_id
              LIMIT 1) AS next
FROM deliveries d
WHERE d.id IN (SELECT id FROM temp.touched_d) AND d.queued_as IS NOT NULL AND d.next_copy_id IS NULL;
DELETE FROM temp.hops WHERE next_copy_id IS NULL;
UPDATE deliveries SET next_copy_id = (SELECT h.next_copy_id FROM temp.hops h WHERE h.delivery_id = deliveries.id)
WHERE id IN (SELECT delivery_id FROM temp.hops);
)SQL");
}

void CaseStore::loadHandOverSets() {
    if (m_handOverSetsLoaded) return;
    m_handOverSetsLoaded = true;
    auto copies = m_db.prepare("SELECT c.queue_id FROM messages m JOIN copies c INDEXED BY copies_message "
                               "ON c.message_id = m.id WHERE m.id_valid = 0");
    while (copies.step()) m_invalidQueueIds.insert(copies.text(0));
    auto hops = m_db.prepare("SELECT d.queued_as FROM messages m JOIN copies c INDEXED BY copies_message ON c.message_id = m.id "
                             "JOIN deliveries d ON d.copy_id = c.id WHERE m.id_valid = 0 AND d.queued_as IS NOT NULL "
                             "AND d.next_copy_id IS NULL");
    while (hops.step()) m_invalidHopTargets.insert(hops.text(0));
}

std::vector<CaseStore::CopyMove> CaseStore::joinHandOvers() {
    const std::string wmC = std::to_string(m_copyWatermark), wmD = std::to_string(m_deliveryWatermark),
                      wmM = std::to_string(m_messageWatermark);
    // Candidate pairs (upstream message, downstream message) from this file's hops (new or
    // changed deliveries) and from this file's copies (new copies, and the copies of new
    // messages: a copy continued from an earlier import may sit in a message of its own).
    // Only an unambiguous hand-over joins: one copy with that queue id within five minutes of
    // the hop (queue ids are reused; test suites and clock-normalised logs reuse them at the
    // same second on many servers). Each hop and each copy costs one index probe.
    LinkTimer timer;
    struct Pair {
        std::int64_t up, down;
    };
    std::vector<Pair> pairs;
    std::unordered_set<std::int64_t> seenHops;
    auto copyByQueue = m_db.prepare("SELECT message_id FROM copies INDEXED BY copies_queue WHERE queue_id = ?1 "
                                    "AND first_seen BETWEEN ?2 - 300000 AND ?2 + 300000 LIMIT 2");
    auto examineHop = [&](std::int64_t hopId, std::int64_t upMessage, std::string_view queuedAs, TimeMs time) {
        if (!seenHops.insert(hopId).second) return;
        copyByQueue.bind(1, queuedAs).bind(2, time);
        int found = 0;
        std::int64_t down = 0;
        while (copyByQueue.step()) {
            ++found;
            down = copyByQueue.int64(0);
        }
        copyByQueue.reset();
        if (found == 1 && down != upMessage) pairs.push_back({upMessage, down});
    };
    auto hopsOf = m_db.prepare("SELECT d.id, c.message_id, d.queued_as, d.time FROM deliveries d JOIN copies c ON c.id = d.copy_id "
                               "WHERE d.copy_id = ?1 AND d.queued_as IS NOT NULL AND d.next_copy_id IS NULL");
    auto copyRow = m_db.prepare("SELECT message_id, queue_id, first_seen FROM copies WHERE id = ?1");
    auto hopsTo = m_db.prepare("SELECT d.id, c1.message_id, d.time FROM deliveries d INDEXED BY deliveries_queued_as "
                               "JOIN copies c1 ON c1.id = d.copy_id WHERE d.queued_as = ?1 AND d.next_copy_id IS NULL "
                               "AND c1.message_id <> ?2 AND d.time BETWEEN ?3 - 300000 AND ?3 + 300000 LIMIT 8");
    std::vector<std::tuple<std::int64_t, std::int64_t, std::string, TimeMs>> hops;
    for (const std::int64_t copyId : m_handOverCandidates) {
        // Its own hops, towards the next copy ...
        hops.clear();
        hopsOf.bind(1, copyId);
        while (hopsOf.step()) hops.emplace_back(hopsOf.int64(0), hopsOf.int64(1), hopsOf.text(2), hopsOf.int64(3));
        hopsOf.reset();
        for (const auto& [hopId, upMessage, queuedAs, time] : hops) examineHop(hopId, upMessage, queuedAs, time);
        // ... and the hops that reached it.
        copyRow.bind(1, copyId);
        if (copyRow.step()) {
            const std::int64_t message = copyRow.int64(0);
            const std::string queueId = copyRow.text(1);
            const TimeMs firstSeen = copyRow.int64(2);
            copyRow.reset();
            hops.clear();
            hopsTo.bind(1, queueId).bind(2, message).bind(3, firstSeen);
            while (hopsTo.step()) hops.emplace_back(hopsTo.int64(0), hopsTo.int64(1), queueId, hopsTo.int64(2));
            hopsTo.reset();
            for (const auto& [hopId, upMessage, queuedAs, time] : hops) examineHop(hopId, upMessage, queuedAs, time);
        } else {
            copyRow.reset();
        }
    }
    m_handOverCandidates.clear();
    timer.lap("hand-over: candidates");
    // Joined only when one side has no usable Message-ID: a hop between two real messages (a
    // list server, a forward that rewrote the id) is not ours to merge.
    std::unordered_map<std::int64_t, bool> valid;
    auto validity = m_db.prepare("SELECT id_valid FROM messages WHERE id = ?1");
    auto isValid = [&](std::int64_t message) {
        if (auto it = valid.find(message); it != valid.end()) return it->second;
        validity.bind(1, message);
        const bool v = validity.step() && validity.int64(0) != 0;
        validity.reset();
        valid.emplace(message, v);
        return v;
    };
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(), [&](const Pair& p) { return isValid(p.up) && isValid(p.down); }),
                pairs.end());
    if (pairs.empty()) return {};
    // A copy reached by hops of several messages is just as ambiguous: leave it alone.
    {
        std::unordered_map<std::int64_t, std::int64_t> upOf;
        std::unordered_set<std::int64_t> ambiguous;
        for (const Pair& p : pairs) {
            const auto [it, inserted] = upOf.emplace(p.down, p.up);
            if (!inserted && it->second != p.up) ambiguous.insert(p.down);
        }
        pairs.erase(std::remove_if(pairs.begin(), pairs.end(), [&](const Pair& p) { return ambiguous.count(p.down) > 0; }),
                    pairs.end());
    }

    // Union-find over messages. A root with a valid Message-ID stays; two valid ones are never
    // joined (a hop between two real messages is not ours to merge).
    std::unordered_map<std::int64_t, std::int64_t> parent;
    auto find = [&](std::int64_t x) {
        std::int64_t r = x;
        while (parent.count(r) && parent[r] != r) r = parent[r];
        return r;
    };
    for (const Pair& p : pairs) {
        const std::int64_t a = find(p.up), b = find(p.down);
        if (a == b) continue;
        const bool va = isValid(a), vb = isValid(b);
        if (va && vb) continue;
        if (vb && !va) parent[a] = b;
        else parent[b] = a; // a valid, or neither: the upstream message keeps its row
        parent.try_emplace(a, a);
        parent.try_emplace(b, b);
    }
    std::vector<CopyMove> moves;
    auto copiesOf = m_db.prepare("SELECT id FROM copies WHERE message_id = ?1");
    auto moveCopies = m_db.prepare("UPDATE copies SET message_id = ?2 WHERE message_id = ?1");
    auto moveAttachments = m_db.prepare(
        "INSERT OR IGNORE INTO attachments(message_id, name) SELECT ?2, name FROM attachments WHERE message_id = ?1");
    auto mergeFields = m_db.prepare(R"SQL(
UPDATE messages SET subject = coalesce(subject, (SELECT subject FROM messages WHERE id = ?1)),
                    confirm_token = coalesce(confirm_token, (SELECT confirm_token FROM messages WHERE id = ?1)),
                    dirty = 1
WHERE id = ?2)SQL");
    auto dropMessage = m_db.prepare("DELETE FROM messages WHERE id = ?1");
    for (const auto& [message, up] : parent) {
        const std::int64_t root = find(message);
        if (root == message) continue;
        copiesOf.bind(1, message);
        while (copiesOf.step()) moves.push_back({copiesOf.int64(0), message, root});
        copiesOf.reset();
        moveCopies.bind(1, message).bind(2, root).exec();
        moveAttachments.bind(1, message).bind(2, root).exec();
        mergeFields.bind(1, message).bind(2, root).exec();
        dropMessage.bind(1, message).exec();
    }
    m_messageCache.clear(); // it may name the messages just dropped
    return moves;
}

void CaseStore::linkSql() {
    // Everything here is driven by the rows this file touched: rows above the watermarks taken
    // at beginFile (new), plus existing rows an upsert changed (dirty = 1, few). Partial
    // indexes are named explicitly: without statistics SQLite would scan whole tables, and the
    // cost of a file would grow with the size of the case.
    LinkTimer timer;
    const std::string wmC = std::to_string(m_copyWatermark), wmD = std::to_string(m_deliveryWatermark),
                      wmM = std::to_string(m_messageWatermark);
    m_db.exec(R"SQL(
CREATE TEMP TABLE IF NOT EXISTS touched_d(id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS touched_m(id INTEGER PRIMARY KEY);
DELETE FROM temp.touched_d;
DELETE FROM temp.touched_m;
INSERT INTO temp.touched_d SELECT id FROM deliveries WHERE id > )SQL" + wmD + R"SQL(;
INSERT OR IGNORE INTO temp.touched_d SELECT id FROM deliveries INDEXED BY deliveries_dirty WHERE dirty = 1;
INSERT INTO temp.touched_m SELECT id FROM messages WHERE id > )SQL" + wmM + R"SQL(;
INSERT OR IGNORE INTO temp.touched_m SELECT id FROM messages INDEXED BY messages_dirty WHERE dirty = 1;
INSERT OR IGNORE INTO temp.touched_m SELECT message_id FROM copies WHERE id > )SQL" + wmC + ";");
    timer.lap("touched sets");
    // 0. Hand-overs between messages of which one has no usable Message-ID: one message. Its
    //    every copy's hops are looked at again below.
    if (const std::vector<CopyMove> moves = joinHandOvers(); !moves.empty()) {
        auto touchMessage = m_db.prepare("INSERT OR IGNORE INTO temp.touched_m(id) VALUES(?1)");
        auto touchHops = m_db.prepare("INSERT OR IGNORE INTO temp.touched_d SELECT d.id FROM copies c "
                                      "JOIN deliveries d ON d.copy_id = c.id WHERE c.message_id = ?1");
        std::unordered_set<std::int64_t> done;
        for (const CopyMove& m : moves)
            if (done.insert(m.to).second) {
                touchMessage.bind(1, m.to).exec();
                touchHops.bind(1, m.to).exec();
            }
        m_db.exec("DELETE FROM temp.touched_m WHERE id NOT IN (SELECT id FROM messages)");
    }
    timer.lap("hand-overs");
    // 1. Next hop: this server said "queued as Q"; the copy with queue id Q of the same message.
    //    Forward for this file's deliveries, backward for older deliveries this file's copies answer.
    m_db.exec(R"SQL(
INSERT OR IGNORE INTO temp.touched_d
SELECT d.id FROM copies c
JOIN copies c1 INDEXED BY copies_message ON c1.message_id = c.message_id AND c1.id <> c.id
JOIN deliveries d ON d.copy_id = c1.id AND d.queued_as = c.queue_id AND d.next_copy_id IS NULL
WHERE c.id > )SQL" + wmC);
    resolveNextHops();
    timer.lap("next hop");
    timer.lap("adopt");
    // 3. A hop whose next copy got new deliveries must be re-judged too.
    m_db.exec(R"SQL(
INSERT OR IGNORE INTO temp.touched_d
SELECT d.id FROM deliveries d INDEXED BY deliveries_next
WHERE d.next_copy_id IN (SELECT copy_id FROM deliveries WHERE id IN (SELECT id FROM temp.touched_d)))SQL");
    timer.lap("propagate");
    // 4. Hops that reached another copy: the destination is that copy's server, and the hop
    //    is not final when the next copy delivered the same recipient itself.
    m_db.exec(R"SQL(
UPDATE deliveries SET
  is_final = NOT EXISTS (
      SELECT 1 FROM deliveries d2 WHERE d2.copy_id = deliveries.next_copy_id
        AND (d2.recipient = deliveries.recipient OR d2.orig_recipient = deliveries.recipient)),
  destination_server_id = (SELECT server_id FROM copies WHERE id = deliveries.next_copy_id),
  destination = (SELECT s.name FROM copies c JOIN servers s ON s.id = c.server_id WHERE c.id = deliveries.next_copy_id)
WHERE id IN (SELECT id FROM temp.touched_d) AND next_copy_id IS NOT NULL)SQL");
    timer.lap("final hops");
    // 5. The message's own fields come from its origin: the earliest copy that no other copy
    //    handed over (a relay's copy has the relaying server as client, and clocks differ).
    m_db.exec(R"SQL(
CREATE TEMP TABLE IF NOT EXISTS origins(message_id INTEGER PRIMARY KEY, copy_id INTEGER);
DELETE FROM temp.origins;
INSERT INTO temp.origins
SELECT m.id, (SELECT c.id FROM copies c
              WHERE c.message_id = m.id AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.next_copy_id = c.id)
              ORDER BY c.first_seen LIMIT 1) AS origin
FROM messages m
WHERE m.id IN (SELECT id FROM temp.touched_m)
  AND (SELECT count(*) FROM (SELECT 1 FROM copies c WHERE c.message_id = m.id LIMIT 2)) > 1;
DELETE FROM temp.origins WHERE copy_id IS NULL OR EXISTS (
    SELECT 1 FROM messages m JOIN copies c ON c.id = temp.origins.copy_id
    WHERE m.id = temp.origins.message_id AND m.time = c.first_seen AND m.origin_server_id = c.server_id);
UPDATE messages
SET (time, sender, client_host, client_ip, sasl_user, size, origin_server_id) = (
    SELECT c.first_seen, coalesce(c.sender, messages.sender), c.client_host, c.client_ip, c.sasl_user,
           coalesce(c.size, messages.size), c.server_id
    FROM temp.origins o JOIN copies c ON c.id = o.copy_id WHERE o.message_id = messages.id)
WHERE id IN (SELECT message_id FROM temp.origins);
)SQL");
    timer.lap("origins");
    // 6. Users seen only in traffic: recipients our servers delivered to, and senders of our
    //    domains. After an org chart, every sender is looked at again (new domains are ours).
    const std::string unassigned = std::to_string(unitId(kUnassignedUnit));
    m_db.exec(R"SQL(
INSERT INTO users(email, unit_id, source)
SELECT recipient, )SQL" + unassigned + R"SQL(, 'log' FROM deliveries
WHERE id IN (SELECT id FROM temp.touched_d) AND is_final = 1 AND transport IN ('lmtp', 'local', 'virtual', 'pipe')
  AND recipient LIKE '%_@_%'
ON CONFLICT(email) DO NOTHING)SQL");
    const bool allSenders = m_fileKind == "org";
    m_db.exec(R"SQL(
INSERT INTO users(email, unit_id, source)
SELECT DISTINCT sender, )SQL" + unassigned + R"SQL(, 'log' FROM messages )SQL"
              + (allSenders ? "WHERE 1" : "WHERE id IN (SELECT id FROM temp.touched_m)") + R"SQL(
  AND sender LIKE '%_@_%'
  AND EXISTS (SELECT 1 FROM users u WHERE u.domain = substr(sender, instr(sender, '@') + 1))
ON CONFLICT(email) DO NOTHING)SQL");
    timer.lap("users");
    m_db.exec("DELETE FROM temp.touched_d; DELETE FROM temp.touched_m;");
}

void CaseStore::linkInMemory() {
    LinkTimer timer;
    BulkLink& b = *m_bulk;
    auto& st = *m_st;
    // 1. Hand-overs between messages of which one has no usable Message-ID make one message
    //    (found by SQL: the candidates are few); then the maps learn of the moves.
    for (const CopyMove& move : joinHandOvers()) {
        const std::int64_t copyId = move.copyId, oldMessage = move.from, newMessage = move.to;
        BulkLink::Copy& cp = b.copies[copyId];
        if (cp.messageId != oldMessage) continue; // a copy of an earlier session: the SQL rows are right
        b.copyByQueue.erase(BulkLink::QueueKey{oldMessage, cp.queueId});
        auto& oldCopies = b.messages[oldMessage].copies;
        oldCopies.erase(std::remove(oldCopies.begin(), oldCopies.end(), copyId), oldCopies.end());
        // A message left without copies stays in fileMessages: without copies it has no
        // origin, and the origins step passes over it.
        if (oldCopies.empty()) b.messages.erase(oldMessage);
        cp.messageId = newMessage;
        b.messages[newMessage].copies.push_back(copyId);
        b.messages[newMessage].fieldsFrom = 0; // the origin may be another copy now
        b.fileMessages.push_back(newMessage);
        for (std::int64_t hopId : cp.ownHops) {
            BulkLink::Hop& h = b.hops[hopId];
            if (h.next) continue;
            auto& waiting = b.pending[BulkLink::QueueKey{oldMessage, h.queuedAs}];
            waiting.erase(std::remove(waiting.begin(), waiting.end(), hopId), waiting.end());
            b.place(hopId, newMessage);
        }
        b.arrive(copyId);
    }
    timer.lap("adopt");
    // 2. Hops that reached another copy: the destination is that copy's server, and the hop
    //    is not final when the next copy delivered the same recipient itself.
    // In id order: the updates then walk the table's pages once instead of at random.
    std::vector<std::int64_t>& hopIds = b.fileHops;
    std::sort(hopIds.begin(), hopIds.end());
    hopIds.erase(std::unique(hopIds.begin(), hopIds.end()), hopIds.end());
    for (std::int64_t hopId : hopIds) {
        const BulkLink::Hop& h = b.hops[hopId];
        if (!h.next) continue;
        const BulkLink::Copy& next = b.copies[h.next];
        const bool isFinal = std::find(next.recipients.begin(), next.recipients.end(), h.recipient) == next.recipients.end();
        st.updateHop.bind(1, hopId).bind(2, h.next).bind(3, isFinal ? 1 : 0).bind(4, next.serverId)
            .bind(5, std::string_view(b.serverNames[next.serverId]));
        st.updateHop.exec();
    }
    timer.lap("hops");
    // 3. A message's own fields come from its origin: the earliest copy no hop reached.
    std::vector<std::int64_t>& messageIds = b.fileMessages;
    std::sort(messageIds.begin(), messageIds.end());
    messageIds.erase(std::unique(messageIds.begin(), messageIds.end()), messageIds.end());
    for (std::int64_t messageId : messageIds) {
        BulkLink::Message& m = b.messages[messageId];
        if (m.copies.size() < 2 && m.fieldsFrom) continue;
        std::int64_t origin = 0;
        TimeMs best = 0;
        for (std::int64_t copyId : m.copies) {
            const BulkLink::Copy& c = b.copies[copyId];
            if (c.handedOver) continue;
            if (!origin || c.firstSeen < best) {
                origin = copyId;
                best = c.firstSeen;
            }
        }
        if (!origin || origin == m.fieldsFrom) continue;
        st.updateOrigin.bind(1, messageId).bind(2, origin).exec();
        m.fieldsFrom = origin;
    }
    timer.lap("origins");
    // 4. Users seen only in traffic: recipients our servers delivered to, then senders of
    //    the domains that makes ours.
    const std::int64_t unassigned = unitId(kUnassignedUnit);
    auto addUser = [&](const std::string& email) {
        st.insertLogUser.bind(1, email).bind(2, unassigned).exec();
        b.users.insert(email);
    };
    for (const std::string& r : b.fileRecipients) {
        const auto at = r.find('@');
        if (at == std::string::npos || at == 0 || at + 1 == r.size() || b.users.count(r)) continue;
        addUser(r);
        b.localDomains.insert(r.substr(at + 1));
    }
    for (const std::string& sender : b.fileSenders) {
        const auto at = sender.find('@');
        if (at == std::string::npos || at == 0 || b.users.count(sender) || !b.localDomains.count(sender.substr(at + 1)))
            continue;
        addUser(sender);
    }
    b.clearFile();
    timer.lap("users");
}

void CaseStore::link() {
    // An org chart changes which domains are ours, which only the SQL link re-checks over all
    // senders; it touches no copies, so the in-memory state stays valid.
    if (m_bulk && m_bulk->active && m_fileKind != "org") linkInMemory();
    else linkSql();
    m_db.exec("UPDATE deliveries INDEXED BY deliveries_dirty SET dirty = 0 WHERE dirty = 1");
    m_db.exec("UPDATE messages INDEXED BY messages_dirty SET dirty = 0 WHERE dirty = 1");
    // Drop the Unassigned unit again when nobody is in it.
    m_db.exec("DELETE FROM units WHERE path = 'Unassigned' AND NOT EXISTS (SELECT 1 FROM users WHERE unit_id = units.id)");
    m_units.erase(kUnassignedUnit);
}

void CaseStore::commitFile(ImportFileFigures& f) {
    if (!m_inFile) return;
    try {
        if (qEnvironmentVariableIsSet("MT_PROFILE"))
            fprintf(stderr, "write %s: %lld ms\n", f.path.c_str(), static_cast<long long>(f.durationMs));
        {
            LinkTimer timer;
            buildDeferredIndexes(true);
            timer.lap("deferred indexes");
            link();
            timer.restart();
            buildDeferredIndexes(false);
            timer.lap("deferred indexes after link");
        }
        f.durationMs = m_fileTimer.elapsed();
        auto st = m_db.prepare(
            "UPDATE imports SET lines = ?1, accepted = ?2, rejected = ?3, skipped = ?4, duration_ms = ?5 WHERE id = ?6");
        st.bind(1, f.lines).bind(2, f.accepted).bind(3, f.rejected).bind(4, f.skipped).bind(5, f.durationMs)
            .bind(6, m_importId).exec();
        m_db.exec("COMMIT");
        m_inFile = false;
    } catch (...) {
        rollbackFile();
        throw;
    }
}

void CaseStore::rollbackFile() {
    if (!m_inFile) return;
    m_inFile = false;
    m_deferredIndexes.clear(); // the rollback restores them
    m_messageCache.clear(); // its ids may be of rows the rollback removed
    if (m_bulk && m_bulk->active) m_bulk = std::make_unique<BulkLink>(); // inactive from now on
    try {
        m_db.exec("ROLLBACK");
    } catch (const SqliteError&) {
        // Already rolled back by SQLite itself (e.g. after a disk-full error).
    }
    m_servers.clear();
    m_units.clear();
}

void CaseStore::dropSessionCaches() {
    if (m_inFile) throw SqliteError("dropSessionCaches() inside an import transaction");
    m_messageCache.clear();
    // Inactive from now on: the SQL link (driven by the rows each file touched) takes over.
    if (m_bulk && m_bulk->active) m_bulk = std::make_unique<BulkLink>();
}

std::vector<CopyRecord> CaseStore::openCopies() {
    std::vector<CopyRecord> out;
    SqliteStmt st = m_db.prepare(R"SQL(
SELECT s.name, c.queue_id, c.first_seen, c.last_seen, m.msg_key, c.origin, c.client_host, c.client_ip, c.sasl_user,
       c.sender, c.size, c.nrcpt
FROM copies c JOIN servers s ON s.id = c.server_id JOIN messages m ON m.id = c.message_id
WHERE c.removed = 0)SQL");
    while (st.step()) {
        CopyRecord c;
        c.server = st.text(0);
        c.queueId = st.text(1);
        c.firstSeen = st.int64(2);
        c.lastSeen = st.int64(3);
        // The message key doubles as the Message-ID: writeCopies() derives the same key from it
        // (a "qid:" key is recomputed from server, queue id and first sighting).
        c.messageId = st.text(4);
        c.messageIdValid = c.messageId.rfind("qid:", 0) != 0;
        c.origin = st.text(5);
        c.clientHost = st.text(6);
        c.clientIp = st.text(7);
        c.saslUser = st.text(8);
        c.sender = st.text(9);
        c.size = st.isNull(10) ? -1 : st.int64(10);
        c.nrcpt = st.isNull(11) ? -1 : static_cast<int>(st.int64(11));
        out.push_back(std::move(c));
    }
    return out;
}

CaseCounts CaseStore::counts() {
    SqliteStmt st = m_db.prepare(kCaseCountsSql);
    if (!st.step()) return {};
    return CaseCounts::fromRow([&](int i) { return st.int64(i); });
}

} // namespace mt
