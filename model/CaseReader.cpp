#include "CaseReader.h"

#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QUrl>
#include <unistd.h>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace mt {

namespace {

QString str(const QVariant& v) { return v.isNull() ? QString() : v.toString(); }

// The SELECT list shared by every message query; keep in step with readMessage().
constexpr const char* kMessageColumns =
    "m.id, m.message_id, m.time, m.sender, m.client_host, m.client_ip, m.sasl_user, m.size, m.subject, "
    "(SELECT name FROM servers WHERE id = m.origin_server_id)";

MessageView readMessage(const QSqlQuery& q) {
    MessageView m;
    m.id = q.value(0).toLongLong();
    m.messageId = str(q.value(1));
    m.time = q.value(2).toLongLong();
    m.sender = str(q.value(3));
    m.clientHost = str(q.value(4));
    m.clientIp = str(q.value(5));
    m.saslUser = str(q.value(6));
    m.size = q.value(7).isNull() ? -1 : q.value(7).toLongLong();
    m.subject = str(q.value(8));
    m.originServer = str(q.value(9));
    return m;
}

} // namespace

QString MessageView::client() const {
    if (clientHost.isEmpty() && clientIp.isEmpty()) return {};
    if (clientIp.isEmpty()) return clientHost;
    return clientHost + QLatin1Char('[') + clientIp + QLatin1Char(']');
}

CaseReadAccess caseReadAccess(const QString& path) {
    CaseReadAccess a;
    const QFileInfo fi(path);
    const bool fileRo = ::access(QFile::encodeName(fi.absoluteFilePath()).constData(), W_OK) != 0;
    const bool dirRo = ::access(QFile::encodeName(fi.absolutePath()).constData(), W_OK) != 0;
    if (!fileRo && !dirRo) {
        a.databaseName = path;
        a.connectOptions = QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000");
        return a;
    }
    a.immutable = true;
    QUrl url = QUrl::fromLocalFile(fi.absoluteFilePath());
    url.setQuery(QStringLiteral("immutable=1"));
    a.databaseName = url.toString(QUrl::FullyEncoded);
    a.connectOptions = QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_OPEN_URI");
    a.note = QStringLiteral("%1 is read-only (%2 cannot be written): opened read-only and immutable; commands that "
                            "change the case (import, detect, recall, ...) will refuse it")
                 .arg(path, fileRo ? QStringLiteral("the file") : QStringLiteral("its folder"));
    const QFileInfo wal(fi.absoluteFilePath() + QStringLiteral("-wal"));
    if (wal.exists() && wal.size() > 0)
        a.note += QStringLiteral("; its write-ahead log %1 cannot be applied read-only, so changes still in it are not "
                                 "shown: copy the case and its -wal file to a writable folder to see them")
                      .arg(wal.fileName());
    return a;
}

QString caseIdentityProblem(QSqlDatabase db, const QString& path) {
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("SELECT (SELECT application_id FROM pragma_application_id), "
                               "(SELECT user_version FROM pragma_user_version)"))
        || !q.next())
        return QStringLiteral("%1 is not a MailTriage case file (not a SQLite database: %2)").arg(path, q.lastError().text());
    const qint64 appId = q.value(0).toLongLong();
    const int version = q.value(1).toInt();
    bool ours = appId == CaseStore::kApplicationId;
    if (!ours && appId == 0 && version >= 1) {
        ours = true; // written before the application id: recognised by its tables
        for (const char* t : CaseStore::kCoreTables) {
            QSqlQuery t2(db);
            t2.prepare(QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
            t2.addBindValue(QString::fromLatin1(t));
            ours = ours && t2.exec() && t2.next();
        }
    }
    if (!ours)
        return appId ? QStringLiteral("%1 is not a MailTriage case file: a SQLite database of another application "
                                      "(application_id 0x%2)")
                           .arg(path, QString::number(quint32(appId), 16))
                     : QStringLiteral("%1 is not a MailTriage case file: a SQLite database of another kind").arg(path);
    if (version < 1 || version > CaseStore::kSchemaVersion)
        return QStringLiteral("%1 is a MailTriage case this build cannot read (schema %2; this build knows 1 to %3)")
            .arg(path)
            .arg(version)
            .arg(CaseStore::kSchemaVersion);
    return {};
}

