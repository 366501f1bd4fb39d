#include "RecallStore.h"

#include <QDateTime>
#include <QFile>
#include <QSaveFile>
#include <algorithm>
#include <array>

namespace mt::recall {

namespace {

constexpr std::array<const char*, 13> kStateNames = {
    "proposed", "approved", "requested", "suspended", "already-retrieved", "not-found",
    "unreachable", "auth-failed", "refused", "not-recallable", "deleted", "released", "cascaded"};
// The words every view uses (issue 16: one vocabulary).
constexpr std::array<const char*, 13> kStateLabels = {
    "proposed", "approved", "requested", "suspended", "already read", "not found",
    "unreachable", "login refused", "refused", "not recallable", "deleted", "released", "already read"};
constexpr std::array<const char*, 13> kStateDescriptions = {
    "in a plan, waiting for approval",
    "approved, not yet sent to the server",
    "sent to the server, no answer recorded yet",
    "blocked: held in the queue or moved to the quarantine mailbox, out of the recipient's reach",
    "the recipient had read it before the recall: the cascade follows what they sent on",
    "the server has no such copy in any folder or queue",
    "the server did not answer; the next run retries",
    "the server refused the connector's login (check the admin user and its password)",
    "the connector refused the server (certificate, TLS) or its settings; nothing was done",
    "external recipient, not delivered, or no connector for the server",
    "deleted after the virus verdict",
    "released after the clean verdict, with its original flags and date",
    "the recipient had read it before the recall: the cascade follows what they sent on"};

constexpr const char* kRequestColumns =
    "SELECT id, message_id, message_key, recipient, server, place, coalesce(queue_id, ''), coalesce(delivered_at, 0), "
    "coalesce(connector, ''), coalesce(campaign_id, 0), coalesce(campaign_label, ''), round, coalesce(parent_request_id, 0), "
    "state, coalesce(detail, ''), attempts, coalesce(approved_by, ''), coalesce(approved_at, 0), coalesce(run_id, 0), "
    "updated_at, coalesce(folder, ''), coalesce(mailbox, ''), read_state, coalesce(cascaded_at, 0) FROM recall_requests";

Request readRequest(const SqliteStmt& st) {
    Request r;
    r.id = st.int64(0);
    r.caseMessageId = st.int64(1);
    r.messageKey = st.text(2);
    r.recipient = st.text(3);
    r.server = st.text(4);
    r.place = placeFromName(st.text(5)).value_or(Place::Gone);
    r.queueId = st.text(6);
    r.deliveredAt = st.int64(7);
    r.connector = st.text(8);
    r.campaignId = st.int64(9);
    r.campaignLabel = st.text(10);
    r.round = static_cast<int>(st.int64(11));
    r.parentRequestId = st.int64(12);
    r.state = stateFromName(st.text(13)).value_or(State::Proposed);
    r.detail = st.text(14);
    r.attempts = static_cast<int>(st.int64(15));
    r.approvedBy = st.text(16);
    r.approvedAt = st.int64(17);
    r.runId = st.int64(18);
    r.updatedAt = st.int64(19);
    r.folder = st.text(20);
    r.mailbox = st.text(21);
    r.read = readStateFromName(st.text(22));
    r.cascadedAt = st.int64(23);
    return r;
}

std::string trimmedAnswer(const std::string& s) {
    std::string out = s;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
    constexpr std::size_t kMax = 4000;
    if (out.size() > kMax) out = out.substr(0, kMax) + "...";
    return out;
}

// SQL "x IN (...)" over integers (ids are ours: no injection).
std::string inList(const std::vector<std::int64_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + ")";
}

std::string whereClause(const RequestFilter& f) {
    std::vector<std::string> parts;
    if (!f.states.empty()) {
        std::string s = "state IN (";
        for (std::size_t i = 0; i < f.states.size(); ++i) s += std::string(i ? "," : "") + "'" + stateName(f.states[i]) + "'";
        parts.push_back(s + ")");
    }
    if (!f.ids.empty()) parts.push_back("id IN " + inList(f.ids));
    if (!f.caseMessageIds.empty()) parts.push_back("message_id IN " + inList(f.caseMessageIds));
    if (f.round >= 0) parts.push_back("round = " + std::to_string(f.round));
    if (f.readNotCascaded)
        parts.push_back("(state = 'already-retrieved' OR read_state = 'while-suspended') AND cascaded_at IS NULL");
    std::string w;
    for (std::size_t i = 0; i < parts.size(); ++i) w += (i ? " AND " : " WHERE ") + parts[i];
    return w;
}

QString csvField(const std::string& s) {
    QString q = QString::fromStdString(s);
    if (q.contains(QLatin1Char(',')) || q.contains(QLatin1Char('"')) || q.contains(QLatin1Char('\n')) || q.contains(QLatin1Char('\r'))) {
        q.replace(QLatin1String("\""), QLatin1String("\"\""));
        return QLatin1Char('"') + q + QLatin1Char('"');
    }
    return q;
}

} // namespace

std::int64_t nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

const char* stateName(State s) { return kStateNames[static_cast<std::size_t>(s)]; }
const char* stateLabel(State s) { return kStateLabels[static_cast<std::size_t>(s)]; }
const char* stateDescription(State s) { return kStateDescriptions[static_cast<std::size_t>(s)]; }

const char* readStateName(ReadState r) {
    switch (r) {
    case ReadState::Unread: return "";
    case ReadState::BeforeRecall: return "before-recall";
    case ReadState::WhileSuspended: return "while-suspended";
    }
    return "";
}

ReadState readStateFromName(std::string_view n) {
    if (n == "before-recall") return ReadState::BeforeRecall;
    if (n == "while-suspended") return ReadState::WhileSuspended;
    return ReadState::Unread;
}

std::string copyStatusSql() {
    std::string sql = "(CASE WHEN state IN ('already-retrieved', 'cascaded') AND read_state = 'while-suspended' "
                      "THEN 'read while suspended' ELSE (CASE state";
    for (std::size_t i = 0; i < kStateNames.size(); ++i)
        sql += std::string(" WHEN '") + kStateNames[i] + "' THEN '" + kStateLabels[i] + "'";
    sql += " ELSE state END || CASE WHEN state IN ('already-retrieved', 'cascaded') THEN '' "
           "WHEN read_state = 'while-suspended' THEN '; read while suspended' "
           "WHEN read_state = 'before-recall' THEN '; already read' ELSE '' END) END "
           "|| CASE WHEN cascaded_at IS NOT NULL THEN '; cascade followed' ELSE '' END)";
    return sql;
}

std::string copyStatus(State s, ReadState read, bool cascaded) {
    const bool readState = s == State::AlreadyRetrieved || s == State::Cascaded;
    std::string out = readState && read == ReadState::WhileSuspended ? "read while suspended" : stateLabel(s);
    if (read == ReadState::WhileSuspended && !readState) out += "; read while suspended";
    else if (read == ReadState::BeforeRecall && !readState) out += "; already read";
    if (cascaded) out += "; cascade followed";
    return out;
}

std::optional<State> stateFromName(std::string_view name) {
    for (std::size_t i = 0; i < kStateNames.size(); ++i)
        if (name == kStateNames[i]) return static_cast<State>(i);
    // Accept the JSON spelling too (already_retrieved).
    std::string dashed(name);
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    for (std::size_t i = 0; i < kStateNames.size(); ++i)
        if (dashed == kStateNames[i]) return static_cast<State>(i);
    return std::nullopt;
}

bool transitionAllowed(State from, State to) {
    using S = State;
    switch (from) {
    case S::Proposed: return to == S::Approved || to == S::NotRecallable || to == S::Proposed;
    case S::NotRecallable: return to == S::Proposed;
    case S::Approved: return to == S::Requested;
    case S::Requested: // the answer; or Requested again when a run resumes after a crash
        return to == S::Suspended || to == S::AlreadyRetrieved || to == S::NotFound || to == S::Unreachable
            || to == S::AuthFailed || to == S::Refused || to == S::Requested;
    case S::Unreachable:
    case S::AuthFailed:
    case S::Refused: return to == S::Requested || to == S::Proposed;
    // Or back with the recipient and read (found so on the recheck before delete / release).
    case S::Suspended: return to == S::Deleted || to == S::Released || to == S::AlreadyRetrieved;
    case S::AlreadyRetrieved: return to == S::Cascaded;
    case S::NotFound: return to == S::Proposed; // a new plan: the copy has moved (queue -> mailbox)
    case S::Deleted:
    case S::Released:
    case S::Cascaded: return false;
    }
    return false;
}

bool isFinal(State s) {
    return s == State::NotFound || s == State::Deleted || s == State::Released || s == State::Cascaded;
}

const char* placeName(Place p) {
    switch (p) {
    case Place::Mailbox: return "mailbox";
    case Place::Queue: return "queue";
    case Place::External: return "external";
    case Place::Gone: return "gone";
    }
    return "gone";
}

std::optional<Place> placeFromName(std::string_view n) {
    if (n == "mailbox") return Place::Mailbox;
    if (n == "queue") return Place::Queue;
    if (n == "external") return Place::External;
    if (n == "gone") return Place::Gone;
    return std::nullopt;
}

const char* outcomeName(Outcome o) {
    switch (o) {
    case Outcome::Suspended: return "suspended";
    case Outcome::AlreadyRetrieved: return "already-retrieved";
    case Outcome::NotFound: return "not-found";
    case Outcome::Unreachable: return "unreachable";
    case Outcome::AuthFailed: return "auth-failed";
    case Outcome::Deleted: return "deleted";
    case Outcome::Released: return "released";
    case Outcome::Failed: return "failed";
    }
    return "failed";
}

CopyRef Request::copyRef() const {
    CopyRef c;
    c.requestId = id;
    c.caseMessageId = caseMessageId;
    c.messageId = messageKey;
    c.recipient = recipient;
    c.server = server;
    c.place = place;
    c.queueId = queueId;
    c.deliveredAt = deliveredAt;
    c.folder = folder;
    return c;
}

// Inside an outer transaction (a batch) this one joins it: the outer one commits.
Transaction::Transaction(SqliteDb& db) : m_db(db) {
    if (sqlite3_get_autocommit(m_db.handle()) == 0) {
        m_done = true;
        return;
    }
    m_db.exec("BEGIN IMMEDIATE");
}
Transaction::~Transaction() {
    if (m_done) return;
    try {
        m_db.exec("ROLLBACK");
    } catch (...) {
    }
}
void Transaction::commit() {
    if (m_done) return;
    m_db.exec("COMMIT");
    m_done = true;
}

// Fixed SQL is prepared once per store (keyed by the literal's address) and reset on every use.
SqliteStmt& RecallStore::cached(const char* sql) {
    auto& slot = m_statements[sql];
    if (!slot) slot = std::make_unique<SqliteStmt>(m_db.prepare(sql));
    slot->reset();
    return *slot;
}

RecallStore::RecallStore(SqliteDb& db) : m_db(db) {
    if (m_db.scalar("PRAGMA user_version") < 3)
        throw SqliteError("the case file has no recall tables (schema older than 3): open it with CaseStore first");
}

std::int64_t RecallStore::propose(const PlannedCopy& c, const std::string& analyst, bool* created) {
    if (created) *created = false;
    const State want = c.recallable ? State::Proposed : State::NotRecallable;
    Transaction tx(m_db);
    SqliteStmt& sel = cached("SELECT id, state, place FROM recall_requests WHERE message_id = ?1 AND recipient = ?2 AND server = ?3");
    sel.bind(1, c.caseMessageId).bind(2, std::string_view(c.recipient)).bind(3, std::string_view(c.server));
    const std::int64_t now = nowMs();
    std::int64_t id = 0;
    if (sel.step()) {
        id = sel.int64(0);
        State cur = stateFromName(sel.text(1)).value_or(State::Proposed);
        const std::string wasPlace = sel.text(2);
        sel.reset();
        // Not found where it was looked for, and the case now says it is elsewhere (the queued
        // copy has been delivered meanwhile): the request follows its copy.
        if (cur == State::NotFound && c.recallable && wasPlace != placeName(c.place)) {
            audit({0, now, analyst, "plan", c.server, id, c.messageKey, c.recipient, stateName(cur), stateName(State::Proposed),
                   "reopened: the copy has moved (" + wasPlace + " -> " + placeName(c.place) + ")"});
            SqliteStmt& re = cached("UPDATE recall_requests SET state = 'proposed', approved_by = NULL, approved_at = NULL WHERE id = ?1");
            re.bind(1, id).exec();
            cur = State::Proposed;
        }
        if (cur != State::Proposed && cur != State::NotRecallable) {
            tx.commit();
            return id; // in flight or decided: a plan never resets it
        }
        SqliteStmt& up = cached(
            "UPDATE recall_requests SET place = ?2, queue_id = ?3, delivered_at = ?4, connector = ?5, campaign_id = ?6, "
            "campaign_label = ?7, state = ?8, detail = ?9, updated_at = ?10 WHERE id = ?1");
        up.bind(1, id).bind(2, std::string_view(placeName(c.place))).bindTextOrNull(3, c.queueId).bind(4, c.deliveredAt)
            .bindTextOrNull(5, c.connector);
        if (c.campaignId) up.bind(6, c.campaignId); else up.bindNull(6);
        up.bindTextOrNull(7, c.campaignLabel).bind(8, std::string_view(stateName(want))).bindTextOrNull(9, c.reason).bind(10, now).exec();
        if (cur != want)
            audit({0, now, analyst, "plan", c.server, id, c.messageKey, c.recipient, stateName(cur), stateName(want), c.reason});
        tx.commit();
        return id;
    }
    sel.reset();
    SqliteStmt& ins = cached(
        "INSERT INTO recall_requests(message_id, message_key, recipient, server, place, queue_id, delivered_at, connector, "
        "campaign_id, campaign_label, round, parent_request_id, state, detail, created_at, updated_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)");
    ins.bind(1, c.caseMessageId).bind(2, std::string_view(c.messageKey)).bind(3, std::string_view(c.recipient))
        .bind(4, std::string_view(c.server)).bind(5, std::string_view(placeName(c.place))).bindTextOrNull(6, c.queueId)
        .bind(7, c.deliveredAt).bindTextOrNull(8, c.connector);
    if (c.campaignId) ins.bind(9, c.campaignId); else ins.bindNull(9);
    ins.bindTextOrNull(10, c.campaignLabel).bind(11, c.round);
    if (c.parentRequestId) ins.bind(12, c.parentRequestId); else ins.bindNull(12);
    ins.bind(13, std::string_view(stateName(want))).bindTextOrNull(14, c.reason).bind(15, now).exec();
    id = m_db.lastInsertId();
    audit({0, now, analyst, "plan", c.server, id, c.messageKey, c.recipient, "", stateName(want),
           c.recallable ? std::string(placeName(c.place)) + " via " + c.connector : c.reason});
    tx.commit();
    if (created) *created = true;
    return id;
}

std::vector<Request> RecallStore::requests(const RequestFilter& filter) {
    std::vector<Request> out;
    SqliteStmt st = m_db.prepare(std::string(kRequestColumns) + whereClause(filter) + " ORDER BY id");
    while (st.step()) out.push_back(readRequest(st));
    return out;
}

bool RecallStore::request(std::int64_t id, Request& out) {
    SqliteStmt st = m_db.prepare(std::string(kRequestColumns) + " WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return false;
    out = readRequest(st);
    return true;
}

bool RecallStore::transition(std::int64_t id, State from, State to, const std::string& analyst, const std::string& action,
                             const std::string& answer, std::int64_t runId, bool countAttempt) {
    if (!transitionAllowed(from, to))
        throw std::logic_error(std::string("recall request ") + std::to_string(id) + ": " + stateName(from) + " -> "
                               + stateName(to) + " is not a valid move");
    Transaction tx(m_db);
    SqliteStmt& sel = cached("SELECT state, server, message_key, recipient FROM recall_requests WHERE id = ?1");
    sel.bind(1, id);
    if (!sel.step() || sel.text(0) != stateName(from)) {
        sel.reset();
        return false;
    }
    const std::string server = sel.text(1), key = sel.text(2), rcpt = sel.text(3);
    sel.reset();
    const std::int64_t now = nowMs();
    const std::string ans = trimmedAnswer(answer);
    SqliteStmt& up = cached(
        "UPDATE recall_requests SET state = ?2, detail = ?3, updated_at = ?4, attempts = attempts + ?5, "
        "run_id = coalesce(?6, run_id) WHERE id = ?1");
    up.bind(1, id).bind(2, std::string_view(stateName(to))).bindTextOrNull(3, ans).bind(4, now).bind(5, countAttempt ? 1 : 0);
    if (runId) up.bind(6, runId); else up.bindNull(6);
    up.exec();
    audit({0, now, analyst, action, server, id, key, rcpt, stateName(from), stateName(to), ans});
    tx.commit();
    return true;
}

void RecallStore::recordFinding(std::int64_t id, const std::string& folder, const std::string& mailbox, ReadState read) {
    SqliteStmt& up = cached(
        "UPDATE recall_requests SET folder = coalesce(?2, folder), mailbox = coalesce(?3, mailbox), "
        "read_state = CASE WHEN ?4 = '' THEN read_state ELSE ?4 END WHERE id = ?1");
    up.bind(1, id).bindTextOrNull(2, folder).bindTextOrNull(3, mailbox).bind(4, std::string_view(readStateName(read))).exec();
}

void RecallStore::relocate(std::int64_t id, Place place, const std::string& connector) {
    SqliteStmt& up = cached("UPDATE recall_requests SET place = ?2, connector = ?3 WHERE id = ?1");
    up.bind(1, id).bind(2, std::string_view(placeName(place))).bindTextOrNull(3, connector).exec();
}

void RecallStore::markCascaded(std::int64_t id) {
    SqliteStmt& up = cached("UPDATE recall_requests SET cascaded_at = ?2 WHERE id = ?1 AND cascaded_at IS NULL");
    up.bind(1, id).bind(2, nowMs()).exec();
}

bool RecallStore::approve(std::int64_t id, const std::string& analyst) {
    if (analyst.empty()) throw std::invalid_argument("approval needs the approver's name");
    Transaction tx(m_db);
    SqliteStmt& sel = cached("SELECT state, server, message_key, recipient FROM recall_requests WHERE id = ?1");
    sel.bind(1, id);
    if (!sel.step() || sel.text(0) != stateName(State::Proposed)) {
        sel.reset();
        return false;
    }
    const std::string server = sel.text(1), key = sel.text(2), rcpt = sel.text(3);
    sel.reset();
    const std::int64_t now = nowMs();
    SqliteStmt& up = cached(
        "UPDATE recall_requests SET state = 'approved', approved_by = ?2, approved_at = ?3, updated_at = ?3 WHERE id = ?1");
    up.bind(1, id).bind(2, std::string_view(analyst)).bind(3, now).exec();
    audit({0, now, analyst, "approve", server, id, key, rcpt, "proposed", "approved", ""});
    tx.commit();
    return true;
}

std::int64_t RecallStore::beginRun(const std::string& action, const std::string& analyst) {
    SqliteStmt& st = cached("INSERT INTO recall_runs(action, analyst, started_at) VALUES(?1, ?2, ?3)");
    st.bind(1, std::string_view(action)).bind(2, std::string_view(analyst)).bind(3, nowMs()).exec();
    return m_db.lastInsertId();
}

void RecallStore::finishRun(std::int64_t runId, const std::string& status, std::int64_t requests) {
    SqliteStmt& st = cached("UPDATE recall_runs SET finished_at = ?2, status = ?3, requests = ?4 WHERE id = ?1");
    st.bind(1, runId).bind(2, nowMs()).bind(3, std::string_view(status)).bind(4, requests).exec();
}

std::int64_t RecallStore::addVerdict(const std::string& verdict, const std::string& analyst, std::int64_t campaignId,
                                     const std::string& campaignLabel, const std::vector<std::int64_t>& messages) {
    if (analyst.empty()) throw std::invalid_argument("a verdict needs the analyst's name");
    if (verdict != "virus" && verdict != "clean") throw std::invalid_argument("a verdict is virus or clean");
    Transaction tx(m_db);
    SqliteStmt& st = cached(
        "INSERT INTO verdicts(verdict, analyst, at, campaign_id, campaign_label, messages) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    const std::int64_t now = nowMs();
    st.bind(1, std::string_view(verdict)).bind(2, std::string_view(analyst)).bind(3, now);
    if (campaignId) st.bind(4, campaignId); else st.bindNull(4);
    st.bindTextOrNull(5, campaignLabel).bind(6, static_cast<std::int64_t>(messages.size())).exec();
    const std::int64_t id = m_db.lastInsertId();
    SqliteStmt& vm = cached("INSERT OR IGNORE INTO verdict_messages(verdict_id, message_id) VALUES(?1, ?2)");
    for (std::int64_t m : messages) vm.bind(1, id).bind(2, m).exec();
    audit({0, now, analyst, "verdict", "", 0, "", "", "", verdict,
           (campaignId ? "campaign " + std::to_string(campaignId) + " '" + campaignLabel + "', " : std::string())
               + std::to_string(messages.size()) + " messages"});
    tx.commit();
    return id;
}

bool RecallStore::hasVirusVerdictFor(std::int64_t caseMessageId) {
    SqliteStmt& st = cached(
        "SELECT v.verdict FROM verdict_messages vm JOIN verdicts v ON v.id = vm.verdict_id WHERE vm.message_id = ?1 "
        "ORDER BY v.id DESC LIMIT 1");
    st.bind(1, caseMessageId);
    const bool yes = st.step() && st.text(0) == "virus";
    st.reset();
    return yes;
}

bool RecallStore::addAllowEntry(const std::string& sender, const std::string& subjectNorm, const std::string& attachmentsNorm,
                                std::int64_t verdictId, const std::string& analyst) {
    SqliteStmt& st = cached(
        "INSERT OR IGNORE INTO allow_entries(sender, subject_norm, attachments_norm, verdict_id, created_by, created_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    const std::int64_t now = nowMs();
    st.bind(1, std::string_view(sender)).bind(2, std::string_view(subjectNorm)).bind(3, std::string_view(attachmentsNorm));
    if (verdictId) st.bind(4, verdictId); else st.bindNull(4);
    st.bind(5, std::string_view(analyst)).bind(6, now).exec();
    if (m_db.changes() == 0) return false;
    audit({0, now, analyst, "allow", "", 0, "", sender, "", "allowed",
           "subject '" + subjectNorm + "' attachments '" + attachmentsNorm + "'"});
    return true;
}

void RecallStore::audit(const AuditEntry& e) {
    SqliteStmt& st = cached(
        "INSERT INTO audit(at, analyst, action, server, request_id, message_key, recipient, state_from, state_to, answer) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    st.bind(1, e.at ? e.at : nowMs()).bind(2, std::string_view(e.analyst)).bind(3, std::string_view(e.action))
        .bindTextOrNull(4, e.server);
    if (e.requestId) st.bind(5, e.requestId); else st.bindNull(5);
    st.bindTextOrNull(6, e.messageKey).bindTextOrNull(7, e.recipient).bindTextOrNull(8, e.stateFrom)
        .bindTextOrNull(9, e.stateTo).bindTextOrNull(10, e.answer).exec();
}

std::vector<AuditEntry> RecallStore::auditTrail() {
    std::vector<AuditEntry> out;
    SqliteStmt& st = cached(
        "SELECT id, at, analyst, action, coalesce(server, ''), coalesce(request_id, 0), coalesce(message_key, ''), "
        "coalesce(recipient, ''), coalesce(state_from, ''), coalesce(state_to, ''), coalesce(answer, '') FROM audit ORDER BY id");
    while (st.step())
        out.push_back({st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.int64(5), st.text(6), st.text(7),
                       st.text(8), st.text(9), st.text(10)});
    return out;
}

bool RecallStore::exportAuditCsv(const QString& path, QString* error) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        if (error) *error = f.errorString();
        return false;
    }
    QString text = QStringLiteral("id,time,analyst,action,server,request_id,message_id,recipient,from,to,answer\r\n");
    for (const AuditEntry& e : auditTrail()) {
        text += QString::number(e.id) + QLatin1Char(',')
            + QDateTime::fromMSecsSinceEpoch(e.at, Qt::UTC).toString(Qt::ISODateWithMs) + QLatin1Char(',')
            + csvField(e.analyst) + QLatin1Char(',') + csvField(e.action) + QLatin1Char(',') + csvField(e.server)
            + QLatin1Char(',') + (e.requestId ? QString::number(e.requestId) : QString()) + QLatin1Char(',')
            + csvField(e.messageKey) + QLatin1Char(',') + csvField(e.recipient) + QLatin1Char(',') + csvField(e.stateFrom)
            + QLatin1Char(',') + csvField(e.stateTo) + QLatin1Char(',') + csvField(e.answer) + QStringLiteral("\r\n");
    }
    f.write(text.toUtf8());
    if (!f.commit()) {
        if (error) *error = f.errorString();
        return false;
    }
    return true;
}

StateCounts RecallStore::counts(const RequestFilter& filter) {
    StateCounts c;
    SqliteStmt st = m_db.prepare("SELECT server, state, count(*) FROM recall_requests" + whereClause(filter) + " GROUP BY 1, 2");
    while (st.step()) {
        const std::int64_t n = st.int64(2);
        c.total[st.text(1)] += n;
        c.byServer[st.text(0)][st.text(1)] += n;
        c.requests += n;
    }
    return c;
}

} // namespace mt::recall
