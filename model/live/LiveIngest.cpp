#include "LiveIngest.h"

#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/recall/RecallPlan.h"
#include "model/recall/RecallRun.h"

#include <QDate>
#include <QDateTime>
#include <QFileInfo>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace mt::live {

namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QString isoUtc(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs); }

template <class T>
void mix(std::size_t& h, const T& v) {
    h ^= std::hash<T>()(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
}

// What an open copy looks like now: a change means it must be written again.
std::size_t fingerprint(const CopyRecord& c) {
    std::size_t h = 0;
    mix(h, c.lastSeen);
    mix(h, c.removed);
    mix(h, c.messageId);
    mix(h, c.subject);
    mix(h, c.sender);
    mix(h, c.size);
    mix(h, c.nrcpt);
    mix(h, c.clientHost);
    mix(h, c.saslUser);
    mix(h, c.confirmToken);
    mix(h, c.attachments.size());
    for (const DeliveryRecord& d : c.deliveries) {
        mix(h, d.recipient);
        mix(h, d.status);
        mix(h, d.time);
        mix(h, d.attempts);
        mix(h, d.queuedAs);
    }
    return h;
}

std::string copyKey(const CopyRecord& c) { return c.server + '\n' + c.queueId + '\n' + std::to_string(c.firstSeen); }

// The message key CaseStore gives a copy without a (valid) Message-ID.
std::string qidMessageKey(const CopyRecord& c) {
    return "qid:" + c.server + "/" + c.queueId + "/" + std::to_string(c.firstSeen);
}

// Runs fn in obj's thread and waits for it.
template <class Fn>
void runIn(QObject* obj, Fn&& fn) {
    if (obj->thread() == QThread::currentThread()) fn();
    else QMetaObject::invokeMethod(obj, std::forward<Fn>(fn), Qt::BlockingQueuedConnection);
}

} // namespace

// ------------------------------------------------------------------ writer

class LiveIngest::Writer : public QObject {
public:
    Writer(LiveIngest* owner, QString casePath, const LiveConfig& config, LineQueue* queue)
        : m_owner(owner), m_casePath(std::move(casePath)), m_config(config), m_queue(queue),
          m_feeder(m_assembler, m_figures, m_issues, 20) {}