CaseReader::CaseReader(const QString& path) : m_path(path) {
    m_connection = QStringLiteral("mt-reader-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    if (!QFile::exists(path)) {
        m_error = QStringLiteral("no such case file: %1").arg(path);
        return;
    }
    const CaseReadAccess access = caseReadAccess(path);
    QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    d.setDatabaseName(access.databaseName);
    d.setConnectOptions(access.connectOptions);
    if (!d.open()) {
        m_error = QStringLiteral("cannot open case file %1: %2").arg(path, d.lastError().text());
        return;
    }
    m_error = caseIdentityProblem(d, path);
    if (!m_error.isEmpty()) return;
    m_readOnlyNote = access.note;
    m_ok = true;
}

CaseReader::~CaseReader() {
    { QSqlDatabase d = QSqlDatabase::database(m_connection, false); if (d.isOpen()) d.close(); }
    QSqlDatabase::removeDatabase(m_connection);
}

QSqlDatabase CaseReader::db() const { return QSqlDatabase::database(m_connection, false); }

CaseCounts CaseReader::counts() {
    CaseCounts c;
    if (!m_ok) return c;
    QSqlQuery q(db());
    q.exec(QString::fromLatin1(kCaseCountsSql));
    if (q.next()) c = CaseCounts::fromRow([&](int i) { return static_cast<std::int64_t>(q.value(i).toLongLong()); });
    return c;
}

QVector<ImportRunView> CaseReader::importRuns() {
    QVector<ImportRunView> out;
    QSqlQuery q(db());
    q.exec(QStringLiteral("SELECT path, kind, size, lines, accepted, rejected, skipped, started_at, duration_ms "
                          "FROM imports ORDER BY id"));
    while (q.next()) {
        ImportRunView r;
        r.path = str(q.value(0));
        r.kind = str(q.value(1));
        r.size = q.value(2).toLongLong();
        r.lines = q.value(3).toLongLong();
        r.accepted = q.value(4).toLongLong();
        r.rejected = q.value(5).toLongLong();
        r.skipped = q.value(6).toLongLong();
        r.startedAt = q.value(7).toLongLong();
        r.durationMs = q.value(8).toLongLong();
        out.push_back(r);
    }
    return out;
}

void CaseReader::forEachMessage(const std::function<void(const MessageView&)>& fn) {
    if (!m_ok) return;
    // Three ordered scans merged by message id: far cheaper than a query per message.
    QSqlQuery msgs(db()), atts(db()), rcpts(db());
    msgs.setForwardOnly(true);
    atts.setForwardOnly(true);
    rcpts.setForwardOnly(true);
    msgs.exec(QStringLiteral("SELECT %1 FROM messages m ORDER BY m.id").arg(QLatin1String(kMessageColumns)));
    atts.exec(QStringLiteral("SELECT message_id, name FROM attachments ORDER BY message_id, rowid"));
    rcpts.exec(QStringLiteral(
        "SELECT c.message_id, d.recipient, d.destination, d.status FROM deliveries d JOIN copies c ON c.id = d.copy_id "
        "WHERE d.is_final = 1 ORDER BY c.message_id, d.recipient"));
    bool haveAtt = atts.next(), haveRcpt = rcpts.next();
    while (msgs.next()) {
        MessageView m = readMessage(msgs);
        while (haveAtt && atts.value(0).toLongLong() < m.id) haveAtt = atts.next();
        while (haveAtt && atts.value(0).toLongLong() == m.id) {
            m.attachments << atts.value(1).toString();
            haveAtt = atts.next();
        }
        while (haveRcpt && rcpts.value(0).toLongLong() < m.id) haveRcpt = rcpts.next();
        while (haveRcpt && rcpts.value(0).toLongLong() == m.id) {
            m.recipients.push_back({rcpts.value(1).toString(), str(rcpts.value(2)), str(rcpts.value(3))});
            haveRcpt = rcpts.next();
        }
        fn(m);
    }
}

