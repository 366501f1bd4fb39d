// Detection (issue 4): every rule at the edges of its threshold and its window, causality
// (a prefix of the log gives the same hits; later messages never move an earlier detection),
// campaign grouping and generations, the case round trip (schema 2, replace, incremental), the
// CLI, and the simulator's outbreaks scored against their truth with the default rules.
#include "model/CaseReader.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/detection/Detector.h"
#include "model/detection/Propagation.h"
#include "model/simulator/Simulator.h"
#include "support/PublicData.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>

using namespace mt;
using namespace mt::det;

namespace {

constexpr TimeMs T0 = 1'800'000'000'000; // a weekday morning in 2027, UTC
constexpr TimeMs kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin;

// A rule set with every rule off; each test turns on what it measures.
RuleSet nothing() {
    RuleSet r = RuleSet::defaults();
    r.rates.clear();
    r.volumes.clear();
    r.type.enabled = false;
    r.size.enabled = false;
    r.baseline.enabled = false;
    r.fanout.enabled = false;
    r.burst.enabled = false;
    r.propagation.enabled = false;
    r.similar.enabled = false;
    return r;
}

struct Builder {
    DetectionInput in;
    Builder() {
        for (const char* u : {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"})
            in.addUser(std::string(u) + "@corp.example", std::string("Sales/") + (u[0] < 'f' ? "North" : "South"));
    }
    // One message; returns its id.
    std::int64_t msg(TimeMs t, const std::string& from, const std::vector<std::string>& to, const std::string& subject = "hello",
                     const std::vector<std::string>& atts = {}, std::int64_t size = 10'000, const std::string& ip = "10.0.0.1",
                     const std::string& server = "mx1", const std::vector<std::string>& hops = {}) {
        MessageSpec m;
        m.time = t;
        m.messageId = from + "/" + std::to_string(t) + "/" + subject;
        m.sender = from;
        m.saslUser = from.find("@corp.example") != std::string::npos ? from : "";
        m.clientIp = ip;
        m.server = server;
        m.size = size;
        m.subject = subject;
        m.attachments = atts;
        m.recipients = to;
        m.hops = hops;
        in.add(m);
        return in.messages.back().id;
    }
    DetectionInput& done() {
        in.finish();
        return in;
    }
};

std::string addr(const char* u) { return std::string(u) + "@corp.example"; }

std::vector<Hit> hitsOf(const Detector& d, const std::string& rule) {
    std::vector<Hit> out;
    for (const Hit& h : d.hits())
        if (h.rule == rule) out.push_back(h);
    return out;
}

// Message positions (in time order) that the rule hit.
std::vector<std::uint32_t> hitPositions(const Detector& d, const std::string& rule) {
    std::vector<std::uint32_t> out;
    for (const Hit& h : hitsOf(d, rule)) out.push_back(h.message);
    return out;
}

std::unique_ptr<Detector> detect(const RuleSet& r, const DetectionInput& in) {
    auto d = std::make_unique<Detector>(r, Detector::Options{true});
    d->run(in);
    d->buildCampaigns(in);
    return d;
}

// A comparable form of a hit list.
std::set<std::string> hitSet(const Detector& d, const DetectionInput& in, TimeMs upTo = INT64_MAX) {
    std::set<std::string> out;
    for (const Hit& h : d.hits())
        if (h.windowEnd <= upTo)
            out.insert(std::string(in.str(in.messages[h.message].messageId)) + "|" + h.rule + "|" + h.key + "|" + std::to_string(h.windowStart)
                       + "|" + std::to_string(h.count) + "|" + std::to_string(h.threshold));
    return out;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct CliResult {
    int code;
    QByteArray out, err;
};
CliResult cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(MT_CLI_PATH), args);
    p.waitForFinished(300000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

// One simulated outbreak, imported and judged with the default rules.
struct Scored {
    int worm = 0, flagged = 0, truePositives = 0, wormBeforeAlert = -1, hardNegFlagged = 0;
    QString patientZero, truthPatientZero;
    int campaignsWithWorm = 0;
    int falseCampaigns = 0; // fewer than half of their messages the worm's
    QStringList problems;
};

Scored scoreScenario(const QString& dir, sim::Worm worm, int users, double open, std::uint64_t seed, double hours = 3,
                     sim::Traffic traffic = sim::Traffic::Calm) {
    Scored s;
    sim::SimulationOptions o;
    o.outDir = dir + "/logs";
    o.users = users;
    o.servers = 3;
    o.hours = hours;
    o.seed = seed;
    o.worm = worm;
    o.openProbability = open;
    o.traffic = traffic;
    const sim::SimulationResult r = sim::simulate(o);
    if (!r.ok) {
        s.problems << r.error;
        return s;
    }
    sim::Truth truth;
    sim::readTruth(r.truthFile, truth);
    CaseStore store;
    store.open(dir + "/case.mtcase");
    ImportJob job(store);
    job.importOrgCharts({r.orgChart});
    job.importLogs(r.logFiles);
    DetectionInput in;
    loadCase(store.db(), in);
    Detector d;
    d.run(in);
    d.buildCampaigns(in);
    const QSet<QString> wormIds(truth.wormMessageIds.begin(), truth.wormMessageIds.end());
    s.worm = static_cast<int>(wormIds.size());
    TimeMs alert = kNoTime;
    std::set<int> wormCampaigns;
    for (std::uint32_t i = 0; i < in.messages.size(); ++i) {
        const MessageState& st = d.states()[i];
        const bool isWorm = wormIds.contains(QString::fromStdString(std::string(in.str(in.messages[i].messageId))));
        if (!st.flagged()) continue;
        ++s.flagged;
        if (isWorm) {
            ++s.truePositives;
            wormCampaigns.insert(st.campaign);
            if (st.source == FlagSource::Rules && (alert == kNoTime || st.flaggedAt < alert)) alert = st.flaggedAt;
        }
    }
    if (alert != kNoTime) {
        s.wormBeforeAlert = 0;
        for (const Message& m : in.messages)
            if (m.time < alert && wormIds.contains(QString::fromStdString(std::string(in.str(m.messageId))))) ++s.wormBeforeAlert;
    }
    QSet<QString> hard;
    for (const sim::HardNegative& hn : truth.hardNegatives)
        for (const QString& id : hn.messageIds) hard.insert(id);
    for (std::uint32_t i = 0; i < in.messages.size(); ++i)
        if (d.states()[i].flagged() && hard.contains(QString::fromStdString(std::string(in.str(in.messages[i].messageId)))))
            ++s.hardNegFlagged;
    s.campaignsWithWorm = static_cast<int>(wormCampaigns.size());
    for (const Campaign& c : d.campaigns()) {
        std::size_t w = 0;
        for (std::uint32_t i : c.messages) w += wormIds.contains(QString::fromStdString(std::string(in.str(in.messages[i].messageId)))) ? 1 : 0;
        if (w * 2 < c.messages.size()) ++s.falseCampaigns;
    }
    s.truthPatientZero = truth.patientZero;
    if (!wormCampaigns.empty()) s.patientZero = QString::fromStdString(d.campaigns()[static_cast<std::size_t>(*wormCampaigns.begin())].patientZero);
    return s;
}

} // namespace

class TestDetection : public QObject {
    Q_OBJECT

private slots:
    // ------------------------------------------------------------ the rule set
    void ruleSetJsonRoundTrip() {
        const RuleSet d = RuleSet::defaults();
        RuleSet back;
        QString error;
        QVERIFY2(RuleSet::fromJson(d.toJsonBytes(), back, &error), qPrintable(error));
        QCOMPARE(back.toJsonBytes(), d.toJsonBytes());
        // A partial document keeps the defaults for the rest.
        QVERIFY(RuleSet::fromJson(R"({"fanout":{"threshold":7},"type":{"macro":[".DOC"]}})", back, &error));
        QCOMPARE(back.fanout.threshold, 7);
        QCOMPARE(back.fanout.windowSec, d.fanout.windowSec);
        QCOMPARE(back.type.macro, std::vector<std::string>{"doc"});
        QCOMPARE(back.rates.size(), d.rates.size());
        // Mistakes are refused with a reason.
        QVERIFY(!RuleSet::fromJson("{", back, &error));
        QVERIFY(!RuleSet::fromJson(R"({"rate":[{"id":"x","key":"planet"}]})", back, &error));
        QVERIFY(error.contains(QStringLiteral("planet")));
        QVERIFY(!RuleSet::fromJson(R"({"volume":[{"link":"moon-sun"}]})", back, &error));
        QVERIFY(!RuleSet::fromJson(R"({"fanout":{"window":0}})", back, &error));
        QVERIFY(!RuleSet::fromJson(R"({"version":9})", back, &error));
    }

    void normalisation() {
        bool reply = false, forward = false;
        QCOMPARE(normaliseSubject("RE: Re[2]:  Invoice   12345 ", &reply, &forward), std::string("invoice #"));
        QVERIFY(reply && !forward);
        QCOMPARE(normaliseSubject("WG: AW: Angebot 7", &reply, &forward), std::string("angebot #"));
        QVERIFY(reply && forward);
        QCOMPARE(normaliseSubject("Reminder", &reply, &forward), std::string("reminder"));
        QVERIFY(!reply && !forward);
        QCOMPARE(normaliseName("Invoice_78523.PDF.exe"), std::string("invoice_#.pdf.exe"));
    }

    // ------------------------------------------------------------ rule 1: rates, at the edges
    void rateThresholdEdges_data() {
        QTest::addColumn<int>("messages");
        QTest::addColumn<int>("hits");
        QTest::newRow("one below") << 4 << 0;
        QTest::newRow("at") << 5 << 1;
        QTest::newRow("one above") << 6 << 2;
    }
    void rateThresholdEdges() {
        QFETCH(int, messages);
        QFETCH(int, hits);
        RuleSet r = nothing();
        r.rates = {{"rate-sender-messages", KeyKind::Sender, Metric::Messages, 600, 5, 0.5, true}};
        Builder b;
        for (int k = 0; k < messages; ++k) b.msg(T0 + k * kMin, addr("alice"), {addr("bob")});
        auto d = detect(r, b.done());
        const auto h = hitsOf(*d, "rate-sender-messages");
        QCOMPARE(static_cast<int>(h.size()), hits);
        if (!h.empty()) {
            QCOMPARE(h.front().count, 5);
            QCOMPARE(h.front().threshold, 5);
            QCOMPARE(h.front().key, addr("alice"));
            QCOMPARE(h.front().windowEnd, T0 + 4 * kMin);
            QCOMPARE(h.front().windowStart, T0 + 4 * kMin - 600 * kSec);
        }
    }
    void rateWindowEdges() {
        // Five messages; the last comes exactly one window after the first (out), or 1 ms sooner (in).
        for (const auto& [gap, expect] : {std::pair<TimeMs, int>{600 * kSec, 0}, {600 * kSec - 1, 1}}) {
            RuleSet r = nothing();
            r.rates = {{"rate-sender-messages", KeyKind::Sender, Metric::Messages, 600, 5, 0.5, true}};
            Builder b;
            for (int k = 0; k < 4; ++k) b.msg(T0 + k * kSec, addr("alice"), {addr("bob")});
            b.msg(T0 + gap, addr("alice"), {addr("bob")});
            auto d = detect(r, b.done());
            QCOMPARE(static_cast<int>(hitsOf(*d, "rate-sender-messages").size()), expect);
        }
    }
    void rateRecipients() {
        RuleSet r = nothing();
        r.rates = {{"rcpts", KeyKind::Sender, Metric::Recipients, 600, 10, 0.5, true}};
        Builder b;
        b.msg(T0, addr("alice"), {addr("bob"), addr("carol"), addr("dave"), addr("erin")});                 // 4
        b.msg(T0 + kMin, addr("alice"), {addr("bob"), addr("carol"), addr("dave"), addr("erin"), addr("ivan")}); // 9
        b.msg(T0 + 2 * kMin, addr("alice"), {addr("bob")});                                                 // 10
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "rcpts"), std::vector<std::uint32_t>{2});
        QCOMPARE(hitsOf(*d, "rcpts").front().count, 10);
    }
    void rateKeys() {
        RuleSet r = nothing();
        r.rates = {{"client", KeyKind::Client, Metric::Messages, 600, 3, 0.5, true},
                   {"subnet", KeyKind::Subnet, Metric::Messages, 600, 3, 0.5, true},
                   {"unit", KeyKind::Unit, Metric::Messages, 600, 3, 0.5, true},
                   {"server", KeyKind::Server, Metric::Messages, 600, 3, 0.5, true}};
        r.subnetPrefixV4 = 24;
        Builder b;
        // Three senders of Sales/North on three hosts of one /24 through mx1; a fourth elsewhere.
        b.msg(T0, addr("alice"), {addr("judy")}, "a", {}, 1000, "10.1.2.3", "mx1");
        b.msg(T0 + kSec, addr("bob"), {addr("judy")}, "b", {}, 1000, "10.1.2.4", "mx1");
        b.msg(T0 + 2 * kSec, addr("carol"), {addr("judy")}, "c", {}, 1000, "10.1.2.200", "mx1");
        b.msg(T0 + 3 * kSec, addr("grace"), {addr("judy")}, "d", {}, 1000, "10.1.3.1", "mx2");
        b.msg(T0 + 4 * kSec, addr("alice"), {addr("judy")}, "e", {}, 1000, "10.1.2.3", "mx2");
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "subnet"), (std::vector<std::uint32_t>{2, 4}));
        QCOMPARE(hitsOf(*d, "subnet").front().key, std::string("10.1.2.0/24"));
        QCOMPARE(hitPositions(*d, "unit"), (std::vector<std::uint32_t>{2, 4}));
        QCOMPARE(hitsOf(*d, "unit").front().key, std::string("Sales/North"));
        QCOMPARE(hitPositions(*d, "server"), std::vector<std::uint32_t>{2});
        QCOMPARE(hitsOf(*d, "server").front().key, std::string("mx1"));
        QVERIFY(hitsOf(*d, "client").empty()); // 10.1.2.3 twice only
    }

    // ------------------------------------------------------------ rule 2: volume
    void volumeLinks() {
        RuleSet r = nothing();
        r.volumes = {{"cs", LinkKind::ClientServer, 600, 30'000, 0.5, true},
                     {"ss", LinkKind::ServerServer, 600, 30'000, 0.5, true},
                     {"uu", LinkKind::UnitUnit, 600, 30'000, 0.5, true}};
        Builder b;
        // 29,999 bytes: one below; then one byte more: at; then above.
        b.msg(T0, addr("alice"), {addr("grace")}, "x", {}, 29'999, "10.0.0.5", "mx1", {"mx1", "mx2"});
        b.msg(T0 + kSec, addr("alice"), {addr("grace")}, "x", {}, 1, "10.0.0.5", "mx1", {"mx1", "mx2"});
        b.msg(T0 + 2 * kSec, addr("alice"), {addr("grace")}, "x", {}, 1, "10.0.0.5", "mx1", {"mx1", "mx2"});
        // Other links do not add up.
        b.msg(T0 + 3 * kSec, addr("alice"), {addr("bob")}, "x", {}, 40'000, "10.0.0.6", "mx3", {"mx3", "mx4"});
        auto d = detect(r, b.done());
        for (const char* rule : {"cs", "ss", "uu"}) {
            const auto h = hitsOf(*d, rule);
            QCOMPARE(h.size(), std::size_t(3)); // 1, 2, and the 40 kB message on its own link
            QCOMPARE(h[0].message, 1u);
            QCOMPARE(h[0].count, 30'000);
            QCOMPARE(h[0].threshold, 30'000);
        }
        QCOMPARE(hitsOf(*d, "cs")[0].key, std::string("10.0.0.5 -> mx1"));
        QCOMPARE(hitsOf(*d, "ss")[0].key, std::string("mx1 -> mx2"));
        QCOMPARE(hitsOf(*d, "uu")[0].key, std::string("Sales/North -> Sales/South"));
        QCOMPARE(hitsOf(*d, "uu")[2].key, std::string("Sales/North -> Sales/North"));
    }

    // ------------------------------------------------------------ rule 3: type
    void attachmentTypes_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("cls");
        QTest::addColumn<double>("weight");
        QTest::newRow("script") << "LOVE-LETTER-FOR-YOU.TXT.vbs" << "double extension" << 3.0;
        QTest::newRow("plain script") << "run.js" << "script" << 3.0;
        QTest::newRow("executable") << "setup.EXE" << "executable" << 3.0;
        QTest::newRow("double extension") << "invoice_123.pdf.exe" << "double extension" << 3.0;
        QTest::newRow("padded double extension") << "photo.jpg          .scr" << "double extension" << 3.0;
        QTest::newRow("macro") << "list.doc" << "macro document" << 1.5;
        QTest::newRow("macro xlsm") << "figures.xlsm" << "macro document" << 1.5;
        QTest::newRow("archive") << "files.zip" << "archive" << 0.0;
        QTest::newRow("pdf") << "report.pdf" << "" << 0.0;
        QTest::newRow("docx") << "draft.docx" << "" << 0.0;
        QTest::newRow("version dots") << "tool.v2.exe" << "executable" << 3.0;
    }
    void attachmentTypes() {
        QFETCH(QString, name);
        QFETCH(QString, cls);
        QFETCH(double, weight);
        RuleSet r = nothing();
        r.type.enabled = true;
        Builder b;
        b.msg(T0, addr("alice"), {addr("bob")}, "x", {name.toStdString()});
        auto d = detect(r, b.done());
        const auto h = hitsOf(*d, "type");
        if (cls.isEmpty()) {
            QVERIFY(h.empty());
            return;
        }
        QCOMPARE(h.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(h[0].detail), cls);
        QCOMPARE(h[0].weight, weight);
        QCOMPARE(QString::fromStdString(h[0].key), name);
        QCOMPARE(d->flagged(0), weight >= 3.0);
    }

    // ------------------------------------------------------------ rule 4: size bands
    void sizeBands() {
        RuleSet r = nothing();
        r.size.enabled = true;
        r.size.bands = {{"band", 1000, 2000, 0.25}};
        Builder b;
        for (std::int64_t size : {999, 1000, 1001, 1999, 2000}) b.msg(T0 + size, addr("alice"), {addr("bob")}, "x", {}, size);
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "size"), (std::vector<std::uint32_t>{1, 2, 3}));
    }

    // ------------------------------------------------------------ rule 5: baseline, fan-out, burst
    void baselineEdges_data() {
        QTest::addColumn<int>("burst");
        QTest::addColumn<int>("hits");
        QTest::newRow("one below") << 5 << 0;
        QTest::newRow("at") << 6 << 1;
        QTest::newRow("one above") << 7 << 2;
    }
    void baselineEdges() {
        QFETCH(int, burst);
        QFETCH(int, hits);
        RuleSet r = nothing();
        r.baseline.enabled = true;
        r.baseline.keys = {KeyKind::Sender};
        r.baseline.minCount = 6;
        r.baseline.factor = 5;
        Builder b;
        // Two hours of history: one message an hour (well below 1 per window expected).
        b.msg(T0, addr("alice"), {addr("bob")});
        b.msg(T0 + kHour, addr("alice"), {addr("bob")});
        b.msg(T0 + 2 * kHour, addr("bob"), {addr("carol")});
        for (int k = 0; k < burst; ++k) b.msg(T0 + 2 * kHour + (k + 1) * kSec, addr("alice"), {addr("carol")});
        auto d = detect(r, b.done());
        const auto h = hitsOf(*d, "baseline");
        QCOMPARE(static_cast<int>(h.size()), hits);
        if (!h.empty()) {
            QCOMPARE(h[0].count, 6);
            QCOMPARE(h[0].threshold, 6);
        }
        // A key with a busy history needs more than minCount.
        Builder busy;
        for (int k = 0; k < 12 * 6; ++k) busy.msg(T0 + k * 10 * kMin + 1, addr("alice"), {addr("bob")}); // two per window
        for (int k = 0; k < 12 * 6; ++k) busy.msg(T0 + k * 10 * kMin + 2, addr("alice"), {addr("carol")});
        for (int k = 0; k < 11; ++k) busy.msg(T0 + 12 * kHour + k * kSec, addr("alice"), {addr("dave")});
        auto d2 = detect(r, busy.done());
        const auto h2 = hitsOf(*d2, "baseline");
        // 144 messages in 11 h 50 min of history: 2.03 per window expected; 5 x that = 10.1, so 11.
        QCOMPARE(h2.size(), std::size_t(1));
        QCOMPARE(h2.front().count, 11);
        QCOMPARE(h2.front().threshold, 11);
    }
    void fanoutEdges() {
        RuleSet r = nothing();
        r.fanout.enabled = true;
        r.fanout.threshold = 4;
        Builder b;
        b.msg(T0, addr("alice"), {addr("bob"), addr("carol")});
        b.msg(T0 + kSec, addr("alice"), {addr("bob"), addr("carol")}); // the same two: still 2
        b.msg(T0 + 2 * kSec, addr("alice"), {addr("dave")});           // 3: one below
        b.msg(T0 + 3 * kSec, addr("alice"), {addr("erin")});           // 4: at
        b.msg(T0 + 4 * kSec, addr("alice"), {addr("frank")});          // 5: above
        b.msg(T0 + 10 * kMin + 2 * kSec, addr("alice"), {addr("grace")}); // the window lost the first three sightings
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "fanout"), (std::vector<std::uint32_t>{3, 4}));
        QCOMPARE(hitsOf(*d, "fanout")[0].count, 4);
    }
    void burstEdges() {
        RuleSet r = nothing();
        r.burst.enabled = true;
        r.burst.threshold = 5;
        Builder b;
        const std::vector<const char*> to = {"bob", "carol", "dave", "erin", "frank", "grace"};
        for (int k = 0; k < 6; ++k) b.msg(T0 + k * kSec, addr("alice"), {addr(to[static_cast<std::size_t>(k)])}, "Hi", {"doc.zip"});
        // One message to many does not count as a burst.
        b.msg(T0 + 10 * kSec, addr("heidi"), {addr("bob"), addr("carol"), addr("dave"), addr("erin"), addr("frank")}, "All", {"x.zip"});
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "burst"), (std::vector<std::uint32_t>{4, 5}));
        const Hit h = hitsOf(*d, "burst").front();
        QCOMPARE(h.count, 5);
        QCOMPARE(h.weight, r.burst.weight + r.burst.attachmentBonus);
        // An outside sender's burst (a newsletter sent one by one) is not counted.
        Builder ext;
        for (int k = 0; k < 6; ++k) ext.msg(T0 + k * kSec, "news@example.org", {addr(to[static_cast<std::size_t>(k)])}, "News", {"n.pdf"});
        auto d2 = detect(r, ext.done());
        QVERIFY(hitsOf(*d2, "burst").empty());
    }

    // ------------------------------------------------------------ rule 5: propagation
    void propagationWindowEdges() {
        RuleSet r = nothing();
        r.propagation.enabled = true;
        r.propagation.windowSec = 3600;
        for (const auto& [delay, expect] : {std::pair<TimeMs, bool>{kHour - 1, true}, {kHour, false}}) {
            Builder b;
            b.msg(T0, "outside@example.org", {addr("alice")}, "Q3 figures", {"figures_2027.xlsx"}, 80'000);
            b.msg(T0 + delay, addr("alice"), {addr("bob")}, "Q3 figures", {"figures_2027.xlsx"}, 80'500);
            auto d = detect(r, b.done());
            const auto h = hitsOf(*d, "propagation");
            QCOMPARE(!h.empty(), expect);
            if (expect) {
                QCOMPARE(h[0].key, std::string(b.in.str(b.in.messages[0].messageId)));
                QCOMPARE(h[0].windowStart, T0);
                QCOMPARE(d->states()[1].parent, 0);
                QVERIFY(d->states()[1].parentStrong);
                // Sent on to one person: half weight.
                QCOMPARE(h[0].weight, r.propagation.weightStrong / 2);
            }
        }
    }
    void propagationSpreadEdges() {
        RuleSet r = nothing();
        r.propagation.enabled = true;
        r.propagation.spreadMin = 3;
        Builder b;
        b.msg(T0, addr("judy"), {addr("alice")}, "look", {"fun.zip"}, 30'000);
        const std::vector<const char*> to = {"bob", "carol", "dave", "erin"};
        for (int k = 0; k < 4; ++k) b.msg(T0 + kHour + k * kSec, addr("alice"), {addr(to[static_cast<std::size_t>(k)])}, "look", {"fun.zip"}, 30'100);
        auto d = detect(r, b.done());
        const auto h = hitsOf(*d, "propagation");
        QCOMPARE(h.size(), std::size_t(4));
        QCOMPARE(h[0].weight, 1.0); // spread 1
        QCOMPARE(h[1].weight, 1.0); // spread 2: one below
        QCOMPARE(h[2].weight, 2.0); // spread 3: at
        QCOMPARE(h[3].weight, 2.0);
        QCOMPARE(h[2].count, 3);
    }
    void propagationIgnoresConversation() {
        RuleSet r = nothing();
        r.propagation.enabled = true;
        Builder b;
        // A reply-all storm: everyone answers the thread; nothing passes from received to sent.
        b.msg(T0, addr("alice"), {addr("bob"), addr("carol"), addr("dave")}, "Offsite: please confirm", {}, 6000);
        b.msg(T0 + kMin, addr("bob"), {addr("alice"), addr("carol"), addr("dave")}, "RE: Offsite: please confirm", {}, 9000);
        b.msg(T0 + 2 * kMin, addr("carol"), {addr("alice"), addr("bob"), addr("dave")}, "RE: Offsite: please confirm", {}, 9000);
        // A subject alone without a matching size is no link either.
        b.msg(T0 + 3 * kMin, addr("dave"), {addr("erin")}, "Offsite: please confirm", {}, 900'000);
        auto d = detect(r, b.done());
        QVERIFY(hitsOf(*d, "propagation").empty());
        // The same subject and size to someone else than the thread is (weak) propagation.
        b.msg(T0 + 4 * kMin, addr("bob"), {addr("grace")}, "Offsite: please confirm", {}, 6100);
        auto d2 = detect(r, b.done());
        const auto h = hitsOf(*d2, "propagation");
        QCOMPARE(h.size(), std::size_t(1));
        QVERIFY(!d2->states()[4].parentStrong); // nothing passed on but words
        QCOMPARE(h[0].weight, r.propagation.weightWeak / 2);
    }
    void similarAcrossSenders() {
        RuleSet r = nothing();
        r.type.enabled = true;
        r.similar.enabled = true;
        Builder b;
        b.msg(T0, addr("alice"), {addr("bob")}, "x", {"setup.exe"});      // flagged by type
        b.msg(T0 + kMin, addr("alice"), {addr("carol")}, "x", {"setup.exe"}); // same sender: not "similar"
        b.msg(T0 + 2 * kMin, addr("bob"), {addr("carol")}, "y", {"setup.exe"});
        b.msg(T0 + 25 * kHour, addr("dave"), {addr("carol")}, "y", {"setup.exe"}); // past the window
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "similar"), std::vector<std::uint32_t>{2});
    }

    // ------------------------------------------------------------ the decision
    void decisionNeedsCorroboration() {
        const RuleSet r = RuleSet::defaults();
        Builder b;
        // A macro document to one colleague: evidence, not enough.
        b.msg(T0, addr("alice"), {addr("bob")}, "Figures", {"figures.xls"}, 60'000);
        // A person forwarding a received document to one colleague: not enough either.
        b.msg(T0 + kMin, "partner@example.org", {addr("carol")}, "Contract", {"contract_v3.docx"}, 70'000);
        b.msg(T0 + kHour, addr("carol"), {addr("dave")}, "FW: Contract", {"contract_v3.docx"}, 71'000);
        // An all-staff announcement: fan-out alone.
        std::vector<std::string> all;
        for (const char* u : {"bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}) all.push_back(addr(u));
        for (int k = 0; k < 20; ++k) all.push_back("staff" + std::to_string(k) + "@corp.example");
        b.msg(T0 + 2 * kHour, addr("alice"), all, "All staff: town hall", {"agenda.pdf"}, 200'000);
        auto d = detect(r, b.done());
        QCOMPARE(d->flaggedCount(), std::size_t(0));
        QVERIFY(d->states()[0].score > 0);
        QVERIFY(!hitsOf(*d, "fanout").empty());
        // A macro document to that many at once is (Melissa).
        Builder m;
        m.msg(T0, addr("alice"), all, "Important Message From Alice", {"list.doc"}, 60'000);
        auto d2 = detect(r, m.done());
        QVERIFY(d2->flagged(0));
        QCOMPARE(d2->states()[0].score, 3.0f);
    }

    // ------------------------------------------------------------ issue 14: surprise, not coincidence
    // A name hundreds of people send is no evidence of propagation. Before: the exact name
    // gave "passed on" 2.0 (halved for one recipient) and "similar to a flagged message" 2.0,
    // together the threshold, and the forward joined the worm's campaign.
    void commonNameIsNoEvidence() {
        Builder b;
        for (int k = 0; k < 14; ++k) b.in.addUser("staff" + std::to_string(k) + "@corp.example", "Ops/Desk");
        // A worm message that happens to carry report.pdf beside its script.
        b.msg(T0, addr("alice"), {addr("bob")}, "look", {"setup.exe", "report.pdf"}, 90'000);
        // Everybody sends report.pdf, different files, all morning.
        for (int k = 0; k < 14; ++k)
            b.msg(T0 + (k + 1) * 5 * kMin, "staff" + std::to_string(k) + "@corp.example", {addr(k % 2 ? "frank" : "dave")}, "Weekly numbers",
                  {"report.pdf"}, 50'000 + k * 37'000);
        // dave received one; hours later he sends his own report.pdf to one colleague.
        const std::int64_t forward = b.msg(T0 + 3 * kHour, addr("dave"), {addr("erin")}, "Minutes", {"report.pdf"}, 120'000);
        auto d = detect(RuleSet::defaults(), b.done());
        QVERIFY(d->flagged(0));
        std::uint32_t fwd = 0;
        for (std::uint32_t i = 0; i < b.in.messages.size(); ++i)
            if (b.in.messages[i].id == forward) fwd = i;
        QVERIFY2(!d->flagged(fwd), qPrintable(QStringLiteral("score %1").arg(d->states()[fwd].score)));
        QCOMPARE(d->campaigns().size(), std::size_t(1));
        QCOMPARE(d->campaigns()[0].messages.size(), std::size_t(1));
        // The same forward of a rare name is still evidence (halved: one recipient).
        Builder r;
        r.msg(T0, addr("alice"), {addr("dave")}, "look", {"setup.exe", "q3_board_pack.pdf"}, 90'000);
        r.msg(T0 + kHour, addr("dave"), {addr("erin")}, "Minutes", {"q3_board_pack.pdf"}, 120'000);
        auto d2 = detect(RuleSet::defaults(), r.done());
        const auto h = hitsOf(*d2, "propagation");
        QCOMPARE(h.size(), std::size_t(1));
        QCOMPARE(h[0].weight, RuleSet::defaults().propagation.weightStrong / 2);
    }
    // A worm mailing itself as budget.xlsx (an ordinary name) from a user who keeps working:
    // its copies are caught by their burst; the user's own budget.xlsx files are not the worm.
    // Before: the name pattern alone made them siblings of the burst.
    void disguisedWormLeavesOwnMailAlone() {
        Builder b;
        for (int k = 0; k < 16; ++k) b.in.addUser("staff" + std::to_string(k) + "@corp.example", "Ops/Desk");
        for (int k = 0; k < 8; ++k) // budget.xlsx is common
            b.msg(T0 + k * kMin, "staff" + std::to_string(k) + "@corp.example", {addr("carol")}, "Budget", {"budget.xlsx"}, 30'000 + k * 9000);
        std::vector<std::int64_t> worm, own;
        TimeMs t = T0 + kHour;
        for (int k = 0; k < 12; ++k, t += 40 * kSec) {
            worm.push_back(b.msg(t, addr("alice"), {"staff" + std::to_string(k) + "@corp.example"}, "Budget draft", {"budget.xlsx"},
                                 61'000 + (k * 37) % 300));
            if (k == 2 || k == 6 || k == 9)
                own.push_back(b.msg(t + 10 * kSec, addr("alice"), {addr("bob")}, "Figures for Q" + std::to_string(k), {"budget.xlsx"},
                                    20'000 + k * 11'000));
        }
        auto d = detect(RuleSet::defaults(), b.done());
        auto index = [&](std::int64_t id) {
            for (std::uint32_t i = 0; i < b.in.messages.size(); ++i)
                if (b.in.messages[i].id == id) return i;
            return UINT32_MAX;
        };
        int caught = 0;
        for (std::int64_t id : worm) caught += d->flagged(index(id)) ? 1 : 0;
        QVERIFY2(caught >= 11, qPrintable(QStringLiteral("%1 of 12 worm messages").arg(caught)));
        for (std::int64_t id : own) QVERIFY2(!d->flagged(index(id)), "the user's own budget.xlsx joined the worm");
        // Detected within its first five messages.
        TimeMs first = kNoTime;
        for (std::int64_t id : worm) {
            const MessageState& s = d->states()[index(id)];
            if (s.source == FlagSource::Rules && (first == kNoTime || s.flaggedAt < first)) first = s.flaggedAt;
        }
        QVERIFY(first != kNoTime && first <= b.in.messages[index(worm[4])].time);
    }
    // A worm that sends only a link under a changing lure, one contact a minute: no attachment,
    // no repeated subject, no rate a fixed limit catches. Rule 5f (new contacts in one shape)
    // flags it; the messages before the rule fired join as the surge that made it fire.
    void linkWormCaughtByNewContacts() {
        Builder b;
        for (int k = 0; k < 20; ++k) b.in.addUser("staff" + std::to_string(k) + "@corp.example", "Ops/Desk");
        const char* lures[] = {"Have a look", "Shared document", "Check this out", "Photos", "Please review"};
        std::vector<std::int64_t> worm, own;
        TimeMs t = T0;
        for (int k = 0; k < 16; ++k, t += 70 * kSec) {
            worm.push_back(b.msg(t, addr("alice"), {"staff" + std::to_string(k) + "@corp.example"},
                                 std::string(lures[k % 5]) + " " + std::to_string(k * 7), {}, 3000 + (k * 97) % 900));
            if (k == 5) own.push_back(b.msg(t + 20 * kSec, addr("alice"), {addr("bob")}, "Offer", {"offer_77.pdf"}, 220'000));
        }
        auto d = detect(RuleSet::defaults(), b.done());
        auto index = [&](std::int64_t id) {
            for (std::uint32_t i = 0; i < b.in.messages.size(); ++i)
                if (b.in.messages[i].id == id) return i;
            return UINT32_MAX;
        };
        int caught = 0, byRule = 0;
        for (std::int64_t id : worm) {
            caught += d->flagged(index(id)) ? 1 : 0;
            byRule += d->states()[index(id)].source == FlagSource::Rules ? 1 : 0;
        }
        QCOMPARE(caught, 16);
        QVERIFY(byRule >= 1);
        QVERIFY(!hitsOf(*d, "contacts").empty());
        QVERIFY(!d->flagged(index(own[0])));
        QCOMPARE(d->campaigns().size(), std::size_t(1));
        // Fired by the twelfth message (no hour of history: minimum + 2).
        TimeMs first = kNoTime;
        for (std::int64_t id : worm)
            if (d->states()[index(id)].source == FlagSource::Rules && first == kNoTime) first = d->states()[index(id)].flaggedAt;
        QVERIFY(first != kNoTime && first <= b.in.messages[index(worm[11])].time);
    }
    // A busy person's sessions (six notes in ten minutes, to the same few people) are not a
    // worm, and neither is a reply in a thread someone else started.
    void busySessionsAreNotAWorm() {
        Builder b;
        const std::vector<const char*> friends = {"bob", "carol", "dave", "erin", "frank", "grace"};
        TimeMs t = T0;
        for (int session = 0; session < 6; ++session) {
            for (int k = 0; k < 8; ++k, t += 70 * kSec)
                b.msg(t, addr("alice"), {addr(friends[static_cast<std::size_t>((k * 5 + session) % 6)])}, k % 2 ? "Re: thanks" : "Quick note",
                      {}, 2500 + (k * 131) % 1500);
            t += 40 * kMin;
        }
        auto d = detect(RuleSet::defaults(), b.done());
        QCOMPARE(d->flaggedCount(), std::size_t(0));
    }
    // Replies in a thread the recipient started carry no behaviour evidence: the surge is
    // someone else's.
    void repliesInAThreadCarryNoBehaviourEvidence() {
        RuleSet r = nothing();
        r.rates = {{"rate-sender-messages", KeyKind::Sender, Metric::Messages, 600, 3, 0.5, true}};
        Builder b;
        b.msg(T0, addr("bob"), {addr("alice")}, "Offsite");
        b.msg(T0 + kSec, addr("carol"), {addr("alice")}, "Plan");
        b.msg(T0 + 2 * kSec, addr("alice"), {addr("dave")}, "One");
        b.msg(T0 + 3 * kSec, addr("alice"), {addr("erin")}, "Two");
        b.msg(T0 + 4 * kSec, addr("alice"), {addr("bob")}, "Re: Offsite");  // answers bob's thread
        b.msg(T0 + 5 * kSec, addr("alice"), {addr("frank")}, "Re: Plan");   // not frank's thread
        auto d = detect(r, b.done());
        QCOMPARE(hitPositions(*d, "rate-sender-messages"), (std::vector<std::uint32_t>{5}));
    }
    // A unit's surge points at where to look; it never flags a message on its own.
    void aggregateKeysAreCapped() {
        RuleSet r = nothing();
        r.rates = {{"rate-unit-messages", KeyKind::Unit, Metric::Messages, 600, 2, 5.0, true},
                   {"rate-subnet-messages", KeyKind::Subnet, Metric::Messages, 600, 2, 5.0, true}};
        Builder b;
        for (int k = 0; k < 5; ++k) b.msg(T0 + k * kSec, addr(k % 2 ? "alice" : "bob"), {addr("carol")}, "x" + std::to_string(k));
        auto d = detect(r, b.done());
        QCOMPARE(hitsOf(*d, "rate-unit-messages").size(), std::size_t(4));
        QCOMPARE(d->flaggedCount(), std::size_t(0));
        for (const MessageState& s : d->states()) QVERIFY(s.score <= r.decision.aggregateCap + 1e-6);
    }

    // ------------------------------------------------------------ causality
    void causalPrefixAndIncremental() {
        // A synthetic outbreak with an innocent-looking attachment among ordinary mail.
        Builder full;
        std::vector<std::pair<TimeMs, int>> plan;
        auto outbreak = [](Builder& b, TimeMs upTo) {
            const std::vector<std::string> users = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"};
            TimeMs t = T0;
            for (int k = 0; k < 200; ++k) { // ordinary mail every 3 minutes
                t = T0 + k * 3 * kMin;
                if (t > upTo) break;
                b.msg(t, users[static_cast<std::size_t>(k) % users.size()] + "@corp.example",
                      {users[static_cast<std::size_t>(k * 7 + 3) % users.size()] + "@corp.example"}, "Status " + std::to_string(k % 5),
                      k % 4 ? std::vector<std::string>{} : std::vector<std::string>{"notes_" + std::to_string(k) + ".pdf"}, 8000 + k * 37);
            }
            // Patient zero at T0+1h mails six contacts one by one, two of them do the same later.
            auto burst = [&](TimeMs start, const std::string& who, std::vector<std::string> to) {
                for (std::size_t i = 0; i < to.size(); ++i)
                    if (start + static_cast<TimeMs>(i) * 3 * kSec <= upTo)
                        b.msg(start + static_cast<TimeMs>(i) * 3 * kSec, who + "@corp.example", {to[i] + "@corp.example"},
                              "Photos from the weekend", {"photos.zip"}, 48'000 + static_cast<std::int64_t>(i) * 11);
            };
            burst(T0 + kHour, "alice", {"bob", "carol", "dave", "erin", "frank", "grace"});
            burst(T0 + 2 * kHour, "bob", {"heidi", "ivan", "judy", "alice", "carol", "dave"});
            burst(T0 + 3 * kHour, "ivan", {"judy", "erin", "frank", "grace", "heidi", "bob"});
        };
        outbreak(full, INT64_MAX);
        auto dFull = detect(RuleSet::defaults(), full.done());
        QVERIFY(dFull->flaggedCount() >= 18);
        QCOMPARE(dFull->campaigns().size(), std::size_t(1));
        const Campaign& c = dFull->campaigns().front();
        QCOMPARE(c.patientZero, addr("alice"));
        QCOMPARE(c.generations, 3);
        QCOMPARE(static_cast<int>(c.messages.size()), 18);
        QVERIFY(c.detectedAt != kNoTime && c.detectedAt > c.firstSeen);
        // Patient zero's first messages joined afterwards, with "campaign" evidence.
        QCOMPARE(dFull->states()[full.in.messages.size() ? 0 : 0].flagged(), false);
        QVERIFY(!dFull->campaignHits().empty());

        // Any prefix gives the same hits up to its end and the same detection time.
        for (TimeMs cut : {T0 + 90 * kMin, T0 + 2 * kHour + 10 * kSec, T0 + 150 * kMin, T0 + 3 * kHour + 9 * kSec}) {
            Builder pre;
            outbreak(pre, cut);
            auto dPre = detect(RuleSet::defaults(), pre.done());
            QCOMPARE(hitSet(*dPre, pre.in), hitSet(*dFull, full.in, cut));
            if (c.detectedAt <= cut) {
                QCOMPARE(dPre->campaigns().size(), std::size_t(1));
                QCOMPARE(dPre->campaigns().front().detectedAt, c.detectedAt);
            } else {
                QVERIFY(dPre->campaigns().empty());
            }
            // Every flag of the prefix run is in the full run, flagged at the same moment.
            for (std::uint32_t i = 0; i < pre.in.messages.size(); ++i)
                if (dPre->states()[i].flagged()) {
                    QVERIFY(dFull->states()[i].flagged());
                    QCOMPARE(dFull->states()[i].flaggedAt, dPre->states()[i].flaggedAt);
                }
        }
        // Appending and running again keeps the windows: the same as one run over everything.
        Builder inc;
        outbreak(inc, T0 + 2 * kHour + 7 * kSec);
        inc.in.finish();
        Detector d(RuleSet::defaults(), Detector::Options{true});
        d.run(inc.in);
        const std::size_t first = d.processed();
        Builder rest;
        outbreak(rest, INT64_MAX);
        for (std::size_t i = first; i < rest.in.messages.size(); ++i) {
            // Re-add the later messages (same ids) to the same input.
            const Message& m = rest.done().messages[i];
            MessageSpec s;
            s.id = m.id;
            s.time = m.time;
            s.messageId = std::string(rest.in.str(m.messageId));
            s.sender = std::string(rest.in.str(m.sender));
            s.saslUser = s.sender;
            s.clientIp = "10.0.0.1";
            s.server = "mx1";
            s.size = m.size;
            s.subject = std::string(rest.in.str(m.subject));
            for (std::uint32_t a = 0; a < m.attCount; ++a) s.attachments.emplace_back(rest.in.str(rest.in.attachments[m.attBegin + a]));
            for (std::uint32_t a = 0; a < m.rcptCount; ++a) s.recipients.emplace_back(rest.in.str(rest.in.recipients[m.rcptBegin + a].address));
            inc.in.add(s);
        }
        QVERIFY(inc.in.finish());
        d.run(inc.in);
        d.buildCampaigns(inc.in);
        QCOMPARE(d.processed(), full.in.messages.size());
        QCOMPARE(hitSet(d, inc.in), hitSet(*dFull, full.in));
        QCOMPARE(d.campaigns().front().detectedAt, c.detectedAt);
        QCOMPARE(d.flaggedCount(), dFull->flaggedCount());
    }

    // ------------------------------------------------------------ campaigns and generations
    void campaignGroupingAndGenerations() {
        const RuleSet r = RuleSet::defaults();
        Builder b;
        // Campaign 1: an executable, alice -> bob, carol; bob -> dave, erin; dave -> frank.
        b.msg(T0, addr("alice"), {addr("bob")}, "Invoice 1", {"invoice_1.pdf.exe"}, 90'000);
        b.msg(T0 + kSec, addr("alice"), {addr("carol")}, "Invoice 2", {"invoice_2.pdf.exe"}, 91'000);
        b.msg(T0 + kHour, addr("bob"), {addr("dave")}, "Scan 3", {"scan_3.doc.pif"}, 92'000);
        b.msg(T0 + kHour + kSec, addr("bob"), {addr("erin")}, "Scan 4", {"scan_4.doc.pif"}, 93'000);
        b.msg(T0 + 2 * kHour, addr("dave"), {addr("frank")}, "Fax 5", {"fax_5.tif.scr"}, 94'000);
        // Campaign 2, elsewhere: a script from outside to grace.
        b.msg(T0 + 30 * kMin, "x@evil.example", {addr("grace")}, "Hi", {"run.js"}, 3000);
        auto d = detect(r, b.done());
        QCOMPARE(d->campaigns().size(), std::size_t(2));
        const Campaign& c1 = d->campaigns()[0];
        QCOMPARE(c1.messages.size(), std::size_t(5));
        QCOMPARE(c1.patientZero, addr("alice"));
        QCOMPARE(c1.generations, 3);
        QCOMPARE(c1.detectedAt, T0);
        QCOMPARE(c1.senders, 3);
        QCOMPARE(c1.recipients, 5);
        QCOMPARE(d->states()[0].generation, 0);
        QCOMPARE(d->states()[3].generation, 1); // bob's first: received invoice_1
        QCOMPARE(d->states()[3].treeParent, 0);
        QCOMPARE(d->states()[5].generation, 2);
        QCOMPARE(d->campaigns()[1].patientZero, std::string("x@evil.example"));
        QCOMPARE(d->campaigns()[1].messages.size(), std::size_t(1));
        QVERIFY(c1.label.find("double extension") != std::string::npos);
        // The graph: everything downstream of alice's message to bob.
        std::map<std::uint32_t, std::size_t> local;
        for (std::size_t k = 0; k < c1.messages.size(); ++k) local[c1.messages[k]] = k;
        PropagationGraph g(c1.messages.size());
        for (const auto& [a, e] : c1.edges) g.addEdge(local[a], local[e]);
        const auto reach = g.reachableFrom(local[0]);
        std::set<std::uint32_t> reached;
        for (std::size_t v : reach) reached.insert(c1.messages[v]);
        QCOMPARE(reached, (std::set<std::uint32_t>{0, 3, 4, 5}));
        QCOMPARE(g.roots().size(), std::size_t(2));
    }
    void generationsOfAChain() {
        PropagationGraph g(5);
        g.addEdge(0, 1);
        g.addEdge(1, 2);
        g.addEdge(0, 2); // a shortcut: BFS keeps the shortest
        g.addEdge(3, 4);
        std::vector<int> gen;
        std::vector<long> parent;
        g.generations(gen, parent);
        QCOMPARE(gen, (std::vector<int>{0, 1, 1, 0, 1}));
        QCOMPARE(parent, (std::vector<long>{-1, 0, 0, -1, 3}));
        QCOMPARE(g.reachableFrom(1).size(), std::size_t(2));
    }

    // ------------------------------------------------------------ the extension point
    void extraRulePlugsIn() {
        struct Unconfirmed : ExtraRule {
            const char* id() const override { return "confirm"; }
            void evaluate(const DetectionInput& in, std::uint32_t i, EvidenceSink& sink) override {
                if (in.messages[i].confirmToken) return;
                Hit h;
                h.message = i;
                h.rule = id();
                h.weight = 3;
                sink.add(h, false);
            }
        };
        Detector d(nothing());
        d.addRule(std::make_unique<Unconfirmed>());
        Builder b;
        MessageSpec s;
        s.time = T0;
        s.sender = addr("alice");
        s.recipients = {addr("bob")};
        s.confirmToken = "signed";
        b.in.add(s);
        b.msg(T0 + kSec, addr("alice"), {addr("bob")});
        d.run(b.done());
        QVERIFY(!d.flagged(0));
        QVERIFY(d.flagged(1));
        QCOMPARE(d.hits().front().rule, std::string("confirm"));
    }

    // ------------------------------------------------------------ the simulator's outbreaks
    void simulatedOutbreaks_data() {
        QTest::addColumn<int>("worm");
        QTest::addColumn<int>("users");
        QTest::addColumn<double>("open");
        QTest::addColumn<int>("seed");
        const sim::Worm worms[] = {sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Polymorphic, sim::Worm::None};
        for (sim::Worm w : worms)
            for (const auto& [users, open, seed] : {std::tuple<int, double, int>{150, 0.05, 3}, {250, 0.3, 4}, {400, 0.15, 5}})
                QTest::newRow(qPrintable(QStringLiteral("%1 users=%2 open=%3 seed=%4").arg(sim::wormName(w)).arg(users).arg(open).arg(seed)))
                    << static_cast<int>(w) << users << open << seed;
    }
    void simulatedOutbreaks() {
        QFETCH(int, worm);
        QFETCH(int, users);
        QFETCH(double, open);
        QFETCH(int, seed);
        QTemporaryDir tmp;
        const Scored s = scoreScenario(tmp.path(), static_cast<sim::Worm>(worm), users, open, static_cast<std::uint64_t>(seed));
        QVERIFY2(s.problems.isEmpty(), qPrintable(s.problems.join(QLatin1Char(';'))));
        QCOMPARE(s.hardNegFlagged, 0);
        if (static_cast<sim::Worm>(worm) == sim::Worm::None) {
            QVERIFY2(s.flagged <= 1, qPrintable(QStringLiteral("flagged %1 without a worm").arg(s.flagged)));
            return;
        }
        QVERIFY(s.worm > 0);
        const double precision = s.flagged ? double(s.truePositives) / s.flagged : 0;
        const double recall = double(s.truePositives) / s.worm;
        QVERIFY2(precision >= 0.99, qPrintable(QStringLiteral("precision %1 (%2 of %3)").arg(precision).arg(s.truePositives).arg(s.flagged)));
        QVERIFY2(recall >= 0.98, qPrintable(QStringLiteral("recall %1 (%2 of %3)").arg(recall).arg(s.truePositives).arg(s.worm)));
        QVERIFY2(s.wormBeforeAlert >= 0 && s.wormBeforeAlert < 10, qPrintable(QStringLiteral("%1 before the alert").arg(s.wormBeforeAlert)));
        QCOMPARE(s.campaignsWithWorm, 1);
        QCOMPARE(s.patientZero, s.truthPatientZero);
    }

    // Busy days (issue 14): generic names passed on all day, short replies, heavy users in
    // bursts, infected users who keep working; worms with and without a telltale attachment.
    // Before, every one of these days formed false campaigns of hundreds of ordinary messages.
    void busyDays_data() {
        QTest::addColumn<int>("worm");
        QTest::addColumn<int>("seed");
        for (sim::Worm w : {sim::Worm::None, sim::Worm::IloveYou, sim::Worm::Melissa, sim::Worm::Disguised, sim::Worm::Link})
            for (int seed : {7001, 7102})
                QTest::newRow(qPrintable(QStringLiteral("%1 seed=%2").arg(sim::wormName(w)).arg(seed))) << static_cast<int>(w) << seed;
    }
    void busyDays() {
        QFETCH(int, worm);
        QFETCH(int, seed);
        const sim::Worm w = static_cast<sim::Worm>(worm);
        QTemporaryDir tmp;
        const Scored s = scoreScenario(tmp.path(), w, 300, 0.3, static_cast<std::uint64_t>(seed), 8, sim::Traffic::Busy);
        QVERIFY2(s.problems.isEmpty(), qPrintable(s.problems.join(QLatin1Char(';'))));
        QCOMPARE(s.falseCampaigns, 0);
        QCOMPARE(s.hardNegFlagged, 0);
        if (w == sim::Worm::None) {
            QCOMPARE(s.flagged, 0);
            return;
        }
        const double precision = s.flagged ? double(s.truePositives) / s.flagged : 0;
        const double recall = double(s.truePositives) / s.worm;
        QVERIFY2(precision >= 0.99, qPrintable(QStringLiteral("precision %1 (%2 of %3)").arg(precision).arg(s.truePositives).arg(s.flagged)));
        QVERIFY2(recall >= 0.98, qPrintable(QStringLiteral("recall %1 (%2 of %3)").arg(recall).arg(s.truePositives).arg(s.worm)));
        // Within the first 3 worm messages with a telltale type, the first 20 without one.
        const int firstWithin = w == sim::Worm::Disguised || w == sim::Worm::Link ? 20 : 3;
        QVERIFY2(s.wormBeforeAlert >= 0 && s.wormBeforeAlert < firstWithin,
                 qPrintable(QStringLiteral("%1 before the alert").arg(s.wormBeforeAlert)));
        QCOMPARE(s.campaignsWithWorm, 1);
        QCOMPARE(s.patientZero, s.truthPatientZero);
    }
    // Real production logs nobody here wrote, without a worm: no campaign at all.
    void realLogsFormNoCampaign() {
        MT_REQUIRE_PUBLIC_DATA();
        const QString dir = mt::test::publicData(QStringLiteral("postfix/lightmeter/complete_logs_sample/logs_sample"));
        for (const QStringList& logs : {QStringList{dir + "/mail.log.1", dir + "/mail.log"}}) {
            QTemporaryDir tmp;
            CaseStore store;
            store.open(tmp.filePath(QStringLiteral("real.mtcase")));
            ImportJob job(store);
            const ImportReport rep = job.importLogs(logs);
            QVERIFY(!rep.anyFailed());
            QVERIFY(store.db().scalar("SELECT count(*) FROM messages") > 100);
            const CaseDetectionReport d = CaseDetection::run(store);
            QVERIFY2(d.flagged == 0, qPrintable(logs.join(QLatin1Char(' ')) + QStringLiteral(": %1 flagged").arg(d.flagged)));
            QCOMPARE(store.db().scalar("SELECT count(*) FROM campaigns"), 0);
        }
    }

    // ------------------------------------------------------------ the case file
    void caseRoundTripReplaceAndIncremental() {
        QTemporaryDir tmp;
        sim::SimulationOptions o;
        o.outDir = tmp.filePath(QStringLiteral("logs"));
        o.users = 200;
        o.servers = 3;
        o.hours = 4;
        o.seed = 21;
        o.worm = sim::Worm::Melissa;
        o.openProbability = 0.3;
        const sim::SimulationResult r = sim::simulate(o);
        QVERIFY(r.ok);
        // The logs cut in two at one moment: the first part, then the rest.
        const QString cut = QStringLiteral("2026-11-24T10:30:00");
        QStringList first, second;
        for (const QString& log : r.logFiles) {
            const QList<QByteArray> lines = readAll(log).split('\n');
            QByteArray a, b;
            for (const QByteArray& l : lines) {
                if (l.isEmpty()) continue;
                (QString::fromLatin1(l.left(19)) < cut ? a : b) += l + '\n';
            }
            const QString fa = log + ".1", fb = log + ".2";
            QFile f1(fa), f2(fb);
            QVERIFY(f1.open(QIODevice::WriteOnly) && f2.open(QIODevice::WriteOnly));
            f1.write(a);
            f2.write(b);
            first << fa;
            second << fb;
        }
        const QString incPath = tmp.filePath(QStringLiteral("inc.mtcase")), fullPath = tmp.filePath(QStringLiteral("full.mtcase"));
        {
            CaseStore store;
            store.open(incPath);
            QCOMPARE(store.schemaVersion(), CaseStore::kSchemaVersion);
            ImportJob job(store);
            job.importOrgCharts({r.orgChart});
            job.importLogs(first);
            const CaseDetectionReport a = CaseDetection::run(store);
            QVERIFY(!a.incremental);
            QVERIFY(a.flagged > 0);
            // Nothing new: up to date.
            const CaseDetectionReport same = CaseDetection::run(store);
            QVERIFY(same.upToDate);
            QCOMPARE(same.flagged, a.flagged);
            job.importLogs(second);
            const CaseDetectionReport b = CaseDetection::run(store);
            QVERIFY(b.incremental);
            QVERIFY(b.processed < b.messages);
        }
        {
            CaseStore store;
            store.open(fullPath);
            ImportJob job(store);
            job.importOrgCharts({r.orgChart});
            job.importLogs(first);
            job.importLogs(second);
            const CaseDetectionReport f = CaseDetection::run(store);
            QVERIFY(!f.incremental);
            // A second full run replaces the results: same rows, not twice as many.
            const std::int64_t hits = store.db().scalar("SELECT count(*) FROM hits");
            const CaseDetectionReport again = CaseDetection::run(store, false);
            QCOMPARE(again.flagged, f.flagged);
            QCOMPARE(store.db().scalar("SELECT count(*) FROM hits"), hits);
            QCOMPARE(store.db().scalar("SELECT count(*) FROM campaign_messages"), f.flagged);
        }
        // The incremental case holds what a full run finds: the same flagged messages, the same
        // campaign, detected at the same moment.
        CaseReader inc(incPath), full(fullPath);
        auto flaggedIds = [](CaseReader& rd) {
            QSet<QString> out;
            QVector<qint64> ids;
            for (const FlagView& f : rd.flaggedMessages()) ids << f.messageId;
            for (const MessageView& m : rd.messages(ids)) out.insert(m.messageId);
            return out;
        };
        QCOMPARE(flaggedIds(inc), flaggedIds(full));
        const auto ci = inc.campaigns(), cf = full.campaigns();
        QCOMPARE(ci.size(), cf.size());
        QCOMPARE(ci.front().detectedAt, cf.front().detectedAt);
        QCOMPARE(ci.front().patientZero, cf.front().patientZero);
        QCOMPARE(ci.front().generations, cf.front().generations);
        QCOMPARE(ci.front().units, cf.front().units);
        // Evidence is there for each flagged message.
        const QVector<FlagView> flags = full.flaggedMessages(cf.front().id);
        QVERIFY(!flags.isEmpty());
        for (const FlagView& f : flags) QVERIFY(!f.rules.isEmpty());
        const QVector<HitView> hits = full.hits(flags.back().messageId);
        QVERIFY(!hits.isEmpty());
        QVERIFY(!full.propagationEdges(cf.front().id).isEmpty());
        QVERIFY(!full.ruleSetJson().isEmpty());
        QVERIFY(full.hasDetection());
    }
    void migratesVersionOneCases() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("v1.mtcase"));
        {
            CaseStore s;
            s.open(path);
            // Back to what schema 1 had.
            s.db().exec("DROP TABLE propagation_edges; DROP TABLE campaign_units; DROP TABLE campaign_messages; "
                        "DROP TABLE campaigns; DROP TABLE hits; DROP TABLE detection_runs; DROP TABLE rulesets; "
                        "PRAGMA user_version = 1");
        }
        {
            CaseReader rd(path);
            QVERIFY(rd.isOpen());
            QVERIFY(!rd.hasDetection());
            QVERIFY(rd.campaigns().isEmpty());
        }
        CaseStore s;
        s.open(path);
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('hits', 'campaigns', 'rulesets')"), 3);
        const CaseDetectionReport rep = CaseDetection::run(s);
        QCOMPARE(rep.messages, 0);
        QCOMPARE(rep.flagged, 0);
    }

    // ------------------------------------------------------------ the command line
    void commandLine() {
        if (!QFileInfo::exists(QStringLiteral(MT_CLI_PATH))) QSKIP("mailtriage-cli not built");
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("sim")), c = tmp.filePath(QStringLiteral("c.mtcase"));
        QCOMPARE(cli({"simulate", "--out", dir, "--users", "120", "--hours", "3", "--worm", "polymorphic", "--open-prob", "0.3",
                      "--seed", "9", "--servers", "2"}).code, 0);
        QCOMPARE(cli({"import", "--case", c, "--org", dir + "/org.csv", dir + "/mail1.log", dir + "/mail2.log"}).code, 0);
        const CliResult d = cli({"detect", "--case", c, "--json"});
        QCOMPARE(d.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(d.out).object();
        QVERIFY(o.value("messages").toInt() > 0);
        QVERIFY(o.value("flagged").toInt() > 0);
        const QJsonArray campaigns = o.value("campaigns").toArray();
        QCOMPARE(campaigns.size(), 1);
        const QJsonObject c1 = campaigns.first().toObject();
        for (const char* k : {"id", "label", "messages", "senders", "recipients", "patient_zero", "first_seen", "detected_at", "units"})
            QVERIFY2(c1.contains(QLatin1String(k)), k);
        QCOMPARE(c1.value("messages").toInt(), o.value("flagged").toInt());
        sim::Truth truth;
        QVERIFY(sim::readTruth(dir + "/truth.json", truth));
        QCOMPARE(c1.value("patient_zero").toString(), truth.patientZero);
        QVERIFY(c1.value("units").toArray().size() > 0);
        // Flagged messages, TSV and JSONL.
        const CliResult tsv = cli({"messages", "--case", c, "--flagged"});
        QCOMPARE(tsv.code, 0);
        const QList<QByteArray> lines = tsv.out.trimmed().split('\n');
        QCOMPARE(lines.size() - 1, o.value("flagged").toInt());
        QVERIFY(lines.first().endsWith("\trules\tcampaign"));
        QVERIFY(lines.at(1).contains("type"));
        const CliResult jl = cli({"messages", "--case", c, "--flagged", "--campaign", "1", "--format", "jsonl"});
        QCOMPARE(jl.code, 0);
        const QJsonObject m1 = QJsonDocument::fromJson(jl.out.split('\n').first()).object();
        QCOMPARE(m1.value("campaign").toInt(), 1);
        QVERIFY(m1.value("rules").toArray().contains(QJsonValue("type")));
        QVERIFY(truth.wormMessageIds.contains(m1.value("message_id").toString()));
        // The rule set: export, change, import, detect again (the change applies).
        const QString rulesFile = tmp.filePath(QStringLiteral("rules.json"));
        QCOMPARE(cli({"rules", "--case", c, "--export", rulesFile}).code, 0);
        RuleSet rs;
        QVERIFY(RuleSet::fromJson(readAll(rulesFile), rs));
        rs.type.weightDangerous = 0;
        rs.burst.enabled = false;
        rs.propagation.enabled = false;
        QFile f(rulesFile);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(rs.toJsonBytes());
        f.close();
        QCOMPARE(cli({"rules", "--case", c, "--import", rulesFile}).code, 0);
        QVERIFY(cli({"rules", "--case", c}).out.contains("\"weight_dangerous\": 0"));
        const QJsonObject o2 = QJsonDocument::fromJson(cli({"detect", "--case", c, "--json"}).out).object();
        QVERIFY(o2.value("flagged").toInt() < o.value("flagged").toInt());
        QVERIFY(!o2.value("incremental").toBool());
        // Bad input.
        QCOMPARE(cli({"detect"}).code, 2);
        QCOMPARE(cli({"detect", "--case", tmp.filePath("none.mtcase")}).code, 1);
        QFile bad(tmp.filePath("bad.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"rate\":[{\"key\":\"galaxy\"}]}");
        bad.close();
        const CliResult br = cli({"detect", "--case", c, "--rules", bad.fileName()});
        QCOMPARE(br.code, 1);
        QVERIFY(br.err.contains("galaxy"));
    }
};

QTEST_GUILESS_MAIN(TestDetection)
#include "tst_detection.moc"
