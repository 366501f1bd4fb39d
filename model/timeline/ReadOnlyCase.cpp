#include "ReadOnlyCase.h"

#include "model/CaseReader.h"

#include "model/CaseStore.h"

#include <QFile>

namespace mt {

ReadOnlyCase::~ReadOnlyCase() {
    if (m_db) sqlite3_close_v2(m_db);
}

bool ReadOnlyCase::open(const QString& path) {
    if (path.isEmpty()) {
        m_error = QStringLiteral("no case open");
        return false;
    }
    if (!QFile::exists(path)) {
        m_error = QStringLiteral("no such case file: %1").arg(path);
        return false;
    }
    // A case on a read-only mount opens immutable (no -shm beside it), as CaseReader does.
    const CaseReadAccess access = caseReadAccess(path);
    const QByteArray file = access.immutable ? access.databaseName.toUtf8() : QFile::encodeName(path);
    const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (access.immutable ? SQLITE_OPEN_URI : 0);
    if (sqlite3_open_v2(file.constData(), &m_db, flags, nullptr) != SQLITE_OK) {
        m_error = QStringLiteral("cannot open case file %1: %2").arg(path, QString::fromUtf8(m_db ? sqlite3_errmsg(m_db) : "out of memory"));
        return false;
    }
    sqlite3_busy_timeout(m_db, 5000);
    try {
        SqliteStmt v(m_db, "PRAGMA user_version");
        m_version = v.step() ? int(v.int64(0)) : 0;
        SqliteStmt id(m_db, "PRAGMA application_id");
        const std::int64_t appId = id.step() ? id.int64(0) : 0;
        if (appId != 0 && appId != CaseStore::kApplicationId) {
            m_error = QStringLiteral("%1 is not a MailTriage case file: a SQLite database of another application").arg(path);
            return false;
        }
    } catch (const SqliteError& e) {
        m_error = QStringLiteral("%1 is not a MailTriage case file: %2").arg(path, QString::fromUtf8(e.what()));
        return false;
    }
    if (m_version < 1 || m_version > CaseStore::kSchemaVersion) {
        m_error = QStringLiteral("%1 is not a MailTriage case file this build can read (schema %2)").arg(path).arg(m_version);
        return false;
    }
    return true;
}

bool ReadOnlyCase::hasTable(const char* name) const {
    if (!m_db) return false;
    SqliteStmt q(m_db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, std::string_view(name));
    return q.step();
}

bool ReadOnlyCase::hasDetection() const {
    if (!hasTable("detection_runs")) return false;
    SqliteStmt q(m_db, "SELECT EXISTS(SELECT 1 FROM detection_runs)");
    return q.step() && q.int64(0) != 0;
}

} // namespace mt
