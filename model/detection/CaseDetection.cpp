#include "CaseDetection.h"

#include "ConfirmRule.h"
#include "model/confirm/Enrolment.h"
#include "model/recall/AllowList.h"

#include <QDateTime>
#include <QElapsedTimer>

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_map>

namespace mt::det {

namespace {

std::string_view col(const SqliteStmt& st, int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.handle(), i));
    if (!p) return {};
    return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st.handle(), i)));
}

// Lower case into a reused buffer (addresses are compared case-insensitively).
std::string_view lower(std::string_view s, std::string& buf) {
    buf.assign(s);
    for (char& c : buf)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return buf;
}

std::string_view domainOf(std::string_view address) {
    const std::size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

// Final recipients and server-to-server hops of every message, by messages.id.
struct DeliveryScan {
    struct Row {
        std::int64_t message;
        std::uint32_t address; // in `pool`
        TimeMs time;           // kNoTime: not logged
    };
    struct HopRow {
        std::int64_t message;
        Hop hop;
    };
    std::vector<Row> rcpts;
    std::vector<HopRow> hops;
    StringPool pool;
    std::string error;
};

template <class Fn>
void eachRow(sqlite3* h, const char* sql, Fn&& fn) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) != SQLITE_OK) throw SqliteError(sqlite3_errmsg(h));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) fn(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(h));
}

void scanDeliveries(sqlite3* h, DeliveryScan& out) {
    std::int64_t minC = 0, maxC = -1;
    eachRow(h, "SELECT min(id), max(id) FROM copies", [&](sqlite3_stmt* st) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) return;
        minC = sqlite3_column_int64(st, 0);
        maxC = sqlite3_column_int64(st, 1);
    });
    if (maxC < minC) return;
    const std::size_t n = static_cast<std::size_t>(maxC - minC + 1);
    std::vector<std::int64_t> copyMessage(n, 0);
    std::vector<std::int32_t> copyServer(n, -1);
    eachRow(h, "SELECT id, message_id, server_id FROM copies", [&](sqlite3_stmt* st) {
        const std::int64_t id = sqlite3_column_int64(st, 0);
        // Outside the range read above only if a writer committed in between (the load runs in
        // one read transaction, so it cannot; kept as a guard: an index out of range is memory).
        if (id < minC || id > maxC) return;
        const std::size_t c = static_cast<std::size_t>(id - minC);
        copyMessage[c] = sqlite3_column_int64(st, 1);
        copyServer[c] = static_cast<std::int32_t>(sqlite3_column_int64(st, 2));
    });
    std::string buf;
    eachRow(h, "SELECT copy_id, recipient, time, is_final, next_copy_id FROM deliveries", [&](sqlite3_stmt* st) {
        const std::int64_t c = sqlite3_column_int64(st, 0) - minC;
        if (c < 0 || c >= static_cast<std::int64_t>(n)) return;
        const std::int64_t message = copyMessage[static_cast<std::size_t>(c)];
        if (sqlite3_column_int64(st, 3)) {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
            const std::string_view r = p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st, 1))) : std::string_view();
            out.rcpts.push_back({message, out.pool.intern(lower(r, buf)),
                                 sqlite3_column_type(st, 2) == SQLITE_NULL ? kNoTime : sqlite3_column_int64(st, 2)});
        }
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            const std::int64_t next = sqlite3_column_int64(st, 4) - minC;
            if (next >= 0 && next < static_cast<std::int64_t>(n))
                out.hops.push_back({message, {copyServer[static_cast<std::size_t>(c)], copyServer[static_cast<std::size_t>(next)]}});
        }
    });
}

struct PreviousRun {
    bool exists = false;
    std::string rulesJson;
    std::int64_t messages = 0, maxMessageId = 0;
    TimeMs lastTime = 0, firstTime = 0;
};

