// Detection quality harness (label bench): simulates outbreaks over a sweep of scenarios,
// imports each into a fresh case, and scores detectors against the simulator's truth:
// precision and recall on worm messages, and how many worm messages went out before the
// first alert. Until the product's detector exists (issue 4) it scores the baselines a
// mail administrator would have today: a fixed per-sender rate limit as postfwd applies it
// (messages per sender per hour) and as rspamd's ratelimit module applies it to recipients.
//
//   quality_harness [--full] [--keep DIR]
//   --full   the whole sweep (sizes 100 to 5,000 users, open probabilities 0.02 to 0.4,
//            two seeds); default: a smaller sweep that still spans both ends
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/simulator/Simulator.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSet>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <deque>
#include <unordered_map>

using namespace mt;

namespace {

struct Msg {
    std::int64_t time;
    std::string sender;
    std::string messageId;
    int recipients;
};

struct Score {
    int flagged = 0, truePositives = 0;
    int wormBeforeAlert = -1; // -1: never alerted on a worm message
};

// A fixed limit per sender over a sliding window, as postfwd's rate()/rcpt() or rspamd's
// ratelimit buckets apply it: a message is refused (flagged) once the sender's count in the
// last `window` would exceed `limit`; `weight` counts messages (1) or recipients.
template <class Weight>
std::vector<bool> fixedLimit(const std::vector<Msg>& msgs, std::int64_t windowMs, int limit, Weight weight) {
    std::vector<bool> flagged(msgs.size(), false);
    std::unordered_map<std::string, std::deque<std::pair<std::int64_t, int>>> recent;
    std::unordered_map<std::string, int> sum;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        const Msg& m = msgs[i];
        auto& q = recent[m.sender];
        int& total = sum[m.sender];
        while (!q.empty() && q.front().first <= m.time - windowMs) {
            total -= q.front().second;
            q.pop_front();
        }
        const int w = weight(m);
        if (total + w > limit) flagged[i] = true;
        q.emplace_back(m.time, w);
        total += w;
    }
    return flagged;
}

Score score(const std::vector<Msg>& msgs, const std::vector<bool>& flagged, const QSet<QString>& worm) {
    Score s;
    int wormSoFar = 0;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        const bool isWorm = worm.contains(QString::fromStdString(msgs[i].messageId));
        if (flagged[i]) {
            ++s.flagged;
            if (isWorm) {
                ++s.truePositives;
                if (s.wormBeforeAlert < 0) s.wormBeforeAlert = wormSoFar;
            }
        }
        if (isWorm) ++wormSoFar;
    }
    return s;
}

QString fmt(double v) { return QString::number(v, 'f', 3); }

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool full = args.contains(QStringLiteral("--full"));
    QTextStream out(stdout);

    struct Scenario {
        sim::Worm worm;
        int users;
        double open;
        std::uint64_t seed;
    };
    std::vector<Scenario> sweep;
    const QList<int> sizes = full ? QList<int>{100, 500, 2000, 5000} : QList<int>{100, 1000, 5000};
    const QList<double> opens = full ? QList<double>{0.02, 0.1, 0.2, 0.4} : QList<double>{0.02, 0.4};
    const QList<std::uint64_t> seeds = full ? QList<std::uint64_t>{1, 2} : QList<std::uint64_t>{1};
    for (sim::Worm w : {sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic})
        for (int u : sizes)
            for (double p : opens)
                for (std::uint64_t s : seeds) sweep.push_back({w, u, p, s + static_cast<std::uint64_t>(u)});

    out << "scenario                                    msgs   worm  | postfwd 100 msg/h/sender    | rspamd 200 rcpt/h/sender    | strict 20 msg/10 min/sender | detector\n";
    out << "                                                          | prec   recall  before-alert | prec   recall  before-alert | prec   recall  before-alert |\n";
    out.flush();
    for (const Scenario& sc : sweep) {
        QTemporaryDir tmp;
        sim::SimulationOptions o;
        o.outDir = tmp.filePath(QStringLiteral("logs"));
        o.users = sc.users;
        o.servers = sc.users >= 2000 ? 8 : 4;
        o.hours = 8;
        o.seed = sc.seed;
        o.worm = sc.worm;
        o.openProbability = sc.open;
        const sim::SimulationResult r = sim::simulate(o);
        if (!r.ok) {
            out << "simulation failed: " << r.error << "\n";
            return 1;
        }
        sim::Truth truth;
        QString error;
        if (!sim::readTruth(r.truthFile, truth, &error)) {
            out << "truth: " << error << "\n";
            return 1;
        }
        CaseStore store;
        store.open(tmp.filePath(QStringLiteral("case.mtcase")));
        ImportJob job(store);
        job.importOrgCharts({r.orgChart});
        const ImportReport rep = job.importLogs(r.logFiles);
        if (rep.anyFailed() || rep.rejectedLines() > 0) {
            out << "import failed or rejected lines in scenario\n";
            return 1;
        }
        std::vector<Msg> msgs;
        SqliteStmt st = store.db().prepare(
            "SELECT m.time, coalesce(m.sasl_user, m.sender, ''), coalesce(m.message_id, ''), "
            "(SELECT count(*) FROM copies c JOIN deliveries d ON d.copy_id = c.id WHERE c.message_id = m.id AND d.is_final = 1) "
            "FROM messages m ORDER BY m.time, m.id");
        while (st.step()) msgs.push_back({st.int64(0), st.text(1), st.text(2), static_cast<int>(st.int64(3))});
        const QSet<QString> worm(truth.wormMessageIds.begin(), truth.wormMessageIds.end());
        const Score a = score(msgs, fixedLimit(msgs, 3600000, 100, [](const Msg&) { return 1; }), worm);
        const Score b = score(msgs, fixedLimit(msgs, 3600000, 200, [](const Msg& m) { return m.recipients; }), worm);
        const Score c = score(msgs, fixedLimit(msgs, 600000, 20, [](const Msg&) { return 1; }), worm);
        auto cols = [&](const Score& s) {
            // Precision is undefined when nothing was flagged; recall when there was no worm.
            const QString prec = s.flagged ? fmt(double(s.truePositives) / s.flagged) : QStringLiteral("-");
            const QString rec = worm.isEmpty() ? QStringLiteral("-") : fmt(double(s.truePositives) / worm.size());
            const QString before = s.wormBeforeAlert < 0 ? QStringLiteral("never") : QString::number(s.wormBeforeAlert);
            return QStringLiteral("%1  %2  %3").arg(prec, -5).arg(rec, -6).arg(before, 12);
        };
        const QString name = QStringLiteral("%1 users=%2 open=%3 seed=%4")
                                 .arg(sim::wormName(sc.worm)).arg(sc.users).arg(sc.open).arg(sc.seed);
        out << name.leftJustified(42) << QString::number(msgs.size()).rightJustified(7)
            << QString::number(worm.size()).rightJustified(7) << "  | " << cols(a) << " | " << cols(b)
            << " | " << cols(c) << " | n/a (issue 4)\n";
        out.flush();
    }
    return 0;
}