QVector<qint64> CaseReader::messageIds(const QString& filter, MessageColumn sort, bool ascending,
                                       const QSet<QString>* onlyMessageIds) {
    return messageIds(filter, MessageScope{}, sort, ascending, onlyMessageIds);
}

QVector<qint64> CaseReader::messageIds(const QString& filter, const MessageScope& scope, MessageColumn sort,
                                       bool ascending, const QSet<QString>* onlyMessageIds) {
    QVector<qint64> ids;
    if (!m_ok || (onlyMessageIds && onlyMessageIds->isEmpty())) return ids;
    QString order;
    switch (sort) {
    case MessageColumn::Sender: order = QStringLiteral("m.sender"); break;
    case MessageColumn::Client: order = QStringLiteral("m.client_host, m.client_ip"); break;
    case MessageColumn::Subject: order = QStringLiteral("m.subject"); break;
    case MessageColumn::Size: order = QStringLiteral("m.size"); break;
    case MessageColumn::Server: order = QStringLiteral("m.origin_server_id"); break;
    case MessageColumn::Attachments:
        order = QStringLiteral("(SELECT min(name) FROM attachments a WHERE a.message_id = m.id)");
        break;
    case MessageColumn::Recipients:
        order = QStringLiteral("(SELECT count(*) FROM deliveries d JOIN copies c ON c.id = d.copy_id "
                               "WHERE c.message_id = m.id AND d.is_final = 1)");
        break;
    case MessageColumn::Flag:
        // Flagged first when descending: by campaign, then by score.
        order = QStringLiteral("(SELECT campaign_id FROM campaign_messages cm WHERE cm.message_id = m.id), "
                               "(SELECT score FROM campaign_messages cm WHERE cm.message_id = m.id)");
        break;
    default: order = QStringLiteral("m.time"); break;
    }
    const QString dir = ascending ? QStringLiteral(" ASC") : QStringLiteral(" DESC");
    // The id set is applied while reading the rows (a set of thousands does not fit an IN list).
    QString sql = onlyMessageIds ? QStringLiteral("SELECT m.id, m.message_id FROM messages m")
                                 : QStringLiteral("SELECT m.id FROM messages m");
    QStringList where;
    const QString needle = filter.trimmed();
    if (!needle.isEmpty()) {
        where << QStringLiteral(
            "(instr(lower(coalesce(m.sender,'') || ' ' || coalesce(m.subject,'') || ' ' || coalesce(m.client_host,'') "
            "|| ' ' || coalesce(m.client_ip,'') || ' ' || coalesce(m.message_id,'') || ' ' || coalesce(m.sasl_user,'')), :n) > 0"
            " OR m.id IN (SELECT message_id FROM attachments WHERE instr(lower(name), :n) > 0)"
            " OR m.id IN (SELECT c.message_id FROM deliveries d JOIN copies c ON c.id = d.copy_id "
            "WHERE instr(d.recipient, :n) > 0))");
    }
    if (scope.campaignId > 0)
        where << QStringLiteral("m.id IN (SELECT message_id FROM campaign_messages WHERE campaign_id = :campaign)");
    else if (scope.flaggedOnly)
        where << QStringLiteral("m.id IN (SELECT message_id FROM campaign_messages)");
    if (!scope.rule.isEmpty()) where << QStringLiteral("m.id IN (SELECT message_id FROM hits WHERE rule_id = :rule)");
    if (scope.to > scope.from) where << QStringLiteral("m.time >= :from AND m.time < :to");
    // A unit means the unit and every unit below it (paths are "Division/Department/Team").
    const QString unitUsers = QStringLiteral(
        "SELECT email FROM users WHERE unit_id IN (SELECT id FROM units WHERE path = :unit OR substr(path, 1, length(:unit) + 1) = :unit || '/')");
    if (!scope.unitPath.isEmpty())
        where << QStringLiteral("(lower(m.sender) IN (%1) OR m.id IN (SELECT c.message_id FROM deliveries d JOIN copies c "
                                "ON c.id = d.copy_id WHERE d.is_final = 1 AND lower(d.recipient) IN (%1)))").arg(unitUsers);
    if (!scope.user.isEmpty())
        where << QStringLiteral("(lower(m.sender) = :user OR m.id IN (SELECT c.message_id FROM deliveries d JOIN copies c "
                                "ON c.id = d.copy_id WHERE d.is_final = 1 AND lower(d.recipient) = :user))");
    if (!where.isEmpty()) sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += QStringLiteral(" ORDER BY ") + order + dir + QStringLiteral(", m.id") + dir;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    q.prepare(sql);
    if (!needle.isEmpty()) q.bindValue(QStringLiteral(":n"), needle.toLower());
    if (scope.campaignId > 0) q.bindValue(QStringLiteral(":campaign"), scope.campaignId);
    if (!scope.rule.isEmpty()) q.bindValue(QStringLiteral(":rule"), scope.rule);
    if (scope.to > scope.from) {
        q.bindValue(QStringLiteral(":from"), scope.from);
        q.bindValue(QStringLiteral(":to"), scope.to);
    }
    if (!scope.unitPath.isEmpty()) q.bindValue(QStringLiteral(":unit"), scope.unitPath);
    if (!scope.user.isEmpty()) q.bindValue(QStringLiteral(":user"), scope.user.toLower());
    if (!q.exec()) {
        m_error = q.lastError().text();
        return ids;
    }
    if (onlyMessageIds) {
        while (q.next())
            if (onlyMessageIds->contains(q.value(1).toString())) ids.push_back(q.value(0).toLongLong());
        return ids;
    }
    while (q.next()) ids.push_back(q.value(0).toLongLong());
    return ids;
}