    bool open(const QStringList& files, const QString& sources, QString* error) {
        try {
            m_store.open(m_casePath, true);
            m_store.dropSessionCaches(); // never the in-memory bulk link: it grows with the session
            // A small page cache: batches touch the end of the tables only, and the import's
            // 256 MiB would grow with the case for as long as the session runs.
            m_store.db().exec("PRAGMA cache_size = -16384");
            SqliteDb& db = m_store.db();
            // A session that never ended is one that crashed (or was killed).
            {
                SqliteStmt st = db.prepare("SELECT id, started_at, heartbeat_at, last_receive_at FROM live_sessions WHERE ended_at IS NULL");
                std::vector<std::pair<qint64, QString>> notes;
                while (st.step()) {
                    const qint64 id = st.int64(0);
                    const qint64 heartbeat = st.isNull(2) ? st.int64(1) : st.int64(2);
                    const QString lastLine = st.isNull(3) ? QStringLiteral("its start") : isoUtc(st.int64(3));
                    notes.emplace_back(id, QStringLiteral("live session %1 ended uncleanly (last commit %2): lines received after %3 "
                                                          "(at most about a second) and messages still in progress then may be missing")
                                               .arg(id).arg(isoUtc(heartbeat), lastLine));
                }
                st.reset();
                for (const auto& [id, note] : notes) {
                    SqliteStmt up = db.prepare("UPDATE live_sessions SET ended_at = coalesce(heartbeat_at, started_at), clean = 0, note = ?2 WHERE id = ?1");
                    up.bind(1, static_cast<std::int64_t>(id)).bind(2, note.toStdString()).exec();
                    previousNote += (previousNote.isEmpty() ? QString() : QStringLiteral("; ")) + note;
                }
            }
            SqliteStmt ins = db.prepare("INSERT INTO live_sessions(started_at, heartbeat_at, sources, note) VALUES(?1, ?1, ?2, ?3)");
            // Bound in place (SQLITE_STATIC): the strings must outlive exec().
            const std::string sourcesText = sources.toStdString(), noteText = previousNote.toStdString();
            ins.bind(1, static_cast<std::int64_t>(nowMs())).bind(2, sourcesText);
            if (noteText.empty()) ins.bindNull(3); else ins.bind(3, noteText);
            ins.exec();
            sessionId = db.lastInsertId();
            m_sessionPath = "live session " + std::to_string(sessionId);
            // Where each followed file stopped.
            SqliteStmt pos = db.prepare("SELECT device, inode, offset, tail FROM live_files WHERE path = ?1");
            for (const QString& f : files) {
                FollowPosition p;
                p.path = QFileInfo(f).absoluteFilePath();
                const std::string pathText = p.path.toStdString();
                pos.bind(1, pathText);
                if (pos.step()) {
                    p.device = static_cast<std::uint64_t>(pos.int64(0));
                    p.inode = static_cast<std::uint64_t>(pos.int64(1));
                    p.offset = pos.int64(2);
                    p.tail = pos.text(3);
                }
                pos.reset();
                positions.push_back(p);
                m_positions.push_back({p, false});
            }
            // Messages an earlier import or session left half-read continue here.
            for (CopyRecord& c : m_store.openCopies()) m_assembler.seedOpen(std::move(c));
            const int year = m_config.year ? m_config.year : QDate::currentDate().year();
            m_assembler.framing().setReference(year, m_config.year ? 12 : QDate::currentDate().month(), m_config.year != 0);
            if (!m_assembler.framing().setTimeZone(m_config.timeZone)) {
                if (error) *error = QStringLiteral("unknown time zone '%1'").arg(QString::fromStdString(m_config.timeZone));
                return false;
            }
        } catch (const std::exception& e) {
            if (error) *error = QString::fromUtf8(e.what());
            return false;
        }
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, [this] { batch(false); });
        m_timer->start(m_config.flushIntervalMs);
        return true;
    }

    // One batch: what is queued goes through the assembler; completed copies and settled open
    // ones are written with the files' offsets in one transaction.
    void batch(bool final) {
        const qint64 started = nowMs();
        m_queue->takeAll(m_lines);
        m_figures = ImportFileFigures{};
        m_figures.path = m_sessionPath;
        m_figures.kind = "live";
        m_issues.clear();
        qint64 oldest = 0, newest = 0;
        for (LiveLine& l : m_lines) {
            ++m_lineNo;
            if (l.overlong) m_feeder.rejectOverlong(l.text, l.length, m_lineNo);
            else m_feeder.feed(l.text, m_lineNo);
            if (l.file >= 0 && static_cast<std::size_t>(l.file) < m_positions.size()) {
                auto& [p, dirty] = m_positions[static_cast<std::size_t>(l.file)];
                p.inode = l.inode;
                p.device = l.device;
                p.offset = l.endOffset;
                p.tail = l.overlong ? std::string() : l.fileTail();
                dirty = true;
            }
            if (!oldest || l.receivedMs < oldest) oldest = l.receivedMs;
            newest = std::max<qint64>(newest, l.receivedMs);
        }
        // Completed copies always; open ones once they stopped changing (settled), so detection
        // judges messages whole, and every open one at the end.
        // What a failed batch could not write (the case was locked by another writer) goes first.
        std::vector<CopyRecord> copies;
        copies.swap(m_retryCopies);
        std::vector<RejectRecord> rejects;
        rejects.swap(m_retryRejects);
        const std::size_t retried = copies.size();
        for (CopyRecord& c : m_assembler.completed()) copies.push_back(std::move(c));
        m_assembler.completed().clear();
        for (RejectRecord& r : m_assembler.rejects()) rejects.push_back(std::move(r));
        m_assembler.rejects().clear();
        std::vector<std::string> orphanKeys;
        for (std::size_t i = retried; i < copies.size(); ++i) {
            const CopyRecord& c = copies[i];
            const auto it = m_track.find(copyKey(c));
            if (it == m_track.end()) continue;
            if (it->second.writtenWithoutId && c.messageIdValid) orphanKeys.push_back(qidMessageKey(c));
            m_track.erase(it);
        }
        m_open.clear();
        m_assembler.snapshotOpen(m_open);
        ++m_round;
        for (CopyRecord& c : m_open) {
            Track& t = m_track[copyKey(c)];
            t.round = m_round;
            const std::size_t fp = fingerprint(c);
            if (t.fingerprint != fp) {
                t.fingerprint = fp;
                t.changedAt = started;
                t.written = false;
            }
            if (!t.written && (final || started - t.changedAt >= m_config.settleMs)) {
                t.written = true;
                if (t.writtenWithoutId && c.messageIdValid) {
                    orphanKeys.push_back(qidMessageKey(c));
                    t.writtenWithoutId = false;
                }
                if (!c.messageIdValid) t.writtenWithoutId = true;
                copies.push_back(std::move(c));
            }
        }
        for (auto it = m_track.begin(); it != m_track.end();)
            it = it->second.round == m_round ? std::next(it) : m_track.erase(it);

        const bool heartbeatDue = started - m_lastHeartbeat >= 5000;
        m_pendingLines += static_cast<qint64>(m_lines.size());
        if (m_pendingLines == 0 && copies.empty() && rejects.empty() && !heartbeatDue && !final) return;
        SqliteDb& db = m_store.db();
        try {
            if (m_pendingLines == 0 && copies.empty() && rejects.empty()) {
                SqliteStmt hb = db.prepare("UPDATE live_sessions SET heartbeat_at = ?2 WHERE id = ?1");
                hb.bind(1, static_cast<std::int64_t>(sessionId)).bind(2, static_cast<std::int64_t>(started)).exec();
                m_lastHeartbeat = started;
                return;
            }
            // Detection reads the case in one snapshot (CaseDetection::run), so batches go on
            // while it runs; its write-back and our commit take turns through SQLite's lock.
            m_store.beginFile(m_figures);
            m_store.writeCopies(copies);
            m_store.writeRejects(rejects);
            // The first problems of the session, not a row per bad line of a flood.
            if (m_issuesWritten < 200 && !m_issues.empty()) {
                if (m_issues.size() > static_cast<std::size_t>(200 - m_issuesWritten)) m_issues.resize(static_cast<std::size_t>(200 - m_issuesWritten));
                m_store.writeIssues(m_issues);
                m_issuesWritten += static_cast<qint64>(m_issues.size());
            }
            // A copy first written before its Message-ID was logged left a message under its
            // queue id; now that the copy joined its real message, that one is empty.
            if (!orphanKeys.empty()) {
                SqliteStmt del = db.prepare("DELETE FROM messages WHERE msg_key = ?1 AND NOT EXISTS (SELECT 1 FROM copies WHERE copies.message_id = messages.id)");
                for (const std::string& k : orphanKeys) del.bind(1, k).exec();
            }
            SqliteStmt pos = db.prepare(
                "INSERT INTO live_files(path, device, inode, offset, tail, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT(path) DO UPDATE SET device = excluded.device, inode = excluded.inode, offset = excluded.offset, "
                "tail = excluded.tail, updated_at = excluded.updated_at");
            for (auto& [p, dirty] : m_positions) {
                if (!dirty) continue;
                pos.bind(1, p.path.toStdString()).bind(2, static_cast<std::int64_t>(p.device)).bind(3, static_cast<std::int64_t>(p.inode))
                    .bind(4, p.offset).bind(5, p.tail).bind(6, static_cast<std::int64_t>(started)).exec();
                dirty = false;
            }
            if (newest) m_lastReceive = newest;
            SqliteStmt ses = db.prepare("UPDATE live_sessions SET heartbeat_at = ?2, lines = ?3, last_receive_at = ?4 WHERE id = ?1");
            ses.bind(1, static_cast<std::int64_t>(sessionId)).bind(2, static_cast<std::int64_t>(started))
                .bind(3, static_cast<std::int64_t>(m_committedLines + m_pendingLines));
            if (m_lastReceive) ses.bind(4, static_cast<std::int64_t>(m_lastReceive)); else ses.bindNull(4);
            ses.exec();
            m_store.commitFile(m_figures);
            m_lastHeartbeat = started;
            m_committedLines += m_pendingLines;
            m_pendingLines = 0;
        } catch (const std::exception& e) {
            m_store.rollbackFile();
            // Kept for the next batch (a batch import holding the case, a full disk): the lines
            // already went through the assembler, their copies wait here, the offsets stay dirty.
            for (auto& [p, dirty] : m_positions) dirty = dirty || p.offset > 0;
            m_retryCopies = std::move(copies);
            m_retryRejects = std::move(rejects);
            emit m_owner->notice(QStringLiteral("live batch of %1 lines not written yet (%2); retrying with the next one")
                                     .arg(m_pendingLines).arg(QString::fromUtf8(e.what())));
            return;
        }
        if (oldest) {
            qint64 expected = 0;
            m_uncoveredOldest.compare_exchange_strong(expected, oldest);
        }
        ++m_batches;
        // The session's caches grow with every message: let them go now and then (flat memory).
        if (m_batches % 64 == 0) m_store.dropSessionCaches();
        LiveStats s;
        s.batch = m_batches;
        s.lines = m_committedLines;
        s.batchLines = static_cast<qint64>(m_lines.size());
        s.accepted = m_figures.accepted;
        s.rejected = m_figures.rejected;
        s.skipped = m_figures.skipped;
        s.copiesWritten = static_cast<qint64>(copies.size());
        s.messages = db.scalar("SELECT count(*) FROM messages");
        const qint64 done = nowMs();
        s.batchMs = done - started;
        s.lagMs = oldest ? done - oldest : 0;
        s.queued = static_cast<qint64>(m_queue->size());
        s.dropped = m_queue->dropped();
        m_generation.fetch_add(1);
        {
            std::lock_guard lock(m_statsMutex);
            m_lastStats = s;
        }
        m_lines.clear();
        if (onCommitted) onCommitted();
        emit m_owner->appended(s.messages);
    }

    // The last batch: everything received, every open copy as it stands; the session ends clean.
    void finish() {
        if (m_timer) m_timer->stop();
        batch(true);
        try {
            SqliteStmt st = m_store.db().prepare("UPDATE live_sessions SET ended_at = ?2, clean = 1, heartbeat_at = ?2 WHERE id = ?1");
            st.bind(1, static_cast<std::int64_t>(sessionId)).bind(2, static_cast<std::int64_t>(nowMs())).exec();
        } catch (const std::exception& e) {
            emit m_owner->notice(QStringLiteral("could not record the end of the session: %1").arg(QString::fromUtf8(e.what())));
        }
        m_store.close();
    }

    qint64 generation() const { return m_generation.load(); }
    // The receive time of the oldest line committed since the last call (0: none).
    qint64 takeUncoveredOldest() { return m_uncoveredOldest.exchange(0); }

    qint64 sessionId = 0;
    QString previousNote;
    std::vector<FollowPosition> positions;
    LiveStats lastStats() const {
        std::lock_guard lock(m_statsMutex);
        return m_lastStats;
    }
    std::function<void()> onCommitted;
    // Held by the writer for each transaction and by detection for each run. CaseDetection's
    // loader reads the copies in two statements on a connection of its own (their id range,
    // then the rows) and trusts the range: a batch committed between the two would give it
    // rows outside the range (a write out of bounds). Until the loader checks the range, the
    // two take turns; lines keep arriving meanwhile (the receivers do not wait).

