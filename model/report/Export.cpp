#include "Export.h"

#include "model/CaseReader.h"
#include "model/recall/RecallTypes.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>
#include <QVariant>

namespace mt::report {

namespace {

// The messages with their final recipients, attachments, campaign and rules, one row each.
constexpr const char* kMessagesSql =
    "SELECT m.id AS id, m.message_id AS message_id, strftime('%Y-%m-%dT%H:%M:%fZ', m.time / 1000.0, 'unixepoch') AS time, "
    "m.sender AS sender, m.client_host AS client_host, m.client_ip AS client_ip, m.sasl_user AS sasl_user, m.size AS size, "
    "m.subject AS subject, (SELECT name FROM servers WHERE id = m.origin_server_id) AS origin_server, "
    "(SELECT group_concat(name, ';') FROM attachments a WHERE a.message_id = m.id) AS attachments, "
    "(SELECT group_concat(d.recipient || '>' || coalesce(d.destination, ''), ';') FROM deliveries d JOIN copies c ON "
    "c.id = d.copy_id WHERE c.message_id = m.id AND d.is_final = 1) AS recipients %1 FROM messages m %2 ORDER BY m.time, m.id";
constexpr const char* kDetectionColumns =
    ", cm.campaign_id AS campaign_id, cm.generation AS generation, cm.score AS score, "
    "(SELECT group_concat(rule_id, ';') FROM (SELECT DISTINCT rule_id FROM hits h WHERE h.message_id = m.id ORDER BY 1)) AS rules, "
    "(SELECT group_concat(rule_id || ': ' || coalesce(detail, ''), ' | ') FROM (SELECT rule_id, detail FROM hits h "
    "WHERE h.message_id = m.id ORDER BY weight DESC, id)) AS hit_details";

bool hasColumn(QSqlDatabase db, const QString& table, const QString& column) {
    return db.record(table).indexOf(column) >= 0;
}

bool hasTable(QSqlDatabase db, const QString& name) {
    QSqlQuery q(db);
    q.prepare(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
    q.addBindValue(name);
    return q.exec() && q.next() && q.value(0).toInt() > 0;
}

} // namespace

bool exportTableFromName(const QString& name, ExportTable& out) {
    if (name == QLatin1String("messages")) out = ExportTable::Messages;
    else if (name == QLatin1String("campaigns")) out = ExportTable::Campaigns;
    else if (name == QLatin1String("recall")) out = ExportTable::Recall;
    else if (name == QLatin1String("audit")) out = ExportTable::Audit;
    else return false;
    return true;
}

bool exportFormatFromName(const QString& name, ExportFormat& out) {
    if (name == QLatin1String("csv")) out = ExportFormat::Csv;
    else if (name == QLatin1String("json")) out = ExportFormat::Json;
    else return false;
    return true;
}

QString csvField(const QString& v) {
    if (!v.contains(QLatin1Char(',')) && !v.contains(QLatin1Char('"')) && !v.contains(QLatin1Char('\n')) && !v.contains(QLatin1Char('\r')))
        return v;
    QString q = v;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

ExportResult exportTable(const QString& casePath, ExportTable table, ExportFormat format, QIODevice& out,
                         const std::function<void(qint64)>& progress, const std::atomic_bool* cancel) {
    ExportResult r;
    const QString name = QStringLiteral("mt-export-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        const CaseReadAccess access = caseReadAccess(casePath);
        db.setDatabaseName(access.databaseName);
        db.setConnectOptions(access.immutable ? access.connectOptions
                                              : QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open()) {
            r.error = db.lastError().text();
        } else if (const QString problem = caseIdentityProblem(db, casePath); !problem.isEmpty()) {
            r.error = problem; // the same check as every other reader: no SQL errors about a foreign file
        } else {
            QString sql;
            switch (table) {
            case ExportTable::Messages: {
                const bool detected = hasTable(db, QStringLiteral("campaign_messages"));
                sql = QString::fromLatin1(kMessagesSql)
                          .arg(detected ? QLatin1String(kDetectionColumns) : QLatin1String(""),
                               detected ? QLatin1String("LEFT JOIN campaign_messages cm ON cm.message_id = m.id") : QLatin1String(""));
                break;
            }
            case ExportTable::Campaigns:
                sql = hasTable(db, QStringLiteral("campaigns"))
                          ? QStringLiteral("SELECT c.*, (SELECT group_concat(coalesce(u.path, cu.unit_id), ';') FROM campaign_units cu "
                                           "LEFT JOIN units u ON u.id = cu.unit_id WHERE cu.campaign_id = c.id) AS units "
                                           "FROM campaigns c ORDER BY c.id")
                          : QString();
                break;
            case ExportTable::Recall:
                // Schema 6 adds the copy's status in the one vocabulary (recall::copyStatus).
                sql = !hasTable(db, QStringLiteral("recall_requests")) ? QString()
                    : hasColumn(db, QStringLiteral("recall_requests"), QStringLiteral("read_state"))
                    ? QStringLiteral("SELECT *, %1 AS status FROM recall_requests ORDER BY id").arg(QString::fromStdString(recall::copyStatusSql()))
                    : QStringLiteral("SELECT * FROM recall_requests ORDER BY id");
                break;
            case ExportTable::Audit:
                sql = hasTable(db, QStringLiteral("audit")) ? QStringLiteral("SELECT * FROM audit ORDER BY id") : QString();
                break;
            }
            QSqlQuery q(db);
            q.setForwardOnly(true);
            if (!sql.isEmpty() && !q.exec(sql)) {
                r.error = q.lastError().text();
            } else {
                QStringList columns;
                if (!sql.isEmpty())
                    for (int i = 0; i < q.record().count(); ++i) columns << q.record().fieldName(i);
                QByteArray buf;
                auto flush = [&] {
                    if (out.write(buf) != buf.size()) {
                        r.error = out.errorString();
                        return false;
                    }
                    buf.clear();
                    return true;
                };
                if (format == ExportFormat::Csv) {
                    QStringList head;
                    for (const QString& c : columns) head << csvField(c);
                    buf += head.join(QLatin1Char(',')).toUtf8() + "\r\n";
                } else {
                    buf += "[";
                }
                bool ok = true;
                while (ok && !sql.isEmpty() && q.next()) {
                    if (format == ExportFormat::Csv) {
                        QStringList row;
                        for (int i = 0; i < columns.size(); ++i) row << csvField(q.value(i).isNull() ? QString() : q.value(i).toString());
                        buf += row.join(QLatin1Char(',')).toUtf8() + "\r\n";
                    } else {
                        QJsonObject o;
                        for (int i = 0; i < columns.size(); ++i) o.insert(columns[i], QJsonValue::fromVariant(q.value(i)));
                        buf += (r.rows ? ",\n" : "\n") + QJsonDocument(o).toJson(QJsonDocument::Compact);
                    }
                    ++r.rows;
                    if (buf.size() > (1 << 20)) ok = flush();
                    if ((r.rows & 0x3fff) == 0) {
                        if (progress) progress(r.rows);
                        if (cancel && cancel->load()) {
                            r.error = QStringLiteral("cancelled");
                            ok = false;
                        }
                    }
                }
                if (ok && format == ExportFormat::Json) buf += r.rows ? "\n]\n" : "]\n";
                if (ok && flush()) r.ok = true;
            }
        }
    }
    QSqlDatabase::removeDatabase(name);
    return r;
}

} // namespace mt::report