QVector<MessageView> CaseReader::messages(const QVector<qint64>& ids) {
    QVector<MessageView> out;
    if (!m_ok || ids.isEmpty()) return out;
    QStringList list;
    list.reserve(ids.size());
    for (qint64 id : ids) list << QString::number(id);
    const QString in = list.join(QLatin1Char(','));
    QHash<qint64, int> index;
    {
        QSqlQuery q(db());
        q.setForwardOnly(true);
        q.exec(QStringLiteral("SELECT %1 FROM messages m WHERE m.id IN (%2)").arg(QLatin1String(kMessageColumns), in));
        QHash<qint64, MessageView> byId;
        while (q.next()) {
            MessageView m = readMessage(q);
            byId.insert(m.id, m);
        }
        for (qint64 id : ids) {
            auto it = byId.find(id);
            if (it == byId.end()) continue;
            index.insert(id, out.size());
            out.push_back(*it);
        }
    }
    QSqlQuery a(db());
    a.setForwardOnly(true);
    a.exec(QStringLiteral("SELECT message_id, name FROM attachments WHERE message_id IN (%1) ORDER BY rowid").arg(in));
    while (a.next()) out[index.value(a.value(0).toLongLong())].attachments << a.value(1).toString();
    QSqlQuery r(db());
    r.setForwardOnly(true);
    r.exec(QStringLiteral("SELECT c.message_id, d.recipient, d.destination, d.status FROM deliveries d "
                          "JOIN copies c ON c.id = d.copy_id WHERE d.is_final = 1 AND c.message_id IN (%1) "
                          "ORDER BY d.recipient").arg(in));
    while (r.next())
        out[index.value(r.value(0).toLongLong())].recipients.push_back(
            {r.value(1).toString(), str(r.value(2)), str(r.value(3))});
    if (hasDetectionTables()) {
        QSqlQuery f(db());
        f.setForwardOnly(true);
        f.exec(QStringLiteral("SELECT message_id, campaign_id FROM campaign_messages WHERE message_id IN (%1)").arg(in));
        while (f.next()) out[index.value(f.value(0).toLongLong())].campaignId = f.value(1).toLongLong();
        QSqlQuery h(db());
        h.setForwardOnly(true);
        h.exec(QStringLiteral("SELECT DISTINCT message_id, rule_id FROM hits WHERE message_id IN (%1) ORDER BY 1, 2").arg(in));
        while (h.next()) out[index.value(h.value(0).toLongLong())].rules << h.value(1).toString();
    }
    return out;
}

