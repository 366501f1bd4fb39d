// Detection in the GUI (issue 4): detection after an import and on demand on a worker thread,
// the campaign and rule filters of the message list, the evidence in the details pane, the
// rule editor (its table model and its fields) and re-running with edited rules. The bundled
// demo case is the known case: 280 worm messages in one campaign. Every expected figure is
// counted straight from the case file with SQL, not through the code under test.
#include "app/gui/MainWindow.h"
#include "model/AnalysisSelection.h"
#include "model/CaseReader.h"
#include "model/MessageTableModel.h"
#include "model/detection/RuleTableModel.h"
#include "views/MessageDetailsView.h"
#include "views/RuleSetEditor.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "support/CaseSql.h"
#include <QUuid>

using namespace mt;
using mt::test::sqlCount;
using namespace mt::det;

namespace {

QString demoDir() { return QStringLiteral(MT_TEST_DATA "/../../resources/demo"); }


} // namespace

class TestGuiDetection : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_case;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // QSettings go to a throw-away place
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFileInfo::exists(demoDir() + "/org.csv"), qPrintable(demoDir()));
        m_case = m_dir.filePath("demo.mtcase");
    }

    // Importing into the window detects right after (the default), off the GUI thread.
    void importThenDetect() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        w.setDetectAfterImport(true);
        QVERIFY(w.openCase(m_case, true));
        QVERIFY(!w.campaignFilterCombo()->isEnabled()); // nothing detected yet
        QStringList logs = QDir(demoDir()).entryList({"*.log.gz"}, QDir::Files, QDir::Name);
        for (QString& l : logs) l = demoDir() + "/" + l;
        QSignalSpy started(&w, &gui::MainWindow::detectionStarted);
        QSignalSpy finished(&w, &gui::MainWindow::detectionFinished);
        QVERIFY(w.startImport(logs, {demoDir() + "/org.csv"}));
        QVERIFY(finished.wait(120000));
        QCOMPARE(started.count(), 1);
        QCOMPARE(finished.first().first().toBool(), true);
        QVERIFY(!w.isDetecting());
        // While it ran, nothing else could write.
        const qint64 flagged = sqlCount(m_case, "SELECT count(*) FROM campaign_messages");
        QCOMPARE(flagged, 280);
        QCOMPARE(w.lastDetectionReport().flagged, flagged);
        QVERIFY(w.campaignFilterCombo()->isEnabled());
    }

    void campaignAndRuleFilters() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        QVERIFY(w.openCase(m_case));
        QVERIFY(w.messageModel()->waitForIdle());
        const qint64 all = sqlCount(m_case, "SELECT count(*) FROM messages");
        QCOMPARE(qint64(w.messageModel()->rowCount()), all);

        // Combo: any, flagged, then one entry per campaign.
        QComboBox* campaigns = w.campaignFilterCombo();
        const qint64 nCampaigns = sqlCount(m_case, "SELECT count(*) FROM campaigns");
        QCOMPARE(qint64(campaigns->count()), 2 + nCampaigns);
        QVERIFY(campaigns->itemText(1).contains("280"));

        w.setCampaignFilter(-1);
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()), sqlCount(m_case, "SELECT count(*) FROM campaign_messages"));
        const qint64 firstCampaign = sqlCount(m_case, "SELECT min(id) FROM campaigns");
        w.setCampaignFilter(firstCampaign);
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()),
                 sqlCount(m_case, QString("SELECT count(*) FROM campaign_messages WHERE campaign_id = %1").arg(firstCampaign)));
        // Every row shown carries its campaign in the Flagged column.
        for (int r = 0; r < w.messageModel()->rowCount(); r += 37)
            QVERIFY(w.messageModel()->index(r, MessageTableModel::Flag).data().toString().startsWith(
                QString("⚑ #%1").arg(firstCampaign)));

        // Rule filter, on top of the campaign filter, then alone.
        QComboBox* rules = w.ruleFilterCombo();
        QVERIFY(rules->findData(QString("type")) > 0);
        w.setRuleFilter("type");
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()),
                 sqlCount(m_case, QString("SELECT count(DISTINCT h.message_id) FROM hits h JOIN campaign_messages cm ON "
                                          "cm.message_id = h.message_id WHERE h.rule_id = 'type' AND cm.campaign_id = %1")
                                      .arg(firstCampaign)));
        w.setCampaignFilter(0);
        w.setRuleFilter("propagation");
        QVERIFY(w.messageModel()->waitForIdle());
        const qint64 propagation = sqlCount(m_case, "SELECT count(DISTINCT message_id) FROM hits WHERE rule_id = 'propagation'");
        QVERIFY(propagation > 0);
        QCOMPARE(qint64(w.messageModel()->rowCount()), propagation);
        // The status line says a part is shown.
        w.setRuleFilter(QString());
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()), all);
    }

    void evidenceInDetails() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        QVERIFY(w.openCase(m_case));
        QVERIFY(w.messageModel()->waitForIdle());
        const qint64 zero = sqlCount(m_case, "SELECT patient_zero_message_id FROM campaigns ORDER BY id LIMIT 1");
        QVERIFY(w.selectMessage(zero));
        const QString text = w.detailsView()->plainText();
        QVERIFY2(text.contains("Flagged: campaign #"), qPrintable(text));
        QVERIFY2(text.contains("generation 0"), qPrintable(text));
        // Every rule that hit it is listed with its key, counts and threshold.
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "evidence");
        db.setDatabaseName(m_case);
        QVERIFY(db.open());
        {
            QSqlQuery q(db);
            QVERIFY(q.exec(QString("SELECT rule_id, key, count, threshold FROM hits WHERE message_id = %1").arg(zero)));
            int n = 0;
            while (q.next()) {
                ++n;
                QVERIFY2(text.contains(q.value(0).toString() + "  " + q.value(1).toString()), qPrintable(text));
                if (q.value(3).toLongLong() > 0)
                    QVERIFY(text.contains(QString("%1 / %2").arg(q.value(2).toLongLong()).arg(q.value(3).toLongLong())));
            }
            QVERIFY(n > 0);
            // An unflagged message says so.
            QVERIFY(q.exec("SELECT min(id) FROM messages WHERE id NOT IN (SELECT message_id FROM campaign_messages)"));
            QVERIFY(q.next());
            QVERIFY(w.selectMessage(q.value(0).toLongLong()));
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase("evidence");
        QVERIFY(w.detailsView()->plainText().contains("Not flagged by detection."));
        QVERIFY(!w.detailsView()->plainText().contains("Flagged: campaign"));
    }

    // The editor's table: each rule's switch, window, threshold and weight reach the rule set.
    void ruleTableModel() {
        RuleTableModel m;
        const RuleSet d = RuleSet::defaults();
        QCOMPARE(m.rowCount(), int(d.rates.size() + d.volumes.size() + 8));
        const int row = m.rowOfRule("rate-sender-messages");
        QVERIFY(row >= 0);
        QVERIFY(m.setData(m.index(row, RuleTableModel::Threshold), 25));
        QVERIFY(m.setData(m.index(row, RuleTableModel::Window), "15m"));
        QVERIFY(m.setData(m.index(row, RuleTableModel::Weight), 1.25));
        QVERIFY(m.setData(m.index(row, RuleTableModel::Enabled), Qt::Unchecked, Qt::CheckStateRole));
        const RateRule& r = m.ruleSet().rates[0];
        QCOMPARE(r.id, std::string("rate-sender-messages"));
        QCOMPARE(r.threshold, 25);
        QCOMPARE(r.windowSec, 900);
        QCOMPARE(r.weight, 1.25);
        QVERIFY(!r.enabled);
        // Refused: a zero or negative threshold, a window that is not one, a rule without a window.
        QVERIFY(!m.setData(m.index(row, RuleTableModel::Threshold), 0));
        QVERIFY(!m.setData(m.index(row, RuleTableModel::Window), "soon"));
        QVERIFY(!m.setData(m.index(row, RuleTableModel::Window), "0"));
        QCOMPARE(m.ruleSet().rates[0].threshold, 25);
        const int typeRow = m.rowOfRule("type");
        QVERIFY(!(m.flags(m.index(typeRow, RuleTableModel::Window)) & Qt::ItemIsEditable));
        QVERIFY(!m.setData(m.index(typeRow, RuleTableModel::Window), "10m"));
        int s = 0;
        QVERIFY(RuleTableModel::parseWindow("2h", s) && s == 7200);
        QVERIFY(RuleTableModel::parseWindow("1 d", s) && s == 86400);
        QVERIFY(RuleTableModel::parseWindow("45", s) && s == 45);
        QVERIFY(!RuleTableModel::parseWindow("40d", s)); // beyond a month
        QCOMPARE(RuleTableModel::formatWindow(600), QString("10 min"));
        QCOMPARE(RuleTableModel::formatWindow(259200), QString("3 d"));
    }

    void ruleEditorFields() {
        RuleSetEditor e;
        const RuleSet d = RuleSet::defaults();
        e.setRuleSet(d);
        QVERIFY(!e.isModified());
        RuleSet out;
        QVERIFY(e.ruleSet(out));
        QCOMPARE(out.toJsonBytes(), d.toJsonBytes()); // loading and reading back changes nothing
        // Type lists: separators, dots, case and duplicates are forgiven.
        QTest::keyClicks(e.typeListEdit("executable"), ", .EXE, ,foo  foo");
        QVERIFY(e.isModified());
        QVERIFY(e.ruleSet(out));
        QCOMPARE(out.type.executable.back(), std::string("foo"));
        QCOMPARE(std::count(out.type.executable.begin(), out.type.executable.end(), std::string("exe")), 1);
        // A size band with its bounds the wrong way round is refused with a reason.
        QTableWidget* bands = e.sizeBandsTable();
        bands->item(0, 1)->setText("5000");
        bands->item(0, 2)->setText("100");
        QString error;
        QVERIFY(!e.ruleSet(out, &error));
        QVERIFY2(error.contains("Size band 1"), qPrintable(error));
    }

    // Edited rules are stored in the case and a full re-run uses them: with the type rule off,
    // no hit of that rule is left in the case.
    void rerunWithEditedRules() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        QVERIFY(w.openCase(m_case));
        QVERIFY(sqlCount(m_case, "SELECT count(*) FROM hits WHERE rule_id = 'type'") > 0);
        RuleSet rules = w.caseRuleSet();
        rules.type.enabled = false;
        QSignalSpy finished(&w, &gui::MainWindow::detectionFinished);
        QVERIFY(w.applyRuleSet(rules, true));
        QVERIFY(w.isDetecting());
        QVERIFY(!w.runDetection()); // one at a time
        QVERIFY(finished.wait(120000));
        QVERIFY(finished.first().first().toBool());
        QVERIFY(!w.lastDetectionReport().incremental);
        QCOMPARE(sqlCount(m_case, "SELECT count(*) FROM hits WHERE rule_id = 'type'"), 0);
        RuleSet stored;
        QVERIFY(RuleSet::fromJson(w.reader()->ruleSetJson(), stored));
        QVERIFY(!stored.type.enabled);
        QVERIFY(w.ruleFilterCombo()->findData(QString("type")) < 0);
        // Back to the defaults: the type hits return, and so do the 280.
        finished.clear();
        QVERIFY(w.applyRuleSet(RuleSet::defaults(), true));
        QVERIFY(finished.wait(120000));
        QVERIFY(sqlCount(m_case, "SELECT count(*) FROM hits WHERE rule_id = 'type'") > 0);
        QCOMPARE(sqlCount(m_case, "SELECT count(*) FROM campaign_messages"), 280);
        // A second run with nothing new is incremental and up to date.
        finished.clear();
        QVERIFY(w.runDetection(false));
        QVERIFY(finished.wait(120000));
        QVERIFY(w.lastDetectionReport().upToDate);
    }

    // The shared selection drives the list: a unit, a user, a time range and a campaign set by
    // another view restrict it; the message selected in the list goes to the selection.
    void selectionDrivesTheList() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        QVERIFY(w.openCase(m_case));
        QVERIFY(w.messageModel()->waitForIdle());
        AnalysisSelection* sel = w.selection();
        sel->setUser("jan.meier@corp.example");
        QVERIFY(w.messageModel()->waitForIdle());
        const qint64 janMessages = sqlCount(
            m_case, "SELECT count(*) FROM messages m WHERE lower(m.sender) = 'jan.meier@corp.example' OR m.id IN (SELECT "
                    "c.message_id FROM deliveries d JOIN copies c ON c.id = d.copy_id WHERE d.is_final = 1 AND "
                    "lower(d.recipient) = 'jan.meier@corp.example')");
        QCOMPARE(qint64(w.messageModel()->rowCount()), janMessages);
        QVERIFY(w.selectionText().contains("user jan.meier@corp.example"));
        const qint64 campaign = sqlCount(m_case, "SELECT min(id) FROM campaigns");
        sel->setCampaign(campaign);
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(w.campaignFilterCombo()->currentData().toLongLong(), campaign);
        QCOMPARE(qint64(w.messageModel()->rowCount()),
                 sqlCount(m_case, "SELECT count(*) FROM messages m JOIN campaign_messages cm ON cm.message_id = m.id WHERE "
                                  "lower(m.sender) = 'jan.meier@corp.example' OR m.id IN (SELECT c.message_id FROM deliveries d "
                                  "JOIN copies c ON c.id = d.copy_id WHERE d.is_final = 1 AND lower(d.recipient) = "
                                  "'jan.meier@corp.example') AND cm.message_id IS NOT NULL"));
        // Selecting a row publishes the message; a message selected elsewhere is selected here.
        w.selectMessage(w.messageModel()->messageIdAt(2));
        QCOMPARE(sel->messageId(), w.messageModel()->messageIdAt(2));
        sel->setMessage(w.messageModel()->messageIdAt(0));
        QCOMPARE(w.selectedMessageId(), w.messageModel()->messageIdAt(0));
        // Clearing the selection lists everything again.
        sel->clear();
        QVERIFY(w.messageModel()->waitForIdle());
        QCOMPARE(qint64(w.messageModel()->rowCount()), sqlCount(m_case, "SELECT count(*) FROM messages"));
        QVERIFY(w.selectionText().isEmpty());
        QCOMPARE(w.campaignFilterCombo()->currentData().toLongLong(), 0);
    }

    // File > Export report and Export data, without their dialogs.
    void exportsFromTheWindow() {
        gui::MainWindow w;
        w.setInteractive(false);
        w.setPersistSettings(false);
        QVERIFY(w.openCase(m_case));
        const QString pdf = m_dir.filePath("window-report.pdf");
        QVERIFY2(w.exportReport(pdf, 0, "Letter", "Dana"), qPrintable(w.lastError()));
        QVERIFY(QFileInfo(pdf).size() > 10000);
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.read(5) == "%PDF-");
        QVERIFY(!w.exportReport(m_dir.filePath("x.pdf"), 9999));
        QVERIFY(w.lastError().contains("no campaign #9999"));
        QVERIFY(!QFile::exists(m_dir.filePath("x.pdf")));
    }

    // The scope of the message list (what the views select): unit, user, time range.
    void messageScopes() {
        CaseReader reader(m_case);
        QVERIFY(reader.isOpen());
        MessageScope scope;
        scope.user = "JAN.MEIER@corp.example";
        const auto byUser = reader.messageIds({}, scope, MessageColumn::Time, true);
        QCOMPARE(qint64(byUser.size()),
                 sqlCount(m_case, "SELECT count(*) FROM messages m WHERE lower(m.sender) = 'jan.meier@corp.example' OR m.id IN "
                                  "(SELECT c.message_id FROM deliveries d JOIN copies c ON c.id = d.copy_id WHERE d.is_final = 1 "
                                  "AND lower(d.recipient) = 'jan.meier@corp.example')"));
        QVERIFY(!byUser.isEmpty());
        scope = {};
        const qint64 t0 = sqlCount(m_case, "SELECT min(time) FROM messages");
        scope.from = t0;
        scope.to = t0 + 3600 * 1000;
        QCOMPARE(qint64(reader.messageIds({}, scope, MessageColumn::Time, true).size()),
                 sqlCount(m_case, QString("SELECT count(*) FROM messages WHERE time >= %1 AND time < %2").arg(t0).arg(t0 + 3600000)));
        // A unit holds the units below it: a top-level unit's messages include its teams'.
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "scope");
        db.setDatabaseName(m_case);
        QVERIFY(db.open());
        QString top;
        {
            QSqlQuery q(db);
            QVERIFY(q.exec("SELECT p.path FROM units p WHERE EXISTS (SELECT 1 FROM units c WHERE c.parent_id = p.id) "
                           "AND p.parent_id IS NULL ORDER BY p.path LIMIT 1"));
            QVERIFY(q.next());
            top = q.value(0).toString();
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase("scope");
        scope = {};
        scope.unitPath = top;
        const auto unitIds = reader.messageIds({}, scope, MessageColumn::Time, true);
        const qint64 expected = sqlCount(
            m_case, QString("SELECT count(*) FROM messages m WHERE lower(m.sender) IN (SELECT u.email FROM users u JOIN units n ON "
                            "n.id = u.unit_id WHERE n.path = '%1' OR n.path LIKE '%1/%') OR m.id IN (SELECT c.message_id FROM "
                            "deliveries d JOIN copies c ON c.id = d.copy_id WHERE d.is_final = 1 AND lower(d.recipient) IN "
                            "(SELECT u.email FROM users u JOIN units n ON n.id = u.unit_id WHERE n.path = '%1' OR n.path LIKE '%1/%'))")
                        .arg(top));
        QCOMPARE(qint64(unitIds.size()), expected);
        QVERIFY(expected > 0);
        // Scopes combine: the flagged messages of that unit are a subset.
        scope.flaggedOnly = true;
        QVERIFY(reader.messageIds({}, scope, MessageColumn::Time, true).size() <= unitIds.size());
    }
};

QTEST_MAIN(TestGuiDetection)
#include "tst_gui_detection.moc"
