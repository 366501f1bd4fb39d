// mailtriage-cli as scripts and checks use it: exit codes, JSON, TSV/JSONL output, bad input.
#include "support/PublicData.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

// MAILTRIAGE_TEST_CLI runs the suite against another build of the CLI (an older one, to see a
// new test fail before its fix).
QString cliPath() {
    const QString other = qEnvironmentVariable("MAILTRIAGE_TEST_CLI");
    return other.isEmpty() ? QStringLiteral(MT_CLI_PATH) : other;
}

Run cli(const QStringList& args) {
    QProcess p;
    p.start(cliPath(), args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

// Through bash (process substitution, FIFOs); the CLI is $CLI. Killed after timeoutMs.
Run shell(const QString& script, int timeoutMs = 30000) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CLI"), cliPath());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("bash"), {QStringLiteral("-c"), script});
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {-3, p.readAllStandardOutput(), p.readAllStandardError()};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), qint64(bytes.size()));
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// One delivered message in classic syslog stamps ("Dec 24 09:00:01"), queue id qid.
QByteArray classicMessage(const QByteArray& mon, int day, const QByteArray& qid, const QByteArray& mid) {
    const QByteArray d = (day < 10 ? " " : "") + QByteArray::number(day);
    const QByteArray t = mon + ' ' + d + " 09:00:0";
    return t + "1 mx1 postfix/smtpd[100]: " + qid + ": client=ws.corp.example[10.0.0.5]\n" + t + "1 mx1 postfix/cleanup[101]: " + qid
           + ": message-id=<" + mid + ">\n" + t + "2 mx1 postfix/qmgr[102]: " + qid
           + ": from=<alice@corp.example>, size=900, nrcpt=1 (queue active)\n" + t + "3 mx1 postfix/local[103]: " + qid
           + ": to=<bob@corp.example>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
           + t + "3 mx1 postfix/qmgr[102]: " + qid + ": removed\n";
}

void setMtime(const QString& path, const QDateTime& when) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.setFileTime(when, QFileDevice::FileModificationTime));
}

// message_id -> time of every message in the case.
std::map<QString, QString> messageTimes(const QString& casePath) {
    std::map<QString, QString> out;
    const Run r = cli({"messages", "--case", casePath, "--format", "jsonl"});
    for (const QByteArray& line : r.out.split('\n'))
        if (!line.isEmpty()) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            out[o.value("message_id").toString()] = o.value("time").toString();
        }
    return out;
}

