#pragma once
// A thin RAII layer over the sqlite3 C API for the case store's write path. Qt's SQL layer
// binds through QVariant per value, which costs several times more than the bulk import can
// afford; reads for views go through QtSql (see CaseReader).
#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mt {

class SqliteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SqliteStmt {
public:
    SqliteStmt() = default;
    SqliteStmt(sqlite3* db, std::string_view sql);
    ~SqliteStmt();
    SqliteStmt(SqliteStmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
    SqliteStmt& operator=(SqliteStmt&& o) noexcept;
    SqliteStmt(const SqliteStmt&) = delete;
    SqliteStmt& operator=(const SqliteStmt&) = delete;

    SqliteStmt& bind(int i, std::int64_t v);
    SqliteStmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    SqliteStmt& bind(int i, double v);
    // Text is bound without copying: it must outlive step().
    SqliteStmt& bind(int i, std::string_view v);
    SqliteStmt& bindTextOrNull(int i, std::string_view v) { return v.empty() ? bindNull(i) : bind(i, v); }
    SqliteStmt& bindNull(int i);

    // True while a row is available.
    bool step();
    void reset();
    // Runs to completion and resets.
    void exec();

    std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    std::string text(int col) const;
    bool isNull(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    sqlite3_stmt* handle() const { return m_stmt; }

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

class SqliteDb {
public:
    SqliteDb() = default;
    ~SqliteDb();
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    void open(const std::string& path, bool create);
    void close();
    bool isOpen() const { return m_db != nullptr; }
    void exec(std::string_view sql);
    SqliteStmt prepare(std::string_view sql) { return SqliteStmt(m_db, sql); }
    std::int64_t scalar(std::string_view sql);
    std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(m_db); }
    int changes() const { return sqlite3_changes(m_db); }
    sqlite3* handle() const { return m_db; }

private:
    sqlite3* m_db = nullptr;
};

} // namespace mt