QVector<CopyView> CaseReader::copies(qint64 messageId) {
    QVector<CopyView> out;
    QSqlQuery q(db());
    q.prepare(QStringLiteral(
        "SELECT c.id, s.name, c.queue_id, c.origin, c.client_host, c.client_ip, c.sasl_user, c.sender, c.first_seen, "
        "c.last_seen, c.size, c.nrcpt, c.removed FROM copies c JOIN servers s ON s.id = c.server_id "
        "WHERE c.message_id = ? ORDER BY c.first_seen, c.id"));
    q.addBindValue(messageId);
    q.exec();
    while (q.next()) {
        CopyView c;
        c.id = q.value(0).toLongLong();
        c.server = str(q.value(1));
        c.queueId = str(q.value(2));
        c.origin = str(q.value(3));
        const QString host = str(q.value(4)), ip = str(q.value(5));
        c.client = ip.isEmpty() ? host : host + QLatin1Char('[') + ip + QLatin1Char(']');
        c.saslUser = str(q.value(6));
        c.sender = str(q.value(7));
        c.firstSeen = q.value(8).toLongLong();
        c.lastSeen = q.value(9).toLongLong();
        c.size = q.value(10).isNull() ? -1 : q.value(10).toLongLong();
        c.nrcpt = q.value(11).isNull() ? -1 : q.value(11).toInt();
        c.removed = q.value(12).toBool();
        out.push_back(c);
    }
    for (CopyView& c : out) {
        QSqlQuery d(db());
        d.prepare(QStringLiteral(
            "SELECT recipient, orig_recipient, transport, relay_host, relay_ip, relay_port, dsn, status, response, "
            "queued_as, destination, time, delay, attempts, is_final FROM deliveries WHERE copy_id = ? ORDER BY recipient"));
        d.addBindValue(c.id);
        d.exec();
        while (d.next()) {
            DeliveryView v;
            v.recipient = str(d.value(0));
            v.origRecipient = str(d.value(1));
            v.transport = str(d.value(2));
            const QString rh = str(d.value(3)), rip = str(d.value(4));
            v.relay = rip.isEmpty() ? rh : rh + QLatin1Char('[') + rip + QLatin1Char(']');
            if (d.value(5).toInt() > 0) v.relay += QLatin1Char(':') + d.value(5).toString();
            v.dsn = str(d.value(6));
            v.status = str(d.value(7));
            v.response = str(d.value(8));
            v.queuedAs = str(d.value(9));
            v.destination = str(d.value(10));
            v.time = d.value(11).toLongLong();
            v.delay = d.value(12).toDouble();
            v.attempts = d.value(13).toInt();
            v.isFinal = d.value(14).toBool();
            c.deliveries.push_back(v);
        }
    }
    return out;
}

bool CaseReader::hasDetectionTables() {
    // Remembered once true only: a detection run may migrate the case while it is open.
    if (m_detectionTables != 1) {
        QSqlQuery q(db());
        m_detectionTables = q.exec(QStringLiteral("PRAGMA user_version")) && q.next() && q.value(0).toInt() >= 2 ? 1 : 0;
    }
    return m_detectionTables == 1;
}

