#pragma once
// A read-only sqlite3 connection to a case file for the timeline and campaign readers: they
// aggregate or walk many rows on a worker thread, where the sqlite3 C API costs a fraction of
// QtSql's per-value QVariant (and its connections are tied to the thread that made them).
#include "model/SqliteDb.h"

#include <QString>

namespace mt {

class ReadOnlyCase {
public:
    ReadOnlyCase() = default;
    ~ReadOnlyCase();
    ReadOnlyCase(const ReadOnlyCase&) = delete;
    ReadOnlyCase& operator=(const ReadOnlyCase&) = delete;

    // False with error() set when the file is missing, not SQLite, or not a case file.
    bool open(const QString& path);
    QString error() const { return m_error; }
    sqlite3* handle() const { return m_db; }
    int schemaVersion() const { return m_version; }
    bool hasTable(const char* name) const;
    // Detection ran on the case at least once (schema 2 and a detection_runs row).
    bool hasDetection() const;
    SqliteStmt prepare(std::string_view sql) const { return SqliteStmt(m_db, sql); }

private:
    sqlite3* m_db = nullptr;
    QString m_error;
    int m_version = 0;
};

} // namespace mt