PreviousRun previousRun(SqliteDb& db) {
    PreviousRun p;
    SqliteStmt st = db.prepare(
        "SELECT coalesce(r.json, ''), d.messages, d.max_message_id, d.last_time, d.first_time FROM detection_runs d "
        "LEFT JOIN rulesets r ON r.id = d.ruleset_id ORDER BY d.id DESC LIMIT 1");
    if (!st.step()) return p;
    p.exists = true;
    p.rulesJson = st.text(0);
    p.messages = st.int64(1);
    p.maxMessageId = st.int64(2);
    p.lastTime = st.int64(3);
    p.firstTime = st.int64(4);
    return p;
}

} // namespace

void loadCase(SqliteDb& db, DetectionInput& in, const LoadOptions& options) {
    std::string buf;
    // Read the pages in place rather than copying them through read() (this connection only).
    db.exec("PRAGMA mmap_size = 8589934592");
    struct MmapOff {
        SqliteDb& db;
        ~MmapOff() {
            try {
                db.exec("PRAGMA mmap_size = 0");
            } catch (...) {
            }
        }
    } mmapOff{db};
    {
        SqliteStmt st = db.prepare("SELECT id, path FROM units");
        while (st.step()) in.unitNames[static_cast<std::int32_t>(st.int64(0))] = st.text(1);
    }
    {
        SqliteStmt st = db.prepare("SELECT id, name FROM servers");
        while (st.step()) in.serverNames[static_cast<std::int32_t>(st.int64(0))] = st.text(1);
    }
    {
        SqliteStmt st = db.prepare("SELECT email, unit_id FROM users");
        while (st.step()) {
            const std::string_view email = lower(col(st, 0), buf);
            in.setUserUnit(in.strings.intern(email), st.isNull(1) ? -1 : static_cast<std::int32_t>(st.int64(1)));
            const std::string_view d = domainOf(email);
            if (!d.empty()) in.localDomains.emplace(d);
        }
    }
    // Deliveries on a second connection and thread, while this one reads messages and attachments.
    DeliveryScan scan;
    std::thread scanThread;
    bool scanStarted = false;
    if (const char* file = sqlite3_db_filename(db.handle(), "main"); file && *file) {
        const std::string path(file);
        scanStarted = true;
        scanThread = std::thread([path, &scan] {
            sqlite3* h = nullptr;
            if (sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
                scan.error = h ? sqlite3_errmsg(h) : "cannot open the case a second time";
                sqlite3_close(h);
                return;
            }
            sqlite3_busy_timeout(h, 5000);
            sqlite3_exec(h, "PRAGMA mmap_size = 8589934592", nullptr, nullptr, nullptr);
            try {
                scanDeliveries(h, scan);
            } catch (const std::exception& e) {
                scan.error = e.what();
            }
            sqlite3_close(h);
        });
    }
    struct JoinOnExit {
        std::thread& t;
        ~JoinOnExit() {
            if (t.joinable()) t.join();
        }
    } joinOnExit{scanThread};
    // The messages, then their attachments, recipients and hops, matched by id.
    const std::size_t base = in.messages.size();
    std::unordered_map<std::int64_t, std::uint32_t> extraPos;
    std::vector<std::uint32_t> idToPos; // dense over the ids seen: ids are rowids
    std::int64_t minId = INT64_MAX, maxId = 0;
    std::vector<Message> loaded;
    auto readMessage = [&](SqliteStmt& st) {
        Message m;
        m.id = st.int64(0);
        m.time = st.int64(1);
        m.messageId = in.strings.append(col(st, 2)); // all different: no look-up
        m.sender = in.strings.intern(lower(col(st, 3), buf));
        const std::string_view sasl = col(st, 4);
        m.senderKey = sasl.empty() ? m.sender : in.strings.intern(lower(sasl, buf));
        m.clientIp = in.strings.intern(col(st, 6));
        m.client = m.clientIp ? m.clientIp : in.strings.intern(col(st, 5));
        m.server = st.isNull(7) ? -1 : static_cast<std::int32_t>(st.int64(7));
        m.size = st.isNull(8) ? -1 : st.int64(8);
        m.subject = in.strings.append(col(st, 9)); // compared by content, never by id
        m.confirmToken = in.strings.intern(col(st, 10));
        m.unit = in.unitOf(m.sender);
        m.internal = !sasl.empty() || in.localDomains.count(std::string(domainOf(in.str(m.sender)))) > 0;
        minId = std::min(minId, m.id);
        maxId = std::max(maxId, m.id);
        loaded.push_back(m);
    };
    constexpr const char* kColumns =
        "SELECT id, time, message_id, sender, sasl_user, client_host, client_ip, origin_server_id, size, subject, confirm_token "
        "FROM messages ";
    if (options.from == INT64_MIN) loaded.reserve(static_cast<std::size_t>(db.scalar("SELECT count(*) FROM messages")));
    {
        SqliteStmt st = db.prepare(std::string(kColumns) + (options.from == INT64_MIN ? "ORDER BY id" : "WHERE time >= ?1"));
        if (options.from != INT64_MIN) st.bind(1, static_cast<std::int64_t>(options.from));
        while (st.step()) readMessage(st);
    }
    if (!options.extraIds.empty()) {
        SqliteStmt st = db.prepare(std::string(kColumns) + "WHERE id = ?1");
        for (std::int64_t id : options.extraIds) {
            st.bind(1, id);
            if (st.step()) {
                if (options.from == INT64_MIN || st.int64(1) < options.from) readMessage(st);
            }
            st.reset();
        }
    }
    if (loaded.empty()) return;
    idToPos.assign(static_cast<std::size_t>(maxId - minId + 1), UINT32_MAX);
    for (std::size_t k = 0; k < loaded.size(); ++k) idToPos[static_cast<std::size_t>(loaded[k].id - minId)] = static_cast<std::uint32_t>(k);
    auto posOf = [&](std::int64_t id) -> std::uint32_t {
        if (id < minId || id > maxId) return UINT32_MAX;
        return idToPos[static_cast<std::size_t>(id - minId)];
    };
    const bool all = options.from == INT64_MIN;
    const std::string filter = all ? std::string() : " WHERE m.time >= ?1";
    std::vector<std::pair<std::uint32_t, std::uint32_t>> atts;
    {
        SqliteStmt st = db.prepare(all ? std::string("SELECT message_id, name FROM attachments")
                                       : "SELECT a.message_id, a.name FROM messages m JOIN attachments a ON a.message_id = m.id" + filter);
        if (!all) st.bind(1, static_cast<std::int64_t>(options.from));
        while (st.step()) {
            const std::uint32_t pos = posOf(st.int64(0));
            if (pos != UINT32_MAX) atts.push_back({pos, in.strings.intern(col(st, 1))});
        }
        if (!options.extraIds.empty()) {
            SqliteStmt ex = db.prepare("SELECT message_id, name FROM attachments WHERE message_id = ?1");
            for (std::int64_t id : options.extraIds) {
                const std::uint32_t pos = posOf(id);
                if (pos == UINT32_MAX || (!all && loaded[pos].time >= options.from)) continue;
                ex.bind(1, id);
                while (ex.step()) atts.push_back({pos, in.strings.intern(col(ex, 1))});
                ex.reset();
            }
        }
    }
    // Recipients and hops: two plain scans (copies, then deliveries) joined in memory, which
    // is about twice as fast as the join in SQL, and on their own connection and thread while
    // this one reads the messages (WAL lets readers share the file).
    struct RcptRow {
        std::uint32_t pos;
        Recipient r;
    };
    struct HopRow {
        std::uint32_t pos;
        Hop h;
    };
    std::vector<RcptRow> rcpts;
    std::vector<HopRow> hops;
    {
        if (scanThread.joinable()) scanThread.join();
        if (!scan.error.empty()) throw SqliteError(scan.error);
        if (!scanThread.joinable() && !scanStarted) scanDeliveries(db.handle(), scan);
        std::vector<std::uint32_t> remap(scan.pool.size() + 1, 0);
        for (std::uint32_t id = 1; id < scan.pool.size(); ++id) remap[id] = in.strings.intern(scan.pool.view(id));
        rcpts.reserve(scan.rcpts.size());
        for (const DeliveryScan::Row& r : scan.rcpts) {
            const std::uint32_t pos = posOf(r.message);
            if (pos == UINT32_MAX) continue;
            const std::uint32_t a = remap[r.address];
            rcpts.push_back({pos, {a, in.unitOf(a), r.time == kNoTime ? loaded[pos].time : r.time}});
        }
        for (const DeliveryScan::HopRow& h : scan.hops) {
            const std::uint32_t pos = posOf(h.message);
            if (pos != UINT32_MAX) hops.push_back({pos, h.hop});
        }
        DeliveryScan().rcpts.swap(scan.rcpts);
    }
    std::stable_sort(atts.begin(), atts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::stable_sort(rcpts.begin(), rcpts.end(), [](const RcptRow& a, const RcptRow& b) { return a.pos < b.pos; });
    std::stable_sort(hops.begin(), hops.end(), [](const HopRow& a, const HopRow& b) { return a.pos < b.pos; });
    std::size_t ai = 0, ri = 0, hi = 0;
    in.messages.reserve(base + loaded.size());
    in.attachments.reserve(in.attachments.size() + atts.size());
    in.recipients.reserve(in.recipients.size() + rcpts.size());
    in.hops.reserve(in.hops.size() + hops.size());
    for (std::uint32_t pos = 0; pos < loaded.size(); ++pos) {
        Message& m = loaded[pos];
        m.attBegin = static_cast<std::uint32_t>(in.attachments.size());
        for (; ai < atts.size() && atts[ai].first == pos; ++ai) in.attachments.push_back(atts[ai].second);
        m.attCount = static_cast<std::uint32_t>(in.attachments.size()) - m.attBegin;
        m.rcptBegin = static_cast<std::uint32_t>(in.recipients.size());
        for (; ri < rcpts.size() && rcpts[ri].pos == pos; ++ri) {
            // One entry per address (a recipient can be final on two copies after a split).
            bool dup = false;
            for (std::uint32_t k = m.rcptBegin; k < in.recipients.size(); ++k)
                if (in.recipients[k].address == rcpts[ri].r.address) {
                    dup = true;
                    break;
                }
            if (!dup) in.recipients.push_back(rcpts[ri].r);
        }
        m.rcptCount = static_cast<std::uint32_t>(in.recipients.size()) - m.rcptBegin;
        m.hopBegin = static_cast<std::uint32_t>(in.hops.size());
        for (; hi < hops.size() && hops[hi].pos == pos; ++hi) {
            bool dup = false;
            for (std::uint32_t k = m.hopBegin; k < in.hops.size(); ++k)
                if (in.hops[k].from == hops[hi].h.from && in.hops[k].to == hops[hi].h.to) {
                    dup = true;
                    break;
                }
            if (!dup) in.hops.push_back(hops[hi].h);
        }
        m.hopCount = static_cast<std::uint32_t>(in.hops.size()) - m.hopBegin;
    }
    std::vector<std::pair<std::uint32_t, std::uint32_t>>().swap(atts);
    std::vector<RcptRow>().swap(rcpts);
    std::vector<HopRow>().swap(hops);
    if (in.messages.empty()) in.messages.swap(loaded);
    else in.messages.insert(in.messages.end(), loaded.begin(), loaded.end());
    in.finish();
}

RuleSet CaseDetection::ruleSet(CaseStore& store) {
    RuleSet r = RuleSet::defaults();
    const QByteArray json = ruleSetJson(store);
    RuleSet parsed;
    if (RuleSet::fromJson(json, parsed)) r = parsed;
    return r;
}

QByteArray CaseDetection::ruleSetJson(CaseStore& store) {
    SqliteStmt st = store.db().prepare("SELECT json FROM rulesets ORDER BY id DESC LIMIT 1");
    if (st.step()) return QByteArray::fromStdString(st.text(0));
    return RuleSet::defaults().toJsonBytes();
}

void CaseDetection::storeRuleSet(CaseStore& store, const RuleSet& rules) {
    const std::string json = rules.toJsonBytes().toStdString();
    SqliteStmt last = store.db().prepare("SELECT json FROM rulesets ORDER BY id DESC LIMIT 1");
    if (last.step() && last.text(0) == json) return;
    last.reset();
    SqliteStmt ins = store.db().prepare("INSERT INTO rulesets(json, created_at) VALUES(?1, ?2)");
    ins.bind(1, std::string_view(json)).bind(2, static_cast<std::int64_t>(QDateTime::currentMSecsSinceEpoch())).exec();
}

CaseDetectionReport CaseDetection::run(CaseStore& store, bool allowIncremental) {
    CaseDetectionReport rep;
    SqliteDb& db = store.db();
    QElapsedTimer timer;
    timer.start();
    const RuleSet rules = ruleSet(store);
    const std::string rulesJson = rules.toJsonBytes().toStdString();
    rep.messages = db.scalar("SELECT count(*) FROM messages");
    const std::int64_t caseMaxId = db.scalar("SELECT coalesce(max(id), 0) FROM messages");

    // Incremental when the last run used these rules and the case only gained later messages.
    const PreviousRun prev = previousRun(db);
    bool incremental = false;
    TimeMs replayUntil = INT64_MIN, replayFrom = INT64_MIN;
    // Allow entries added since the last run (a clean verdict) change what is flagged: judge
    // everything again.
    const std::int64_t lastRunAt = db.scalar("SELECT coalesce(max(started_at), 0) FROM detection_runs");
    // So does a new enrolment (the confirmation rule judges other users now).
    const bool allowChanged = recall::allowEntriesChangedAt(db) > lastRunAt || confirm::enrolmentChangedAt(db) > lastRunAt;
    if (allowIncremental && prev.exists && prev.rulesJson == rulesJson && !allowChanged) {
        SqliteStmt st = db.prepare("SELECT count(*), min(time) FROM messages WHERE id > ?1");
        st.bind(1, prev.maxMessageId);
        st.step();
        const std::int64_t fresh = st.int64(0);
        const bool noneFresh = fresh == 0;
        const TimeMs minFresh = st.isNull(1) ? 0 : st.int64(1);
        st.reset();
        const bool olderIntact = rep.messages - fresh == prev.messages;
        if (olderIntact && noneFresh) {
            rep.upToDate = true;
            rep.flagged = db.scalar("SELECT count(*) FROM campaign_messages");
            rep.campaigns = static_cast<int>(db.scalar("SELECT count(*) FROM campaigns"));
            rep.loadMs = timer.elapsed();
            return rep;
        }
        if (olderIntact && minFresh > prev.lastTime) {
            incremental = true;
            replayUntil = prev.lastTime + 1;
            replayFrom = prev.lastTime - rules.longestWindowMs();
        }
    }

    DetectionInput in;
    LoadOptions lo;
    std::unordered_map<std::int64_t, std::pair<TimeMs, FlagSource>> storedFlags;
    if (incremental) {
        lo.from = replayFrom;
        SqliteStmt st = db.prepare("SELECT message_id, flagged_at, source FROM campaign_messages");
        while (st.step()) {
            const std::string src = st.text(2);
            const FlagSource s = src == "parent" ? FlagSource::Parent : src == "burst" ? FlagSource::Sibling : FlagSource::Rules;
            storedFlags[st.int64(0)] = {st.int64(1), s};
            lo.extraIds.push_back(st.int64(0));
        }
    }
    // Every scan of the load sees one snapshot of the case (WAL): a live writer committing a
    // batch meanwhile must not make the copies, deliveries and messages disagree. The read
    // transaction ends before the write-back takes the write lock.
    struct ReadSnapshot {
        SqliteDb& db;
        bool open = true;
        explicit ReadSnapshot(SqliteDb& d) : db(d) { db.exec("BEGIN"); }
        void end() {
            if (open) db.exec("COMMIT");
            open = false;
        }
        ~ReadSnapshot() {
            try {
                if (open) db.exec("ROLLBACK");
            } catch (...) {
            }
        }
    } snapshot(db);
    loadCase(db, in, lo);
    rep.loadMs = timer.restart();

    Detector det(rules);
    // The send-confirmation rule, when users are enrolled in the case.
    if (auto confirmRule = confirmRuleForCase(db, rules)) det.addRule(std::move(confirmRule));
    if (incremental) {
        std::unordered_map<std::uint32_t, std::pair<TimeMs, FlagSource>> known;
        for (std::uint32_t i = 0; i < in.messages.size(); ++i) {
            const auto it = storedFlags.find(in.messages[i].id);
            if (it != storedFlags.end()) known.emplace(i, it->second);
        }
        det.setReplay(replayUntil, std::move(known), prev.firstTime);
    }
    det.run(in);
    det.buildCampaigns(in);
    rep.detectMs = timer.restart();
    rep.incremental = incremental;
    for (const Message& m : in.messages)
        if (m.time >= replayUntil) ++rep.processed;

    // Messages an analyst judged clean (allow entries) are not flagged: they leave their
    // campaigns, and a campaign left empty goes.
    std::vector<char> allowed(in.messages.size(), 0);
    if (const std::set<recall::AllowKey> allow = recall::loadAllowEntries(db); !allow.empty()) {
        std::vector<std::string> names;
        for (std::uint32_t i = 0; i < in.messages.size(); ++i) {
            if (!det.states()[i].flagged()) continue;
            const Message& m = in.messages[i];
            names.clear();
            for (std::uint32_t k = 0; k < m.attCount; ++k) names.emplace_back(in.str(in.attachments[m.attBegin + k]));
            allowed[i] = allow.count(recall::allowKey(in.str(m.sender), in.str(m.subject), names)) ? 1 : 0;
        }
    }

    snapshot.end();
    // Write back in one transaction.
    db.exec("BEGIN IMMEDIATE");
    try {
        storeRuleSet(store, rules);
        const std::int64_t rulesetId = db.scalar("SELECT max(id) FROM rulesets");
        db.exec("DELETE FROM propagation_edges; DELETE FROM campaign_units; DELETE FROM campaign_messages; DELETE FROM campaigns;");
        if (incremental) {
            SqliteStmt del = db.prepare(
                "DELETE FROM hits WHERE rule_id = 'campaign' OR message_id IN (SELECT id FROM messages WHERE time >= ?1)");
            del.bind(1, static_cast<std::int64_t>(replayUntil)).exec();
        } else {
            db.exec("DELETE FROM hits");
        }
        const auto& states = det.states();
        const auto& campaigns = det.campaigns();
        SqliteStmt insC = db.prepare(
            "INSERT INTO campaigns(id, label, patient_zero, patient_zero_message_id, first_seen, detected_at, generations, "
            "messages, senders, recipients) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        SqliteStmt insM = db.prepare(
            "INSERT INTO campaign_messages(campaign_id, message_id, generation, parent_message_id, flagged_at, score, source) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        SqliteStmt insU = db.prepare("INSERT OR IGNORE INTO campaign_units(campaign_id, unit_id) VALUES(?1, ?2)");
        SqliteStmt insE = db.prepare(
            "INSERT OR IGNORE INTO propagation_edges(campaign_id, from_message_id, to_message_id) VALUES(?1, ?2, ?3)");
        std::int64_t allowedFlagged = 0;
        int campaignsWritten = 0;
        for (const Campaign& c : campaigns) {
            std::int64_t kept = 0;
            for (std::uint32_t i : c.messages) kept += allowed[i] ? 0 : 1;
            allowedFlagged += static_cast<std::int64_t>(c.messages.size()) - kept;
            if (kept == 0) continue;
            ++campaignsWritten;
            insC.bind(1, static_cast<std::int64_t>(c.id)).bind(2, std::string_view(c.label)).bind(3, std::string_view(c.patientZero))
                .bind(4, in.messages[c.patientZeroMessage].id).bind(5, static_cast<std::int64_t>(c.firstSeen));
            if (c.detectedAt == kNoTime) insC.bindNull(6); else insC.bind(6, static_cast<std::int64_t>(c.detectedAt));
            insC.bind(7, static_cast<std::int64_t>(c.generations)).bind(8, kept)
                .bind(9, static_cast<std::int64_t>(c.senders)).bind(10, static_cast<std::int64_t>(c.recipients)).exec();
            for (std::uint32_t i : c.messages) {
                if (allowed[i]) continue;
                const MessageState& s = states[i];
                insM.bind(1, static_cast<std::int64_t>(c.id)).bind(2, in.messages[i].id).bind(3, static_cast<std::int64_t>(s.generation));
                if (s.treeParent >= 0) insM.bind(4, in.messages[static_cast<std::uint32_t>(s.treeParent)].id); else insM.bindNull(4);
                insM.bind(5, static_cast<std::int64_t>(s.flaggedAt)).bind(6, static_cast<double>(s.score))
                    .bind(7, std::string_view(flagSourceName(s.source))).exec();
            }
            for (std::int32_t u : c.units) insU.bind(1, static_cast<std::int64_t>(c.id)).bind(2, static_cast<std::int64_t>(u)).exec();
            for (const auto& [a, b] : c.edges)
                if (!allowed[a] && !allowed[b]) insE.bind(1, static_cast<std::int64_t>(c.id)).bind(2, in.messages[a].id).bind(3, in.messages[b].id).exec();
        }
        // Evidence of the flagged messages (the rest is not kept).
        SqliteStmt insH = db.prepare(
            "INSERT INTO hits(message_id, rule_id, key, window_start, window_end, count, threshold, weight, detail) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        auto writeHit = [&](const Hit& h) {
            insH.bind(1, in.messages[h.message].id).bind(2, std::string_view(h.rule)).bindTextOrNull(3, h.key)
                .bind(4, static_cast<std::int64_t>(h.windowStart)).bind(5, static_cast<std::int64_t>(h.windowEnd))
                .bind(6, h.count).bind(7, h.threshold).bind(8, h.weight).bindTextOrNull(9, h.detail).exec();
        };
        for (const Hit& h : det.hits())
            if (states[h.message].flagged() && !allowed[h.message]) writeHit(h);
        for (const Hit& h : det.campaignHits())
            if (!allowed[h.message]) writeHit(h);
        rep.flagged = static_cast<std::int64_t>(det.flaggedCount()) - allowedFlagged;
        rep.campaigns = campaignsWritten;
        TimeMs first = incremental ? prev.firstTime : 0, last = incremental ? prev.lastTime : 0;
        if (!in.messages.empty()) {
            if (!incremental) first = in.messages.front().time;
            last = std::max(last, in.messages.back().time);
        }
        SqliteStmt run = db.prepare(
            "INSERT INTO detection_runs(ruleset_id, started_at, duration_ms, messages, processed, flagged, campaigns, "
            "max_message_id, last_time, first_time, incremental) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
        run.bind(1, rulesetId).bind(2, static_cast<std::int64_t>(QDateTime::currentMSecsSinceEpoch()))
            .bind(3, rep.loadMs + rep.detectMs).bind(4, rep.messages).bind(5, rep.processed).bind(6, rep.flagged)
            .bind(7, static_cast<std::int64_t>(rep.campaigns)).bind(8, caseMaxId).bind(9, static_cast<std::int64_t>(last))
            .bind(10, static_cast<std::int64_t>(first)).bind(11, incremental ? 1 : 0).exec();
        db.exec("COMMIT");
    } catch (...) {
        try {
            db.exec("ROLLBACK");
        } catch (const SqliteError&) {
        }
        throw;
    }
    rep.writeMs = timer.elapsed();
    return rep;
}

} // namespace mt::det