bool CaseReader::hasDetection() {
    if (!m_ok) return false;
    QSqlQuery q(db());
    return q.exec(QStringLiteral("SELECT count(*) FROM detection_runs")) && q.next() && q.value(0).toLongLong() > 0;
}

QVector<CampaignView> CaseReader::campaigns() {
    QVector<CampaignView> out;
    if (!m_ok) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, label, patient_zero, patient_zero_message_id, first_seen, detected_at, generations, "
                               "messages, senders, recipients, (SELECT count(*) FROM campaign_messages cm "
                               "WHERE cm.campaign_id = campaigns.id AND cm.source = 'rules') FROM campaigns ORDER BY id")))
        return out;
    while (q.next()) {
        CampaignView c;
        c.id = q.value(0).toLongLong();
        c.label = str(q.value(1));
        c.patientZero = str(q.value(2));
        c.patientZeroMessage = q.value(3).toLongLong();
        c.firstSeen = q.value(4).toLongLong();
        c.detectedAt = q.value(5).isNull() ? 0 : q.value(5).toLongLong();
        c.generations = q.value(6).toInt();
        c.messages = q.value(7).toInt();
        c.senders = q.value(8).toInt();
        c.recipients = q.value(9).toInt();
        c.strongMessages = q.value(10).toInt();
        out.push_back(c);
    }
    QSqlQuery u(db());
    u.setForwardOnly(true);
    u.exec(QStringLiteral("SELECT cu.campaign_id, coalesce(un.path, 'unit ' || cu.unit_id) FROM campaign_units cu "
                          "LEFT JOIN units un ON un.id = cu.unit_id ORDER BY 1, 2"));
    QHash<qint64, int> index;
    for (int i = 0; i < out.size(); ++i) index.insert(out[i].id, i);
    while (u.next()) {
        const auto it = index.find(u.value(0).toLongLong());
        if (it != index.end()) out[*it].units << u.value(1).toString();
    }
    return out;
}

QVector<FlagView> CaseReader::flaggedMessages(qint64 campaignId) {
    QVector<FlagView> out;
    if (!m_ok) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT cm.message_id, cm.campaign_id, cm.generation, cm.parent_message_id, cm.flagged_at, cm.score, cm.source, "
        "(SELECT group_concat(rule_id, ',') FROM (SELECT DISTINCT rule_id FROM hits h WHERE h.message_id = cm.message_id "
        "ORDER BY rule_id)) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
        "WHERE (:c = 0 OR cm.campaign_id = :c) ORDER BY m.time, m.id"));
    q.bindValue(QStringLiteral(":c"), campaignId);
    if (!q.exec()) return out;
    while (q.next()) {
        FlagView f;
        f.messageId = q.value(0).toLongLong();
        f.campaignId = q.value(1).toLongLong();
        f.generation = q.value(2).toInt();
        f.parentMessageId = q.value(3).isNull() ? 0 : q.value(3).toLongLong();
        f.flaggedAt = q.value(4).toLongLong();
        f.score = q.value(5).toDouble();
        f.source = str(q.value(6));
        const QString rules = str(q.value(7));
        if (!rules.isEmpty()) f.rules = rules.split(QLatin1Char(','));
        out.push_back(f);
    }
    return out;
}

QVector<HitView> CaseReader::hits(qint64 messageId) {
    QVector<HitView> out;
    if (!m_ok) return out;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT message_id, rule_id, key, detail, window_start, window_end, count, threshold, weight "
                             "FROM hits WHERE message_id = ? ORDER BY weight DESC, id"));
    q.addBindValue(messageId);
    if (!q.exec()) return out;
    while (q.next()) {
        HitView h;
        h.messageId = q.value(0).toLongLong();
        h.rule = str(q.value(1));
        h.key = str(q.value(2));
        h.detail = str(q.value(3));
        h.windowStart = q.value(4).toLongLong();
        h.windowEnd = q.value(5).toLongLong();
        h.count = q.value(6).toLongLong();
        h.threshold = q.value(7).toLongLong();
        h.weight = q.value(8).toDouble();
        out.push_back(h);
    }
    return out;
}

