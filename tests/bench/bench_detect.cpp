// Detection speed (label bench): about a million messages judged, grouped into campaigns and
// written back. Without --case it simulates a 20,000-user organisation over 40 hours with a
// polymorphic worm (about 1M messages), imports it into a fresh case, then times each phase:
// loading the arrays from the case, the rules, the campaigns, and a whole `detect` (load,
// judge, write back); then an incremental run after more messages arrive.
//
//   bench_detect [--case FILE] [--users N] [--hours H] [--keep DIR] [--repeat K]
//   MT_BENCH_ENFORCE=1: fail when judging a million messages (load excluded) takes 2 s or more.
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/simulator/Simulator.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTextStream>

#include <sys/resource.h>

using namespace mt;

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

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    QTextStream out(stdout);
    QString casePath = value(args, QStringLiteral("--case"), QString());
    const int repeat = value(args, QStringLiteral("--repeat"), QStringLiteral("3")).toInt();
    QTemporaryDir tmp;
    const QString keep = value(args, QStringLiteral("--keep"), QString());
    const QString work = keep.isEmpty() ? tmp.path() : keep;
    if (casePath.isEmpty()) {
        sim::SimulationOptions o;
        o.outDir = work + QStringLiteral("/logs");
        o.users = value(args, QStringLiteral("--users"), QStringLiteral("20000")).toInt();
        o.hours = value(args, QStringLiteral("--hours"), QStringLiteral("40")).toDouble();
        o.servers = 8;
        o.seed = 8;
        o.worm = sim::Worm::Polymorphic;
        o.openProbability = 0.05;
        QElapsedTimer t;
        t.start();
        const sim::SimulationResult r = sim::simulate(o);
        if (!r.ok) {
            out << "simulate: " << r.error << "\n";
            return 1;
        }
        out << "simulated " << o.users << " users, " << o.hours << " h: " << r.messages << " messages in " << t.elapsed() << " ms\n";
        out.flush();
        casePath = work + QStringLiteral("/bench.mtcase");
        QFile::remove(casePath);
        t.restart();
        CaseStore store;
        store.open(casePath);
        ImportJob job(store);
        job.importOrgCharts({r.orgChart});
        const ImportReport rep = job.importLogs(r.logFiles);
        if (rep.anyFailed()) {
            out << "import failed\n";
            return 1;
        }
        out << "imported in " << t.elapsed() << " ms\n";
        out.flush();
    }

    CaseStore store;
    store.open(casePath, false);
    const std::int64_t messages = store.counts().messages;
    qint64 bestLoad = INT64_MAX, bestRun = INT64_MAX, bestBuild = INT64_MAX;
    std::size_t flagged = 0, campaigns = 0;
    for (int k = 0; k < std::max(1, repeat); ++k) {
        QElapsedTimer t;
        t.start();
        det::DetectionInput in;
        det::loadCase(store.db(), in);
        bestLoad = std::min(bestLoad, t.restart());
        det::Detector d;
        d.run(in);
        bestRun = std::min(bestRun, t.restart());
        d.buildCampaigns(in);
        bestBuild = std::min(bestBuild, t.restart());
        flagged = d.flaggedCount();
        campaigns = d.campaigns().size();
    }
    QElapsedTimer t;
    t.start();
    const det::CaseDetectionReport full = det::CaseDetection::run(store, false);
    const qint64 wholeMs = t.elapsed();
    const double perMillion = 1e6 / static_cast<double>(std::max<std::int64_t>(1, messages));
    out << messages << " messages, " << flagged << " flagged in " << campaigns << " campaigns\n"
        << "  load from the case   " << bestLoad << " ms\n"
        << "  rules (judging)      " << bestRun << " ms\n"
        << "  campaigns and graph  " << bestBuild << " ms\n"
        << "  judging + campaigns  " << (bestRun + bestBuild) << " ms = "
        << QString::number((bestRun + bestBuild) * perMillion / 1000.0, 'f', 2) << " s per million messages\n"
        << "  whole detect         " << wholeMs << " ms (load " << full.loadMs << ", detect " << full.detectMs << ", write "
        << full.writeMs << ")\n"
        << "  peak RSS             " << peakRssMb() << " MB\n";
    // Incremental: the case gains later messages (the last hour again, shifted by a day).
    {
        const std::int64_t lastTime = store.db().scalar("SELECT max(time) FROM messages");
        store.db().exec("BEGIN");
        SqliteStmt ins = store.db().prepare(
            "INSERT INTO messages(msg_key, message_id, time, sender, client_host, client_ip, sasl_user, size, subject, origin_server_id) "
            "SELECT 'again/' || msg_key, 'again/' || message_id, time + 86400000, sender, client_host, client_ip, sasl_user, size, "
            "subject, origin_server_id FROM messages WHERE time > ?1");
        ins.bind(1, lastTime - 3600000).exec();
        store.db().exec("COMMIT");
        t.restart();
        const det::CaseDetectionReport inc = det::CaseDetection::run(store, true);
        out << "  incremental detect   " << t.elapsed() << " ms for " << (store.counts().messages - messages)
            << " new messages (" << (inc.incremental ? "incremental" : "full") << ", judged " << inc.processed << ")\n";
    }
    out.flush();
    const double judgeSeconds = (bestRun + bestBuild) * perMillion / 1000.0;
    if (qEnvironmentVariableIsSet("MT_BENCH_ENFORCE") && judgeSeconds >= 2.0) {
        out << "FAIL: " << judgeSeconds << " s per million messages (target < 2 s)\n";
        return 1;
    }
    return 0;
}