private:
    struct Track {
        std::size_t fingerprint = 0;
        qint64 changedAt = 0;
        std::uint64_t round = 0;
        bool written = false;
        bool writtenWithoutId = false;
    };
    LiveIngest* m_owner;
    QString m_casePath;
    LiveConfig m_config;
    LineQueue* m_queue;
    CaseStore m_store;
    PostfixAssembler m_assembler;
    ImportFileFigures m_figures;
    std::vector<ParseIssue> m_issues;
    LogLineFeeder m_feeder;
    std::string m_sessionPath;
    std::vector<std::pair<FollowPosition, bool>> m_positions;
    std::vector<LiveLine> m_lines;
    std::vector<CopyRecord> m_open;
    std::vector<CopyRecord> m_retryCopies;
    std::vector<RejectRecord> m_retryRejects;
    qint64 m_pendingLines = 0; // through the assembler, not committed yet
    std::unordered_map<std::string, Track> m_track;
    std::uint64_t m_round = 0;
    QTimer* m_timer = nullptr;
    qint64 m_lineNo = 0, m_committedLines = 0, m_lastReceive = 0, m_lastHeartbeat = 0, m_batches = 0, m_issuesWritten = 0;
    std::atomic<qint64> m_generation{0};
    std::atomic<qint64> m_uncoveredOldest{0};
    mutable std::mutex m_statsMutex;
    LiveStats m_lastStats;
};

