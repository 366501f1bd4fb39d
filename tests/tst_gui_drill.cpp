// Drills in the GUI (issue 3): File > New drill… runs the simulator, creates the case and
// imports into it on a worker thread; Drill > Show truth… reveals the answer and narrows the
// message table to the worm's messages; a cancel keeps nothing. Runs offscreen.
//
// With MT_SCREENSHOT_DIR set, the window and the truth dialog are also saved there as PNGs
// (drill-window.png, drill-truth-dialog.png and drill-truth.png, the two together).
#include "app/gui/Drill.h"
#include "app/gui/DrillDialog.h"
#include "app/gui/MainWindow.h"
#include "app/gui/TruthDialog.h"
#include "model/CaseReader.h"
#include "model/MessageTableModel.h"
#include "model/simulator/Simulator.h"

#include <QAction>
#include <QApplication>
#include <QDialogButtonBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>

#include <memory>

using namespace mt;
using namespace mt::gui;

namespace {

constexpr int kDrillTimeoutMs = 5 * 60 * 1000;

DrillRequest smallDrill(const QString& casePath, sim::Worm worm = sim::Worm::IloveYou, std::uint64_t seed = 4242) {
    DrillRequest r;
    r.casePath = casePath;
    r.options.outDir = drillLogsDir(casePath);
    r.options.users = 60;
    r.options.servers = 2;
    r.options.hours = 2;
    r.options.seed = seed;
    r.options.worm = worm;
    r.options.openProbability = 0.3;
    return r;
}

// Runs a drill in the window and waits for it: the drillFinished arguments.
bool runDrillIn(MainWindow& w, const DrillRequest& r, bool* ok, bool* cancelled) {
    QSignalSpy spy(&w, &MainWindow::drillFinished);
    if (!w.startDrill(r)) {
        qWarning("startDrill: %s", qPrintable(w.lastError()));
        return false;
    }
    if (!w.isDrillRunning()) return false;
    if (spy.isEmpty() && !spy.wait(kDrillTimeoutMs)) return false;
    *ok = spy.first().at(0).toBool();
    *cancelled = spy.first().at(1).toBool();
    return true;
}

bool noCaseFilesLeft(const QString& casePath) {
    for (const QString& p : {casePath, casePath + ".part", casePath + ".part-wal", casePath + ".part-shm",
                             casePath + ".part-journal", casePath + "-wal", drillTruthPath(casePath)})
        if (QFileInfo::exists(p)) {
            qWarning("left behind: %s", qPrintable(p));
            return false;
        }
    return true;
}

} // namespace

