#include "SqliteDb.h"

namespace mt {

namespace {
[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw SqliteError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}
} // namespace

SqliteStmt::SqliteStmt(sqlite3* db, std::string_view sql) : m_db(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr)
        != SQLITE_OK)
        fail(db, std::string("prepare failed for [") + std::string(sql.substr(0, 80)) + "]");
}

SqliteStmt::~SqliteStmt() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& o) noexcept {
    if (this != &o) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = o.m_db;
        m_stmt = o.m_stmt;
        o.m_stmt = nullptr;
    }
    return *this;
}

SqliteStmt& SqliteStmt::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
}
SqliteStmt& SqliteStmt::bind(int i, double v) {
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::string_view v) {
    sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
}
SqliteStmt& SqliteStmt::bindNull(int i) {
    sqlite3_bind_null(m_stmt, i);
    return *this;
}

bool SqliteStmt::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string msg = sqlite3_errmsg(m_db);
    sqlite3_reset(m_stmt);
    throw SqliteError("step failed: " + msg + " [" + std::string(sqlite3_sql(m_stmt)).substr(0, 80) + "]");
}

void SqliteStmt::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

void SqliteStmt::exec() {
    while (step()) {}
    reset();
}

std::string SqliteStmt::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string();
}

SqliteDb::~SqliteDb() { close(); }

void SqliteDb::open(const std::string& path, bool create) {
    close();
    // Memory statistics take a global mutex on every allocation; we never read them.
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
        const std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        close();
        throw SqliteError("cannot open case file " + path + ": " + msg);
    }
    sqlite3_busy_timeout(m_db, 5000);
    sqlite3_extended_result_codes(m_db, 1);
}

void SqliteDb::close() {
    if (m_db) {
        sqlite3_close_v2(m_db);
        m_db = nullptr;
    }
}

void SqliteDb::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string s(sql);
    if (sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw SqliteError(msg + " [" + s.substr(0, 120) + "]");
    }
}

std::int64_t SqliteDb::scalar(std::string_view sql) {
    SqliteStmt st(m_db, sql);
    return st.step() ? st.int64(0) : 0;
}

} // namespace mt