FlagView CaseReader::flag(qint64 messageId) {
    FlagView f;
    if (!m_ok || !hasDetectionTables()) return f;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT message_id, campaign_id, generation, parent_message_id, flagged_at, score, source "
                             "FROM campaign_messages WHERE message_id = ?"));
    q.addBindValue(messageId);
    if (!q.exec() || !q.next()) return f;
    f.messageId = q.value(0).toLongLong();
    f.campaignId = q.value(1).toLongLong();
    f.generation = q.value(2).isNull() ? -1 : q.value(2).toInt();
    f.parentMessageId = q.value(3).isNull() ? 0 : q.value(3).toLongLong();
    f.flaggedAt = q.value(4).toLongLong();
    f.score = q.value(5).toDouble();
    f.source = str(q.value(6));
    QSqlQuery h(db());
    h.prepare(QStringLiteral("SELECT DISTINCT rule_id FROM hits WHERE message_id = ? ORDER BY 1"));
    h.addBindValue(messageId);
    if (h.exec())
        while (h.next()) f.rules << h.value(0).toString();
    return f;
}

QVector<QPair<QString, qint64>> CaseReader::ruleHitCounts() {
    QVector<QPair<QString, qint64>> out;
    if (!m_ok || !hasDetectionTables()) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT rule_id, count(DISTINCT message_id) FROM hits GROUP BY rule_id ORDER BY rule_id")))
        return out;
    while (q.next()) out.push_back({q.value(0).toString(), q.value(1).toLongLong()});
    return out;
}

QVector<QPair<qint64, qint64>> CaseReader::propagationEdges(qint64 campaignId) {
    QVector<QPair<qint64, qint64>> out;
    if (!m_ok) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT from_message_id, to_message_id FROM propagation_edges WHERE campaign_id = ? "
                             "ORDER BY to_message_id, from_message_id"));
    q.addBindValue(campaignId);
    if (!q.exec()) return out;
    while (q.next()) out.push_back({q.value(0).toLongLong(), q.value(1).toLongLong()});
    return out;
}

bool CaseReader::hasRecallTables() { return schemaAtLeast(3); }

bool CaseReader::schemaAtLeast(int version) {
    if (!m_ok) return false;
    QSqlQuery q(db());
    return q.exec(QStringLiteral("PRAGMA user_version")) && q.next() && q.value(0).toInt() >= version;
}

QVector<RecallRequestView> CaseReader::recallRequests(int limit) {
    QVector<RecallRequestView> out;
    if (!hasRecallTables()) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, message_id, coalesce(campaign_id, 0), updated_at, coalesce(approved_at, 0), message_key, "
                               "recipient, server, place, coalesce(connector, ''), coalesce(campaign_label, ''), state, "
                               "coalesce(detail, ''), coalesce(approved_by, ''), round, attempts%2 FROM recall_requests "
                               "ORDER BY updated_at DESC, id DESC%1")
                    .arg(limit > 0 ? QStringLiteral(" LIMIT %1").arg(limit) : QString(),
                         schemaAtLeast(6) ? QStringLiteral(", coalesce(folder, ''), coalesce(mailbox, ''), read_state, coalesce(cascaded_at, 0)")
                                          : QString())))
        return out;
    while (q.next()) {
        RecallRequestView r;
        r.id = q.value(0).toLongLong();
        r.messageId = q.value(1).toLongLong();
        r.campaignId = q.value(2).toLongLong();
        r.updatedAt = q.value(3).toLongLong();
        r.approvedAt = q.value(4).toLongLong();
        r.messageKey = q.value(5).toString();
        r.recipient = q.value(6).toString();
        r.server = q.value(7).toString();
        r.place = q.value(8).toString();
        r.connector = q.value(9).toString();
        r.campaignLabel = q.value(10).toString();
        r.state = q.value(11).toString();
        r.detail = q.value(12).toString();
        r.approvedBy = q.value(13).toString();
        r.round = q.value(14).toInt();
        r.attempts = q.value(15).toInt();
        if (q.record().count() > 16) {
            r.folder = q.value(16).toString();
            r.mailbox = q.value(17).toString();
            r.read = q.value(18).toString();
            r.cascadedAt = q.value(19).toLongLong();
        }
        out.push_back(r);
    }
    return out;
}