// The number of import runs the case records.
int importRuns(const QString& casePath) {
    const Run r = cli({"summary", "--case", casePath, "--json"});
    return QJsonDocument::fromJson(r.out).object().value("imports").toArray().size();
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
        // The reason names the file and what is wrong with it.
        QVERIFY2(r.err.contains(garbage.toUtf8() + ": error: not a log: binary data (NUL bytes in its first 4 KiB)"), r.err.constData());
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
    // Item 10: classic stamps are never placed after the file's date; the summary says where
    // the year came from; a log over New Year is right; --year FILE=YYYY sets one file's.
    void yearNeverAfterFileDate() {
        QTemporaryDir tmp;
        const QString copied = tmp.filePath(QStringLiteral("copied.log"));
        // Written Dec 16 and Dec 24 2025, then Mar 5 2026; copied (mtime) on 2026-12-06.
        writeFile(copied, classicMessage("Dec", 16, "1A0000001", "dec16@corp.example") + classicMessage("Dec", 24, "1A0000002", "dec24@corp.example")
                              + classicMessage("Mar", 5, "1A0000003", "mar5@corp.example"));
        setMtime(copied, QDateTime(QDate(2026, 12, 6), QTime(8, 0), Qt::UTC));
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        Run r = cli({"import", "--case", c, "--json", copied});
        QCOMPARE(r.code, 0);
        auto times = messageTimes(c);
        QCOMPARE(times[QStringLiteral("dec16@corp.example")].left(10), QStringLiteral("2025-12-16"));
        QCOMPARE(times[QStringLiteral("dec24@corp.example")].left(10), QStringLiteral("2025-12-24"));
        QCOMPARE(times[QStringLiteral("mar5@corp.example")].left(10), QStringLiteral("2026-03-05"));
        // The summary says the year was inferred, and from what (JSON notices and stderr).
        const QJsonArray notices = QJsonDocument::fromJson(r.out).object().value("files").toArray().at(0).toObject().value("notices").toArray();
        QVERIFY2(!notices.isEmpty() && notices.at(0).toString().contains("inferred from the file's modification date, 2026-12-06"), r.out.constData());
        QVERIFY(r.err.contains("inferred from the file's modification date, 2026-12-06"));

        // Over New Year: Dec 30 .. Jan 2, written Jan 3 2027.
        const QString ny = tmp.filePath(QStringLiteral("newyear.log"));
        writeFile(ny, classicMessage("Dec", 30, "1B0000001", "dec30@corp.example") + classicMessage("Jan", 2, "1B0000002", "jan2@corp.example"));
        setMtime(ny, QDateTime(QDate(2027, 1, 3), QTime(0, 30), Qt::UTC));
        // And a third file whose year is given: --year FILE=YYYY for it alone.
        const QString old = tmp.filePath(QStringLiteral("old.log"));
        writeFile(old, classicMessage("Jul", 4, "1C0000001", "jul4@corp.example"));
        setMtime(old, QDateTime(QDate(2026, 12, 1), QTime(0, 0), Qt::UTC));
        const QString c2 = tmp.filePath(QStringLiteral("c2.mtcase"));
        r = cli({"import", "--case", c2, "--year", old + "=2019", ny, old});
        QVERIFY2(r.code == 0, r.err.constData());
        times = messageTimes(c2);
        QCOMPARE(times[QStringLiteral("dec30@corp.example")].left(10), QStringLiteral("2026-12-30"));
        QCOMPARE(times[QStringLiteral("jan2@corp.example")].left(10), QStringLiteral("2027-01-02"));
        QCOMPARE(times[QStringLiteral("jul4@corp.example")].left(10), QStringLiteral("2019-07-04"));
        QVERIFY(r.err.contains("2019 as given by --year"));
        // A FILE= that is not among the logs is a usage error.
        QCOMPARE(cli({"import", "--case", c2, "--year", tmp.filePath(QStringLiteral("nope.log")) + "=2019", ny}).code, 2);
    }

    // Item 11: an ELF binary, a PDF or a SQLite file is refused: exit 1, nothing recorded.
    void binaryFilesRefused() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx1}).code, 0);
        const int runs = importRuns(c);
        const QString pdf = tmp.filePath(QStringLiteral("report.pdf"));
        writeFile(pdf, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstream\nNov 22 09:00:01 mx1 postfix/smtpd[1]: x\nendstream\n%%EOF\n");
        const QString db = tmp.filePath(QStringLiteral("other.sqlite"));
        {
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("bin"));
            d.setDatabaseName(db);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE notes(t TEXT)")));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO notes VALUES('Nov 22 09:00:01 mx1 postfix/smtpd[1]: hello')")));
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("bin"));
        const QString elf = QStandardPaths::findExecutable(QStringLiteral("true")); // small: few "lines" of text
        QVERIFY(!elf.isEmpty());
        struct Case { QString path; QByteArray why; };
        for (const Case& k : {Case{elf, "not a log: an ELF executable"}, Case{pdf, "not a log: a PDF document"},
                              Case{db, "not a log: a SQLite database"}}) {
            for (const char* format : {"auto", "postfix"}) {
                const Run r = cli({"import", "--case", c, "--format", format, k.path});
                QCOMPARE(r.code, 1);
                QVERIFY2(r.err.contains(k.path.toUtf8() + ": error: " + k.why), r.err.constData());
                QCOMPARE(importRuns(c), runs); // nothing recorded
            }
        }
        // A log with a block of NUL bytes (a power cut while it was written) is still a log.
        const QString padded = tmp.filePath(QStringLiteral("padded.log"));
        writeFile(padded, QByteArray(600, '\0') + "\n" + readFile(kMx2));
        const Run r = cli({"import", "--case", c, "--json", padded});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(importRuns(c), runs + 1);
    }

    // Item 12: process substitution, a FIFO (its writer closes) and /dev/zero.
    void streamsAreReadOnce() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        Run r = shell(QStringLiteral("\"$CLI\" import --case '%1' --json <(cat '%2') <(cat '%3')").arg(c, kMx1, kMx2));
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("messages").toInt(), 4);
        const QString c2 = tmp.filePath(QStringLiteral("c2.mtcase"));
        const QString fifo = tmp.filePath(QStringLiteral("mx1.fifo"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        r = shell(QStringLiteral("cat '%1' > '%2' & \"$CLI\" import --case '%3' --json --format auto '%2'; rc=$?; wait; exit $rc")
                      .arg(kMx1, fifo, c2));
        QVERIFY2(r.code == 0, r.err.constData()); // -3: hung
        QVERIFY(QJsonDocument::fromJson(r.out).object().value("deliveries").toInt() > 0);
        const QString c3 = tmp.filePath(QStringLiteral("c3.mtcase"));
        r = shell(QStringLiteral("\"$CLI\" import --case '%1' /dev/zero").arg(c3));
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("/dev/zero: error: not a log"), r.err.constData());
        // A stream of text without a line break is given up after the line limit.
        r = shell(QStringLiteral("\"$CLI\" import --case '%1' <(yes x | tr -d '\\n')").arg(c3));
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("no line break within 64 KiB"), r.err.constData());
    }

    // Item 13: an unrelated SQLite file as --case is refused and left byte for byte as it was;
    // new cases carry the application id, older cases of ours gain it.
    void foreignDatabaseRefusedUntouched() {
        QTemporaryDir tmp;
        const QString db = tmp.filePath(QStringLiteral("browser-history.sqlite"));
        {
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("foreign"));
            d.setDatabaseName(db);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE visits(url TEXT, at INTEGER)")));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO visits VALUES('https://example.org', 1)")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 3")));
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("foreign"));
        const QByteArray before = readFile(db);
        QVERIFY(!before.isEmpty());
        for (const QStringList& args : {QStringList{"import", "--case", db, kMx1}, QStringList{"detect", "--case", db},
                                        QStringList{"summary", "--case", db}, QStringList{"messages", "--case", db},
                                        QStringList{"export", "--case", db, "--table", "messages"}}) {
            const Run r = cli(args);
            QVERIFY2(r.code == 1, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.contains("is not a MailTriage case file"), qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(!r.err.contains("no such table"), r.err.constData());
            QCOMPARE(readFile(db), before); // byte-identical
            QVERIFY(!QFile::exists(db + "-wal"));
        }
        // Another application's id: refused too.
        const QString other = tmp.filePath(QStringLiteral("other.sqlite"));
        {
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("other"));
            d.setDatabaseName(other);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("PRAGMA application_id = 1234")));
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("other"));
        const QByteArray otherBefore = readFile(other);
        const Run r = cli({"import", "--case", other, kMx1});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("another application (application_id 0x000004d2)"), r.err.constData());
        QCOMPARE(readFile(other), otherBefore);
        // A new case carries the id (bytes 68-71 of the header, big-endian "MTrC").
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx1}).code, 0);
        QCOMPARE(readFile(c).mid(68, 4), QByteArray("MTrC"));
        // A case written before the id existed (id 0, our tables) is ours: it gains the id.
        {
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("legacy"));
            d.setDatabaseName(c);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("PRAGMA application_id = 0")));
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("legacy"));
        QCOMPARE(readFile(c).mid(68, 4), QByteArray(4, '\0'));
        QCOMPARE(cli({"summary", "--case", c}).code, 0);
        QCOMPARE(cli({"import", "--case", c, kMx2}).code, 0);
        QCOMPARE(readFile(c).mid(68, 4), QByteArray("MTrC"));
    }

    // Item 14: a case in a read-only folder is read (read-only, immutable, and said so); a
    // command that writes says "read-only" instead of printing SQL; export checks the schema.
    void readOnlyCase() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("evidence"));
        QVERIFY(QDir().mkpath(dir));
        const QString c = dir + QStringLiteral("/c.mtcase");
        QCOMPARE(cli({"import", "--case", c, kMx1, kMx2}).code, 0);
        // Root writes anywhere: run the CLI as nobody then (the folder is theirs to read only).
        const bool root = ::geteuid() == 0;
        QVERIFY(QFile::setPermissions(tmp.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadOther
                                                      | QFileDevice::ExeOther | QFileDevice::WriteOwner));
        QVERIFY(QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadOther | QFileDevice::ExeOther));
        auto ro = [&](const QStringList& args) {
            QString cmd = root ? QStringLiteral("setpriv --reuid=65534 --regid=65534 --clear-groups \"$CLI\"") : QStringLiteral("\"$CLI\"");
            for (const QString& a : args) cmd += QStringLiteral(" '") + a + QLatin1Char('\'');
            return shell(cmd);
        };
        Run r = ro({"summary", "--case", c, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("messages").toInt(), 4);
        QVERIFY2(r.err.contains("read-only") && r.err.contains("immutable"), r.err.constData());
        r = ro({"messages", "--case", c});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.count('\n'), 5);
        r = ro({"export", "--case", c, "--table", "messages", "--format", "json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).array().size(), 4);
        r = ro({"detect", "--case", c});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("is read-only") && !r.err.contains("PRAGMA"), r.err.constData());
        r = ro({"import", "--case", c, kMx1});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("is read-only") && !r.err.contains("PRAGMA"), r.err.constData());
        QVERIFY(QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
        QVERIFY(QFile::setPermissions(tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
        // A read-only case file in a writable folder: the same words for a write.
        QVERIFY(QFile::setPermissions(c, QFileDevice::ReadOwner | QFileDevice::ReadOther));
        if (!root) {
            r = cli({"detect", "--case", c});
            QCOMPARE(r.code, 1);
            QVERIFY2(r.err.contains("is read-only (the file cannot be written)"), r.err.constData());
        }
        QVERIFY(QFile::setPermissions(c, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    }

    // Item 15: an org chart of which no row is accepted fails (exit 1, nothing recorded).
    void orgChartNothingAcceptedExitsOne() {
        QTemporaryDir tmp;
        const QString csv = tmp.filePath(QStringLiteral("hr.csv"));
        writeFile(csv, "email,unit\nnot-an-address,Sales\nalso bad,Sales\n");
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        const Run r = cli({"import", "--case", c, "--json", "--org", csv});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("no person accepted (2 row(s) rejected"), r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("users").toInt(), 0);
        QCOMPARE(importRuns(c), 0);
    }

    // Item 16: Oracle's HR sample as exported: EMAIL holds user names (SKING), MANAGER_ID the
    // EMPLOYEE_ID of another row. --org-domain makes addresses; the manager resolves by id.
    void orgChartUserNamesAndManagerIds() {
        QTemporaryDir tmp;
        const QString csv = tmp.filePath(QStringLiteral("employees.csv"));
        writeFile(csv, "EMPLOYEE_ID,FIRST_NAME,LAST_NAME,EMAIL,PHONE_NUMBER,HIRE_DATE,JOB_ID,SALARY,COMMISSION_PCT,MANAGER_ID,DEPARTMENT_ID\n"
                       "100,Steven,King,SKING,515.123.4567,17-JUN-03,AD_PRES,24000,,,90\n"
                       "101,Neena,Kochhar,NKOCHHAR,515.123.4568,21-SEP-05,AD_VP,17000,,100,90\n"
                       "102,Lex,De Haan,LDEHAAN,515.123.4569,13-JAN-01,AD_VP,17000,,100,90\n"
                       "103,Alexander,Hunold,AHUNOLD,590.423.4567,03-JAN-06,IT_PROG,9000,,102,60\n");
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        Run r = cli({"import", "--case", c, "--json", "--org", csv});
        QCOMPARE(r.code, 1); // user names without a domain: nothing accepted
        QVERIFY2(r.err.contains("--org-domain"), r.err.constData());
        r = cli({"import", "--case", c, "--json", "--org-domain", "corp.example", "--org", csv});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("users").toInt(), 4);
        QVERIFY2(!r.err.contains("manager does not resolve"), r.err.constData());
        {
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("hr"));
            d.setDatabaseName(c);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("SELECT email, manager_email FROM users ORDER BY email")));
            std::map<QString, QString> mgr;
            while (q.next()) mgr[q.value(0).toString()] = q.value(1).toString();
            QCOMPARE(mgr.size(), std::size_t(4));
            QCOMPARE(mgr[QStringLiteral("ahunold@corp.example")], QStringLiteral("ldehaan@corp.example"));
            QCOMPARE(mgr[QStringLiteral("nkochhar@corp.example")], QStringLiteral("sking@corp.example"));
            QVERIFY(mgr[QStringLiteral("sking@corp.example")].isEmpty());
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("hr"));
        QCOMPARE(cli({"import", "--case", c, "--org-domain", "not a domain", "--org", csv}).code, 2);
    }

    // Item 20: each hit's detail in messages --flagged (JSONL) and in the export.
    void flaggedHitDetails() {
        QTemporaryDir tmp;
        const QString out = tmp.filePath(QStringLiteral("sim"));
        QCOMPARE(cli({"simulate", "--out", out, "--users", "60", "--servers", "2", "--hours", "2", "--seed", "7", "--worm", "iloveyou"}).code, 0);
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QStringList logs = QDir(out).entryList({"*.log"}, QDir::Files);
        for (QString& l : logs) l = out + QLatin1Char('/') + l;
        QStringList args{"import", "--case", c};
        for (const QString& o : QDir(out).entryList({"*.csv"}, QDir::Files)) args << "--org" << out + QLatin1Char('/') + o;
        QVERIFY2(cli(args + logs).code == 0, "import");
        QCOMPARE(cli({"detect", "--case", c}).code, 0);
        Run r = cli({"messages", "--case", c, "--flagged", "--format", "jsonl"});
        QCOMPARE(r.code, 0);
        int flagged = 0;
        for (const QByteArray& line : r.out.split('\n')) {
            if (line.isEmpty()) continue;
            ++flagged;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            const QJsonArray hits = o.value("hits").toArray();
            QVERIFY2(!hits.isEmpty(), line.constData());
            QStringList rules;
            for (const auto& h : hits) {
                const QJsonObject ho = h.toObject();
                QVERIFY2(!ho.value("detail").toString().isEmpty(), line.constData());
                rules << ho.value("rule").toString();
            }
            for (const auto& rule : o.value("rules").toArray()) QVERIFY(rules.contains(rule.toString()));
        }
        QVERIFY(flagged > 0);
        r = cli({"export", "--case", c, "--table", "messages", "--format", "json"});
        QCOMPARE(r.code, 0);
        int withDetail = 0;
        for (const auto& row : QJsonDocument::fromJson(r.out).array()) {
            const QJsonObject o = row.toObject();
            QVERIFY(o.contains("hit_details"));
            if (!o.value("rules").toString().isEmpty()) {
                QVERIFY(!o.value("hit_details").toString().isEmpty());
                ++withDetail;
            }
        }
        QCOMPARE(withDetail, flagged);
    }

    // Item 21: the terminals' criteria written from the case's confirm rule.
    void confirmConfigFromCase() {
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"import", "--case", c, kMx1}).code, 0);
        const QString rulesPath = tmp.filePath(QStringLiteral("rules.json"));
        QCOMPARE(cli({"rules", "--case", c, "--export", rulesPath}).code, 0);
        QJsonObject rules = QJsonDocument::fromJson(readFile(rulesPath)).object();
        QJsonObject confirm = rules.value("confirm").toObject();
        QVERIFY2(!confirm.isEmpty(), readFile(rulesPath).constData());
        confirm.insert("max_recipients", 7);
        confirm.insert("rate_messages", 3);
        confirm.insert("rate_window", 1200);
        confirm.insert("require_always", false);
        rules.insert("confirm", confirm);
        writeFile(rulesPath, QJsonDocument(rules).toJson());
        QCOMPARE(cli({"rules", "--case", c, "--import", rulesPath}).code, 0);
        const QString ini = tmp.filePath(QStringLiteral("config.ini"));
        writeFile(ini, "[user]\naddress=alice@corp.example\n\n[criteria]\nmax_recipients=50\n");
        const Run r = cli({"rules", "--case", c, "--confirm-config", ini});
        QVERIFY2(r.code == 0, r.err.constData());
        QSettings s(ini, QSettings::IniFormat);
        QCOMPARE(s.value("user/address").toString(), QStringLiteral("alice@corp.example")); // kept
        QCOMPARE(s.value("criteria/max_recipients").toInt(), 7);
        QCOMPARE(s.value("criteria/max_messages").toInt(), 3);
        QCOMPARE(s.value("criteria/window_minutes").toInt(), 20);
        QCOMPARE(s.value("criteria/always").toBool(), false);
        const QString risky = s.value("criteria/risky_extensions").toStringList().join(',');
        QVERIFY2(risky.split(',').contains("exe") && risky.split(',').contains("vbs"), qPrintable(risky));
    }

    void publicLdifImports() {
        MT_REQUIRE_PUBLIC_DATA();
        QTemporaryDir tmp;
        const QString c = tmp.filePath(QStringLiteral("c.mtcase"));
        const Run r = cli({"import", "--case", c, "--json", "--org", mt::test::publicData(QStringLiteral("directory/389ds_Example.ldif"))});
        QCOMPARE(r.code, 0);
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("users").toInt(), 150);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
