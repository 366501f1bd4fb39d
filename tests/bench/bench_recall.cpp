// Recall speed (label bench): a big worm campaign - 50,000 copies by default, one recipient
// per message as ILOVEYOU sent them, spread over four mail servers with a tenth of the
// recipients outside - is planned, approved, recalled through the demo connector, judged
// (virus: delete what was suspended, cascade what was read) and recalled again (a no-op).
// The case is written directly (messages, copies, deliveries, a campaign and its propagation
// tree) so that the figures are the recall workflow's alone. Prints requests per second for
// each step; the demo connector costs next to nothing, so this measures the bookkeeping: each
// request's state is committed before and after the server is asked (crash safety).
//
//   bench_recall [--copies N] [--keep FILE]
//   MT_BENCH_ENFORCE=1: fail under 2,000 recall requests per second.
#include "model/CaseStore.h"
#include "model/recall/DemoConnector.h"
#include "model/recall/RecallPlan.h"
#include "model/recall/RecallRun.h"
#include "model/recall/Verdict.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTextStream>

#include <sys/resource.h>

using namespace mt;
using namespace mt::recall;

namespace {

long peakRssMb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

QString value(const QStringList& args, const QString& name, const QString& fallback) {
    const qsizetype i = args.indexOf(name);
    return i >= 0 && i + 1 < args.size() ? args[i + 1] : fallback;
}

// A worm tree: message i is sent by the recipient of message i / 8 (its parent), shortly
// after that one arrived; message 0 comes from patient zero.
void writeCampaign(CaseStore& store, std::int64_t n) {
    SqliteDb& db = store.db();
    const std::int64_t users = std::max<std::int64_t>(n / 10, 50);
    const std::int64_t t0 = 1800000000000;
    db.exec("BEGIN");
    db.exec("INSERT INTO servers(id, name) VALUES(1, 'mx1'), (2, 'mx2'), (3, 'mx3'), (4, 'mx4')");
    db.exec("INSERT INTO campaigns(id, label, patient_zero, first_seen, detected_at, generations, messages) "
            "VALUES(1, 'LOVE-LETTER-FOR-YOU.TXT.vbs \"ILOVEYOU\"', 'user0@corp.example', 1800000000000, 1800000000000, 0, 0)");
    SqliteStmt msg = db.prepare("INSERT INTO messages(id, msg_key, message_id, time, sender, size, subject, origin_server_id) "
                                "VALUES(?1, ?2, ?2, ?3, ?4, 4096, 'ILOVEYOU', ?5)");
    SqliteStmt att = db.prepare("INSERT INTO attachments(message_id, name) VALUES(?1, 'LOVE-LETTER-FOR-YOU.TXT.vbs')");
    SqliteStmt copy = db.prepare("INSERT INTO copies(id, message_id, server_id, queue_id, first_seen, removed) VALUES(?1, ?1, ?2, ?3, ?4, 1)");
    SqliteStmt del = db.prepare("INSERT INTO deliveries(copy_id, recipient, transport, status, time, is_final, destination_server_id, "
                                "destination) VALUES(?1, ?2, ?3, 'sent', ?4, 1, ?5, ?6)");
    SqliteStmt cm = db.prepare("INSERT INTO campaign_messages(message_id, campaign_id, generation, parent_message_id, flagged_at, source) "
                               "VALUES(?1, 1, ?2, ?3, ?4, 'rules')");
    SqliteStmt edge = db.prepare("INSERT INTO propagation_edges(campaign_id, from_message_id, to_message_id) VALUES(1, ?1, ?2)");
    std::vector<std::string> recipient(static_cast<std::size_t>(n));
    std::vector<std::int64_t> arrived(static_cast<std::size_t>(n)), generation(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t id = i + 1, parent = i / 8;
        const bool external = i % 10 == 9;
        std::string sender = "user0@corp.example";
        std::int64_t time = t0, gen = 0;
        if (i > 0 && recipient[static_cast<std::size_t>(parent)].find("@corp.example") != std::string::npos) {
            sender = recipient[static_cast<std::size_t>(parent)];
            time = arrived[static_cast<std::size_t>(parent)] + 600000 + (i % 1000);
            gen = generation[static_cast<std::size_t>(parent)] + 1;
        } else if (i > 0) {
            time = t0 + i;
        }
        const std::string mid = "worm-" + std::to_string(i) + "@bench.example";
        const std::string rcpt = external ? "someone" + std::to_string(i) + "@partner.example"
                                          : "user" + std::to_string((i * 7 + 1) % users) + "@corp.example";
        recipient[static_cast<std::size_t>(i)] = rcpt;
        arrived[static_cast<std::size_t>(i)] = time + 2000;
        generation[static_cast<std::size_t>(i)] = gen;
        const std::int64_t server = 1 + (i % 4);
        msg.bind(1, id).bind(2, std::string_view(mid)).bind(3, time).bind(4, std::string_view(sender)).bind(5, server).exec();
        att.bind(1, id).exec();
        const std::string qid = "Q" + std::to_string(id);
        copy.bind(1, id).bind(2, server).bind(3, std::string_view(qid)).bind(4, time).exec();
        del.bind(1, id).bind(2, std::string_view(rcpt)).bind(3, std::string_view(external ? "smtp" : "lmtp")).bind(4, time + 2000);
        if (external) del.bindNull(5).bind(6, std::string_view("mx.partner.example"));
        else del.bind(5, 1 + ((i * 7 + 1) % users) % 4).bind(6, std::string_view("mx" + std::to_string(1 + ((i * 7 + 1) % users) % 4)));
        del.exec();
        cm.bind(1, id).bind(2, gen);
        if (gen > 0) cm.bind(3, parent + 1); else cm.bindNull(3);
        cm.bind(4, time).exec();
        if (gen > 0) edge.bind(1, parent + 1).bind(2, id).exec();
    }
    db.exec("UPDATE campaigns SET messages = (SELECT count(*) FROM campaign_messages), "
            "generations = (SELECT max(generation) + 1 FROM campaign_messages)");
    db.exec("COMMIT");
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const std::int64_t n = value(args, QStringLiteral("--copies"), QStringLiteral("50000")).toLongLong();
    QTextStream out(stdout);
    if (n < 10) {
        out << "bench_recall: --copies wants at least 10\n";
        return 2;
    }
    QTemporaryDir tmp;
    const QString path = args.contains(QStringLiteral("--keep")) ? value(args, QStringLiteral("--keep"), QString())
                                                                  : tmp.filePath(QStringLiteral("bench-recall.mtcase"));
    QFile::remove(path);
    CaseStore store;
    store.open(path);
    QElapsedTimer t;
    t.start();
    writeCampaign(store, n);
    out << "bench_recall: " << n << " copies of one campaign on 4 servers (a tenth external), written in " << t.elapsed() << " ms\n";
    SqliteDb& db = store.db();
    const ServerDirectory dir = ServerDirectory::demoEverywhere();
    auto rate = [](std::int64_t count, qint64 ms) { return ms > 0 ? count * 1000 / ms : count * 1000; };

    t.restart();
    const std::vector<std::int64_t> messages = campaignMessages(db, 1);
    const Plan plan = buildPlan(db, dir, messages, "bench");
    const qint64 planMs = t.restart();
    RecallStore rs(db);
    const std::int64_t approved = approveRequests(rs, plan.proposedIds, "bench");
    const qint64 approveMs = t.restart();
    auto world = DemoWorld::fromCase(db);
    const qint64 worldMs = t.restart();
    RecallRunner runner(db, dir);
    RunOptions o;
    o.analyst = "bench";
    o.demo = world;
    o.keepResults = false;
    std::int64_t progressCalls = 0;
    o.progress = [&](const RunProgress&) { ++progressCalls; };
    const RunReport run = runner.run(o);
    const qint64 runMs = t.restart();
    const RunReport again = runner.run(o);
    const qint64 againMs = t.restart();
    VerdictOptions v;
    v.analyst = "bench";
    v.campaignId = 1;
    v.demo = world;
    const VerdictReport verdict = applyVerdict(db, dir, v);
    const qint64 verdictMs = t.restart();

    auto count = [&](const char* k) {
        const auto it = run.outcomes.find(k);
        return it == run.outcomes.end() ? std::int64_t(0) : it->second;
    };
    out << "  plan      " << plan.copies << " copies (" << plan.recallable << " recallable, " << plan.notRecallable
        << " external) in " << planMs << " ms: " << rate(plan.copies, planMs) << " copies/s\n";
    out << "  approve   " << approved << " requests in " << approveMs << " ms: " << rate(approved, approveMs) << " requests/s\n";
    out << "  demo      simulation built from the case in " << worldMs << " ms\n";
    out << "  recall    " << run.processed << " requests in " << runMs << " ms: " << rate(run.processed, runMs)
        << " requests/s (" << count("suspended") << " suspended, " << count("already-retrieved") << " already retrieved; "
        << world->moves() << " moves, " << progressCalls << " progress calls)\n";
    out << "  again     " << again.processed << " requests in " << againMs << " ms (nothing moves twice)\n";
    out << "  verdict   virus: " << verdict.run.processed << " deletes, " << verdict.cascade.retrieved << " retrieved copies cascaded in "
        << verdictMs << " ms: " << rate(verdict.run.processed + verdict.cascade.retrieved, verdictMs) << " requests/s\n";
    out << "  audit     " << db.scalar("SELECT count(*) FROM audit") << " entries; case "
        << QFileInfo(path).size() / (1024 * 1024) << " MB; peak RSS " << peakRssMb() << " MB\n";
    out.flush();
    const bool ok = run.processed == plan.recallable && again.processed == 0 && world->moves() == count("suspended");
    if (!ok) {
        out << "bench_recall: FAILED consistency (processed " << run.processed << ", again " << again.processed << ")\n";
        return 1;
    }
    if (qEnvironmentVariableIntValue("MT_BENCH_ENFORCE") && rate(run.processed, runMs) < 2000) {
        out << "bench_recall: under 2,000 requests/s\n";
        return 1;
    }
    return 0;
}