// ------------------------------------------------------------------ detection

class LiveIngest::Detect : public QObject {
public:
    Detect(LiveIngest* owner, QString casePath, const LiveConfig& config, Writer* writer)
        : m_owner(owner), m_casePath(std::move(casePath)), m_config(config), m_writer(writer) {}

    bool open(QString* error) {
        try {
            m_store.open(m_casePath, false);
            m_store.db().exec("PRAGMA cache_size = -16384"); // each run reads the case afresh anyway
        } catch (const std::exception& e) {
            if (error) *error = QString::fromUtf8(e.what());
            return false;
        }
        if (m_config.serversFile.isEmpty()) {
            m_dir = recall::ServerDirectory::demoEverywhere();
        } else if (!m_dir.loadFile(m_config.serversFile, error)) {
            return false;
        }
        return true;
    }

    // After a commit (queued from the writer; calls that pile up during a slow run collapse).
    void run(bool force) {
        const qint64 gen = m_writer->generation();
        if (!force && gen == m_lastGeneration) return;
        m_lastGeneration = gen;
        const qint64 receivedBound = m_writer->takeUncoveredOldest();
        const qint64 t0 = nowMs();
        det::CaseDetectionReport rep;
        try {
            rep = det::CaseDetection::run(m_store, true);
        } catch (const std::exception& e) {
            emit m_owner->notice(QStringLiteral("live detection failed: %1").arg(QString::fromUtf8(e.what())));
            return;
        }
        runs.fetch_add(1);
        lastMs.store(nowMs() - t0);
        if (rep.upToDate && !force) return;
        const bool changed = rep.flagged != m_lastFlagged || rep.campaigns != m_lastCampaigns;
        m_lastFlagged = rep.flagged;
        m_lastCampaigns = rep.campaigns;
        try {
            announce(receivedBound);
        } catch (const std::exception& e) {
            emit m_owner->notice(QStringLiteral("live: planning the recall failed: %1").arg(QString::fromUtf8(e.what())));
        }
        if (changed) emit m_owner->campaignsUpdated();
    }

