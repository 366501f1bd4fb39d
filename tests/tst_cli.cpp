// mailtriage-cli as scripts and checks use it: exit codes, JSON, TSV/JSONL output, bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(MT_CLI_PATH), args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

const QString kMx1 = QStringLiteral(MT_TEST_DATA "/postfix/relay_mx1.log");
const QString kMx2 = QStringLiteral(MT_TEST_DATA "/postfix/relay_mx2.log");

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void usageErrorsExitTwo_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("no command") << QStringList{};
        QTest::newRow("unknown command") << QStringList{"frobnicate"};
        QTest::newRow("import without case") << QStringList{"import", kMx1};
        QTest::newRow("import without inputs") << QStringList{"import", "--case", "x.mtcase"};
        QTest::newRow("bad year") << QStringList{"import", "--case", "x.mtcase", "--year", "20x6", kMx1};
        QTest::newRow("unknown option") << QStringList{"import", "--case", "x.mtcase", "--frob", kMx1};
        QTest::newRow("bad zone") << QStringList{"import", "--case", "x.mtcase", "--tz", "Nowhere/Else", kMx1};
        QTest::newRow("simulate without out") << QStringList{"simulate", "--users", "50"};
        QTest::newRow("simulate bad worm") << QStringList{"simulate", "--out", "x", "--worm", "blaster"};
        QTest::newRow("simulate bad prob") << QStringList{"simulate", "--out", "x", "--open-prob", "1.5"};
        QTest::newRow("simulate bad users") << QStringList{"simulate", "--out", "x", "--users", "3"};
        QTest::newRow("bad format") << QStringList{"messages", "--case", "x.mtcase", "--format", "xml"};
    }
    void usageErrorsExitTwo() {
        QFETCH(QStringList, args);
        QTemporaryDir tmp;
        QDir::setCurrent(tmp.path());
        const Run r = cli(args);
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("Usage: mailtriage-cli"));
        QVERIFY(!QFile::exists(tmp.filePath(QStringLiteral("x.mtcase")))); // nothing created on bad usage
    }
    void importJsonContract() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        const Run r = cli({"import", "--case", c, "--json", kMx1, kMx2});
        QCOMPARE(r.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value("messages").toInt(), 4);
        QCOMPARE(o.value("deliveries").toInt(), 6);
        QCOMPARE(o.value("servers").toInt(), 2);
        QCOMPARE(o.value("users").toInt(), 7);
        QCOMPARE(o.value("units").toInt(), 1);
        QCOMPARE(o.value("rejected_lines").toInt(), 0);
        const QJsonArray files = o.value("files").toArray();
        QCOMPARE(files.size(), 2);
        int lines = 0;
        for (const auto& f : files) {
            const QJsonObject fo = f.toObject();
            QVERIFY(fo.contains("path") && fo.contains("accepted") && fo.contains("rejected"));
            lines += fo.value("lines").toInt();
        }
        QCOMPARE(lines, 20 + 16);
    }
    void messagesTsvAndJsonl() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx1, kMx2}).code, 0);
        const Run tsv = cli({"messages", "--case", c});
        QCOMPARE(tsv.code, 0);
        const QList<QByteArray> rows = tsv.out.trimmed().split('\n');
        QCOMPARE(rows.size(), 5); // header + 4 messages
        QVERIFY(rows[0].startsWith("message_id\ttime\tsender\tclient\tsize\tsubject\tattachments\trecipients"));
        QVERIFY(tsv.out.contains("m1@corp.example\t2026-11-22T09:00:01.200Z\talice@corp.example\tws-alice.corp.example[10.1.0.5]\t24310\tILOVEYOU\tLOVE-LETTER-FOR-YOU.TXT.vbs\t"));
        QVERIFY(tsv.out.contains("bob@corp.example>mx2:sent"));
        const Run jl = cli({"messages", "--case", c, "--format", "jsonl"});
        QCOMPARE(jl.code, 0);
        const QList<QByteArray> lines = jl.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        const QJsonObject m1 = QJsonDocument::fromJson(lines[0]).object();
        QCOMPARE(m1.value("message_id").toString(), QStringLiteral("m1@corp.example"));
        QCOMPARE(m1.value("recipients").toArray().size(), 3);
        QCOMPARE(m1.value("attachments").toArray().at(0).toString(), QStringLiteral("LOVE-LETTER-FOR-YOU.TXT.vbs"));
    }
    void failedInputExitsOneAndKeepsCase() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx1}).code, 0);
        const QString garbage = tmp.filePath(QStringLiteral("garbage.bin"));
        QFile g(garbage);
        QVERIFY(g.open(QIODevice::WriteOnly));
        for (int i = 0; i < 20000; ++i) g.putChar(static_cast<char>((i * 131) % 256));
        g.close();
        const Run r = cli({"import", "--case", c, "--json", garbage, kMx2, tmp.path()});
        QCOMPARE(r.code, 1);
        // The reason names the file and the line.
        QVERIFY(r.err.contains(garbage.toUtf8() + ": error: not a syslog or Postfix log: line 1"));
        QVERIFY(r.err.contains("is a directory"));
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value("messages").toInt(), 4); // mx2 still imported
    }
    // A crash (SIGKILL) in the middle of importing a file leaves the case as it was.
    void killedImportLeavesCaseAsItWas() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx2}).code, 0);
        const QByteArray before = cli({"summary", "--case", c, "--json"}).out;
        // A big log: the relay fixture repeated with fresh queue ids and Message-IDs.
        QFile src(kMx1);
        QVERIFY(src.open(QIODevice::ReadOnly));
        const QByteArray one = src.readAll();
        const QString big = tmp.filePath(QStringLiteral("big.log"));
        QFile out(big);
        QVERIFY(out.open(QIODevice::WriteOnly));
        for (int i = 0; i < 60000; ++i)
            out.write(QByteArray(one)
                          .replace("4F2A61C0B1", QByteArray::number(0x10000000 + i, 16).toUpper() + "AB")
                          .replace("5A0B0C0D0E", QByteArray::number(0x20000000 + i, 16).toUpper() + "CD")
                          .replace("<m1@", "<m1-" + QByteArray::number(i) + "@")
                          .replace(".5A0B0C0D0E@", "." + QByteArray::number(i) + "@"));
        out.close();
        QProcess p;
        p.start(QStringLiteral(MT_CLI_PATH), {"import", "--case", c, big});
        QVERIFY(p.waitForStarted());
        // Wait until the import has written into the WAL, then kill it mid-file.
        const QString wal = c + "-wal";
        QElapsedTimer t;
        t.start();
        while (QFileInfo(wal).size() < 4 * 1024 * 1024 && t.elapsed() < 60000 && p.state() == QProcess::Running)
            QTest::qWait(20);
        QVERIFY2(p.state() == QProcess::Running, "the import finished before it could be killed: make the log bigger");
        p.kill();
        p.waitForFinished();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        QCOMPARE(cli({"summary", "--case", c, "--json"}).out, before);
        // And the case still takes imports.
        QCOMPARE(cli({"import", "--case", c, kMx1}).code, 0);
    }
    // simulate: the same seed gives the same bytes, and what it writes imports cleanly.
    void simulateIsDeterministicAndImports() {
        QTemporaryDir tmp;
        const QStringList common{"--users", "60", "--servers", "2", "--hours", "2", "--seed", "9", "--worm", "melissa",
                                 "--open-prob", "0.3", "--json"};
        const Run a = cli(QStringList{"simulate", "--out", tmp.filePath("a")} + common);
        const Run b = cli(QStringList{"simulate", "--out", tmp.filePath("b")} + common);
        QCOMPARE(a.code, 0);
        QCOMPARE(b.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(a.out).object();
        QCOMPARE(o.value("logs").toArray().size(), 2);
        QVERIFY(o.value("messages").toInt() > 100);
        QVERIFY(o.value("worm_messages").toInt() >= 1);
        for (const QString f : {"mail1.log", "mail2.log", "org.csv", "truth.json"}) {
            QFile fa(tmp.filePath("a/" + f)), fb(tmp.filePath("b/" + f));
            QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
            QVERIFY2(fa.readAll() == fb.readAll(), qPrintable(f));
        }
        const Run imp = cli({"import", "--case", tmp.filePath("c.mtcase"), "--org", tmp.filePath("a/org.csv"), "--json",
                             tmp.filePath("a/mail1.log"), tmp.filePath("a/mail2.log")});
        QCOMPARE(imp.code, 0);
        const QJsonObject io = QJsonDocument::fromJson(imp.out).object();
        QCOMPARE(io.value("rejected_lines").toInt(), 0);
        QCOMPARE(io.value("messages").toInt(), o.value("messages").toInt());
    }
    void notACaseFile() {
        QTemporaryDir tmp;
        const QString junk = tmp.filePath(QStringLiteral("junk.mtcase"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'j'));
        f.close();
        const Run r = cli({"import", "--case", junk, kMx1});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("not a database"));
        QCOMPARE(cli({"summary", "--case", tmp.filePath(QStringLiteral("missing.mtcase"))}).code, 1);
    }
    void orgChartWithMapping() {
        QTemporaryDir tmp;
        const QString csv = tmp.filePath(QStringLiteral("hr.csv"));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("Mail;Org Path;Full Name\nalice@corp.example;Sales/EMEA;Alice A\nbob@corp.example;Sales/US;Bob B\n");
        f.close();
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        const Run r = cli({"import", "--case", c, "--org", csv, "--org-map", "email=Mail", "--org-map", "unit=Org Path",
                           "--json", kMx1, kMx2});
        QCOMPARE(r.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value("units").toInt(), 4); // Sales, Sales/EMEA, Sales/US, Unassigned
        QCOMPARE(o.value("users").toInt(), 7);
    }
    void publicLdifImports() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        const Run r = cli({"import", "--case", c, "--json", "--org", QStringLiteral(MT_PUBLIC_DATA "/directory/389ds_Example.ldif")});
        QCOMPARE(r.code, 0);
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("users").toInt(), 150);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
