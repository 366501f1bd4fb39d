#include "ReportData.h"
#include "model/CaseReader.h"

#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>
#include <QVariant>

namespace mt::report {

namespace {

// A connection of the report's own, closed when the load is done (any thread).
class Connection {
public:
    explicit Connection(const QString& path) : m_name(QStringLiteral("mt-report-") + QUuid::createUuid().toString(QUuid::WithoutBraces)) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        const CaseReadAccess access = caseReadAccess(path); // immutable on a read-only mount
        db.setDatabaseName(access.databaseName);
        db.setConnectOptions(access.immutable ? access.connectOptions
                                              : QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        m_ok = db.open();
        if (!m_ok) m_error = db.lastError().text();
    }
    ~Connection() {
        { QSqlDatabase db = QSqlDatabase::database(m_name, false); if (db.isOpen()) db.close(); }
        QSqlDatabase::removeDatabase(m_name);
    }
    bool ok() const { return m_ok; }
    QString error() const { return m_error; }
    QSqlDatabase db() const { return QSqlDatabase::database(m_name, false); }
    bool hasTable(const QString& table) const {
        QSqlQuery q(db());
        q.prepare(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
        q.addBindValue(table);
        return q.exec() && q.next() && q.value(0).toInt() > 0;
    }

private:
    QString m_name, m_error;
    bool m_ok = false;
};

// Queries name the campaign :c (SQLite lets one name appear several times).
QVector<Count> counts(QSqlDatabase db, const QString& sql, qint64 campaign = 0) {
    QVector<Count> out;
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(sql);
    if (sql.contains(QLatin1String(":c"))) q.bindValue(QStringLiteral(":c"), campaign);
    if (!q.exec()) return out;
    while (q.next()) out.push_back({q.value(0).toString(), q.value(1).toLongLong(), q.record().count() > 2 ? q.value(2).toLongLong() : 0});
    return out;
}

qint64 scalar(QSqlDatabase db, const QString& sql, qint64 campaign = 0) {
    QSqlQuery q(db);
    q.prepare(sql);
    if (sql.contains(QLatin1String(":c"))) q.bindValue(QStringLiteral(":c"), campaign);
    return q.exec() && q.next() ? q.value(0).toLongLong() : 0;
}

// The final recipients of a campaign's messages.
constexpr const char* kCampaignRecipients =
    "SELECT DISTINCT lower(d.recipient) AS r FROM deliveries d JOIN copies c ON c.id = d.copy_id "
    "JOIN campaign_messages cm ON cm.message_id = c.message_id WHERE d.is_final = 1 AND cm.campaign_id = :c";

} // namespace

qint64 ReportData::recallCount(const QString& state) const {
    for (const Count& c : recallStates)
        if (c.name == state) return c.value;
    return 0;
}

bool loadReportData(const QString& casePath, const ReportOptions& options, ReportData& out, QString* error) {
    out = ReportData{};
    CaseReader reader(casePath);
    if (!reader.isOpen()) {
        if (error) *error = reader.error();
        return false;
    }
    Connection conn(casePath);
    if (!conn.ok()) {
        if (error) *error = conn.error();
        return false;
    }
    QSqlDatabase db = conn.db();
    out.casePath = QFileInfo(casePath).absoluteFilePath();
    out.caseName = QFileInfo(casePath).completeBaseName();
    out.analyst = options.analyst.isEmpty() ? qEnvironmentVariable("USER", QStringLiteral("analyst")) : options.analyst;
    out.generatedAt = QDateTime::currentDateTimeUtc();
    out.counts = reader.counts();
    out.periodFrom = scalar(db, QStringLiteral("SELECT min(time) FROM messages"));
    out.periodTo = scalar(db, QStringLiteral("SELECT max(time) FROM messages"));
    out.detected = reader.hasDetection();

    if (out.detected) {
        const QString restrict = options.campaignId > 0 ? QStringLiteral(" WHERE cm.campaign_id = %1").arg(options.campaignId) : QString();
        out.flagged = scalar(db, QStringLiteral("SELECT count(*) FROM campaign_messages cm") + restrict);
        // Reached: the senders of flagged mail and its final recipients, and their units.
        const QString reached = QStringLiteral(
            "SELECT lower(m.sender) AS who FROM messages m JOIN campaign_messages cm ON cm.message_id = m.id%1 "
            "UNION SELECT lower(d.recipient) FROM deliveries d JOIN copies c ON c.id = d.copy_id JOIN campaign_messages cm "
            "ON cm.message_id = c.message_id WHERE d.is_final = 1%2")
                                    .arg(restrict, options.campaignId > 0 ? QStringLiteral(" AND cm.campaign_id = %1").arg(options.campaignId) : QString());
        out.usersReached = scalar(db, QStringLiteral("SELECT count(*) FROM (%1)").arg(reached));
        out.unitsReached = scalar(db, QStringLiteral("SELECT count(DISTINCT u.unit_id) FROM users u WHERE u.email IN (%1)").arg(reached));
        out.flaggedRecipients = scalar(db, QStringLiteral(
            "SELECT count(*) FROM deliveries d JOIN copies c ON c.id = d.copy_id JOIN campaign_messages cm ON cm.message_id = "
            "c.message_id WHERE d.is_final = 1%1").arg(options.campaignId > 0 ? QStringLiteral(" AND cm.campaign_id = %1").arg(options.campaignId) : QString()));

        for (const CampaignView& c : reader.campaigns()) {
            if (options.campaignId > 0 && c.id != options.campaignId) continue;
            CampaignSection s;
            s.campaign = c;
            const qint64 id = c.id;
            s.generations = counts(db, QStringLiteral("SELECT coalesce(generation, 0), count(*) FROM campaign_messages WHERE campaign_id = :c "
                                                      "GROUP BY 1 ORDER BY 1"), id);
            s.topUnits = counts(db, QStringLiteral(
                "WITH sent AS (SELECT coalesce(n.path, 'Unassigned') AS unit, count(*) AS k FROM campaign_messages cm JOIN messages m ON "
                "m.id = cm.message_id LEFT JOIN users u ON u.email = lower(m.sender) LEFT JOIN units n ON n.id = u.unit_id "
                "WHERE cm.campaign_id = :c AND u.email IS NOT NULL GROUP BY 1), "
                "got AS (SELECT coalesce(n.path, 'Unassigned') AS unit, count(*) AS k FROM (%1) r JOIN users u ON u.email = r.r "
                "LEFT JOIN units n ON n.id = u.unit_id GROUP BY 1) "
                "SELECT unit, sum(s), sum(g) FROM (SELECT unit, k AS s, 0 AS g FROM sent UNION ALL SELECT unit, 0, k FROM got) "
                "GROUP BY unit ORDER BY sum(s) + sum(g) DESC, unit LIMIT %2").arg(QLatin1String(kCampaignRecipients)).arg(options.topN), id);
            s.topUsers = counts(db, QStringLiteral(
                "SELECT lower(m.sender), count(*), (SELECT count(*) FROM deliveries d JOIN copies c ON c.id = d.copy_id JOIN "
                "campaign_messages x ON x.message_id = c.message_id JOIN messages mm ON mm.id = x.message_id WHERE d.is_final = 1 "
                "AND x.campaign_id = :c AND lower(mm.sender) = lower(m.sender)) FROM campaign_messages cm JOIN messages m ON "
                "m.id = cm.message_id WHERE cm.campaign_id = :c GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %1").arg(options.topN), id);
            s.attachments = counts(db, QStringLiteral(
                "SELECT a.name, count(*) FROM attachments a JOIN campaign_messages cm ON cm.message_id = a.message_id WHERE "
                "cm.campaign_id = :c GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %1").arg(options.topN), id);
            // The last extension of each name, lower case.
            QHash<QString, qint64> ext;
            for (const Count& a : counts(db, QStringLiteral("SELECT a.name, count(*) FROM attachments a JOIN campaign_messages cm ON "
                                                            "cm.message_id = a.message_id WHERE cm.campaign_id = :c GROUP BY 1"), id)) {
                const int dot = a.name.lastIndexOf(QLatin1Char('.'));
                ext[dot >= 0 ? a.name.mid(dot + 1).toLower() : QStringLiteral("(none)")] += a.value;
            }
            for (auto it = ext.cbegin(); it != ext.cend(); ++it) s.attachmentTypes.push_back({QLatin1Char('.') + it.key(), it.value(), 0});
            std::sort(s.attachmentTypes.begin(), s.attachmentTypes.end(),
                      [](const Count& a, const Count& b) { return a.value != b.value ? a.value > b.value : a.name < b.name; });
            {
                QSqlQuery q(db);
                q.prepare(QStringLiteral(
                    "SELECT h.rule_id, count(DISTINCT h.message_id), max(h.count), min(nullif(h.threshold, 0)), min(h.key) FROM hits h "
                    "JOIN campaign_messages cm ON cm.message_id = h.message_id WHERE cm.campaign_id = :c GROUP BY 1 ORDER BY 2 DESC, 1"));
                q.bindValue(QStringLiteral(":c"), c.id);
                if (q.exec())
                    while (q.next())
                        s.rules.push_back({q.value(0).toString(), q.value(1).toLongLong(), q.value(2).toLongLong(),
                                           q.value(3).toLongLong(), q.value(4).toString()});
            }
            s.recipients = scalar(db, QStringLiteral("SELECT count(*) FROM (%1)").arg(QLatin1String(kCampaignRecipients)), id);
            s.usersReached = scalar(db, QStringLiteral("SELECT count(*) FROM (SELECT lower(m.sender) FROM messages m JOIN campaign_messages cm "
                                                       "ON cm.message_id = m.id WHERE cm.campaign_id = :c UNION %1)")
                                            .arg(QLatin1String(kCampaignRecipients)),
                                    id);
            {
                QSqlQuery q(db);
                q.setForwardOnly(true);
                q.prepare(QStringLiteral("SELECT cm.message_id, coalesce(cm.parent_message_id, 0), m.time, coalesce(cm.generation, 0), "
                                         "lower(m.sender) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE "
                                         "cm.campaign_id = :c ORDER BY cm.generation, m.time LIMIT %1").arg(options.maxTreeNodes));
                q.bindValue(QStringLiteral(":c"), c.id);
                if (q.exec())
                    while (q.next())
                        s.tree.push_back({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toLongLong(),
                                          q.value(3).toInt(), q.value(4).toString()});
            }
            out.campaigns.push_back(s);
        }
    }

    // Recall (issue 6), when the case has its tables.
    if (conn.hasTable(QStringLiteral("recall_requests"))) {
        out.recallStates = counts(db, QStringLiteral("SELECT state, count(*) FROM recall_requests GROUP BY 1 ORDER BY 2 DESC, 1"));
        out.hasRecall = !out.recallStates.isEmpty();
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (q.exec(QStringLiteral("SELECT sum(read_state = 'while-suspended'), sum(read_state = 'before-recall') FROM recall_requests"))
            && q.next()) { // schema 6; older cases have no read_state (the query fails, the counts stay 0)
            out.recallReadWhileSuspended = q.value(0).toLongLong();
            out.recallReadBefore = q.value(1).toLongLong();
        }
        if (q.exec(QStringLiteral("SELECT coalesce(server, ''), state, count(*) FROM recall_requests GROUP BY 1, 2 ORDER BY 1, 3 DESC"))) {
            while (q.next()) {
                const QString server = q.value(0).toString();
                if (out.recallByServer.isEmpty() || out.recallByServer.last().server != server) out.recallByServer.push_back({server, {}});
                out.recallByServer.last().states.push_back({q.value(1).toString(), q.value(2).toLongLong(), 0});
            }
        }
    }
    if (conn.hasTable(QStringLiteral("audit"))) {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (q.exec(QStringLiteral(
                "SELECT at, analyst, action, coalesce(server, ''), trim(coalesce('#' || request_id || ' ', '') || coalesce(recipient, '') "
                "|| coalesce(' ' || state_from || '→' || state_to, coalesce(' → ' || state_to, ''))), coalesce(answer, '') FROM audit ORDER BY id")))
            while (q.next())
                out.audit.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString(),
                                     q.value(4).toString(), q.value(5).toString()});
    }
    return true;
}

} // namespace mt::report