class TestGuiDrill : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<MainWindow> m_window; // the drill's window, shared by the tests that follow the drill
    QString m_casePath;
    sim::Truth m_truth;

    QString shotDir() const { return qEnvironmentVariable("MT_SCREENSHOT_DIR"); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // QSettings and AppDataLocation go to a throw-away place
        QVERIFY(m_tmp.isValid());
    }

    void dialogDefaults() {
        DrillDialog dlg;
        QCOMPARE(dlg.usersSpin()->value(), 300);
        QCOMPARE(dlg.usersSpin()->minimum(), 50);
        QCOMPARE(dlg.usersSpin()->maximum(), 5000);
        QCOMPARE(dlg.serversSpin()->value(), 4);
        QCOMPARE(dlg.serversSpin()->maximum(), 8);
        QCOMPARE(dlg.hoursSpin()->value(), 8);
        QCOMPARE(dlg.hoursSpin()->maximum(), 24);
        QCOMPARE(dlg.openProbabilitySpin()->value(), 0.2);
        QCOMPARE(dlg.wormCombo()->count(), 6); // every worm the simulator has, and none
        QVERIFY(dlg.wormCombo()->findData(int(sim::Worm::Disguised)) >= 0);
        QVERIFY(dlg.wormCombo()->findData(int(sim::Worm::Link)) >= 0);

        // A random seed, shown; the default case goes under AppDataLocation/drills, the logs beside it.
        const DrillRequest r = dlg.request();
        QVERIFY(r.options.seed > 0);
        QCOMPARE(dlg.seedEdit()->text(), QString::number(r.options.seed));
        QCOMPARE(r.options.worm, sim::Worm::IloveYou);
        const QString drills = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/drills";
        QCOMPARE(r.casePath, QStringLiteral("%1/drill-iloveyou-%2.mtcase").arg(drills).arg(r.options.seed));
        QCOMPARE(r.options.outDir, QStringLiteral("%1/drill-iloveyou-%2-logs").arg(drills).arg(r.options.seed));
        QVERIFY(dlg.problem().isEmpty());

        // Worm and seed name the default case; a path the user typed stays.
        dlg.wormCombo()->setCurrentIndex(dlg.wormCombo()->findText("Melissa", Qt::MatchStartsWith));
        dlg.seedEdit()->setText("77");
        QCOMPARE(dlg.request().options.worm, sim::Worm::Melissa);
        QCOMPARE(dlg.request().options.seed, std::uint64_t(77));
        QCOMPARE(dlg.request().casePath, drills + "/drill-melissa-77.mtcase");
        const QString mine = m_tmp.filePath("mine.mtcase");
        QTest::keyClicks(dlg.casePathEdit(), "x"); // typed: the path is the user's from now on
        dlg.casePathEdit()->setText(mine);
        dlg.seedEdit()->setText("78");
        QCOMPARE(dlg.request().casePath, mine);
        QCOMPARE(dlg.request().options.outDir, m_tmp.filePath("mine-logs"));

        // An existing case is refused (never overwritten).
        QFile f(mine);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        dlg.casePathEdit()->setText(mine + " "); // re-validate
        QVERIFY(!dlg.problem().isEmpty());
        QFile::remove(mine);
        dlg.seedEdit()->setText("abc");
        QVERIFY(!dlg.problem().isEmpty());
    }

    void drillOpensCaseWithTruthHidden() {
        m_window = std::make_unique<MainWindow>();
        MainWindow& w = *m_window;
        w.setInteractive(false);
        w.setPersistSettings(false);
        w.resize(1280, 800);
        w.show();
        QVERIFY(!w.showTruthAction()->isEnabled());

        m_casePath = m_tmp.filePath("drills/drill-iloveyou-4242.mtcase");
        const DrillRequest r = smallDrill(m_casePath);
        // The progress bar and Cancel of the import show while the drill runs.
        QSignalSpy started(&w, &MainWindow::drillStarted);
        bool ok = false, cancelled = false;
        QSignalSpy finished(&w, &MainWindow::drillFinished);
        QVERIFY(w.startDrill(r));
        QCOMPARE(started.count(), 1);
        QVERIFY(w.isImporting());
        QVERIFY(!w.newDrillAction()->isEnabled());
        QVERIFY(w.findChild<QProgressBar*>()->isVisibleTo(&w));
        QVERIFY(!w.startDrill(smallDrill(m_tmp.filePath("second.mtcase")))); // one at a time
        QVERIFY(finished.wait(kDrillTimeoutMs));
        ok = finished.first().at(0).toBool();
        cancelled = finished.first().at(1).toBool();
        QVERIFY2(ok, qPrintable(w.lastError()));
        QVERIFY(!cancelled);
        QVERIFY(!w.isImporting());
        QVERIFY(!w.findChild<QProgressBar*>()->isVisibleTo(&w));

        // The case is open, with what the simulator says it generated.
        QVERIFY(w.hasCase());
        QCOMPARE(w.casePath(), QFileInfo(m_casePath).absoluteFilePath());
        QVERIFY(QFileInfo::exists(r.options.outDir + "/org.csv"));
        QVERIFY(QFileInfo::exists(r.options.outDir + "/truth.json"));
        QString error;
        QVERIFY2(sim::readTruth(r.options.outDir + "/truth.json", m_truth, &error), qPrintable(error));
        QCOMPARE(m_truth.worm, sim::Worm::IloveYou);
        QCOMPARE(m_truth.seed, std::uint64_t(4242));
        const DrillOutcome& outcome = w.lastDrillOutcome();
        QCOMPARE(outcome.simulation.messages, m_truth.messages);
        QCOMPARE(outcome.simulation.logFiles.size(), 2);
        {
            CaseReader reader(w.casePath());
            QVERIFY(reader.isOpen());
            const CaseCounts c = reader.counts();
            QCOMPARE(c.messages, m_truth.messages);
            QVERIFY(c.users >= 60); // the org chart went in too
        }
        QVERIFY(w.messageModel()->waitForIdle(60000));
        QCOMPARE(qint64(w.messageModel()->rowCount()), m_truth.messages);
        QVERIFY(!w.showsEmptyState());

        // The truth stays hidden: no dialog, a title and a status message that say "Drill".
        QVERIFY(w.isDrillCase());
        QVERIFY(w.windowTitle().startsWith("Drill"));
        QVERIFY2(w.statusBar()->currentMessage().contains("hidden"), qPrintable(w.statusBar()->currentMessage()));
        QVERIFY(w.findChild<QLabel*>("drillIndicator")->text().contains("hidden"));
        QVERIFY(w.truthDialog() == nullptr);
        QVERIFY(w.showTruthAction()->isEnabled());
        QVERIFY(w.newDrillAction()->isEnabled());
        QCOMPARE(w.newDrillAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
        // The truth is a sidecar, a copy of truth.json, not in the case file; nothing half-made is left.
        QVERIFY(QFileInfo::exists(drillTruthPath(m_casePath)));
        QFile a(drillTruthPath(m_casePath)), b(r.options.outDir + "/truth.json");
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(a.readAll(), b.readAll());
        QVERIFY(!QFileInfo::exists(m_casePath + ".part"));

        // An existing case is never overwritten by a drill.
        QVERIFY(!w.startDrill(smallDrill(m_casePath)));
        QVERIFY(w.lastError().contains("already exists"));
    }

    void truthDialogListsTheAnswer() {
        if (!m_window) QSKIP("runs on the window of drillOpensCaseWithTruthHidden");
        MainWindow& w = *m_window;
        QVERIFY(w.isDrillCase());
        QSignalSpy shown(&w, &MainWindow::truthShown);
        w.showTruthAction()->trigger();
        QVERIFY(shown.count() == 1 || shown.wait(30000));
        TruthDialog* dlg = w.truthDialog();
        QVERIFY(dlg);
        QVERIFY(dlg->isVisible());
        QVERIFY(w.findChild<QLabel*>("drillIndicator")->text().contains("revealed"));
        QVERIFY(!w.statusBar()->currentMessage().contains("hidden"));

        QVERIFY(!m_truth.patientZero.isEmpty());
        QVERIFY(dlg->summaryLabel()->text().contains(m_truth.patientZero));
        QVERIFY(dlg->summaryLabel()->text().contains("ILOVEYOU"));
        QTableWidget* chain = dlg->chainTable();
        QCOMPARE(chain->rowCount(), int(m_truth.infected.size()));
        QCOMPARE(chain->item(0, 1)->text(), m_truth.patientZero);
        QVERIFY(chain->item(0, 3)->text().contains("patient zero"));
        for (int i = 1; i < chain->rowCount(); ++i) {
            QCOMPARE(chain->item(i, 1)->text(), m_truth.infected[i].user);
            QCOMPARE(chain->item(i, 3)->text(), m_truth.infected[i].infectedBy);
            QVERIFY(!chain->item(i, 4)->text().isEmpty());
        }
        QCOMPARE(dlg->negativesTable()->rowCount(), int(m_truth.hardNegatives.size()));
        for (int i = 0; i < m_truth.hardNegatives.size(); ++i)
            QCOMPARE(dlg->negativesTable()->item(i, 1)->data(Qt::DisplayRole).toLongLong(),
                     qint64(m_truth.hardNegatives[i].messageIds.size()));

        // Showing it again raises the same dialog.
        w.showTruth();
        QCOMPARE(w.truthDialog(), dlg);
    }

    void wormMessagesFilter() {
        if (!m_window) QSKIP("runs on the window of drillOpensCaseWithTruthHidden");
        MainWindow& w = *m_window;
        TruthDialog* dlg = w.truthDialog();
        QVERIFY(dlg);
        QVERIFY(!m_truth.wormMessageIds.isEmpty());
        QVERIFY(dlg->showWormButton()->isEnabled());
        QTest::mouseClick(dlg->showWormButton(), Qt::LeftButton);
        QVERIFY(w.showsOnlySomeMessages());
        QVERIFY(w.messageModel()->waitForIdle(60000));

        // Exactly the worm's messages are left.
        QSet<QString> expected;
        for (const QString& id : m_truth.wormMessageIds) expected.insert(TruthDialog::bareMessageId(id));
        MessageTableModel* model = w.messageModel();
        QCOMPARE(model->rowCount(), int(expected.size()));
        QSet<QString> seen;
        for (int row = 0; row < model->rowCount(); ++row) {
            const MessageView* m = model->messageAt(row);
            QVERIFY(m);
            QVERIFY2(expected.contains(m->messageId), qPrintable(m->messageId));
            seen.insert(m->messageId);
        }
        QCOMPARE(seen, expected);
        QVERIFY(w.findChild<QWidget*>("idFilterBar")->isVisibleTo(&w));

        // The text filter narrows within them; "Show all" lifts the id filter.
        const QString pz = m_truth.patientZero;
        w.filterEdit()->setText(pz);
        QTest::keyClick(w.filterEdit(), Qt::Key_Return);
        QVERIFY(model->waitForIdle(60000));
        QVERIFY(model->rowCount() > 0);
        QVERIFY(model->rowCount() <= int(expected.size()));
        for (int row = 0; row < model->rowCount(); ++row) QVERIFY(expected.contains(model->messageAt(row)->messageId));
        w.filterEdit()->clear();
        QTest::keyClick(w.filterEdit(), Qt::Key_Return);
        QVERIFY(model->waitForIdle(60000));
        QCOMPARE(model->rowCount(), int(expected.size()));

        QTest::mouseClick(w.findChild<QToolButton*>("showAllMessages"), Qt::LeftButton);
        QVERIFY(model->waitForIdle(60000));
        QVERIFY(!w.showsOnlySomeMessages());
        QCOMPARE(qint64(model->rowCount()), m_truth.messages);
        QVERIFY(!w.findChild<QWidget*>("idFilterBar")->isVisibleTo(&w));

        // A double-click on a link of the chain shows the message that infected that user.
        QVERIFY(m_truth.infected.size() >= 2);
        QTableWidget* chain = dlg->chainTable();
        const QString via = TruthDialog::bareMessageId(m_truth.infected[1].viaMessageId);
        QVERIFY(!via.isEmpty());
        emit chain->cellDoubleClicked(1, 0);
        QVERIFY(model->waitForIdle(60000));
        QCOMPARE(model->rowCount(), 1);
        QCOMPARE(model->messageAt(0)->messageId, via);
        QVERIFY(expected.contains(via));

        // Back on, for the screenshot.
        QTest::mouseClick(dlg->showWormButton(), Qt::LeftButton);
        QVERIFY(model->waitForIdle(60000));
        QCOMPARE(model->rowCount(), int(expected.size()));
    }

    void screenshots() {
        if (!m_window) QSKIP("runs on the window of drillOpensCaseWithTruthHidden");
        MainWindow& w = *m_window;
        TruthDialog* dlg = w.truthDialog();
        QVERIFY(dlg);
        if (w.messageModel()->rowCount() > 0) w.selectMessage(w.messageModel()->messageIdAt(0));
        for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
        const QPixmap window = w.grab();
        const QPixmap truth = dlg->grab();
        QVERIFY(!window.isNull());
        QVERIFY(!truth.isNull());

        // The two together, the dialog over the window as it opens there.
        QPixmap both(window.size());
        both.fill(Qt::white);
        {
            QPainter p(&both);
            p.drawPixmap(0, 0, window);
            p.fillRect(both.rect(), QColor(0, 0, 0, 60));
            const QPoint at((window.width() - truth.width()) / 2, (window.height() - truth.height()) / 2);
            p.fillRect(QRect(at + QPoint(6, 6), truth.size()), QColor(0, 0, 0, 70));
            p.drawPixmap(at, truth);
            p.setPen(QColor(90, 90, 90));
            p.drawRect(QRect(at - QPoint(1, 1), truth.size() + QSize(1, 1)));
        }
        QString dir = shotDir();
        if (dir.isEmpty()) dir = m_tmp.filePath("shots");
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(window.save(dir + "/drill-window.png"));
        QVERIFY(truth.save(dir + "/drill-truth-dialog.png"));
        QVERIFY(both.save(dir + "/drill-truth.png"));

        DrillDialog drill;
        drill.seedEdit()->setText("4242");
        drill.show();
        QCoreApplication::processEvents();
        QVERIFY(drill.grab().save(dir + "/drill-dialog.png"));
    }

    void otherCasesAreNoDrills() {
        if (!m_window) QSKIP("runs on the window of drillOpensCaseWithTruthHidden");
        MainWindow& w = *m_window;
        QVERIFY(w.openCase(m_tmp.filePath("plain.mtcase"), true));
        QVERIFY(!w.isDrillCase());
        QVERIFY(!w.showTruthAction()->isEnabled());
        QVERIFY(!w.windowTitle().contains("Drill"));
        QVERIFY(w.truthDialog() == nullptr);
        QVERIFY(!w.showsOnlySomeMessages());
        // Reopening the drill: a drill again, the truth hidden again until asked for.
        QVERIFY(w.openCase(m_casePath));
        QVERIFY(w.isDrillCase());
        QVERIFY(w.showTruthAction()->isEnabled());
        QVERIFY(w.windowTitle().startsWith("Drill"));
        QVERIFY(w.findChild<QLabel*>("drillIndicator")->text().contains("hidden"));
        m_window.reset();
    }

    // Every worm (and none): the case holds what the simulator generated, and the truth's worm
    // messages are exactly what the filter leaves.
    void everyWorm_data() {
        QTest::addColumn<int>("worm");
        QTest::addColumn<int>("users");
        QTest::addColumn<int>("servers");
        QTest::addColumn<int>("hours");
        QTest::newRow("melissa") << int(sim::Worm::Melissa) << 60 << 2 << 2;
        QTest::newRow("polymorphic") << int(sim::Worm::Polymorphic) << 60 << 2 << 2;
        QTest::newRow("none") << int(sim::Worm::None) << 60 << 2 << 2;
        QTest::newRow("iloveyou-default-size") << int(sim::Worm::IloveYou) << 300 << 4 << 8;
    }
    void everyWorm() {
        QFETCH(int, worm);
        QFETCH(int, users);
        QFETCH(int, servers);
        QFETCH(int, hours);
        MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        const QString casePath = m_tmp.filePath(QStringLiteral("worms/%1.mtcase").arg(QTest::currentDataTag()));
        DrillRequest r = smallDrill(casePath, sim::Worm(worm), 7);
        r.options.users = users;
        r.options.servers = servers;
        r.options.hours = hours;
        r.options.openProbability = 0.2;
        bool ok = false, cancelled = false;
        QVERIFY(runDrillIn(w, r, &ok, &cancelled));
        QVERIFY2(ok, qPrintable(w.lastError()));
        sim::Truth truth;
        QVERIFY(sim::readTruth(drillTruthPath(casePath), truth));
        QCOMPARE(int(truth.worm), worm);
        QVERIFY(w.messageModel()->waitForIdle(60000));
        QCOMPARE(qint64(w.messageModel()->rowCount()), truth.messages);

        QSignalSpy shown(&w, &MainWindow::truthShown);
        w.showTruth();
        QVERIFY(shown.count() == 1 || shown.wait(30000));
        TruthDialog* dlg = w.truthDialog();
        QVERIFY(dlg);
        if (sim::Worm(worm) == sim::Worm::None) {
            QVERIFY(truth.wormMessageIds.isEmpty());
            QVERIFY(!dlg->showWormButton()->isEnabled());
            QVERIFY(dlg->summaryLabel()->text().contains("No worm"));
            return;
        }
        QCOMPARE(dlg->chainTable()->item(0, 1)->text(), truth.patientZero);
        QTest::mouseClick(dlg->showWormButton(), Qt::LeftButton);
        QVERIFY(w.messageModel()->waitForIdle(60000));
        QCOMPARE(w.messageModel()->rowCount(), int(dlg->wormMessageIds().size()));
        QCOMPARE(dlg->wormMessageIds().size(), truth.wormMessageIds.size()); // no duplicates
    }

    // File > New drill…: the dialog, filled in and run as a user would.
    void menuRunsTheDrill() {
        MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        const QString casePath = m_tmp.filePath("menu/drill.mtcase");
        bool sawDialog = false;
        QTimer::singleShot(0, &w, [&] {
            auto* dlg = qobject_cast<DrillDialog*>(QApplication::activeModalWidget());
            if (!dlg) return;
            sawDialog = true;
            dlg->usersSpin()->setValue(60);
            dlg->serversSpin()->setValue(2);
            dlg->hoursSpin()->setValue(2);
            dlg->seedEdit()->setText("11");
            QTest::keyClicks(dlg->casePathEdit(), "x");
            dlg->casePathEdit()->setText(casePath);
            QTest::mouseClick(dlg->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok), Qt::LeftButton);
        });
        QSignalSpy finished(&w, &MainWindow::drillFinished);
        w.newDrillAction()->trigger(); // runs the dialog; returns once the drill has started
        QVERIFY(sawDialog);
        QVERIFY(w.isDrillRunning() || !finished.isEmpty());
        QVERIFY(!finished.isEmpty() || finished.wait(kDrillTimeoutMs));
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(w.lastError()));
        QCOMPARE(w.casePath(), casePath);
        QCOMPARE(w.lastDrillOutcome().simulation.logFiles.size(), 2);
        QVERIFY(QFileInfo::exists(m_tmp.filePath("menu/drill-logs/truth.json")));
    }

    void cancelDuringSimulation() { cancelIn(DrillPhase::Simulate); }
    void cancelDuringImport() { cancelIn(DrillPhase::Import); }

    void cancelRightAway() {
        MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        const QString casePath = m_tmp.filePath("cancel-now/drill.mtcase");
        QSignalSpy finished(&w, &MainWindow::drillFinished);
        QVERIFY(w.startDrill(smallDrill(casePath)));
        w.cancelImport();
        QVERIFY(finished.wait(kDrillTimeoutMs));
        QVERIFY(!finished.first().at(0).toBool());
        QVERIFY(finished.first().at(1).toBool());
        QVERIFY(!w.hasCase());
        QVERIFY(noCaseFilesLeft(casePath));
        QVERIFY(!QFileInfo::exists(drillLogsDir(casePath)));
    }

