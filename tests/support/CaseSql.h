#pragma once
// Independent reads of a case file for the tests: plain QtSql on a connection of the test's
// own, none of the code under test. Expected figures come from here.
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QUuid>
#include <QVariant>

#include <map>

namespace mt::test {

class CaseSql {
public:
    explicit CaseSql(const QString& path) : m_name(QUuid::createUuid().toString()) {
        QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        d.setDatabaseName(path);
        d.open();
    }
    ~CaseSql() {
        { QSqlDatabase d = QSqlDatabase::database(m_name, false); d.close(); }
        QSqlDatabase::removeDatabase(m_name);
    }
    CaseSql(const CaseSql&) = delete;
    CaseSql& operator=(const CaseSql&) = delete;

    QSqlDatabase db() const { return QSqlDatabase::database(m_name); }

    // The first column of the first row; -1 (and a warning) when the query fails or is empty.
    qint64 scalar(const QString& sql, const QVariantList& binds = {}) const {
        QSqlQuery q = run(sql, binds);
        return q.isActive() && q.next() ? q.value(0).toLongLong() : -1;
    }
    QString text(const QString& sql, const QVariantList& binds = {}) const {
        QSqlQuery q = run(sql, binds);
        return q.isActive() && q.next() ? q.value(0).toString() : QString();
    }
    QList<QVariantList> rows(const QString& sql, int columns) const {
        QList<QVariantList> out;
        QSqlQuery q = run(sql, {});
        while (q.next()) {
            QVariantList r;
            for (int i = 0; i < columns; ++i) r << q.value(i);
            out << r;
        }
        return out;
    }
    // Two integer columns as key -> value.
    std::map<qint64, qint64> pairs(const QString& sql) const {
        std::map<qint64, qint64> out;
        QSqlQuery q = run(sql, {});
        while (q.next()) out[q.value(0).toLongLong()] = q.value(1).toLongLong();
        return out;
    }

private:
    QSqlQuery run(const QString& sql, const QVariantList& binds) const {
        QSqlQuery q(db());
        q.prepare(sql);
        for (const QVariant& b : binds) q.addBindValue(b);
        if (!q.exec()) qWarning("SQL failed: %s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return q;
    }
    QString m_name;
};

inline qint64 sqlCount(const QString& casePath, const QString& sql) { return CaseSql(casePath).scalar(sql); }

} // namespace mt::test
