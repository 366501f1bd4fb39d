// Live monitoring from the window (issue 10): File > Follow logs' start with a syslog port,
// a simulated outbreak arriving over UDP, the list growing while the analyst's selected
// message and scroll position stay, the alert (banner, the notification text) with a recall
// plan that waits for approval, detection blocked in the window while live runs its own, and
// a clean stop. Figures checked against the case with SQL.
#include "app/gui/MainWindow.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/MessageTableModel.h"
#include "model/live/LiveIngest.h"
#include "model/simulator/Simulator.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "support/SyslogReplay.h"
#include <QUdpSocket>

#include "support/CaseSql.h"

#include <algorithm>

using namespace mt;
using mt::test::mergedLines;
using mt::test::toRfc5424;
using mt::test::sqlCount;

namespace {



} // namespace

class TestGuiLive : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void outbreakArrivesLive() {
        QTemporaryDir dir;
        const sim::SimulationResult r = sim::simulate(mt::test::smallOutbreak(dir.filePath(QStringLiteral("sim"))));
        QVERIFY2(r.ok, qPrintable(r.error));
        const std::vector<std::string> lines = mergedLines(r.logFiles);
        QVERIFY(lines.size() > 10000);
        const QString casePath = dir.filePath(QStringLiteral("live.mtcase"));
        {
            CaseStore s;
            s.open(casePath);
            ImportJob job(s);
            QVERIFY(!job.importOrgCharts({r.orgChart}).anyFailed());
        }

        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        w.resize(1200, 800);
        w.show();
        QVERIFY(w.openCase(casePath));
        live::LiveConfig c;
        c.syslog.bind = QHostAddress::LocalHost;
        c.syslog.udpPort = 0;
        c.flushIntervalMs = 200;
        QSignalSpy alerts(&w, &gui::MainWindow::liveAlert);
        QSignalSpy refreshed(&w, &gui::MainWindow::liveRefreshed);
        QVERIFY2(w.startLive(c), qPrintable(w.lastError()));
        QVERIFY(w.isLive());
        QVERIFY(!w.startLive(c)); // one session at a time
        QVERIFY(!w.runDetectionAction()->isEnabled()); // live detects by itself
        const quint16 port = static_cast<quint16>(w.liveIngest()->udpPort());
        QVERIFY(port > 0);

        QUdpSocket udp;
        auto send = [&](std::size_t from, std::size_t to) {
            for (std::size_t i = from; i < to; ++i) {
                udp.writeDatagram(toRfc5424(lines[i]), QHostAddress::LocalHost, port);
                if (i % 500 == 0) QTest::qWait(5);
            }
        };
        // The first third: the list fills; the analyst selects a message and scrolls.
        const std::size_t third = lines.size() / 3;
        send(0, third);
        QTRY_VERIFY_WITH_TIMEOUT(w.messageModel()->rowCount() > 200, 30000);
        QVERIFY(w.messageModel()->waitForIdle());
        const qint64 chosen = w.messageModel()->messageIdAt(150);
        QVERIFY(w.selectMessage(chosen));
        // The analyst scrolls a little further, the selected row still in view.
        w.messageTable()->verticalScrollBar()->setValue(w.messageTable()->verticalScrollBar()->value() + 3);
        const int scroll = w.messageTable()->verticalScrollBar()->value();
        QVERIFY(scroll > 3);
        // The rest, with the worm: the list grows, the selection and scroll position stay.
        refreshed.clear();
        send(third, lines.size());
        QTRY_VERIFY_WITH_TIMEOUT(alerts.size() >= 1, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(refreshed.size() >= 1, 10000);
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(w.selectedMessageId(), chosen);
        QCOMPARE(w.messageTable()->verticalScrollBar()->value(), scroll);

        // The alert: banner and its text; a plan waiting for a person, nothing approved.
        QVERIFY(w.liveAlertBar()->isVisible());
        QVERIFY2(w.lastAlert().startsWith("New campaign"), qPrintable(w.lastAlert()));
        QTRY_VERIFY_WITH_TIMEOUT(sqlCount(casePath, "SELECT count(*) FROM recall_requests WHERE state = 'proposed'") > 0, 20000);
        QCOMPARE(sqlCount(casePath, "SELECT count(*) FROM recall_requests WHERE approved_by IS NOT NULL"), 0);

        QDir().mkpath(QStringLiteral(MT_ARTEFACTS));
        w.grab().save(QStringLiteral(MT_ARTEFACTS "/live-alert.png"));
        w.stopLive();
        QVERIFY(!w.isLive());
        QVERIFY(w.runDetectionAction()->isEnabled());
        QCOMPARE(sqlCount(casePath, "SELECT clean FROM live_sessions ORDER BY id DESC LIMIT 1"), 1);
        QCOMPARE(alerts.size(), 1); // announced once
        // Everything sent is in the case, and the window says so after the stop.
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()), sqlCount(casePath, "SELECT count(*) FROM messages"));
    }
};

QTEST_MAIN(TestGuiLive)
#include "tst_gui_live.moc"