private:
    // Cancels from inside the worker's progress report of that phase (blocking until the window
    // has taken the cancel), so the cancel lands in the phase whatever the machine's speed.
    void cancelIn(DrillPhase phase) {
        MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        const QString casePath = m_tmp.filePath(QStringLiteral("cancel-%1/drill.mtcase").arg(int(phase)));
        DrillRequest r = smallDrill(casePath, sim::Worm::Melissa, 99);
        r.options.users = 400; // more to do, so there is a middle to cancel in
        r.options.servers = 4;
        r.options.hours = 8;
        std::atomic_bool asked{false};
        connect(
            &w, &MainWindow::drillProgress, &w,
            [&w, &asked, phase](int p, int permille, const QString&) {
                if (p != int(phase) || asked || permille <= (phase == DrillPhase::Simulate ? 0 : 400)) return;
                asked = true;
                QMetaObject::invokeMethod(&w, &MainWindow::cancelImport, Qt::BlockingQueuedConnection);
            },
            Qt::DirectConnection);
        bool ok = true, cancelled = false;
        QVERIFY(runDrillIn(w, r, &ok, &cancelled));
        QVERIFY(asked);
        QVERIFY(!ok);
        QVERIFY(cancelled);
        QVERIFY(w.lastDrillOutcome().cancelled);
        QVERIFY(!w.hasCase());
        QVERIFY(w.showsEmptyState());
        QVERIFY(!w.isImporting());
        QVERIFY(!w.showTruthAction()->isEnabled());
        QVERIFY(noCaseFilesLeft(casePath));
        QVERIFY(!QFileInfo::exists(drillLogsDir(casePath))); // this run made it: gone
        QVERIFY(w.statusBar()->currentMessage().contains("cancelled"));
        // The window is usable again: a drill runs to the end after it.
        QVERIFY(w.newDrillAction()->isEnabled());
    }
};

QTEST_MAIN(TestGuiDrill)
#include "tst_gui_drill.moc"
