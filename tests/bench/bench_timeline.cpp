// Timeline and campaign-tree reads on a million-message case (label bench). Without --case it
// writes a synthetic case through the real schema (CaseStore): N messages at random times over
// H hours, a campaign of the M messages from the middle of the case on (a tree with a fan-out
// of 8: generations, parents, propagation edges) and a detection run; only the columns the
// timeline and the tree read are filled. Then it times loadTimeline (the chart's
// whole read: every message's time, every flagged message's campaign) and loadCampaignTree.
//
//   bench_timeline [--case FILE] [--messages N] [--hours H] [--campaign M] [--repeat K] [--keep FILE]
//   (--keep: write the synthetic case to FILE and leave it there)
//   MT_BENCH_ENFORCE=1: fail when loadTimeline takes 0.5 s or more per million messages.
#include "model/CaseStore.h"
#include "model/timeline/CampaignTree.h"
#include "model/timeline/TimelineData.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace mt;

namespace {

QString value(const QStringList& args, const QString& name, const QString& fallback) {
    const qsizetype i = args.indexOf(name);
    return i >= 0 && i + 1 < args.size() ? args[i + 1] : fallback;
}

void writeSyntheticCase(const QString& path, qint64 messages, double hours, qint64 campaignSize) {
    CaseStore store;
    store.open(path, true);
    SqliteDb& db = store.db();
    const qint64 start = 1'795'500'000'000LL;
    const qint64 span = qint64(hours * 3'600'000);
    std::mt19937_64 rng(5);
    std::vector<qint64> times(static_cast<size_t>(messages), 0);
    std::uniform_int_distribution<qint64> any(0, span - 1);
    for (qint64& t : times) t = start + any(rng);
    const size_t worm = size_t(std::min(campaignSize, messages));
    std::sort(times.begin(), times.end());
    db.exec("BEGIN");
    {
        SqliteStmt ins = db.prepare("INSERT INTO messages(id, msg_key, time, sender) VALUES(?, ?, ?, ?)");
        for (size_t i = 0; i < times.size(); ++i) {
            const std::string key = "m" + std::to_string(i) + "@bench.example";
            const std::string sender = "user" + std::to_string(i % 20000) + "@bench.example";
            ins.bind(1, std::int64_t(i + 1)).bind(2, key).bind(3, std::int64_t(times[i])).bind(4, sender);
            ins.exec();
        }
    }
    db.exec("INSERT INTO detection_runs(started_at, messages, flagged, campaigns) VALUES(0, 0, 0, 1)");
    // The campaign's members: the first messages from the middle of the case on.
    std::vector<std::int64_t> members;
    {
        SqliteStmt q = db.prepare("SELECT id FROM messages WHERE time >= ? ORDER BY time LIMIT ?");
        q.bind(1, std::int64_t(start + span / 2)).bind(2, std::int64_t(worm));
        while (q.step()) members.push_back(q.int64(0));
    }
    {
        SqliteStmt c = db.prepare("INSERT INTO campaigns(id, label, patient_zero, patient_zero_message_id, first_seen, detected_at, "
                                  "generations, messages, senders, recipients) VALUES(1, 'bench worm', 'user0@bench.example', ?, ?, ?, ?, ?, 0, 0)");
        const std::int64_t first = members.empty() ? 0 : members.front();
        c.bind(1, first).bind(2, std::int64_t(start + span / 2)).bind(3, std::int64_t(start + span / 2 + 120'000)).bind(4, 12).bind(5, std::int64_t(members.size()));
        c.exec();
        SqliteStmt m = db.prepare("INSERT INTO campaign_messages(message_id, campaign_id, generation, parent_message_id, source) VALUES(?, 1, ?, ?, 'rules')");
        SqliteStmt e = db.prepare("INSERT INTO propagation_edges(campaign_id, from_message_id, to_message_id) VALUES(1, ?, ?)");
        // A tree with a fan-out of 8: node k's parent is node (k - 1) / 8.
        for (size_t k = 0; k < members.size(); ++k) {
            int generation = 0;
            for (size_t p = k; p > 0; p = (p - 1) / 8) ++generation;
            m.bind(1, members[k]).bind(2, generation);
            if (k == 0) m.bindNull(3);
            else m.bind(3, members[(k - 1) / 8]);
            m.exec();
            if (k > 0) {
                e.bind(1, members[(k - 1) / 8]).bind(2, members[k]);
                e.exec();
            }
        }
    }
    db.exec("COMMIT");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    QTextStream out(stdout);
    QTemporaryDir tmp;
    QString casePath = value(args, QStringLiteral("--case"), QString());
    const int repeat = std::max(1, value(args, QStringLiteral("--repeat"), QStringLiteral("5")).toInt());
    if (casePath.isEmpty()) {
        casePath = value(args, QStringLiteral("--keep"), tmp.filePath(QStringLiteral("bench.mtcase")));
        if (QFile::exists(casePath)) {
            out << casePath << " exists already" << Qt::endl;
            return 2;
        }
        const qint64 n = value(args, QStringLiteral("--messages"), QStringLiteral("1000000")).toLongLong();
        QElapsedTimer t;
        t.start();
        try {
            writeSyntheticCase(casePath, n, value(args, QStringLiteral("--hours"), QStringLiteral("40")).toDouble(),
                               value(args, QStringLiteral("--campaign"), QStringLiteral("20000")).toLongLong());
        } catch (const std::exception& e) {
            out << "cannot write the synthetic case: " << e.what() << Qt::endl;
            return 1;
        }
        out << "synthetic case: " << n << " messages written in " << t.elapsed() << " ms" << Qt::endl;
    }

    qint64 best = -1, worst = 0, messages = 0;
    TimelineData d;
    for (int i = 0; i < repeat; ++i) {
        QElapsedTimer t;
        t.start();
        d = loadTimeline(casePath);
        const qint64 ms = t.elapsed();
        if (!d.ok) {
            out << "loadTimeline failed: " << d.error << Qt::endl;
            return 1;
        }
        best = best < 0 ? ms : std::min(best, ms);
        worst = std::max(worst, ms);
        messages = d.totalMessages;
    }
    out << "loadTimeline: " << messages << " messages, " << d.totalFlagged << " flagged, " << d.bucketCount() << " buckets "
        << d.bucketLabel() << ": best " << best << " ms, worst " << worst << " ms (of " << repeat << ")" << Qt::endl;

    const CampaignList list = loadCampaignList(casePath);
    for (const CampaignView& c : list.campaigns) {
        QElapsedTimer t;
        t.start();
        const CampaignTree tree = loadCampaignTree(casePath, c.id);
        out << "loadCampaignTree " << c.id << ": " << tree.nodes.size() << " nodes, " << tree.generations.size() << " generations, "
            << tree.edgeCount << " edges: " << t.elapsed() << " ms" << Qt::endl;
    }

    if (qEnvironmentVariableIntValue("MT_BENCH_ENFORCE") && messages > 0) {
        const double perMillion = double(best) * 1e6 / double(messages);
        if (perMillion >= 500) {
            out << "FAIL: " << perMillion << " ms per million messages (target under 500)" << Qt::endl;
            return 1;
        }
    }
    return 0;
}
