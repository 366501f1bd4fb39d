// Detection quality harness (label bench): simulates outbreaks over a sweep of scenarios,
// imports each into a fresh case, and scores detectors against the simulator's truth:
// precision and recall on worm messages, and how many worm messages went out before the
// first alert. It scores the product's detector (issue 4, default rules, no tuning per
// scenario) side by side with the baselines a mail administrator would have today: a fixed
// per-sender rate limit as postfwd applies it (messages per sender per hour) and as rspamd's
// ratelimit module applies it to recipients.
//
//   quality_harness [--traffic busy|calm] [--seeds N] [--full] [--detail] [--rules FILE]
//   --traffic busy (default): ordinary mail as offices send it (generic attachment names
//             reused and passed on, short replies, heavy users in bursts: Simulator.h), every
//             worm kind including the two without a telltale attachment, and worm-free days;
//             N seeds per kind (default 4: 24 simulated days of 300 to 1,000 users).
//   --traffic calm: the first wave's sweep (unique attachment names, even volume); --full
//             widens it (sizes 100 to 5,000 users, open probabilities 0.02 to 0.4, two seeds)
//   --detail  list the detector's false positives and misses per scenario
//   --rules FILE  score the detector with this rule set (JSON) instead of the defaults
//
// Per scenario it reports per-message precision and recall, the false campaigns (campaigns
// in which fewer than half the messages are the worm's), and the time to detect (worm
// messages sent before the first alert on one of them).
//
// For the detector, "before-alert" counts the worm messages sent before the rules first fired
// on a worm message (messages that joined the campaign afterwards do not move the alert), and
// "hard-neg" the legitimate bulk messages (truth.json) it flagged.
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/simulator/Simulator.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <deque>
#include <map>
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
    const bool detail = args.contains(QStringLiteral("--detail"));
    const qsizetype ti = args.indexOf(QStringLiteral("--traffic"));
    sim::Traffic traffic = sim::Traffic::Busy;
    if (ti >= 0 && (ti + 1 >= args.size() || !sim::trafficFromName(args[ti + 1], traffic))) {
        QTextStream(stderr) << "--traffic is busy or calm\n";
        return 2;
    }
    const qsizetype si = args.indexOf(QStringLiteral("--seeds"));
    const int seedsPerKind = si >= 0 && si + 1 < args.size() ? std::max(1, args[si + 1].toInt()) : 4;
    det::RuleSet rules = det::RuleSet::defaults();
    if (const qsizetype r = args.indexOf(QStringLiteral("--rules")); r >= 0 && r + 1 < args.size()) {
        QFile f(args[r + 1]);
        QString error;
        if (!f.open(QIODevice::ReadOnly) || !det::RuleSet::fromJson(f.readAll(), rules, &error)) {
            QTextStream(stderr) << "--rules " << args[r + 1] << ": " << error << "\n";
            return 2;
        }
    }
    QTextStream out(stdout);

    struct Scenario {
        sim::Worm worm;
        int users;
        double open;
        std::uint64_t seed;
    };
    std::vector<Scenario> sweep;
    if (traffic == sim::Traffic::Calm) {
        const QList<int> sizes = full ? QList<int>{100, 500, 2000, 5000} : QList<int>{100, 1000, 5000};
        const QList<double> opens = full ? QList<double>{0.02, 0.1, 0.2, 0.4} : QList<double>{0.02, 0.4};
        const QList<std::uint64_t> seeds = full ? QList<std::uint64_t>{1, 2} : QList<std::uint64_t>{1};
        for (sim::Worm w : {sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic, sim::Worm::None})
            for (int u : sizes)
                for (double p : opens)
                    for (std::uint64_t s : seeds) sweep.push_back({w, u, p, s + static_cast<std::uint64_t>(u)});
    } else {
        const int sizes[] = {300, 600, 1000};
        const double opens[] = {0.05, 0.2, 0.4};
        for (sim::Worm w : {sim::Worm::None, sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic,
                            sim::Worm::Disguised, sim::Worm::Link})
            for (int k = 0; k < seedsPerKind; ++k)
                sweep.push_back({w, sizes[k % 3], opens[(k + static_cast<int>(w)) % 3], 7001 + static_cast<std::uint64_t>(k) * 101});
    }

    out << "ordinary traffic: " << sim::trafficName(traffic) << "\n";
    out << "scenario                                    msgs   worm  | postfwd 100 msg/h/sender    | rspamd 200 rcpt/h/sender    | strict 20 msg/10 min/sender | detector (default rules)\n";
    out << "                                                          | prec   recall  before-alert | prec   recall  before-alert | prec   recall  before-alert | prec   recall  before-alert  hard-neg  campaigns  false  ms\n";
    struct KindSummary {
        double minPrecision = 1, minRecall = 1;
        int maxBefore = 0, falseCampaigns = 0, days = 0, falsePositives = 0, maxWormCampaigns = 0;
    };
    std::map<QString, KindSummary> kinds;
    Score total;
    int totalWorm = 0, totalHardNeg = 0, scenarios = 0, worstBefore = 0;
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
        o.traffic = traffic;
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

        // The product's detector, default rules, straight from the case.
        QElapsedTimer detTimer;
        detTimer.start();
        det::DetectionInput in;
        det::loadCase(store.db(), in);
        det::Detector detector(rules);
        detector.run(in);
        detector.buildCampaigns(in);
        const qint64 detMs = detTimer.elapsed();
        std::unordered_map<std::string, std::uint32_t> indexOf;
        for (std::uint32_t i = 0; i < in.messages.size(); ++i) indexOf.emplace(std::string(in.str(in.messages[i].messageId)), i);
        std::vector<bool> detFlags(msgs.size(), false);
        TimeMs firstAlert = kNoTime;
        for (std::size_t i = 0; i < msgs.size(); ++i) {
            const auto it = indexOf.find(msgs[i].messageId);
            if (it == indexOf.end()) continue;
            const det::MessageState& s = detector.states()[it->second];
            detFlags[i] = s.flagged();
            if (s.source == det::FlagSource::Rules && worm.contains(QString::fromStdString(msgs[i].messageId))
                && (firstAlert == kNoTime || s.flaggedAt < firstAlert))
                firstAlert = s.flaggedAt;
        }
        Score d = score(msgs, detFlags, worm);
        d.wormBeforeAlert = -1;
        if (firstAlert != kNoTime) {
            d.wormBeforeAlert = 0;
            for (const Msg& m : msgs)
                if (m.time < firstAlert && worm.contains(QString::fromStdString(m.messageId))) ++d.wormBeforeAlert;
        }
        // False campaigns: fewer than half of their messages are the worm's.
        // The worm should be in exactly one campaign.
        int falseCampaigns = 0, wormCampaigns = 0;
        for (const det::Campaign& c : detector.campaigns()) {
            std::size_t w = 0;
            for (std::uint32_t i : c.messages) w += worm.contains(QString::fromStdString(std::string(in.str(in.messages[i].messageId))));
            if (w * 2 < c.messages.size()) ++falseCampaigns;
            if (w > 0) ++wormCampaigns;
        }
        KindSummary& ks = kinds[sim::wormName(sc.worm)];
        ++ks.days;
        ks.falseCampaigns += falseCampaigns;
        ks.falsePositives += d.flagged - d.truePositives;
        ks.maxWormCampaigns = std::max(ks.maxWormCampaigns, wormCampaigns);
        if (d.flagged) ks.minPrecision = std::min(ks.minPrecision, double(d.truePositives) / d.flagged);
        if (!worm.isEmpty()) {
            ks.minRecall = std::min(ks.minRecall, double(d.truePositives) / worm.size());
            ks.maxBefore = std::max(ks.maxBefore, d.wormBeforeAlert < 0 ? 1 << 30 : d.wormBeforeAlert);
        }
        int hardNeg = 0;
        QStringList hardNegIds;
        for (const sim::HardNegative& hn : truth.hardNegatives)
            for (const QString& id : hn.messageIds) {
                const auto it = indexOf.find(id.toStdString());
                if (it != indexOf.end() && detector.states()[it->second].flagged()) {
                    ++hardNeg;
                    hardNegIds << hn.kind + QLatin1Char(':') + id;
                }
            }
        total.flagged += d.flagged;
        total.truePositives += d.truePositives;
        totalWorm += static_cast<int>(worm.size());
        totalHardNeg += hardNeg;
        ++scenarios;
        if (!worm.isEmpty()) worstBefore = std::max(worstBefore, d.wormBeforeAlert < 0 ? 1 << 30 : d.wormBeforeAlert);
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
            << " | " << cols(c) << " | " << cols(d) << QString::number(hardNeg).rightJustified(10)
            << QString::number(detector.campaigns().size()).rightJustified(11) << QString::number(falseCampaigns).rightJustified(7)
            << QString::number(detMs).rightJustified(6) << "\n";
        if (detail) {
            for (std::size_t i = 0; i < msgs.size(); ++i) {
                const bool isWorm = worm.contains(QString::fromStdString(msgs[i].messageId));
                if (detFlags[i] == isWorm) continue;
                const auto it = indexOf.find(msgs[i].messageId);
                const det::Message& m = in.messages[it->second];
                const det::MessageState& s = detector.states()[it->second];
                out << (isWorm ? "    MISS " : "    FP   ") << msgs[i].messageId.c_str() << " " << QString::fromStdString(std::string(in.str(m.sender)))
                    << " subj=" << QString::fromStdString(std::string(in.str(m.subject))) << " att=";
                for (std::uint32_t a = 0; a < m.attCount; ++a) out << QString::fromStdString(std::string(in.str(in.attachments[m.attBegin + a]))) << ";";
                out << " rcpts=" << m.rcptCount << " score=" << s.score << " src=" << det::flagSourceName(s.source) << " rules:";
                for (const det::Hit& h : detector.hits())
                    if (h.message == it->second) out << " " << QString::fromStdString(h.rule) << "(" << h.weight << ")";
                out << "\n";
            }
            for (const QString& h : hardNegIds) out << "    HARD-NEG " << h << "\n";
        }
        out.flush();
    }
    const QString prec = total.flagged ? fmt(double(total.truePositives) / total.flagged) : QStringLiteral("-");
    const QString rec = totalWorm ? fmt(double(total.truePositives) / totalWorm) : QStringLiteral("-");
    out << "detector over " << scenarios << " scenarios: precision " << prec << ", recall " << rec
        << ", at most " << (worstBefore >= (1 << 30) ? QStringLiteral("never") : QString::number(worstBefore))
        << " worm messages before the first alert, " << totalHardNeg << " hard negatives flagged\n";
    out << "per kind:  days  min-precision  min-recall  max-before-alert  false-positives  false-campaigns  worm-campaigns(max)\n";
    for (const auto& [name, k] : kinds)
        out << "  " << name.leftJustified(12) << QString::number(k.days).rightJustified(4) << "  " << fmt(k.minPrecision).rightJustified(13)
            << "  " << (name == QLatin1String("none") ? QStringLiteral("-") : fmt(k.minRecall)).rightJustified(10) << "  "
            << (name == QLatin1String("none") ? QStringLiteral("-") : k.maxBefore >= (1 << 30) ? QStringLiteral("never") : QString::number(k.maxBefore)).rightJustified(16)
            << "  " << QString::number(k.falsePositives).rightJustified(15) << "  " << QString::number(k.falseCampaigns).rightJustified(15)
            << "  " << QString::number(k.maxWormCampaigns).rightJustified(19) << "\n";
    return 0;
}
