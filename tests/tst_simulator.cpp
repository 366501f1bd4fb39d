// The outbreak simulator: deterministic bytes, logs the importer reads without a single
// rejected line, and a truth that agrees with the imported case (messages, worm senders and
// recipients, infections along address-book edges, the legitimate bulk).
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/SqliteDb.h"
#include "model/simulator/Simulator.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <memory>
#include <numeric>

using namespace mt;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

sim::SimulationOptions smallOptions(const QString& dir, sim::Worm worm, std::uint64_t seed) {
    sim::SimulationOptions o;
    o.outDir = dir;
    o.users = 200;
    o.servers = 3;
    o.hours = 3;
    o.seed = seed;
    o.worm = worm;
    o.openProbability = 0.25;
    return o;
}

QStringList filesOf(const sim::SimulationResult& r) {
    return r.logFiles + QStringList{r.orgChart, r.truthFile};
}

std::string s(const QString& q) { return q.toStdString(); }
QString q(const std::string& v) { return QString::fromStdString(v); }

// One simulated scenario imported into its own case.
struct Scenario {
    sim::SimulationResult result;
    sim::Truth truth;
    QVector<sim::WormMessage> wormMessages;
    ImportReport orgReport, logReport;
    QString casePath;
};

} // namespace

class TestSimulator : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::map<QString, std::shared_ptr<Scenario>> m_scenarios; // by worm name

    Scenario& scenario(const QString& worm) { return *m_scenarios.at(worm); }

    void addWormRows() {
        QTest::addColumn<QString>("worm");
        for (const char* w : {"none", "iloveyou", "melissa", "polymorphic"}) QTest::newRow(w) << QString::fromLatin1(w);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        std::uint64_t seed = 11;
        for (sim::Worm w : {sim::Worm::None, sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic}) {
            auto sc = std::make_shared<Scenario>();
            const QString name = sim::wormName(w);
            const QString dir = m_tmp.filePath(name);
            sc->result = sim::simulate(smallOptions(dir, w, seed++));
            QVERIFY2(sc->result.ok, qPrintable(sc->result.error));
            QString error;
            QVERIFY2(sim::readTruth(sc->result.truthFile, sc->truth, &error), qPrintable(error));
            QVERIFY2(sim::readWormMessages(sc->result.truthFile, sc->wormMessages, &error), qPrintable(error));
            sc->casePath = m_tmp.filePath(name + QStringLiteral(".mtcase"));
            CaseStore store;
            store.open(sc->casePath, true);
            ImportJob job(store);
            sc->orgReport = job.importOrgCharts({sc->result.orgChart});
            sc->logReport = job.importLogs(sc->result.logFiles);
            m_scenarios[name] = sc;
        }
    }

    void wormNames() {
        for (sim::Worm w : {sim::Worm::None, sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic,
                            sim::Worm::Disguised, sim::Worm::Link}) {
            sim::Worm back = sim::Worm::None;
            QVERIFY(sim::wormFromName(sim::wormName(w), back));
            QCOMPARE(back, w);
        }
        sim::Worm w;
        QVERIFY(!sim::wormFromName(QStringLiteral("sobig"), w));
    }

    void sameSeedSameBytes() {
        QTemporaryDir a, b, c;
        sim::SimulationOptions o = smallOptions(a.path(), sim::Worm::Polymorphic, 18446744073709551557ull);
        o.users = 120;
        o.hours = 2;
        const sim::SimulationResult ra = sim::simulate(o);
        o.outDir = b.path();
        const sim::SimulationResult rb = sim::simulate(o);
        o.outDir = c.path();
        o.seed = 7;
        const sim::SimulationResult rc = sim::simulate(o);
        QVERIFY(ra.ok && rb.ok && rc.ok);
        QCOMPARE(ra.logFiles.size(), 3);
        const QStringList fa = filesOf(ra), fb = filesOf(rb), fc = filesOf(rc);
        for (int i = 0; i < fa.size(); ++i) {
            const QByteArray bytes = readAll(fa[i]);
            QVERIFY2(!bytes.isEmpty(), qPrintable(fa[i]));
            QVERIFY2(bytes == readAll(fb[i]), qPrintable(fa[i]));
            QVERIFY2(bytes != readAll(fc[i]), qPrintable(fc[i]));
        }
        QCOMPARE(ra.messages, rb.messages);
        // The seed survives the round trip through JSON exactly, even past 2^53.
        sim::Truth t;
        QVERIFY(sim::readTruth(ra.truthFile, t));
        QCOMPARE(t.seed, 18446744073709551557ull);
    }

    void rerunReplacesOurFiles() {
        QTemporaryDir d;
        sim::SimulationOptions o = smallOptions(d.path(), sim::Worm::None, 3);
        o.users = 60;
        o.hours = 1;
        o.servers = 5;
        QVERIFY(sim::simulate(o).ok);
        QVERIFY(QFile::exists(d.filePath(QStringLiteral("mail5.log"))));
        o.servers = 2;
        const sim::SimulationResult r = sim::simulate(o);
        QVERIFY(r.ok);
        QCOMPARE(r.logFiles.size(), 2);
        QVERIFY(!QFile::exists(d.filePath(QStringLiteral("mail3.log"))));
        QVERIFY(!QFile::exists(d.filePath(QStringLiteral("mail5.log"))));
    }

    void progressAndCancel() {
        QTemporaryDir d;
        sim::SimulationOptions o = smallOptions(d.path(), sim::Worm::IloveYou, 5);
        o.users = 100;
        o.hours = 2;
        QVector<int> seen;
        const sim::SimulationResult r = sim::simulate(o, [&](int p) { seen << p; });
        QVERIFY(r.ok);
        QVERIFY(!seen.isEmpty());
        QCOMPARE(seen.last(), 100);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()));
        std::atomic_bool cancel{true};
        const sim::SimulationResult c = sim::simulate(o, {}, &cancel);
        QVERIFY(!c.ok);
        QCOMPARE(c.error, QStringLiteral("cancelled"));
    }

    void importsWithZeroRejectedLines_data() { addWormRows(); }
    void importsWithZeroRejectedLines() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        QCOMPARE(sc.orgReport.files.size(), std::size_t(1));
        QVERIFY(sc.orgReport.files[0].ok);
        QCOMPARE(sc.logReport.files.size(), std::size_t(sc.result.logFiles.size()));
        for (const FileReport& f : sc.logReport.files) {
            QVERIFY2(f.ok, f.error.c_str());
            QVERIFY2(f.figures.rejected == 0,
                     qPrintable(QStringLiteral("%1: %2 rejected, first: %3")
                                    .arg(q(f.figures.path)).arg(f.figures.rejected)
                                    .arg(f.issues.empty() ? QString() : q(f.issues[0].reason + ": " + f.issues[0].excerpt))));
            QVERIFY(f.figures.accepted > 0);
        }
    }

    void orgUsersLandInTheirUnits_data() { addWormRows(); }
    void orgUsersLandInTheirUnits() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        CaseStore store;
        store.open(sc.casePath, false);
        const QList<QByteArray> lines = readAll(sc.result.orgChart).split('\n');
        QCOMPARE(lines.first(), QByteArray("email,unit,name,manager,workstation,server"));
        auto st = store.db().prepare("SELECT n.path FROM users u JOIN units n ON n.id = u.unit_id WHERE u.email = ?1");
        int rows = 0;
        for (int i = 1; i < lines.size(); ++i) {
            if (lines[i].isEmpty()) continue;
            const QList<QByteArray> cells = lines[i].split(',');
            QCOMPARE(cells.size(), 6);
            QCOMPARE(cells[1].count('/'), 2); // Division/Department/Team
            const std::string email = cells[0].toStdString();
            st.reset();
            st.bind(1, std::string_view(email));
            QVERIFY2(st.step(), email.c_str());
            QCOMPARE(q(st.text(0)), QString::fromUtf8(cells[1]));
            ++rows;
        }
        QCOMPARE(rows, 200);
        // Nobody only the logs know: every sender and local recipient is on the chart.
        QCOMPARE(store.db().scalar("SELECT count(*) FROM users WHERE source <> 'org'"), 0);
        QCOMPARE(sc.truth.addressBooks.size(), 200);
    }

    void messageCountMatchesTruth_data() { addWormRows(); }
    void messageCountMatchesTruth() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        CaseStore store;
        store.open(sc.casePath, false);
        QCOMPARE(sc.truth.messages, sc.result.messages);
        QCOMPARE(store.db().scalar("SELECT count(*) FROM messages"), sc.truth.messages);
        QVERIFY(sc.truth.messages > 500); // tens of messages per user and day, for 200 users over 3 hours
        // Subjects are logged on most messages.
        const auto withSubject = store.db().scalar("SELECT count(*) FROM messages WHERE subject IS NOT NULL");
        QVERIFY(withSubject * 10 > sc.truth.messages * 7);
    }

    void wormMessagesInTheCase_data() { addWormRows(); }
    void wormMessagesInTheCase() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        QCOMPARE(sim::wormName(sc.truth.worm), worm);
        QCOMPARE(sc.result.wormMessages, std::int64_t(sc.truth.wormMessageIds.size()));
        QCOMPARE(sc.result.infectedUsers, int(sc.truth.infected.size()));
        if (worm == QLatin1String("none")) {
            QVERIFY(sc.truth.wormMessageIds.isEmpty());
            QVERIFY(sc.truth.infected.isEmpty());
            QVERIFY(sc.truth.patientZero.isEmpty());
            QVERIFY(sc.wormMessages.isEmpty());
            return;
        }
        QVERIFY(sc.truth.wormMessageIds.size() > 10);
        QVERIFY(sc.truth.infected.size() > 1); // it spread
        QCOMPARE(sc.wormMessages.size(), sc.truth.wormMessageIds.size());
        QHash<QString, qint64> infectedAt;
        for (const sim::Infection& i : sc.truth.infected) {
            QVERIFY2(!infectedAt.contains(i.user), qPrintable(i.user)); // at most once
            infectedAt.insert(i.user, i.time);
        }

        CaseStore store;
        store.open(sc.casePath, false);
        auto msg = store.db().prepare("SELECT id, sender, sasl_user, time, subject, client_ip FROM messages WHERE message_id = ?1");
        auto rcpts = store.db().prepare(
            "SELECT DISTINCT d.recipient FROM deliveries d JOIN copies c ON c.id = d.copy_id "
            "WHERE c.message_id = ?1 AND d.is_final = 1 ORDER BY 1");
        auto atts = store.db().prepare("SELECT name FROM attachments WHERE message_id = ?1");
        QSet<QString> senders, subjects, files;
        const QRegularExpression doubleExt(QStringLiteral("^\\w+_\\d+\\.(pdf|jpg|doc|txt|xls|tif)\\.(exe|scr|pif|com|bat)$"));
        for (int i = 0; i < sc.wormMessages.size(); ++i) {
            const sim::WormMessage& w = sc.wormMessages[i];
            QCOMPARE(w.messageId, sc.truth.wormMessageIds[i]);
            const std::string id = s(w.messageId);
            msg.reset();
            msg.bind(1, std::string_view(id));
            QVERIFY2(msg.step(), id.c_str());
            const std::int64_t rowId = msg.int64(0);
            QCOMPARE(q(msg.text(1)), w.sender);
            QCOMPARE(q(msg.text(2)), w.sender); // under the infected user's own SASL identity
            const std::int64_t time = msg.int64(3);
            QCOMPARE(time, w.time);
            QVERIFY2(infectedAt.contains(w.sender), qPrintable(w.sender));
            QVERIFY(time > infectedAt.value(w.sender)); // sent after opening the attachment
            QVERIFY(q(msg.text(5)).startsWith(QLatin1String("10.20."))); // from a workstation
            const QString subject = q(msg.text(4));
            rcpts.reset();
            rcpts.bind(1, rowId);
            QStringList got;
            while (rcpts.step()) got << q(rcpts.text(0));
            QStringList want = w.recipients;
            want.sort();
            QCOMPARE(got, want);
            atts.reset();
            atts.bind(1, rowId);
            QVERIFY(atts.step());
            const QString file = q(atts.text(0));
            senders.insert(w.sender);
            if (worm == QLatin1String("iloveyou")) {
                QCOMPARE(subject, QStringLiteral("ILOVEYOU"));
                QCOMPARE(file, QStringLiteral("LOVE-LETTER-FOR-YOU.TXT.vbs"));
                QCOMPARE(w.recipients.size(), 1);
            } else if (worm == QLatin1String("melissa")) {
                QVERIFY2(subject.startsWith(QLatin1String("Important Message From ")), qPrintable(subject));
                QCOMPARE(file, QStringLiteral("list.doc"));
                QVERIFY(w.recipients.size() <= 50);
            } else {
                QVERIFY2(doubleExt.match(file).hasMatch(), qPrintable(file));
                QVERIFY2(!files.contains(file), qPrintable(file));
                QVERIFY2(!subjects.contains(subject), qPrintable(subject));
                files.insert(file);
                subjects.insert(subject);
                QCOMPARE(w.recipients.size(), 1);
            }
        }
        // Every infected user ran the worm, and only they.
        QCOMPARE(senders, QSet<QString>(infectedAt.keyBegin(), infectedAt.keyEnd()));
    }

    void spreadsAlongAddressBookEdges_data() { addWormRows(); }
    void spreadsAlongAddressBookEdges() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        const auto& books = sc.truth.addressBooks;
        // Contact networks are symmetric inside the company, and mostly local.
        int internal = 0, external = 0;
        for (auto it = books.begin(); it != books.end(); ++it) {
            QVERIFY(!it.value().isEmpty());
            for (const QString& c : it.value()) {
                if (c.endsWith(QLatin1String("@corp.example"))) {
                    ++internal;
                    QVERIFY2(books.value(c).contains(it.key()), qPrintable(it.key() + " -> " + c));
                } else {
                    ++external;
                    QVERIFY2(c.endsWith(QLatin1String(".example")), qPrintable(c));
                }
            }
        }
        QVERIFY(external > 0 && internal > 5 * external);

        QHash<QString, const sim::WormMessage*> byId;
        QHash<QString, QStringList> sentTo; // sender -> every recipient of their worm messages
        for (const sim::WormMessage& w : sc.wormMessages) {
            byId.insert(w.messageId, &w);
            const QStringList book = books.value(w.sender);
            for (const QString& r : w.recipients) QVERIFY2(book.contains(r), qPrintable(w.sender + " -> " + r));
            sentTo[w.sender] += w.recipients;
        }
        // The whole address book, or its first 50 entries for Melissa.
        for (auto it = sentTo.begin(); it != sentTo.end(); ++it) {
            QStringList book = books.value(it.key());
            if (worm == QLatin1String("melissa")) book = book.mid(0, 50);
            QCOMPARE(it.value(), book);
        }
        if (worm == QLatin1String("none")) return;

        QCOMPARE(sc.truth.infected.first().user, sc.truth.patientZero);
        QVERIFY(sc.truth.infected.first().infectedBy.isEmpty());
        QVERIFY(sc.truth.infected.first().viaMessageId.isEmpty());
        qint64 last = 0;
        for (int i = 1; i < sc.truth.infected.size(); ++i) {
            const sim::Infection& inf = sc.truth.infected[i];
            QVERIFY(inf.time >= last);
            last = inf.time;
            QVERIFY2(books.value(inf.infectedBy).contains(inf.user), qPrintable(inf.infectedBy + " -> " + inf.user));
            const sim::WormMessage* via = byId.value(inf.viaMessageId);
            QVERIFY2(via, qPrintable(inf.viaMessageId));
            QCOMPARE(via->sender, inf.infectedBy);
            QVERIFY(via->recipients.contains(inf.user));
            QVERIFY(via->time < inf.time); // read after it arrived
        }
    }

    void hardNegativesPresent_data() { addWormRows(); }
    void hardNegativesPresent() {
        QFETCH(QString, worm);
        const Scenario& sc = scenario(worm);
        CaseStore store;
        store.open(sc.casePath, false);
        const QSet<QString> wormIds(sc.truth.wormMessageIds.begin(), sc.truth.wormMessageIds.end());
        QStringList kinds;
        auto msg = store.db().prepare("SELECT id FROM messages WHERE message_id = ?1");
        auto finals = store.db().prepare(
            "SELECT count(DISTINCT d.recipient), count(DISTINCT d.orig_recipient) FROM deliveries d "
            "JOIN copies c ON c.id = d.copy_id WHERE c.message_id = ?1 AND d.is_final = 1");
        for (const sim::HardNegative& h : sc.truth.hardNegatives) {
            kinds << h.kind;
            QVERIFY2(!h.messageIds.isEmpty(), qPrintable(h.kind));
            for (const QString& id : h.messageIds) {
                QVERIFY2(!wormIds.contains(id), qPrintable(id));
                const std::string sid = s(id);
                msg.reset();
                msg.bind(1, std::string_view(sid));
                QVERIFY2(msg.step(), qPrintable(h.kind + ": " + id));
                finals.reset();
                finals.bind(1, msg.int64(0));
                QVERIFY(finals.step());
                const std::int64_t recipients = finals.int64(0), lists = finals.int64(1);
                if (h.kind == QLatin1String("all-staff")) QCOMPARE(recipients, std::int64_t(199));
                if (h.kind == QLatin1String("newsletter")) QVERIFY(recipients >= 50);
                if (h.kind == QLatin1String("reply-all-storm")) QVERIFY(recipients >= 19);
                if (h.kind == QLatin1String("mailing-list")) {
                    QVERIFY(recipients >= 40);
                    QCOMPARE(lists, std::int64_t(1)); // orig_to=<list@corp.example>
                }
            }
            if (h.kind == QLatin1String("reply-all-storm")) QCOMPARE(h.messageIds.size(), 13);
        }
        QCOMPARE(kinds, (QStringList{"all-staff", "newsletter", "reply-all-storm", "mailing-list"}));
    }

    // Busy traffic (issue 14): what made the first wave's detector form false campaigns must
    // be in the simulated day, measured on the imported case as an analyst would see it.
    void busyTrafficHasWhatRealOfficesSend() {
        QTemporaryDir tmp;
        sim::SimulationOptions o = smallOptions(tmp.filePath(QStringLiteral("busy")), sim::Worm::None, 21);
        o.users = 300;
        o.hours = 10;
        o.traffic = sim::Traffic::Busy;
        const sim::SimulationResult r = sim::simulate(o);
        QVERIFY2(r.ok, qPrintable(r.error));
        CaseStore store;
        store.open(tmp.filePath(QStringLiteral("busy.mtcase")), true);
        ImportJob job(store);
        job.importOrgCharts({r.orgChart});
        const ImportReport rep = job.importLogs(r.logFiles);
        QCOMPARE(rep.rejectedLines(), 0);
        // Generic names, each sent by many different people with unrelated sizes.
        SqliteStmt g = store.db().prepare(
            "SELECT a.name, count(*), count(DISTINCT m.sender), min(m.size), max(m.size) FROM attachments a "
            "JOIN messages m ON m.id = a.message_id WHERE a.name IN ('report.pdf', 'minutes.docx', 'budget.xlsx', "
            "'archive.zip', 'photo.png') GROUP BY a.name");
        int names = 0;
        while (g.step()) {
            ++names;
            QVERIFY2(g.int64(2) >= 40, qPrintable(QStringLiteral("%1 sent by only %2 senders").arg(q(g.text(0))).arg(g.int64(2))));
            QVERIFY2(g.int64(4) > 3 * g.int64(3), qPrintable(q(g.text(0)) + QStringLiteral(": sizes too alike")));
        }
        QCOMPARE(names, 5);
        const double generic = static_cast<double>(store.db().scalar(
            "SELECT count(DISTINCT message_id) FROM attachments WHERE name IN ('report.pdf', 'minutes.docx', 'budget.xlsx', "
            "'archive.zip', 'photo.png')"));
        const double internal = static_cast<double>(store.db().scalar("SELECT count(*) FROM messages WHERE sasl_user IS NOT NULL"));
        QVERIFY2(generic / internal > 0.15, qPrintable(QStringLiteral("generic share %1").arg(generic / internal)));
        // Short replies from a small vocabulary.
        QVERIFY(store.db().scalar("SELECT count(*) FROM messages WHERE lower(subject) IN ('re: thanks', 're: update', 're: question')") > 100);
        // Uneven volume: the busiest users send several times the average.
        SqliteStmt v = store.db().prepare("SELECT count(*) FROM messages WHERE sasl_user IS NOT NULL GROUP BY sasl_user ORDER BY 1 DESC");
        std::vector<std::int64_t> perUser;
        while (v.step()) perUser.push_back(v.int64(0));
        QVERIFY(perUser.size() > 200);
        const double mean = std::accumulate(perUser.begin(), perUser.end(), 0.0) / static_cast<double>(perUser.size());
        QVERIFY2(static_cast<double>(perUser.front()) > 4 * mean,
                 qPrintable(QStringLiteral("busiest %1, mean %2").arg(perUser.front()).arg(mean)));
        QVERIFY2(mean > 10, qPrintable(QStringLiteral("mean %1 messages per user").arg(mean)));
    }
    // The worms without a telltale attachment.
    void wormsWithoutATelltaleAttachment() {
        for (sim::Worm w : {sim::Worm::Disguised, sim::Worm::Link}) {
            QTemporaryDir tmp;
            sim::SimulationOptions o = smallOptions(tmp.filePath(QStringLiteral("w")), w, 23);
            o.traffic = sim::Traffic::Busy;
            o.openProbability = 0.3;
            const sim::SimulationResult r = sim::simulate(o);
            QVERIFY2(r.ok, qPrintable(r.error));
            QVERIFY(r.wormMessages > 20);
            sim::Truth truth;
            QVERIFY(sim::readTruth(r.truthFile, truth));
            QCOMPARE(truth.worm, w);
            QVector<sim::WormMessage> msgs;
            QVERIFY(sim::readWormMessages(r.truthFile, msgs));
            CaseStore store;
            store.open(tmp.filePath(QStringLiteral("w.mtcase")), true);
            ImportJob job(store);
            job.importOrgCharts({r.orgChart});
            job.importLogs(r.logFiles);
            QSet<QString> subjects;
            int withAttachment = 0, budget = 0;
            for (const sim::WormMessage& m : msgs) {
                SqliteStmt st = store.db().prepare(
                    "SELECT coalesce(subject, ''), (SELECT group_concat(name) FROM attachments a WHERE a.message_id = m.id) "
                    "FROM messages m WHERE message_id = ?1");
                const std::string id = s(m.messageId); // bound without a copy: must outlive the step
                st.bind(1, id);
                QVERIFY2(st.step(), qPrintable(m.messageId));
                subjects.insert(q(st.text(0)));
                withAttachment += st.text(1).empty() ? 0 : 1;
                budget += st.text(1) == "budget.xlsx" ? 1 : 0;
                QCOMPARE(m.recipients.size(), 1);
            }
            if (w == sim::Worm::Disguised) {
                QCOMPARE(budget, msgs.size()); // an ordinary name that ordinary mail uses too
                QCOMPARE(subjects.size(), 1);
            } else {
                QCOMPARE(withAttachment, 0);
                QVERIFY2(subjects.size() > 10, "the lure changes");
                // Slowly: at least 30 s between one sender's messages.
                QHash<QString, qint64> last;
                for (const sim::WormMessage& m : msgs) {
                    if (last.contains(m.sender)) QVERIFY(m.time - last[m.sender] >= 29'000);
                    last[m.sender] = m.time;
                }
            }
        }
    }

    void badOptionsFail() {
        QTemporaryDir d;
        sim::SimulationOptions o = smallOptions(d.path(), sim::Worm::None, 1);
        o.users = 3;
        QVERIFY(!sim::simulate(o).ok);
        o = smallOptions(d.path(), sim::Worm::None, 1);
        o.hours = 0;
        QVERIFY(!sim::simulate(o).ok);
        sim::Truth t;
        QString error;
        QVERIFY(!sim::readTruth(d.filePath(QStringLiteral("missing.json")), t, &error));
        QVERIFY(!error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSimulator)
#include "tst_simulator.moc"