    void setAutoSuspend(qint64 alertId, const QString& analyst, bool on) {
        SqliteStmt st = m_store.db().prepare("UPDATE live_alerts SET auto_suspend_by = ?2, auto_suspend_at = ?3 WHERE id = ?1");
        st.bind(1, static_cast<std::int64_t>(alertId));
        const std::string who = analyst.toStdString();
        if (on) st.bind(2, who).bind(3, static_cast<std::int64_t>(nowMs()));
        else st.bindNull(2).bindNull(3);
        st.exec();
        run(true);
    }

    void close() { m_store.close(); }

    std::atomic<qint64> runs{0}, lastMs{0};

private:
    void announce(qint64 receivedBound) {
        SqliteDb& db = m_store.db();
        struct C {
            qint64 id, anchor, detectedAt;
            std::string label;
        };
        std::vector<C> campaigns;
        {
            SqliteStmt st = db.prepare("SELECT id, patient_zero_message_id, coalesce(detected_at, first_seen), coalesce(label, '') FROM campaigns ORDER BY id");
            while (st.step()) campaigns.push_back({st.int64(0), st.int64(1), st.int64(2), st.text(3)});
        }
        SqliteStmt known = db.prepare(
            "SELECT a.id, a.auto_suspend_by FROM live_alerts a JOIN campaign_messages cm ON cm.message_id = a.anchor_message_id "
            "WHERE cm.campaign_id = ?1 ORDER BY a.id LIMIT 1");
        SqliteStmt unplanned = db.prepare(
            "SELECT cm.message_id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE cm.campaign_id = ?1 "
            "AND NOT EXISTS (SELECT 1 FROM recall_requests r WHERE r.message_id = cm.message_id) ORDER BY m.time, m.id");
        for (const C& c : campaigns) {
            qint64 alertId = 0;
            std::string autoBy;
            known.bind(1, static_cast<std::int64_t>(c.id));
            if (known.step()) {
                alertId = known.int64(0);
                autoBy = known.text(1);
            }
            known.reset();
            const bool fresh = alertId == 0;
            if (fresh) {
                SqliteStmt ins = db.prepare(
                    "INSERT INTO live_alerts(session_id, anchor_message_id, campaign_label, detected_at, alerted_at, received_at) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
                ins.bind(1, static_cast<std::int64_t>(m_writer->sessionId)).bind(2, static_cast<std::int64_t>(c.anchor))
                    .bind(3, c.label).bind(4, static_cast<std::int64_t>(c.detectedAt)).bind(5, static_cast<std::int64_t>(nowMs()));
                if (receivedBound) ins.bind(6, static_cast<std::int64_t>(receivedBound)); else ins.bindNull(6);
                ins.exec();
                alertId = db.lastInsertId();
                emit m_owner->newCampaign(c.id, QString::fromStdString(c.label), c.detectedAt, alertId);
            }
            // The plan: every flagged message's copies, proposed; messages joining later are added.
            std::vector<std::int64_t> messages;
            unplanned.bind(1, static_cast<std::int64_t>(c.id));
            while (unplanned.step()) messages.push_back(unplanned.int64(0));
            unplanned.reset();
            std::vector<std::int64_t> proposed;
            if (!messages.empty()) {
                const recall::Plan plan = recall::buildPlan(db, m_dir, messages, m_config.analyst.toStdString());
                proposed = plan.proposedIds;
                if (!proposed.empty() || fresh)
                    emit m_owner->planProposed(alertId, c.id, static_cast<qint64>(proposed.size()));
            }
            if (!autoBy.empty()) suspend(c.id, autoBy);
        }
    }

    // Auto-suspend: the campaign's proposed requests, approved in the enabling analyst's name
    // and run (suspension only: quarantine or hold; deletion waits for a verdict).
    void suspend(qint64 campaignId, const std::string& analyst) {
        SqliteDb& db = m_store.db();
        std::vector<std::int64_t> ids;
        SqliteStmt st = db.prepare(
            "SELECT r.id FROM recall_requests r JOIN campaign_messages cm ON cm.message_id = r.message_id "
            "WHERE cm.campaign_id = ?1 AND r.state = 'proposed'");
        st.bind(1, static_cast<std::int64_t>(campaignId));
        while (st.step()) ids.push_back(st.int64(0));
        if (ids.empty()) return;
        recall::RecallStore rs(db);
        const std::string who = analyst + " (auto-suspend)";
        recall::approveRequests(rs, ids, who);
        recall::RecallRunner runner(db, m_dir);
        recall::RunOptions o;
        o.action = recall::RunAction::Recall;
        o.analyst = who;
        o.requestIds = ids;
        runner.run(o);
    }

    LiveIngest* m_owner;
    QString m_casePath;
    LiveConfig m_config;
    Writer* m_writer;
    CaseStore m_store;
    recall::ServerDirectory m_dir;
    qint64 m_lastGeneration = -1, m_lastFlagged = -1;
    int m_lastCampaigns = -1;
};

// ------------------------------------------------------------------ facade

LiveIngest::LiveIngest(const QString& casePath, LiveConfig config, QObject* parent)
    : QObject(parent), m_casePath(casePath), m_config(std::move(config)) {
    qRegisterMetaType<mt::live::LiveStats>();
}

LiveIngest::~LiveIngest() { stop(); }

int LiveIngest::udpPort() const { return m_listener ? m_listener->udpPort() : -1; }
int LiveIngest::tcpPort() const { return m_listener ? m_listener->tcpPort() : -1; }
int LiveIngest::tlsPort() const { return m_listener ? m_listener->tlsPort() : -1; }

bool LiveIngest::start() {
    if (m_running) return true;
    m_error.clear();
    if (m_config.flushIntervalMs <= 0 || m_config.flushIntervalMs > 1000) m_config.flushIntervalMs = 500;
    m_queue = std::make_unique<LineQueue>();
    QStringList sources;
    for (const QString& f : m_config.files) sources << QFileInfo(f).absoluteFilePath();
    const bool listens = m_config.syslog.udpPort >= 0 || m_config.syslog.tcpPort >= 0 || m_config.syslog.tlsPort >= 0;
    if (sources.isEmpty() && !listens) {
        m_error = tr("nothing to follow and no port to listen on");
        return false;
    }

    m_writeThread = new QThread(this);
    m_writeThread->setObjectName(QStringLiteral("live-write"));
    m_writer = new Writer(this, m_casePath, m_config, m_queue.get());
    m_writer->moveToThread(m_writeThread);
    m_receiveThread = new QThread(this);
    m_receiveThread->setObjectName(QStringLiteral("live-receive"));
    m_detectThread = new QThread(this);
    m_detectThread->setObjectName(QStringLiteral("live-detect"));
    m_writeThread->start();
    m_receiveThread->start();
    m_detectThread->start();

    auto fail = [&](const QString& why) {
        m_error = why;
        m_running = true; // so that stop() tears down what started
        stop();
        return false;
    };

    // The listener first (binding is what fails most), then the case.
    m_listener = new SyslogListener(m_queue.get(), m_config.syslog);
    m_listener->moveToThread(m_receiveThread);
    connect(m_listener, &SyslogListener::notice, this, &LiveIngest::notice);
    if (listens) {
        bool ok = false;
        QString why;
        runIn(m_listener, [&] { ok = m_listener->start(&why); });
        if (!ok) return fail(why);
        sources << m_listener->describe();
    }
    bool opened = false;
    QString why;
    runIn(m_writer, [&] { opened = m_writer->open(m_config.files, sources.join(QLatin1Char(' ')), &why); });
    if (!opened) return fail(why);
    m_sessionId = m_writer->sessionId;
    m_previousNote = m_writer->previousNote;
    if (!m_previousNote.isEmpty()) emit notice(m_previousNote);

    if (m_config.detect) {
        m_detect = new Detect(this, m_casePath, m_config, m_writer);
        m_detect->moveToThread(m_detectThread);
        bool ok = false;
        runIn(m_detect, [&] { ok = m_detect->open(&why); });
        if (!ok) return fail(why);
        Detect* d = m_detect;
        m_writer->onCommitted = [d] { QMetaObject::invokeMethod(d, [d] { d->run(false); }, Qt::QueuedConnection); };
    }
    auto* follower = new LogFollower(m_queue.get());
    m_follower = follower;
    follower->setPollInterval(m_config.pollMs);
    for (std::size_t i = 0; i < m_writer->positions.size(); ++i)
        follower->follow(m_writer->positions[i].path, &m_writer->positions[i]);
    follower->moveToThread(m_receiveThread);
    connect(follower, &LogFollower::notice, this, [this](const QString& path, const QString& what) { emit notice(path + QStringLiteral(": ") + what); });
    // Stats after each commit, with the receivers' and detection's counters.
    connect(this, &LiveIngest::appended, this, [this] { emitStats(); });
    if (!m_config.files.isEmpty()) QMetaObject::invokeMethod(follower, [follower] { follower->start(); }, Qt::QueuedConnection);
    m_running = true;
    return true;
}

void LiveIngest::emitStats() {
    if (!m_writer) return;
    LiveStats s = m_writer->lastStats();
    if (!s.batch || s.batch == m_statsBatch) return;
    m_statsBatch = s.batch;
    if (m_listener) s.listener = m_listener->counters();
    if (m_follower) s.followedLines = m_follower->linesRead();
    if (m_detect) {
        s.detectionRuns = m_detect->runs.load();
        s.lastDetectMs = m_detect->lastMs.load();
    }
    emit stats(s);
}

void LiveIngest::flushNow() {
    if (!m_running) return;
    if (m_follower) runIn(m_follower, [this] { m_follower->poll(); });
    if (m_writer) runIn(m_writer, [this] { m_writer->batch(false); });
}

void LiveIngest::setAutoSuspend(qint64 alertId, const QString& analyst, bool on) {
    if (!m_detect) return;
    Detect* d = m_detect;
    QMetaObject::invokeMethod(d, [d, alertId, analyst, on] { d->setAutoSuspend(alertId, analyst, on); }, Qt::QueuedConnection);
}

void LiveIngest::stop() {
    if (!m_running) return;
    m_running = false;
    // 1. Receivers: a last read, then nothing more arrives.
    if (m_follower) runIn(m_follower, [this] { m_follower->stop(); });
    if (m_listener) runIn(m_listener, [this] { m_listener->stop(); });
    if (m_receiveThread) {
        m_receiveThread->quit();
        m_receiveThread->wait();
    }
    // 2. Writer: everything received is committed, the session ends clean.
    if (m_writer && m_writer->sessionId) runIn(m_writer, [this] { m_writer->finish(); });
    if (m_writer) m_writer->onCommitted = nullptr;
    if (m_writeThread) {
        m_writeThread->quit();
        m_writeThread->wait();
    }
    // 3. Detection over the last of it.
    if (m_detect) runIn(m_detect, [this] {
        m_detect->run(false);
        m_detect->close();
    });
    if (m_detectThread) {
        m_detectThread->quit();
        m_detectThread->wait();
    }
    emitStats(); // the last figures, before the objects go
    disconnect(this, &LiveIngest::appended, this, nullptr);
    delete m_follower;
    m_follower = nullptr;
    delete m_listener;
    m_listener = nullptr;
    delete m_writer;
    m_writer = nullptr;
    delete m_detect;
    m_detect = nullptr;
    delete m_receiveThread;
    delete m_writeThread;
    delete m_detectThread;
    m_receiveThread = m_writeThread = m_detectThread = nullptr;
    m_queue.reset();
}

} // namespace mt::live
