#pragma once
// CSV and JSON exports of a case for other tools (issue 7): the message table (with each
// message's campaign and rules), the campaigns, the recall requests and the audit trail.
// CSV follows RFC 4180 (quotes doubled, fields with commas, quotes or line breaks quoted,
// CRLF line ends); JSON is one array of objects. Streams row by row: a million messages do
// not need a million objects in memory.
#include <QIODevice>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>

namespace mt::report {

enum class ExportTable { Messages, Campaigns, Recall, Audit };
enum class ExportFormat { Csv, Json };

bool exportTableFromName(const QString& name, ExportTable& out);   // messages, campaigns, recall, audit
bool exportFormatFromName(const QString& name, ExportFormat& out); // csv, json

struct ExportResult {
    bool ok = false;
    qint64 rows = 0;
    QString error;
};

// Writes the table of the case to out. A table the case does not have yet (no detection, no
// recall) gives a header and no rows, not an error. progress(rows) is called now and then;
// cancel stops it (ok false, error "cancelled").
ExportResult exportTable(const QString& casePath, ExportTable table, ExportFormat format, QIODevice& out,
                         const std::function<void(qint64)>& progress = {}, const std::atomic_bool* cancel = nullptr);

// One CSV field, quoted when it must be.
QString csvField(const QString& value);

} // namespace mt::report
