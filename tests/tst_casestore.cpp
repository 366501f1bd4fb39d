// The case store: schema and migrations, one transaction per file, idempotent re-import,
// the cross-server join, and bad input that must leave the case as it was.
#include "support/PublicData.h"
#include "model/CaseReader.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace mt;

namespace {

const QString kMx1 = QStringLiteral(MT_TEST_DATA "/postfix/relay_mx1.log");
const QString kMx2 = QStringLiteral(MT_TEST_DATA "/postfix/relay_mx2.log");

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// A fingerprint of everything in the case that an import could change.
QString caseDump(const QString& path) {
    CaseStore s;
    s.open(path, false);
    QString out;
    for (const char* table : {"servers", "messages", "copies", "deliveries", "attachments", "rejects", "users", "units", "imports"}) {
        out += QString::fromLatin1(table) + QLatin1Char('=')
             + QString::number(s.db().scalar(std::string("SELECT count(*) FROM ") + table)) + QLatin1Char(' ');
    }
    return out;
}

} // namespace

class TestCaseStore : public QObject {
    Q_OBJECT
private slots:
    void createsSchemaWithWalAndForeignKeys() {
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("a.mtcase")));
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        QCOMPARE(s.db().scalar("PRAGMA foreign_keys"), 1);
        SqliteStmt st = s.db().prepare("PRAGMA journal_mode");
        QVERIFY(st.step());
        QCOMPARE(QString::fromStdString(st.text(0)), QStringLiteral("wal"));
    }
    void refusesNewerSchemaAndForeignFiles() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("new.mtcase"));
        {
            CaseStore s;
            s.open(path);
            s.db().exec("PRAGMA user_version = 99");
        }
        CaseStore s;
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.open(path));
        const QString junk = tmp.filePath(QStringLiteral("junk.mtcase"));
        writeFile(junk, QByteArray(4096, 'z'));
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.open(junk));
        QCOMPARE(readAll(junk), QByteArray(4096, 'z')); // not touched
    }
    void migratesFromEmptyFile() {
        // An empty file is a valid empty SQLite database at version 0: it gets migrated.
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("empty.mtcase"));
        writeFile(path, {});
        CaseStore s;
        s.open(path);
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        QVERIFY(s.db().scalar("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'") == 1);
    }
    void joinsAcrossServers() {
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("c.mtcase")));
        ImportJob job(s);
        const ImportReport r = job.importLogs({kMx1, kMx2});
        QVERIFY(!r.anyFailed());
        const CaseCounts c = s.counts();
        QCOMPARE(c.messages, 4);   // m1 (across mx1 and mx2), m2, the one without Message-ID, root's
        QCOMPARE(c.copies, 5);
        QCOMPARE(c.deliveries, 6); // bob, carol, partner; erin; erin; root
        QCOMPARE(c.servers, 2);
        QCOMPARE(c.rejectedAttempts, 1);
        QCOMPARE(c.users, 7);
        // bob's copy is held by mx2 (the relay hop on mx1 is not final).
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE recipient = 'bob@corp.example' AND is_final = 0"), 1);
        SqliteStmt st = s.db().prepare(
            "SELECT d.destination, m.sender, m.client_ip, m.size, s.name FROM deliveries d JOIN copies c ON c.id = d.copy_id "
            "JOIN messages m ON m.id = c.message_id JOIN servers s ON s.id = m.origin_server_id "
            "WHERE d.recipient = 'bob@corp.example' AND d.is_final = 1");
        QVERIFY(st.step());
        QCOMPARE(st.text(0), std::string("mx2"));
        QCOMPARE(st.text(1), std::string("alice@corp.example"));
        QCOMPARE(st.text(2), std::string("10.1.0.5")); // the origin, not the relaying mx1
        QCOMPARE(st.int64(3), 24310);
        QCOMPARE(st.text(4), std::string("mx1"));
    }
    void joinIsIndependentOfFileOrderAndSessions() {
        // mx2 in one run, mx1 in a later one: the link is made when the second arrives.
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("d.mtcase"));
        CaseStore s;
        s.open(path);
        ImportJob(s).importLogs({kMx2});
        QCOMPARE(s.counts().messages, 3);
        ImportJob(s).importLogs({kMx1});
        const CaseCounts c = s.counts();
        QCOMPARE(c.messages, 4);
        QCOMPARE(c.deliveries, 6);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE destination = 'mx2' AND is_final = 1"), 3);
    }
    // A bulk load into an empty case links in memory; later sessions link in SQL. Both must
    // give the same case, row for row, on realistic traffic (the bundled demo, four servers).
    void inMemoryAndSqlLinkAgree() {
        const QString demo = QStringLiteral(MT_TEST_DATA "/../../resources/demo/");
        const QStringList logs{demo + "mail1.log.gz", demo + "mail2.log.gz", demo + "mail3.log.gz", demo + "mail4.log.gz"};
        QTemporaryDir tmp;
        const QString bulk = tmp.filePath(QStringLiteral("bulk.mtcase"));
        const QString split = tmp.filePath(QStringLiteral("split.mtcase"));
        {
            CaseStore s;
            s.open(bulk);
            QVERIFY(!ImportJob(s).importLogs(logs).anyFailed());
        }
        {
            CaseStore s;
            s.open(split);
            QVERIFY(!ImportJob(s).importLogs({logs[2]}).anyFailed());
        }
        {
            CaseStore s; // copies exist now: this session links in SQL
            s.open(split);
            QVERIFY(!ImportJob(s).importLogs({logs[0], logs[3], logs[1]}).anyFailed());
        }
        auto dump = [](const QString& path, const char* sql) {
            CaseStore s;
            s.open(path, false);
            SqliteStmt st = s.db().prepare(sql);
            QStringList rows;
            while (st.step()) {
                QStringList cols;
                for (int i = 0; i < sqlite3_column_count(st.handle()); ++i) cols << QString::fromStdString(st.text(i));
                rows << cols.join(QLatin1Char('|'));
            }
            rows.sort();
            return rows;
        };
        const char* deliveries =
            "SELECT m.msg_key, sc.name, c.queue_id, d.recipient, d.status, d.is_final, coalesce(d.destination, ''), "
            "coalesce((SELECT s2.name || '/' || c2.queue_id FROM copies c2 JOIN servers s2 ON s2.id = c2.server_id "
            "WHERE c2.id = d.next_copy_id), '') FROM deliveries d JOIN copies c ON c.id = d.copy_id "
            "JOIN messages m ON m.id = c.message_id JOIN servers sc ON sc.id = c.server_id";
        const char* messages =
            "SELECT m.msg_key, m.time, coalesce(m.sender, ''), coalesce(m.client_ip, ''), coalesce(m.size, ''), "
            "coalesce(m.subject, ''), s.name FROM messages m JOIN servers s ON s.id = m.origin_server_id";
        const char* users = "SELECT u.email, n.path, u.source FROM users u JOIN units n ON n.id = u.unit_id";
        const QStringList d1 = dump(bulk, deliveries), d2 = dump(split, deliveries);
        QVERIFY(d1.size() > 8000);
        QCOMPARE(d1.size(), d2.size());
        for (int i = 0; i < d1.size(); ++i) QCOMPARE(d1[i], d2[i]);
        const QStringList m1 = dump(bulk, messages), m2 = dump(split, messages);
        QVERIFY(m1.size() > 4000);
        QCOMPARE(m1.size(), m2.size());
        for (int i = 0; i < m1.size(); ++i) QCOMPARE(m1[i], m2[i]);
        QCOMPARE(dump(bulk, users), dump(split, users));
    }
    // A log cut at a rotation and imported in two runs gives the case that one run gives.
    void rotationAcrossSessions() {
        const QByteArray mx1 = readAll(kMx1);
        // Cut right after bob's relay hop: the message is still open on mx1.
        const int cut = mx1.indexOf('\n', mx1.indexOf("queued as 9C1D22E0F3")) + 1;
        QTemporaryDir tmp;
        const QString older = tmp.filePath(QStringLiteral("mail.log.1")), newer = tmp.filePath(QStringLiteral("mail.log"));
        writeFile(older, mx1.left(cut));
        writeFile(newer, mx1.mid(cut));
        const QString whole = tmp.filePath(QStringLiteral("whole.mtcase")), split = tmp.filePath(QStringLiteral("split.mtcase"));
        {
            CaseStore s;
            s.open(whole);
            ImportJob(s).importLogs({kMx1, kMx2});
        }
        {
            CaseStore s;
            s.open(split);
            ImportJob(s).importLogs({older, kMx2});
        }
        {
            CaseStore s;
            s.open(split);
            QCOMPARE(s.openCopies().size(), std::size_t(1));
            QVERIFY(!ImportJob(s).importLogs({newer}).anyFailed());
            QCOMPARE(s.openCopies().size(), std::size_t(0));
        }
        QCOMPARE(caseDump(split).section(QStringLiteral(" imports="), 0, 0),
                 caseDump(whole).section(QStringLiteral(" imports="), 0, 0));
        CaseStore s;
        s.open(split);
        // partner@example.net: deferred in the first file, sent in the second, one row.
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE recipient = 'partner@example.net' AND status = 'sent'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM copies WHERE queue_id = '4F2A61C0B1'"), 1);
    }
    void reimportIsIdempotent() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("e.mtcase"));
        {
            CaseStore s;
            s.open(path);
            ImportJob(s).importLogs({kMx1, kMx2});
        }
        const QString before = caseDump(path).section(QStringLiteral(" imports="), 0, 0);
        {
            CaseStore s;
            s.open(path);
            ImportJob(s).importLogs({kMx2, kMx1});
            ImportJob(s).importLogs({kMx1});
        }
        QCOMPARE(caseDump(path).section(QStringLiteral(" imports="), 0, 0), before);
    }
    void publicRotationSetInAnyOrder() {
        MT_REQUIRE_PUBLIC_DATA();
        const QString dir = mt::test::publicData(QStringLiteral("postfix/lightmeter/complete_logs_sample/logs_sample/"));
        const QStringList files{dir + "mail.log", dir + "mail.log.1", dir + "mail.err", dir + "mail.warn.2.gz",
                                dir + "mail.err.4.gz", dir + "mail.warn"};
        QTemporaryDir tmp;
        CaseStore a, b;
        a.open(tmp.filePath(QStringLiteral("a.mtcase")));
        b.open(tmp.filePath(QStringLiteral("b.mtcase")));
        ImportOptions o;
        o.year = 2021;
        const ImportReport ra = ImportJob(a, o).importLogs(files);
        QStringList reversed = files;
        std::reverse(reversed.begin(), reversed.end());
        ImportJob(b, o).importLogs(reversed);
        for (const auto& f : ra.files) QVERIFY2(f.ok, f.error.c_str());
        QVERIFY(a.counts().messages > 20);
        QCOMPARE(a.counts().messages, b.counts().messages);
        QCOMPARE(a.counts().deliveries, b.counts().deliveries);
    }
    // Issue 15, item 1: a hand-over whose one side has no usable Message-ID (empty upstream id
    // before amavis re-injects on 10025; a copy on mx2 whose cleanup line fell outside the log;
    // a Message-ID with a blank and quotes) is one message, in any file order, in one import or
    // across imports. No recipient of ours is left "sent" to 127.0.0.1 or to mx2 as external.
    void handOverJoinsWithoutMessageId_data() {
        QTest::addColumn<QStringList>("firstImport");
        QTest::addColumn<QStringList>("secondImport");
        const QString mx1 = QStringLiteral(MT_TEST_DATA "/postfix/issue15_handover_mx1.log");
        const QString mx2 = QStringLiteral(MT_TEST_DATA "/postfix/issue15_handover_mx2.log");
        QTest::newRow("one import, mx1 first") << QStringList{mx1, mx2} << QStringList{};
        QTest::newRow("one import, mx2 first") << QStringList{mx2, mx1} << QStringList{};
        QTest::newRow("mx1, then mx2 later") << QStringList{mx1} << QStringList{mx2};
        QTest::newRow("mx2, then mx1 later") << QStringList{mx2} << QStringList{mx1};
    }
    void handOverJoinsWithoutMessageId() {
        QFETCH(QStringList, firstImport);
        QFETCH(QStringList, secondImport);
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("h.mtcase"));
        {
            CaseStore s;
            s.open(path);
            QVERIFY(!ImportJob(s).importLogs(firstImport).anyFailed());
        }
        if (!secondImport.isEmpty()) {
            CaseStore s; // a later session: the SQL link
            s.open(path);
            QVERIFY(!ImportJob(s).importLogs(secondImport).anyFailed());
        }
        CaseStore s;
        s.open(path);
        QCOMPARE(s.counts().messages, 2); // alice's (three copies on two servers) and dave's (two)
        QCOMPARE(s.counts().copies, 5);
        QCOMPARE(s.counts().deliveries, 3); // bob on mx1, carol on mx2, erin on mx1
        QCOMPARE(s.db().scalar("SELECT count(DISTINCT message_id) FROM copies WHERE queue_id IN "
                               "('1A2B3C4D5E', '2B3C4D5E6F', '3C4D5E6F70')"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages m JOIN copies c ON c.message_id = m.id "
                               "WHERE c.queue_id = '1A2B3C4D5E' AND m.message_id = 'added-by-amavis-1@corp.example'"), 1);
        // The message's origin is the submission on mx1, not the re-injection from localhost.
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages WHERE sasl_user = 'alice@corp.example' "
                               "AND client_ip = '10.1.0.5'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE is_final = 1 AND destination_server_id IS NULL"), 0);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE is_final = 1 AND relay_ip = '127.0.0.1'"), 0);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries d JOIN servers v ON v.id = d.destination_server_id "
                               "WHERE d.recipient = 'carol@corp.example' AND d.is_final = 1 AND v.name = 'mx2'"), 1);
        // Re-importing both changes nothing.
        const QString before = caseDump(path).section(QStringLiteral(" imports="), 0, 0);
        QVERIFY(!ImportJob(s).importLogs(firstImport + secondImport).anyFailed());
        s.close();
        QCOMPARE(caseDump(path).section(QStringLiteral(" imports="), 0, 0), before);
    }
    // Item 6: every reject line is one event (five alike lines of a bot in two seconds are five),
    // and a second import of the file adds none.
    void everyRejectLineIsOneEvent() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("r.mtcase"));
        const QString log = QStringLiteral(MT_TEST_DATA "/postfix/issue15_rejects.log");
        CaseStore s;
        s.open(path);
        QVERIFY(!ImportJob(s).importLogs({log}).anyFailed());
        QCOMPARE(s.counts().rejectedAttempts, 7);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM rejects WHERE client_ip = '203.0.113.9'"), 5);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM rejects WHERE queue_id = '7B0000000B'"), 1);
        QVERIFY(!ImportJob(s).importLogs({log}).anyFailed());
        QCOMPARE(s.counts().rejectedAttempts, 7);
    }
    // A schema-5 case kept one row for alike rejects; after the migration, importing the file
    // again adds exactly the lines that row had swallowed.
    void rejectsAfterMigrationFromSchema5() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("v5.mtcase"));
        const QString log = QStringLiteral(MT_TEST_DATA "/postfix/issue15_rejects.log");
        {
            CaseStore s;
            s.open(path);
            QVERIFY(!ImportJob(s).importLogs({log}).anyFailed());
            // What schema 5 kept of this file, as migration 6 carries it over: one row per
            // (server, second, client, sender, recipient, stage), with seq 0 and no pid.
            s.db().exec("DELETE FROM rejects WHERE seq > 0; UPDATE rejects SET pid = '', queue_id = ''");
            QCOMPARE(s.counts().rejectedAttempts, 4);
        }
        CaseStore s;
        s.open(path);
        QVERIFY(!ImportJob(s).importLogs({log}).anyFailed());
        QCOMPARE(s.counts().rejectedAttempts, 7);
        QVERIFY(!ImportJob(s).importLogs({log}).anyFailed());
        QCOMPARE(s.counts().rejectedAttempts, 7);
    }
    // Items 4 and 5 in the case: expired, discarded, quarantined and filter-rejected are what
    // the case stores, with the filter's answer (the virus name, for detection) in response.
    void finalStatusesInTheCase() {
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("st.mtcase")));
        const ImportReport r = ImportJob(s).importLogs({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        QVERIFY(!r.anyFailed());
        QCOMPARE(r.files.front().figures.rejected, 1); // the damaged `removed` line
        QCOMPARE(QString::fromStdString(r.files.front().issues.front().reason).contains(QLatin1String("removed")), true);
        QCOMPARE(r.files.front().issues.front().line, 24);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'expired'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'discarded' "
                               "AND response LIKE '%INFECTED: Eicar-Test-Signature%'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'quarantined'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'filter-rejected'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'sent' AND relay_ip = '127.0.0.1'"), 0);
        // The trailing blank and the second message-id= line: three valid Message-IDs, no phantom.
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages WHERE message_id = 'trailing-space@example.net' AND id_valid = 1"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages WHERE message_id = 'second-id@example.net'"), 0);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages m WHERE NOT EXISTS "
                               "(SELECT 1 FROM copies c JOIN deliveries d ON d.copy_id = c.id WHERE c.message_id = m.id)"), 0);
    }
    // Item 4 across a rotation: the deferral in one import, the expiry in the next.
    void expiryInALaterImport() {
        QTemporaryDir tmp;
        QFile all(QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log"));
        QVERIFY(all.open(QIODevice::ReadOnly));
        QByteArray before, after;
        for (const QByteArray& line : all.readAll().split('\n')) {
            if (line.isEmpty()) continue;
            (line.startsWith("Nov 28") ? after : before) += line + '\n';
        }
        writeFile(tmp.filePath(QStringLiteral("mail.log.1")), before);
        writeFile(tmp.filePath(QStringLiteral("mail.log")), after);
        const QString path = tmp.filePath(QStringLiteral("x.mtcase"));
        {
            CaseStore s;
            s.open(path);
            QVERIFY(!ImportJob(s).importLogs({tmp.filePath(QStringLiteral("mail.log.1"))}).anyFailed());
            QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'deferred'"), 1);
        }
        CaseStore s;
        s.open(path);
        QVERIFY(!ImportJob(s).importLogs({tmp.filePath(QStringLiteral("mail.log"))}).anyFailed());
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'deferred'"), 0);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'expired' AND recipient = 'gone@example.org'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM copies WHERE queue_id = '6C0000000C'"), 1);
    }
    // Item 7: Sendmail's MSP hands to Postfix in the same syslog: one message, its origin the
    // Sendmail copy with the submitting user, the hop to Postfix not final.
    void sendmailHandOverToPostfix() {
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("sm.mtcase")));
        const ImportReport r = ImportJob(s).importLogs({QStringLiteral(MT_TEST_DATA "/postfix/issue15_sendmail.log")});
        QVERIFY2(!r.anyFailed(), r.files.front().error.c_str());
        QCOMPARE(s.counts().messages, 1);
        QCOMPARE(s.counts().copies, 2);
        QCOMPARE(s.counts().deliveries, 2); // bob in gw's mailbox, partner outside
        QCOMPARE(s.counts().rejectedAttempts, 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM messages WHERE sasl_user = 'joe' AND sender = 'joe'"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries d JOIN copies c ON c.id = d.copy_id "
                               "WHERE c.queue_id = '0APB00aa000500' AND d.is_final = 0 AND d.next_copy_id IS NOT NULL"), 2);
    }
    // The public corpus against raw grep counts of the same files (see PROVENANCE.md).
    void publicCorpusCountsMatchRawLines() {
        const QString dir = QStringLiteral(MT_PUBLIC_DATA "/postfix/lightmeter/individual_files/");
        if (!QFileInfo::exists(dir)) QSKIP("public corpus absent: set MAILTRIAGE_PUBLIC_DATA");
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("pub.mtcase")));
        ImportOptions o;
        o.year = 2021;
        // grep -c 'status=expired' 18_expired.log: 1; its one recipient was deferred until then.
        QVERIFY(!ImportJob(s, o).importLogs({dir + "18_expired.log"}).anyFailed());
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries WHERE status = 'expired'"), 1);
        // 13_empty_msgid_issue_388.log: message-id=<> before amavis, a real id after: one message.
        QVERIFY(!ImportJob(s, o).importLogs({dir + "13_empty_msgid_issue_388.log"}).anyFailed());
        QCOMPARE(s.db().scalar("SELECT count(DISTINCT message_id) FROM copies WHERE queue_id IN ('BABABABABABA', 'CACACACA')"), 1);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM deliveries d JOIN copies c ON c.id = d.copy_id "
                               "WHERE c.queue_id = 'BABABABABABA' AND d.is_final = 1"), 0);
        // The fail2ban reject variants: grep -c 'reject:' gives the number of reject events.
        const QString f2b = QStringLiteral(MT_PUBLIC_DATA "/postfix/isolated/fail2ban_tests_logs_postfix");
        QFile raw(f2b);
        QVERIFY(raw.open(QIODevice::ReadOnly));
        qint64 rawRejects = 0;
        while (!raw.atEnd()) {
            const QByteArray line = raw.readLine();
            if (!line.startsWith('#') && line.contains("postfix") && (line.contains(" reject: ") || line.contains(" milter-reject: ")))
                ++rawRejects;
        }
        CaseStore r;
        r.open(tmp.filePath(QStringLiteral("f2b.mtcase")));
        const ImportReport f2bReport = ImportJob(r, o).importLogs({f2b});
        // Lines the importer could not read are named with their reason; every other reject
        // line is one event, none merged with another.
        qint64 unreadableRejects = 0;
        for (const ParseIssue& i : f2bReport.files.front().issues)
            unreadableRejects += i.excerpt.find("reject: ") != std::string::npos;
        QVERIFY(rawRejects > 20);
        QCOMPARE(r.counts().rejectedAttempts, rawRejects - unreadableRejects);
    }
    void failedFileLeavesCaseAsItWas_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("reason");
        QByteArray garbage;
        for (int i = 0; i < 50000; ++i) garbage.append(static_cast<char>((i * 7919) % 251));
        QTest::newRow("binary garbage") << garbage << "not a log: binary data";
        QTest::newRow("another format") << QByteArray("1999-03-02 09:44:33 10HmaX-0005vi-00 <= CALLER@test.ex U=CALLER P=local S=sss\n")
                                                .repeated(1200)
                                        << "not a syslog or Postfix log";
        QTest::newRow("other programs only")
            << QByteArray("Jan 27 07:49:18 mail dovecot: imap-login: Login: user=<a@b>, method=PLAIN\n").repeated(50)
            << "no Postfix lines";
    }
    void failedFileLeavesCaseAsItWas() {
        QFETCH(QByteArray, content);
        QFETCH(QString, reason);
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("f.mtcase"));
        CaseStore s;
        s.open(path);
        ImportJob(s).importLogs({kMx1});
        const QString before = caseDump(path);
        const QString bad = tmp.filePath(QStringLiteral("bad.log"));
        writeFile(bad, content);
        const ImportReport r = ImportJob(s).importLogs({bad});
        QVERIFY(r.anyFailed());
        QVERIFY2(QString::fromStdString(r.files[0].error).contains(reason), r.files[0].error.c_str());
        QCOMPARE(caseDump(path), before);
    }
    void truncatedGzipRollsBack() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("g.mtcase"));
        // Big enough that the cut falls well inside the stream.
        QByteArray big;
        const QByteArray mx1 = readAll(kMx1);
        for (int i = 0; i < 2000; ++i) big += QByteArray(mx1)
                       .replace("4F2A61C0B1", QByteArray::number(0x10000000 + i, 16).toUpper() + "AB")
                       .replace("<m1@", "<m1-" + QByteArray::number(i) + "@");
        const QString plain = tmp.filePath(QStringLiteral("mail.log.1"));
        writeFile(plain, big);
        QCOMPARE(QProcess::execute(QStringLiteral("gzip"), {QStringLiteral("-f"), plain}), 0);
        const QByteArray gz = readAll(plain + ".gz");
        const QString cut = tmp.filePath(QStringLiteral("mail.log.2.gz"));
        writeFile(cut, gz.left(gz.size() * 2 / 3));
        CaseStore s;
        s.open(path);
        ImportJob(s).importLogs({kMx2});
        const QString before = caseDump(path);
        const ImportReport r = ImportJob(s).importLogs({cut});
        QVERIFY(r.anyFailed());
        QVERIFY2(QString::fromStdString(r.files[0].error).contains(QStringLiteral("truncated")), r.files[0].error.c_str());
        QVERIFY(r.files[0].figures.lines > 100); // it got some way in before failing
        QCOMPARE(caseDump(path), before);
        // The intact one imports.
        QVERIFY(!ImportJob(s).importLogs({plain + ".gz"}).anyFailed());
        QVERIFY(s.counts().messages > 2000);
    }
    void cancelLeavesCaseAsItWas() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("h.mtcase"));
        CaseStore s;
        s.open(path);
        ImportJob(s).importLogs({kMx2});
        const QString before = caseDump(path);
        QByteArray big;
        const QByteArray mx1 = readAll(kMx1);
        for (int i = 0; i < 10000; ++i) big += mx1;
        const QString log = tmp.filePath(QStringLiteral("big.log"));
        writeFile(log, big);
        std::atomic_bool cancel{false};
        ImportJob job(s);
        job.setCancelFlag(&cancel);
        int calls = 0;
        job.setProgress([&](std::int64_t, std::int64_t, const QString&) {
            if (++calls == 1) cancel = true; // cancel at the first progress report, mid-file
        });
        const ImportReport r = job.importLogs({log});
        QVERIFY(r.cancelled);
        QVERIFY(r.files[0].cancelled);
        QCOMPARE(caseDump(path), before);
    }
    void badLinesAreCountedAndNamed() {
        QTemporaryDir tmp;
        const QString log = tmp.filePath(QStringLiteral("mixed.log"));
        QByteArray content = readAll(kMx1);
        content.insert(content.indexOf('\n') + 1, "this line is nonsense\n");
        content.append("Nov 22 09:09:00 mx1 postfix/qmgr[1]: 1234567ABC: from=<x@y>, size=abc, nrcpt=1 (queue active)\n");
        content.append("Nov 22 09:09:01 mx1 postfix/qmgr[1]: 2234567ABC: from=<caf\xe9@y>, size=1, nrcpt=1 (queue active)\n");
        writeFile(log, content);
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("i.mtcase")));
        const ImportReport r = ImportJob(s).importLogs({log});
        QVERIFY(!r.anyFailed());
        const FileReport& f = r.files[0];
        QCOMPARE(f.figures.rejected, 2);
        QCOMPARE(f.issues.size(), std::size_t(3));
        QCOMPARE(f.issues[0].line, 2);
        QVERIFY(f.issues[0].reason.find("timestamp") != std::string::npos);
        QCOMPARE(f.issues[1].line, 22);
        QVERIFY(f.issues[1].reason.find("size") != std::string::npos);
        QCOMPARE(f.issues[2].line, 23);
        QVERIFY(f.issues[2].reason.find("UTF-8") != std::string::npos);
        QCOMPARE(s.counts().messages, 3); // the rest imported, the bad UTF-8 line too (repaired)
        QCOMPARE(s.db().scalar("SELECT count(*) FROM import_issues"), 3);
    }
    void directoryAndMissingPath() {
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("j.mtcase")));
        const ImportReport r = ImportJob(s).importLogs({tmp.path(), tmp.filePath(QStringLiteral("nope.log"))});
        QCOMPARE(r.files.size(), std::size_t(2));
        QVERIFY(!r.files[0].ok && !r.files[1].ok);
        QStringList errors{QString::fromStdString(r.files[0].error), QString::fromStdString(r.files[1].error)};
        errors.sort();
        QVERIFY(errors.join(QLatin1Char('|')).contains(QStringLiteral("directory")));
        QVERIFY(errors.join(QLatin1Char('|')).contains(QStringLiteral("no such file")));
        QCOMPARE(s.counts().imports, 0);
    }
    void emptyFileIsANoticeNotAnError() {
        QTemporaryDir tmp;
        const QString log = tmp.filePath(QStringLiteral("mail.log"));
        writeFile(log, {});
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("k.mtcase")));
        const ImportReport r = ImportJob(s).importLogs({log});
        QVERIFY(r.files[0].ok);
        QCOMPARE(r.files[0].notices.size(), std::size_t(1));
        QCOMPARE(s.counts().imports, 0);
    }
    void orgChartPutsUsersInUnits() {
        QTemporaryDir tmp;
        const QString csv = tmp.filePath(QStringLiteral("org.csv"));
        writeFile(csv, "email,unit,name,manager\n"
                       "alice@corp.example,Sales/EMEA/Inside,Alice,bob@corp.example\n"
                       "bob@corp.example,Sales/EMEA,Bob,\n"
                       "carol@corp.example,Engineering,Carol,nobody@corp.example\n");
        CaseStore s;
        s.open(tmp.filePath(QStringLiteral("l.mtcase")));
        ImportJob job(s);
        const ImportReport o = job.importOrgCharts({csv});
        QVERIFY(!o.anyFailed());
        QCOMPARE(o.files[0].notices.size(), std::size_t(1)); // carol's dangling manager
        job.importLogs({kMx1, kMx2});
        QCOMPARE(s.db().scalar("SELECT count(*) FROM units"), 5); // Sales, Sales/EMEA, Sales/EMEA/Inside, Engineering, Unassigned
        QCOMPARE(s.db().scalar("SELECT count(*) FROM units WHERE path = 'Sales/EMEA/Inside' AND parent_id = "
                               "(SELECT id FROM units WHERE path = 'Sales/EMEA')"), 1);
        // dave, erin, frank, root appear only in the logs: Unassigned.
        QCOMPARE(s.db().scalar("SELECT count(*) FROM users u JOIN units n ON n.id = u.unit_id WHERE n.path = 'Unassigned'"), 4);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM users WHERE source = 'org'"), 3);
    }
};

QTEST_GUILESS_MAIN(TestCaseStore)
#include "tst_casestore.moc"
