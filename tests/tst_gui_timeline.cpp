// Issue 5: the timeline and the campaign panel over the demo case (imported and detected by
// the CLI here), checked against independent SQL counts on the case file; the shared
// AnalysisSelection written by dragging on the chart and clicking the tree, and followed when
// set elsewhere; the empty states (no case, empty case, no detection, no campaign).
// With MT_SCREENSHOT_DIR set, the views are also saved there as PNGs (and with
// MT_SCREENSHOT_CASE, the views of that case too, as timeline-extra.png and campaign-extra.png).
#include "model/AnalysisSelection.h"
#include "model/CaseStore.h"
#include "model/timeline/CampaignTree.h"
#include "model/timeline/TimelineData.h"
#include "views/campaign/CampaignPanel.h"
#include "views/campaign/CampaignTableModel.h"
#include "views/campaign/CampaignTreeModel.h"
#include "views/timeline/TimelineView.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>
#include <QTreeView>
#include "support/CaseSql.h"
#include <QUuid>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <map>

using namespace mt;

namespace {

using Sql = mt::test::CaseSql;

// Sum of a step series' counts: each flat segment covers (x1 - x0) / step buckets.
qint64 stepSeriesSum(const QLineSeries* s, qint64 step) {
    qint64 sum = 0;
    const QList<QPointF> pts = s->points();
    for (int i = 0; i + 1 < pts.size(); i += 2) sum += qint64(pts[i].y()) * qint64((pts[i + 1].x() - pts[i].x()) / double(step) + 0.5);
    return sum;
}

} // namespace

class TimelineTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_demo, m_noDetect, m_empty, m_noCampaign;
    qint64 m_campaign = 0;   // the demo's campaign id

    QString resources() const { return QDir(QStringLiteral(MT_TEST_DATA "/../../resources")).absolutePath(); }
    QString shotDir() const { return qEnvironmentVariable("MT_SCREENSHOT_DIR"); }

    bool runCli(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(MT_CLI_PATH), args);
        if (!p.waitForFinished(300000)) return false;
        if (p.exitCode() != 0) qWarning() << "cli" << args << p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFileInfo::exists(QStringLiteral(MT_CLI_PATH)), "build mailtriage-cli first");
        const QString demo = resources() + QStringLiteral("/demo");
        QStringList logs;
        for (const QFileInfo& f : QDir(demo).entryInfoList({QStringLiteral("*.log.gz")}, QDir::Files, QDir::Name)) logs << f.absoluteFilePath();
        QVERIFY2(!logs.isEmpty(), qPrintable(demo));

        m_demo = m_dir.filePath(QStringLiteral("demo.mtcase"));
        QVERIFY(runCli(QStringList{QStringLiteral("import"), QStringLiteral("--case"), m_demo, QStringLiteral("--org"), demo + QStringLiteral("/org.csv")} + logs));
        m_noDetect = m_dir.filePath(QStringLiteral("nodetect.mtcase"));
        QVERIFY(QFile::copy(m_demo, m_noDetect));
        QVERIFY(runCli({QStringLiteral("detect"), QStringLiteral("--case"), m_demo}));

        // Detection ran, on an hour of a small organisation's mail without a worm.
        const QString clean = m_dir.filePath(QStringLiteral("clean"));
        QVERIFY(runCli({QStringLiteral("simulate"), QStringLiteral("--out"), clean, QStringLiteral("--users"), QStringLiteral("40"),
                        QStringLiteral("--hours"), QStringLiteral("1"), QStringLiteral("--worm"), QStringLiteral("none"),
                        QStringLiteral("--seed"), QStringLiteral("3")}));
        QStringList cleanLogs;
        for (const QFileInfo& f : QDir(clean).entryInfoList({QStringLiteral("mail*.log")}, QDir::Files, QDir::Name)) cleanLogs << f.absoluteFilePath();
        m_noCampaign = m_dir.filePath(QStringLiteral("nocampaign.mtcase"));
        QVERIFY(runCli(QStringList{QStringLiteral("import"), QStringLiteral("--case"), m_noCampaign, QStringLiteral("--org"),
                                   clean + QStringLiteral("/org.csv")} + cleanLogs));
        QVERIFY(runCli({QStringLiteral("detect"), QStringLiteral("--case"), m_noCampaign}));

        m_empty = m_dir.filePath(QStringLiteral("empty.mtcase"));
        {
            CaseStore store;
            store.open(m_empty, true);
        }
        Sql sql(m_demo);
        m_campaign = sql.scalar(QStringLiteral("SELECT id FROM campaigns ORDER BY messages DESC LIMIT 1"));
        QVERIFY(m_campaign > 0);
        QCOMPARE(sql.scalar(QStringLiteral("SELECT count(*) FROM campaigns WHERE id = %1").arg(m_campaign)), 1);
    }

    // ---- data layer ----

    void bucketStep() {
        const qint64 min = 60'000;
        QCOMPARE(chooseBucketMs(0, 3000), min);
        QCOMPARE(chooseBucketMs(2999 * min, 3000), min);           // 3000 buckets
        QCOMPARE(chooseBucketMs(3000 * min, 3000), 5 * min);       // 3001 would be too many
        QCOMPARE(chooseBucketMs(5 * 2999 * min, 3000), 5 * min);
        QCOMPARE(chooseBucketMs(5 * 3000 * min, 3000), 15 * min);
        QCOMPARE(chooseBucketMs(40LL * 24 * 60 * min, 3000), 30 * min);     // 40 days: 1920 buckets
        QCOMPARE(chooseBucketMs(365LL * 24 * 60 * min, 3000), 3 * 60 * min); // a year: 2920 buckets
        const qint64 week = 7LL * 24 * 60 * min;
        QVERIFY(chooseBucketMs(3000 * 10 * week, 3000) > week);
        QVERIFY((3000 * 10 * week) / chooseBucketMs(3000 * 10 * week, 3000) + 1 <= 3000);
    }

    void bucketsMatchSql() {
        const TimelineData d = loadTimeline(m_demo);
        QVERIFY2(d.ok, qPrintable(d.error));
        QVERIFY(d.hasDetection);
        QCOMPARE(d.bucketMs, qint64(60'000));
        QCOMPARE(d.bucketLabel(), QStringLiteral("per minute"));
        Sql sql(m_demo);
        const qint64 total = sql.scalar(QStringLiteral("SELECT count(*) FROM messages"));
        QCOMPARE(total, qint64(4252));
        QCOMPARE(d.totalMessages, total);
        qint64 sumAll = 0, sumFlagged = 0;
        for (int v : d.all) sumAll += v;
        for (int v : d.flagged) sumFlagged += v;
        QCOMPARE(sumAll, total);
        const qint64 flagged = sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages"));
        QCOMPARE(flagged, qint64(280));
        QCOMPARE(sumFlagged, flagged);
        QCOMPARE(d.totalFlagged, flagged);
        // Bucket by bucket against SQL's own grouping.
        const auto perMinute = sql.pairs(QStringLiteral("SELECT time / 60000, count(*) FROM messages GROUP BY 1"));
        const auto flaggedPerMinute = sql.pairs(QStringLiteral(
            "SELECT m.time / 60000, count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id GROUP BY 1"));
        QCOMPARE(d.start % 60'000, qint64(0));
        QCOMPARE(d.start, sql.scalar(QStringLiteral("SELECT min(time) / 60000 * 60000 FROM messages")));
        QCOMPARE(d.bucketCount(), int(perMinute.rbegin()->first - perMinute.begin()->first + 1));
        for (int b = 0; b < d.bucketCount(); ++b) {
            const qint64 minute = d.bucketStart(b) / 60'000;
            const auto a = perMinute.find(minute);
            QCOMPARE(qint64(d.all[b]), a == perMinute.end() ? 0 : a->second);
            const auto f = flaggedPerMinute.find(minute);
            QCOMPARE(qint64(d.flagged[b]), f == flaggedPerMinute.end() ? 0 : f->second);
        }
    }

    void campaignSeries() {
        const TimelineData d = loadTimeline(m_demo);
        Sql sql(m_demo);
        QCOMPARE(qint64(d.campaigns.size()), sql.scalar(QStringLiteral("SELECT count(*) FROM campaigns")));
        for (const TimelineCampaign& c : d.campaigns) {
            qint64 sum = 0;
            for (int v : c.flagged) sum += v;
            QCOMPARE(sum, sql.scalar(QStringLiteral("SELECT messages FROM campaigns WHERE id = %1").arg(c.id)));
            QCOMPARE(sum, sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages WHERE campaign_id = %1").arg(c.id)));
            QCOMPARE(c.detectedAt, sql.scalar(QStringLiteral("SELECT detected_at FROM campaigns WHERE id = %1").arg(c.id)));
            QCOMPARE(c.firstSeen, sql.scalar(QStringLiteral("SELECT first_seen FROM campaigns WHERE id = %1").arg(c.id)));
            // The first flagged bucket holds the first sighting.
            int first = 0;
            while (first < c.flagged.size() && c.flagged[first] == 0) ++first;
            QCOMPARE(first, d.bucketOf(c.firstSeen));
        }
        // Campaign filter: only that campaign; an unknown one leaves no flagged mail.
        const TimelineData one = loadTimeline(m_demo, {m_campaign, 3000});
        QCOMPARE(one.campaigns.size(), 1);
        QCOMPARE(one.campaigns[0].id, m_campaign);
        QCOMPARE(one.totalFlagged, sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages WHERE campaign_id = %1").arg(m_campaign)));
        QCOMPARE(one.totalMessages, d.totalMessages);
        const TimelineData none = loadTimeline(m_demo, {987654, 3000});
        QVERIFY(none.ok);
        QCOMPARE(none.totalFlagged, qint64(0));
        QVERIFY(none.campaigns.isEmpty());
    }

    void coarserBuckets() {
        // The demo spans 6 hours: capped at 60 buckets it goes to 15 minutes.
        const TimelineData d = loadTimeline(m_demo, {0, 60});
        QCOMPARE(d.bucketMs, qint64(15 * 60'000));
        QCOMPARE(d.bucketLabel(), QStringLiteral("per 15 minutes"));
        QVERIFY(d.bucketCount() <= 60);
        QCOMPARE(d.start % d.bucketMs, qint64(0));
        Sql sql(m_demo);
        const auto per15 = sql.pairs(QStringLiteral("SELECT time / 900000, count(*) FROM messages GROUP BY 1"));
        qint64 sum = 0;
        for (int b = 0; b < d.bucketCount(); ++b) {
            const auto it = per15.find(d.bucketStart(b) / 900'000);
            QCOMPARE(qint64(d.all[b]), it == per15.end() ? 0 : it->second);
            sum += d.all[b];
        }
        QCOMPARE(sum, d.totalMessages);
    }

    void campaignTreeMatchesStore() {
        const CampaignTree t = loadCampaignTree(m_demo, m_campaign);
        QVERIFY2(t.ok, qPrintable(t.error));
        Sql sql(m_demo);
        QCOMPARE(qint64(t.nodes.size()), sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages WHERE campaign_id = %1").arg(m_campaign)));
        QCOMPARE(qint64(t.edgeCount), sql.scalar(QStringLiteral("SELECT count(*) FROM propagation_edges WHERE campaign_id = %1").arg(m_campaign)));
        const auto perGeneration = sql.pairs(QStringLiteral("SELECT generation, count(*) FROM campaign_messages WHERE campaign_id = %1 GROUP BY 1").arg(m_campaign));
        QCOMPARE(qint64(t.generations.size()), perGeneration.rbegin()->first + 1);
        QCOMPARE(qint64(t.generations.size()), sql.scalar(QStringLiteral("SELECT generations FROM campaigns WHERE id = %1").arg(m_campaign)));
        for (const auto& [g, n] : perGeneration) QCOMPARE(qint64(t.generations[int(g)].size()), n);
        const auto generationOf = sql.pairs(QStringLiteral("SELECT message_id, generation FROM campaign_messages WHERE campaign_id = %1").arg(m_campaign));
        const auto parentOf = sql.pairs(QStringLiteral("SELECT message_id, coalesce(parent_message_id, 0) FROM campaign_messages WHERE campaign_id = %1").arg(m_campaign));
        const auto recipientsOf = sql.pairs(QStringLiteral(
            "SELECT c.message_id, count(DISTINCT d.recipient) FROM copies c JOIN deliveries d ON d.copy_id = c.id "
            "JOIN campaign_messages cm ON cm.message_id = c.message_id WHERE d.is_final = 1 AND cm.campaign_id = %1 GROUP BY 1").arg(m_campaign));
        int reached = 0;
        for (const CampaignNode& n : t.nodes) {
            QCOMPARE(qint64(n.generation), generationOf.at(n.messageId));
            QCOMPARE(n.parentMessageId, parentOf.at(n.messageId));
            QCOMPARE(qint64(n.recipients), recipientsOf.count(n.messageId) ? recipientsOf.at(n.messageId) : 0);
            if (n.parent >= 0) {
                QCOMPARE(t.nodes[n.parent].messageId, n.parentMessageId);
                QCOMPARE(t.nodes[n.parent].generation, n.generation - 1);   // a BFS tree
            }
            ++reached;
        }
        QCOMPARE(reached, int(t.nodes.size()));
        // Patient zero: its message is a root, every root is generation 0 and patient zero's.
        const QString pz = t.campaign.patientZero;
        QVERIFY(!pz.isEmpty());
        const int pzIndex = t.indexOf(t.campaign.patientZeroMessage);
        QVERIFY(pzIndex >= 0);
        QVERIFY(t.roots.contains(pzIndex));
        for (int r : t.roots) {
            QCOMPARE(t.nodes[r].generation, 0);
            QCOMPARE(t.nodes[r].sender, pz);
        }
        QCOMPARE(t.campaign.units.size(), int(sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_units WHERE campaign_id = %1").arg(m_campaign))));
        // Unknown campaign: ok and empty.
        const CampaignTree none = loadCampaignTree(m_demo, 987654);
        QVERIFY(none.ok);
        QVERIFY(none.isEmpty());
        QCOMPARE(none.campaign.id, qint64(0));
    }

    // ---- timeline view ----

    void timelineSeriesAndMarker() {
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.resize(1200, 700);
        view.setCasePath(m_demo);
        view.loadNow();
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const TimelineData& d = view.data();
        QVERIFY(view.note().isEmpty());
        QCOMPARE(stepSeriesSum(view.allSeries(), d.bucketMs), d.totalMessages);
        QVERIFY(view.flaggedSeries());
        QCOMPARE(stepSeriesSum(view.flaggedSeries(), d.bucketMs), d.totalFlagged);
        for (const TimelineCampaign& c : d.campaigns) {
            QAreaSeries* area = view.campaignSeries(c.id);
            QVERIFY(area);
            const qint64 below = area->lowerSeries() ? stepSeriesSum(area->lowerSeries(), d.bucketMs) : 0;
            QCOMPARE(stepSeriesSum(area->upperSeries(), d.bucketMs) - below, qint64(c.messages));
        }
        // One "detected" marker per detected campaign, at its detected_at, inside the plot.
        Sql sql(m_demo);
        const qint64 detectedAt = sql.scalar(QStringLiteral("SELECT detected_at FROM campaigns WHERE id = %1").arg(m_campaign));
        bool found = false;
        for (const TimelineView::Marker& m : view.markers()) {
            if (m.campaignId != m_campaign) continue;
            found = true;
            QCOMPARE(m.time, detectedAt);
            QVERIFY(m.label.startsWith(QStringLiteral("detected")));
        }
        QVERIFY(found);
        const QRectF plot = view.plotRectInViewport();
        QVERIFY(plot.width() > 500);
        const qreal x = view.viewportXForTime(detectedAt);
        QVERIFY(x > plot.left() && x < plot.right());
        QVERIFY(std::abs(view.timeAtViewportX(x) - detectedAt) < d.bucketMs);
        // The axis runs over the whole case, its ticks on round minutes.
        const qint64 axisMin = view.timeAxis()->min().toMSecsSinceEpoch(), axisMax = view.timeAxis()->max().toMSecsSinceEpoch();
        QVERIFY(axisMin <= d.start && axisMax >= d.end());
        const qint64 tick = (axisMax - axisMin) / (view.timeAxis()->tickCount() - 1);
        QCOMPARE((axisMax - axisMin) % (view.timeAxis()->tickCount() - 1), qint64(0));
        QCOMPARE(tick % 60'000, qint64(0));
        QCOMPARE(view.timeAxis()->min().time().second(), 0);
        QVERIFY(d.start - axisMin < tick && axisMax - d.end() < tick);
        QVERIFY(view.timeAxis()->tickCount() >= 4 && view.timeAxis()->tickCount() <= 14);
        QVERIFY(view.timeAxis()->titleText().startsWith(QStringLiteral("Local time")));
        QCOMPARE(view.countAxis()->titleText(), QStringLiteral("Messages per minute"));
    }

    void countAxisTicksAreWhole() {
        // Counts are integers: every tick of the count axis must be one, on any case.
        for (const QString& path : {m_demo, m_noCampaign, m_noDetect}) {
            AnalysisSelection sel;
            TimelineView view(&sel);
            view.setCasePath(path);
            view.loadNow();
            const QValueAxis* y = view.countAxis();
            QCOMPARE(y->min(), 0.0);
            const double step = y->max() / (y->tickCount() - 1);
            QCOMPARE(step, std::round(step));
            QVERIFY(y->tickCount() >= 3 && y->tickCount() <= 11);
            int peak = 0;
            for (int v : view.data().all) peak = std::max(peak, v);
            QVERIFY(y->max() >= peak);
        }
    }

    void timelineSeveralCampaigns() {
        // Data handed in by the owner: two campaigns over two hours, detected 20 min apart.
        TimelineData d;
        d.ok = true;
        d.hasDetection = true;
        d.bucketMs = 60'000;
        d.start = 1'795'507'200'000LL;   // a whole hour
        const int n = 120;
        d.all.fill(0, n);
        d.flagged.fill(0, n);
        TimelineCampaign a, b;
        a.id = 3; a.label = QStringLiteral("invoice.pdf.exe"); a.flagged.fill(0, n);
        b.id = 7; b.label = QStringLiteral("Melissa macro document"); b.flagged.fill(0, n);
        for (int i = 0; i < n; ++i) {
            d.all[i] = 20 + (i * 7) % 11;
            if (i >= 30 && i % 3 == 0) a.flagged[i] = 4 + i % 5;
            if (i >= 50 && i % 4 == 1) b.flagged[i] = 2 + i % 3;
            d.all[i] += a.flagged[i] + b.flagged[i];
            d.flagged[i] = a.flagged[i] + b.flagged[i];
            a.messages += a.flagged[i];
            b.messages += b.flagged[i];
            d.totalMessages += d.all[i];
        }
        d.totalFlagged = a.messages + b.messages;
        a.firstSeen = d.bucketStart(30); a.detectedAt = d.bucketStart(33) + 12'000;
        b.firstSeen = d.bucketStart(50); b.detectedAt = d.bucketStart(53) + 40'000;
        d.campaigns = {a, b};
        d.firstMessage = d.start;
        d.lastMessage = d.end() - 1;

        AnalysisSelection sel;
        TimelineView view(&sel);
        view.resize(1000, 600);
        view.setData(d);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        for (const TimelineCampaign& c : d.campaigns) {
            QAreaSeries* area = view.campaignSeries(c.id);
            QVERIFY(area);
            const qint64 below = area->lowerSeries() ? stepSeriesSum(area->lowerSeries(), d.bucketMs) : 0;
            QCOMPARE(stepSeriesSum(area->upperSeries(), d.bucketMs) - below, qint64(c.messages));
        }
        // Stacked: the top of the last campaign is the flagged total.
        QCOMPARE(stepSeriesSum(view.campaignSeries(7)->upperSeries(), d.bucketMs), d.totalFlagged);
        QCOMPARE(view.markers().size(), 2);
        QCOMPARE(view.markers()[0].label, QStringLiteral("campaign 3 detected 10:33:12").replace(QStringLiteral("10:"), QDateTime::fromMSecsSinceEpoch(a.detectedAt).toString(QStringLiteral("HH:"))));
        QCOMPARE(view.markers()[1].campaignId, qint64(7));
        QCOMPARE(view.markers()[1].time, b.detectedAt);
        // Distinct colours from the Okabe-Ito palette.
        QVERIFY(view.campaignSeries(3)->brush().color().rgb() != view.campaignSeries(7)->brush().color().rgb());
        QCOMPARE(QColor(view.campaignSeries(3)->brush().color().rgb()), TimelineView::campaignColor(0));
        // Selecting campaign 7 elsewhere brings it forward and fades the other.
        sel.setCampaign(7);
        QVERIFY(view.campaignSeries(7)->brush().color().alphaF() > view.campaignSeries(3)->brush().color().alphaF());
        if (!shotDir().isEmpty()) QVERIFY(view.grab().save(shotDir() + QStringLiteral("/timeline-two-campaigns.png")));
    }

    void timelineRangeSelection() {
        AnalysisSelection sel;
        QSignalSpy changed(&sel, &AnalysisSelection::changed);
        TimelineView view(&sel);
        view.resize(1200, 700);
        view.setCasePath(m_demo);
        view.loadNow();
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const TimelineData& d = view.data();
        const QRectF plot = view.plotRectInViewport();
        const QPoint p0(int(plot.left() + plot.width() * 0.30), int(plot.center().y()));
        const QPoint p1(int(plot.left() + plot.width() * 0.55), int(plot.center().y()));
        const qint64 t0 = view.timeAtViewportX(p0.x()), t1 = view.timeAtViewportX(p1.x());
        QTest::mousePress(view.viewport(), Qt::LeftButton, {}, p0);
        QTest::mouseMove(view.viewport(), QPoint((p0.x() + p1.x()) / 2, p0.y()));
        QTest::mouseMove(view.viewport(), p1);
        QTest::mouseRelease(view.viewport(), Qt::LeftButton, {}, p1);
        QVERIFY(sel.hasTimeRange());
        QCOMPARE(changed.size(), 1);
        // Snapped outward to whole buckets.
        const qint64 from = d.start + (t0 - d.start) / d.bucketMs * d.bucketMs;
        const qint64 to = d.start + (t1 - d.start + d.bucketMs - 1) / d.bucketMs * d.bucketMs;
        QCOMPARE(sel.timeFrom(), from);
        QCOMPARE(sel.timeTo(), to);
        QCOMPARE((sel.timeFrom() - d.start) % d.bucketMs, qint64(0));
        QCOMPARE((sel.timeTo() - d.start) % d.bucketMs, qint64(0));
        QVERIFY(sel.timeFrom() <= t0 && t0 < sel.timeFrom() + d.bucketMs);
        QVERIFY(sel.timeTo() - d.bucketMs < t1 && t1 <= sel.timeTo());
        // A click (no drag) changes nothing; Esc clears; a double-click clears.
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, p0);
        QCOMPARE(sel.timeFrom(), from);
        QTest::keyClick(&view, Qt::Key_Escape);
        QVERIFY(!sel.hasTimeRange());
        sel.setTimeRange(from, to);
        QTest::mouseDClick(view.viewport(), Qt::LeftButton, {}, p1);
        QVERIFY(!sel.hasTimeRange());
        // Dragging right to left selects the same range.
        QTest::mousePress(view.viewport(), Qt::LeftButton, {}, p1);
        QTest::mouseMove(view.viewport(), p0);
        QTest::mouseRelease(view.viewport(), Qt::LeftButton, {}, p0);
        QCOMPARE(sel.timeFrom(), from);
        QCOMPARE(sel.timeTo(), to);
        // Zoom: the wheel narrows the axis, Home restores it.
        const qint64 span = view.timeAxis()->max().toMSecsSinceEpoch() - view.timeAxis()->min().toMSecsSinceEpoch();
        QWheelEvent wheel(QPointF(plot.center()), view.viewport()->mapToGlobal(plot.center()), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QApplication::sendEvent(view.viewport(), &wheel);
        const qint64 zoomed = view.timeAxis()->max().toMSecsSinceEpoch() - view.timeAxis()->min().toMSecsSinceEpoch();
        QVERIFY(zoomed < span);
        QTest::keyClick(&view, Qt::Key_Home);
        QCOMPARE(view.timeAxis()->max().toMSecsSinceEpoch() - view.timeAxis()->min().toMSecsSinceEpoch(), span);
        // The playback cursor.
        view.setTimeCursor(d.start + 90 * 60'000);
        QCOMPARE(view.timeCursor(), d.start + 90 * 60'000);
        // Hovering a bucket tells its counts.
        const qint64 detectedAt = d.campaigns.first().detectedAt;
        const int b = d.bucketOf(detectedAt);
        const QPoint hover(int(view.viewportXForTime(d.bucketStart(b) + d.bucketMs / 2)), int(plot.center().y()));
        QTest::mouseMove(view.viewport(), hover);
        QTRY_VERIFY(QToolTip::isVisible());
        const QString tip = QToolTip::text();
        QVERIFY2(tip.contains(QStringLiteral("All mail: %1").arg(d.all[b])), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Flagged: %1").arg(d.flagged[b])), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("detected at")), qPrintable(tip));
    }

    void timelineAsyncReload() {
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.setCasePath(m_demo);
        QSignalSpy loaded(&view, &TimelineView::loaded);
        view.reload();
        view.reload();   // the first result is superseded and dropped
        QVERIFY(loaded.wait(20000));
        QTest::qWait(50);
        QCOMPARE(loaded.size(), 1);
        QVERIFY(!view.isLoading());
        QCOMPARE(view.data().totalMessages, qint64(4252));
        QCOMPARE(view.data().totalFlagged, qint64(280));
        // A filter on a campaign the case does not have: all mail, nothing flagged.
        view.setCampaignFilter(987654);
        view.reload();
        QVERIFY(loaded.wait(20000));
        QCOMPARE(view.data().totalMessages, qint64(4252));
        QCOMPARE(view.data().totalFlagged, qint64(0));
        QCOMPARE(view.note(), QStringLiteral("Campaign 987654 is not in this case"));
    }

    // ---- campaign panel ----

    void panelTree() {
        AnalysisSelection sel;
        sel.setCampaign(m_campaign);
        CampaignPanel panel(&sel);
        panel.resize(1200, 800);
        panel.setCasePath(m_demo);
        panel.loadNow();
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.note().isEmpty());
        QCOMPARE(panel.shownCampaign(), m_campaign);
        Sql sql(m_demo);
        QCOMPARE(qint64(panel.campaignModel()->rowCount()), sql.scalar(QStringLiteral("SELECT count(*) FROM campaigns")));
        QCOMPARE(panel.campaignTable()->currentIndex().data(CampaignTableModel::CampaignIdRole).toLongLong(), m_campaign);

        // By parent: every node once, patient zero's messages at the top.
        CampaignTreeModel* model = panel.treeModel();
        QCOMPARE(model->shape(), CampaignTreeModel::ByParent);
        const qint64 nodes = sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages WHERE campaign_id = %1").arg(m_campaign));
        const qint64 pzMessage = sql.scalar(QStringLiteral("SELECT patient_zero_message_id FROM campaigns WHERE id = %1").arg(m_campaign));
        int count = 0;
        bool pzIsRoot = false;
        std::function<void(const QModelIndex&, int)> walk = [&](const QModelIndex& parent, int depth) {
            for (int r = 0; r < model->rowCount(parent); ++r) {
                const QModelIndex i = model->index(r, 0, parent);
                QCOMPARE(model->parent(i), parent);
                ++count;
                const qint64 id = model->messageIdAt(i);
                if (depth == 0 && id == pzMessage) pzIsRoot = true;
                QCOMPARE(i.data(CampaignTreeModel::GenerationRole).toInt(),
                         int(sql.scalar(QStringLiteral("SELECT generation FROM campaign_messages WHERE message_id = %1").arg(id))));
                if (depth == 0) QCOMPARE(i.data(CampaignTreeModel::GenerationRole).toInt(), 0);
                walk(i, depth + 1);
            }
        };
        walk({}, 0);
        QCOMPARE(qint64(count), nodes);
        QVERIFY(pzIsRoot);

        // By generation: one row per stored generation with its messages.
        panel.shapeBox()->setCurrentIndex(1);
        QCOMPARE(model->shape(), CampaignTreeModel::ByGeneration);
        const auto perGeneration = sql.pairs(QStringLiteral("SELECT generation, count(*) FROM campaign_messages WHERE campaign_id = %1 GROUP BY 1").arg(m_campaign));
        QCOMPARE(qint64(model->rowCount()), perGeneration.rbegin()->first + 1);
        qint64 total = 0;
        for (int g = 0; g < model->rowCount(); ++g) {
            const QModelIndex gi = model->index(g, 0);
            QVERIFY(gi.data(CampaignTreeModel::IsGenerationRole).toBool());
            QCOMPARE(qint64(model->rowCount(gi)), perGeneration.count(g) ? perGeneration.at(g) : 0);
            for (int r = 0; r < model->rowCount(gi); ++r) QCOMPARE(model->index(r, 0, gi).data(CampaignTreeModel::GenerationRole).toInt(), g);
            total += model->rowCount(gi);
        }
        QCOMPARE(total, nodes);

        // Summary: patient zero, units reached.
        const QString details = panel.detailsText();
        const CampaignView* c = panel.campaignModel()->campaign(m_campaign);
        QVERIFY(c);
        QVERIFY2(details.contains(QStringLiteral("Patient zero: ") + c->patientZero), qPrintable(details));
        QVERIFY(details.contains(QStringLiteral("Detected ")));
        QCOMPARE(panel.unitsReached(), c->units);
        QCOMPARE(qint64(panel.unitsReached().size()), sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_units WHERE campaign_id = %1").arg(m_campaign)));
    }

    void panelWritesSelection() {
        AnalysisSelection sel;
        CampaignPanel panel(&sel);
        panel.resize(1200, 800);
        panel.setCasePath(m_demo);
        panel.loadNow();
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.shownCampaign(), qint64(0));
        // Clicking the campaign's row sets the campaign; its tree follows.
        QSignalSpy tree(&panel, &CampaignPanel::treeLoaded);
        QTableView* table = panel.campaignTable();
        const QModelIndex row = table->model()->index(0, CampaignTableModel::Label);
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(row).center());
        QCOMPARE(sel.campaignId(), row.data(CampaignTableModel::CampaignIdRole).toLongLong());
        QVERIFY(tree.wait(10000));
        QCOMPARE(panel.shownCampaign(), sel.campaignId());

        // Clicking a generation-2 node sets the message.
        const CampaignTree& t = panel.tree();
        QVERIFY(t.generations.size() > 2);
        const CampaignNode& node = t.nodes[t.generations[2].first()];
        const QModelIndex index = panel.treeModel()->indexOfMessage(node.messageId);
        QVERIFY(index.isValid());
        QTreeView* view = panel.treeView();
        for (QModelIndex p = index.parent(); p.isValid(); p = p.parent()) view->expand(p);
        view->scrollTo(index);
        QApplication::processEvents();
        const QRect r = view->visualRect(index.siblingAtColumn(CampaignTreeModel::Time));
        QVERIFY(r.isValid());
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, r.center());
        QCOMPARE(sel.messageId(), node.messageId);
    }

    void panelFollowsSelection() {
        AnalysisSelection sel;
        CampaignPanel panel(&sel);
        panel.resize(1200, 800);
        panel.setCasePath(m_demo);
        QSignalSpy loaded(&panel, &CampaignPanel::loaded);
        panel.reload();
        QVERIFY(loaded.wait(10000));
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.shownCampaign(), qint64(0));

        QSignalSpy tree(&panel, &CampaignPanel::treeLoaded);
        sel.setCampaign(m_campaign);   // elsewhere: the campaign list of another view
        QVERIFY(tree.wait(10000));
        QCOMPARE(panel.shownCampaign(), m_campaign);
        QCOMPARE(panel.campaignTable()->currentIndex().data(CampaignTableModel::CampaignIdRole).toLongLong(), m_campaign);

        // A message of the campaign selected elsewhere: its node is selected (and its
        // parents expanded); a message outside it: nothing is.
        const CampaignTree& t = panel.tree();
        const CampaignNode& deep = t.nodes[t.generations.last().last()];
        sel.setMessage(deep.messageId);
        QTreeView* view = panel.treeView();
        QCOMPARE(panel.treeModel()->messageIdAt(view->currentIndex()), deep.messageId);
        QVERIFY(view->selectionModel()->isSelected(view->currentIndex()));
        for (QModelIndex p = view->currentIndex().parent(); p.isValid(); p = p.parent()) QVERIFY(view->isExpanded(p));
        Sql sql(m_demo);
        const qint64 clean = sql.scalar(QStringLiteral("SELECT min(id) FROM messages WHERE id NOT IN (SELECT message_id FROM campaign_messages)"));
        sel.setMessage(clean);
        QVERIFY(!view->selectionModel()->hasSelection());
        QCOMPARE(sel.messageId(), clean);   // the panel does not write back

        // Campaign cleared elsewhere: nothing shown.
        sel.setCampaign(0);
        QCOMPARE(panel.shownCampaign(), qint64(0));
        QVERIFY(!panel.campaignTable()->selectionModel()->hasSelection());
        QCOMPARE(panel.treeModel()->rowCount(), 0);
    }

    // ---- empty states ----

    void noCase() {
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.loadNow();
        QCOMPARE(view.note(), QStringLiteral("No case open"));
        QVERIFY(!view.allSeries());
        CampaignPanel panel(&sel);
        panel.loadNow();
        QCOMPARE(panel.note(), QStringLiteral("No case open"));
        // A path that is not there says so.
        view.setCasePath(m_dir.filePath(QStringLiteral("missing.mtcase")));
        view.loadNow();
        QVERIFY(view.note().contains(QStringLiteral("no such case file")));
        QString error;
        QVERIFY(!renderTimelineScreenshot(m_dir.filePath(QStringLiteral("missing.mtcase")), m_dir.filePath(QStringLiteral("x.png")), {800, 600}, &error));
        QVERIFY(error.contains(QStringLiteral("no such case file")));
    }

    void emptyCase() {
        const TimelineData d = loadTimeline(m_empty);
        QVERIFY2(d.ok, qPrintable(d.error));
        QVERIFY(d.isEmpty());
        QCOMPARE(d.totalMessages, qint64(0));
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.setCasePath(m_empty);
        view.loadNow();
        QVERIFY(view.note().startsWith(QStringLiteral("No messages")));
        QVERIFY(!view.allSeries());
        CampaignPanel panel(&sel);
        panel.setCasePath(m_empty);
        panel.loadNow();
        QVERIFY(panel.note().startsWith(QStringLiteral("Detection has not run")));
        QCOMPARE(panel.campaignModel()->rowCount(), 0);
    }

    void caseWithoutDetection() {
        const TimelineData d = loadTimeline(m_noDetect);
        QVERIFY(d.ok);
        QVERIFY(!d.hasDetection);
        QCOMPARE(d.totalMessages, qint64(4252));
        QCOMPARE(d.totalFlagged, qint64(0));
        QVERIFY(d.campaigns.isEmpty());
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.resize(1000, 600);
        view.setCasePath(m_noDetect);
        view.loadNow();
        QVERIFY(view.allSeries());
        QVERIFY(!view.flaggedSeries());
        QVERIFY(view.markers().isEmpty());
        QCOMPARE(view.note(), QStringLiteral("Detection has not run on this case: all mail only"));
        QCOMPARE(stepSeriesSum(view.allSeries(), d.bucketMs), qint64(4252));
        CampaignPanel panel(&sel);
        panel.setCasePath(m_noDetect);
        panel.loadNow();
        QVERIFY(panel.note().startsWith(QStringLiteral("Detection has not run")));
        QVERIFY(loadCampaignTree(m_noDetect, 1).isEmpty());
    }

    void caseWithoutCampaigns() {
        const TimelineData d = loadTimeline(m_noCampaign);
        QVERIFY(d.ok);
        QVERIFY(d.hasDetection);
        QVERIFY(d.totalMessages > 0);
        QVERIFY(d.campaigns.isEmpty());
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.setCasePath(m_noCampaign);
        view.loadNow();
        QCOMPARE(view.note(), QStringLiteral("Detection found no campaign"));
        QVERIFY(view.flaggedSeries());
        CampaignPanel panel(&sel);
        panel.setCasePath(m_noCampaign);
        panel.loadNow();
        QCOMPARE(panel.note(), QStringLiteral("Detection found no campaign in this case"));
    }

    // ---- screenshot hooks ----

    void screenshots() {
        const QString out = shotDir().isEmpty() ? m_dir.path() : shotDir();
        QDir().mkpath(out);
        struct Shot { QString name, casePath; };
        QList<Shot> shots{{QStringLiteral("demo"), m_demo}, {QStringLiteral("nodetect"), m_noDetect},
                          {QStringLiteral("empty"), m_empty}, {QStringLiteral("nocampaign"), m_noCampaign}};
        if (!qEnvironmentVariable("MT_SCREENSHOT_CASE").isEmpty()) shots.append({QStringLiteral("extra"), qEnvironmentVariable("MT_SCREENSHOT_CASE")});
        for (const Shot& s : shots) {
            QString error;
            const QString tl = out + QStringLiteral("/timeline-%1.png").arg(s.name);
            QVERIFY2(renderTimelineScreenshot(s.casePath, tl, QSize(1400, 900), &error), qPrintable(error));
            const QImage a(tl);
            QVERIFY(!a.isNull());
            QCOMPARE(a.size() / a.devicePixelRatio(), QSize(1400, 900) * (a.width() / 1400));
            const QString cp = out + QStringLiteral("/campaign-%1.png").arg(s.name);
            QVERIFY(!renderCampaignScreenshot(s.casePath + QStringLiteral(".missing"), cp, QSize(1400, 900), &error));
            QVERIFY2(renderCampaignScreenshot(s.casePath, cp, QSize(1400, 900), &error), qPrintable(error));
            QVERIFY(!QImage(cp).isNull());
        }
        // The demo with what the analyst would have selected: a range, a campaign, the cursor.
        AnalysisSelection sel;
        TimelineView view(&sel);
        view.resize(1400, 900);
        view.setCasePath(m_demo);
        view.loadNow();
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const TimelineData& d = view.data();
        sel.setCampaign(m_campaign);
        sel.setTimeRange(d.start + 70 * 60'000, d.start + 130 * 60'000);
        view.setTimeCursor(d.start + 100 * 60'000 + 17'000);
        QVERIFY(view.grab().save(out + QStringLiteral("/timeline-selection.png")));
    }
};

QTEST_MAIN(TimelineTest)
#include "tst_gui_timeline.moc"