QVector<QPair<QString, qint64>> CaseReader::recallStateCounts() {
    QVector<QPair<QString, qint64>> out;
    if (!hasRecallTables()) return out;
    QSqlQuery q(db());
    if (q.exec(QStringLiteral("SELECT state, count(*) FROM recall_requests GROUP BY state ORDER BY 2 DESC, 1")))
        while (q.next()) out.push_back({q.value(0).toString(), q.value(1).toLongLong()});
    return out;
}

QVector<AuditView> CaseReader::auditTrail(int limit) {
    QVector<AuditView> out;
    if (!hasRecallTables()) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, at, coalesce(request_id, 0), analyst, action, coalesce(server, ''), coalesce(message_key, ''), "
                               "coalesce(recipient, ''), coalesce(state_from, ''), coalesce(state_to, ''), coalesce(answer, '') "
                               "FROM audit ORDER BY id%1").arg(limit > 0 ? QStringLiteral(" DESC LIMIT %1").arg(limit) : QString())))
        return out;
    while (q.next()) {
        AuditView a;
        a.id = q.value(0).toLongLong();
        a.at = q.value(1).toLongLong();
        a.requestId = q.value(2).toLongLong();
        a.analyst = q.value(3).toString();
        a.action = q.value(4).toString();
        a.server = q.value(5).toString();
        a.messageKey = q.value(6).toString();
        a.recipient = q.value(7).toString();
        a.stateFrom = q.value(8).toString();
        a.stateTo = q.value(9).toString();
        a.answer = q.value(10).toString();
        out.push_back(a);
    }
    if (limit > 0) std::reverse(out.begin(), out.end());
    return out;
}

QVector<CaseReader::UnitRecall> CaseReader::recallByUnit() {
    QVector<UnitRecall> out;
    if (!hasRecallTables()) return out;
    QSqlQuery q(db());
    // "failed" is every copy the recipient read or that was not recalled: already read, read
    // while suspended (issue 16: whatever happened to it afterwards), not found, unreachable,
    // login refused, refused.
    const QString read = schemaAtLeast(6) ? QStringLiteral("r.read_state = 'while-suspended'") : QStringLiteral("0");
    if (!q.exec(QStringLiteral(
            "SELECT u.unit_id, sum(r.state = 'suspended' AND NOT %1), "
            "sum(r.state IN ('already-retrieved','not-found','unreachable','auth-failed','refused','cascaded') OR %1), "
            "sum(r.state = 'deleted' AND NOT %1) FROM recall_requests r JOIN users u ON u.email = r.recipient "
            "WHERE u.unit_id IS NOT NULL GROUP BY u.unit_id").arg(read)))
        return out;
    while (q.next()) out.push_back({q.value(0).toLongLong(), q.value(1).toInt(), q.value(2).toInt(), q.value(3).toInt()});
    return out;
}

QByteArray CaseReader::ruleSetJson() {
    if (!m_ok) return {};
    QSqlQuery q(db());
    if (!q.exec(QStringLiteral("SELECT json FROM rulesets ORDER BY id DESC LIMIT 1")) || !q.next()) return {};
    return q.value(0).toString().toUtf8();
}

} // namespace mt
