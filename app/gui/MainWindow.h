#pragma once
// The MailTriage main window: a case's messages in a sortable, filterable table (paged from
// the case file, so a million messages are fine), the selected message's copies and
// deliveries below it, and imports of logs and org charts running on a worker thread with
// progress and cancel. Drills (File > New drill…) run the outbreak simulator into a new case
// the same way, and Drill > Show truth… reveals their answer.
#include "Drill.h"
#include "model/CaseReader.h"
#include "model/detection/CaseDetection.h"
#include "model/recall/ServerDirectory.h"
#include "model/ImportJob.h"

#include <QFutureWatcher>
#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QSet>
#include <QSize>
#include <QStringList>
#include <QTimer>
#include <atomic>
#include <functional>
#include <memory>

class QApplication;
class QAction;
class QComboBox;
class QHBoxLayout;
class QVBoxLayout;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QSplitter;
class QStackedWidget;
class QTableView;

class QDockWidget;
class QTabWidget;

class QSystemTrayIcon;

namespace mt::recall {
class RecallRequestModel;
}
namespace mt::live {
class LiveIngest;
struct LiveConfig;
}

namespace mt {
class AnalysisSelection;
class CampaignPanel;
class OrgMapPanel;
class TimelineView;
class MessageDetailsView;
class MessageTableModel;
} // namespace mt

namespace mt::gui {

class TruthDialog;

// mailtriage [--case FILE] [LOGS...] [--screenshot OUT.png [--size WxH]]
int runGui(QApplication& app);

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens (or, with create, creates; an existing file is then opened as is) a case file.
    // Returns false with lastError() set, leaving the previously open case open.
    bool openCase(const QString& path, bool create = false);
    void closeCase();
    bool hasCase() const { return m_reader != nullptr; }
    QString casePath() const;
    // The open case's read side (nullptr when none is open).
    CaseReader* reader() const { return m_reader.get(); }
    QString lastError() const { return m_lastError; }

    // Starts importing on a worker thread into the open case. Returns false (lastError()) when
    // no case is open, an import is already running or there is nothing to import.
    bool startImport(const QStringList& logs, const QStringList& orgCharts = {}, const OrgColumnMap& orgColumns = {});
    // Sets the cancel flag; the worker stops at its next check and rolls back the current file.
    void cancelImport();
    // An import or a drill runs (detection and recall, which also hold the case, say so
    // through isDetecting() and isRecalling()).
    bool isImporting() const { return m_importing && !m_detecting && !m_recalling; }
    const ImportReport& lastImportReport() const { return m_lastReport; }
    // Plain-text version of the last import's summary (what the summary dialog shows).
    QString lastImportSummary() const { return m_lastSummary; }

    // Interactive (the default): errors and import summaries pop up as dialogs, and "no case"
    // offers to create one. Off for tests and --screenshot: everything goes to lastError() / the log.
    void setInteractive(bool on) { m_interactive = on; }
    // Off: window geometry and splitter state are neither restored nor saved.
    void setPersistSettings(bool on) { m_persistSettings = on; }
    void restoreSettings();
    void saveSettings();

    // Selects the row of that message (scrolling to it); false when it is not listed.
    bool selectMessage(qint64 messageId);
    qint64 selectedMessageId() const;

    MessageTableModel* messageModel() const { return m_model; }
    QTableView* messageTable() const { return m_table; }
    MessageDetailsView* detailsView() const { return m_details; }
    QLineEdit* filterEdit() const { return m_filter; }
    QString countsText() const;
    bool showsEmptyState() const;

    // Imports with the interactive steps: offers to create a case when none is open and asks
    // for the CSV column mapping (askMapping) before starting the worker.
    void importFiles(const QStringList& logs, const QStringList& orgCharts, bool askMapping = true);

    static QStringList recentCases();
    // The column mapping the org chart dialog starts with for a CSV with these headers:
    // each field's first alias (email, "E-Mail Address", "Department", "Reports To", ...) that
    // names a header not taken by an earlier field.
    static OrgColumnMap guessOrgColumns(const QStringList& headers);
    // The org chart column step (modal): a column per field (the importer's table), and the
    // mail domain for user names. False when cancelled.
    static bool askOrgColumns(QWidget* parent, const QString& path, const QStringList& headers, OrgColumnMap& out);
    // Splits files the way drag-and-drop does: .csv/.tsv/.ldif are org charts, the rest logs.
    static void classifyFiles(const QStringList& files, QStringList& logs, QStringList& orgCharts);

    // Drills. startDrill runs the simulator, creates request.casePath and imports into it on a
    // worker thread (the import's progress bar and Cancel; cancelImport() cancels it too), then
    // opens the case; drillFinished tells how it went. False (lastError()) when something runs
    // already or the case exists. The previous case stays open until the drill's case opens.
    bool startDrill(const DrillRequest& request);
    bool isDrillRunning() const { return m_drillRunning; }
    const DrillOutcome& lastDrillOutcome() const { return m_lastDrill; }
    // The open case is a drill: its truth sidecar exists (see drillTruthPath).
    bool isDrillCase() const { return m_drillCase; }
    QAction* newDrillAction() const { return m_newDrillAct; }
    QAction* showTruthAction() const { return m_showTruthAct; }
    // The truth dialog while it is open.
    TruthDialog* truthDialog() const;
    // Lists only the messages with these Message-IDs (with or without angle brackets), on top
    // of the text filter; what names them in the filter bar ("worm messages").
    void showOnlyMessages(const QSet<QString>& messageIds, const QString& what);
    void showAllMessages();
    bool showsOnlySomeMessages() const;

    // Detection (issue 4). runDetection stores nothing new: it runs the case's rule set over
    // the case on a worker thread (incremental when only later messages arrived, unless full)
    // and then refreshes the campaign and rule filters; detectionFinished tells how it went.
    // False (lastError()) when no case is open or something else writes to the case.
    bool runDetection(bool full = false);
    bool isDetecting() const { return m_detecting; }
    const det::CaseDetectionReport& lastDetectionReport() const { return m_lastDetection; }
    // Stores rules as the case's rule set (undoable through the rule editor's history: every
    // stored set stays in the case) and, with rerun, runs a full detection with them.
    bool applyRuleSet(const det::RuleSet& rules, bool rerun);
    // The rule set of the open case (defaults when none is stored).
    det::RuleSet caseRuleSet() const;
    // The message list's detection filters: a campaign (0: any message, -1: every flagged
    // message) and a rule id ("" any).
    void setCampaignFilter(qint64 campaignId);
    void setRuleFilter(const QString& ruleId);
    QComboBox* campaignFilterCombo() const { return m_campaignCombo; }
    // The one selection every view shares (unit, user, campaign, time range, message): the
    // message list follows it and writes the message and campaign facets.
    AnalysisSelection* selection() const { return m_selection; }
    // The analyst's views beside the message list (issue 5).
    CampaignPanel* campaignPanel() const { return m_campaignPanel; }
    TimelineView* timelineView() const { return m_timeline; }
    OrgMapPanel* orgMapPanel() const { return m_orgMap; }
    QTabWidget* centralTabs() const { return m_tabs; }
    // Re-reads the views' data from the case (after an import or a detection run).
    void reloadViews();

    // Recall (issue 6). The server directory: "demo" (every server simulated from the case)
    // or the path of a servers.json; "" means none chosen yet (drills default to the demo).
    QString serverDirectorySetting() const;
    void setServerDirectorySetting(const QString& value);
    // Plans a recall of these messages (stored as proposed requests), has `approver` approve
    // it and runs it on a worker thread; recallFinished tells how it went. False
    // (lastError()) when something else runs, no directory is set, or nothing is recallable.
    bool startRecall(const QVector<qint64>& messageIds, const QString& approver, bool confirm = false);
    // Keeps a server's IMAP password in the desktop keyring (QtKeychain), for directory entries
    // with "password_keyring": true. False with lastError().
    bool storeKeyringPassword(const QString& host, const QString& password);
    // Runs the next cascade round a virus verdict proposed.
    bool startProposedRound(const QString& approver);
    // The analyst's verdict on a campaign, on a worker thread (verdictFinished).
    // excludeJoined: leave the campaign's messages that only joined through a link out of the
    // verdict (their suspended copies stay suspended for a verdict of their own).
    bool startVerdict(qint64 campaignId, bool virus, const QString& approver, bool excludeJoined = false);
    bool isRecalling() const { return m_recalling; }
    QString lastRecallSummary() const { return m_lastRecallSummary; }

    // Live monitoring (issue 10): follows files and/or listens for syslog into the open case
    // (File > Follow logs…). False (lastError()) when no case is open or it cannot start.
    bool startLive(const live::LiveConfig& config);
    void stopLive();
    bool isLive() const { return m_live != nullptr; }
    live::LiveIngest* liveIngest() const { return m_live.get(); }
    QString lastAlert() const { return m_lastAlert; }
    QWidget* liveAlertBar() const { return m_alertBar; }
    qint64 lastProposedRound() const { return m_lastProposed; }
    recall::RecallRequestModel* recallModel() const { return m_recallModel; }
    void refreshRecall();
    void showRecallPanel();
    // "unit Sales/North · 09:20–09:40": the selection's facets that restrict the list.
    QString selectionText() const;
    QComboBox* ruleFilterCombo() const { return m_ruleCombo; }
    QAction* runDetectionAction() const { return m_runDetectAct; }
    QAction* editRulesAction() const { return m_editRulesAct; }
    // Detect after every import (a setting; on by default).
    bool detectsAfterImport() const;
    void setDetectAfterImport(bool on);

public slots:
    void newCaseDialog();
    void openCaseDialog();
    void importLogsDialog();
    void importOrgChartDialog();
    void focusFilter();
    void chooseLogTimeZone();
    void about();
    void newDrillDialog();
    // Asks first (when interactive): this reveals the answer. Reads the truth on a worker
    // thread, then shows the TruthDialog (truthShown()).
    void showTruth();
    // File > Export report… (a dialog: file, page size, campaign, analyst) and the data exports.
    void exportReportDialog();
    void exportDataDialog(int table); // report::ExportTable
    void recallCampaignDialog();
    void recallSelectedMessageDialog();
    void proposedRoundDialog();
    void verdictDialog(bool virus);
    void serverDirectoryDialog();
    void auditTrailDialog();
    void followLogsDialog();
    // Writes the incident report without asking (tests, scripting); false with lastError().
    bool exportReport(const QString& pdfPath, qint64 campaignId = 0, const QString& pageSize = QStringLiteral("A4"),
                      const QString& analyst = {});
    // The rule editor: edit, then save (and re-run detection).
    void editRules();
    void exportRulesDialog();
    void importRulesDialog();

signals:
    void caseOpened(const QString& path);
    void importStarted();
    void importFinished(bool cancelled);
    // Emitted by the worker thread; delivered to the window through a queued connection.
    void workerProgress(qint64 done, qint64 total, const QString& file);
    // A drill's progress, emitted by its worker thread (phase: DrillPhase).
    void drillProgress(int phase, int permille, const QString& what);
    void drillStarted();
    // ok: the drill's case is open; otherwise cancelled or failed (lastError()).
    void drillFinished(bool ok, bool cancelled);
    void truthShown();
    void liveStarted();
    // After a live batch: the list, counts and (when campaigns changed) the views re-read.
    void liveRefreshed();
    // A new campaign was announced by live monitoring.
    void liveAlert(qint64 campaignId, const QString& label);
    void recallStarted();
    void recallFinished(bool ok);
    void verdictFinished(bool ok);
    void detectionStarted();
    void detectionFinished(bool ok);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildUi();
    void buildMenus();
    void setupTableColumns();
    // Gives Subject the width the other columns leave (at least a readable minimum), until
    // the user sizes a column by hand.
    void fitSubjectColumn();
    void updateTitle();
    void updateCounts();
    void updateEmptyState();
    void updateActions();
    void addRecentCase(const QString& path);
    void rebuildRecentMenu();
    void showError(const QString& title, const QString& text);
    bool ensureCase();
    void applyFilter();
    void onCurrentRowChanged(int row);
    void onIdsReloaded();
    void onModelBusy(bool busy);
    void onImportProgress(qint64 done, qint64 total, const QString& file);
    void onImportFinished();
    void onDrillProgress(int phase, int permille, const QString& what);
    void onDrillFinished();
    void onTruthLoaded();
    void showWorkerProgress(const QString& text);
    void hideWorkerProgress();
    void waitForWorkers();
    void updateDrillState();
    QString buildSummary(const ImportReport& report, bool html) const;
    void buildDetectionMenu();
    void buildExportMenu(QMenu* file);
    void buildViews();
    void buildViewMenu();
    void buildRecallPanel();
    void buildRecallMenu();
    struct RecallOutcome {
        bool ok = false;
        QString summary;          // what happened, in words
        qint64 proposed = 0;      // requests a cascade proposed for the next round
    };
    using RecallProgress = std::function<void(qint64 done, qint64 total, const QString& last)>;
    using RecallWork = std::function<RecallOutcome(const std::atomic_bool* cancel, const RecallProgress& progress)>;
    // The directory the setting names; false (lastError()) when none is set or it is invalid.
    bool loadServerDirectory(recall::ServerDirectory& out);
    // Asks for the approver's name (remembered); "" when the analyst cancels.
    // optionText: a check box under the name (its state in *option, which gives its default).
    QString askApprover(const QString& title, const QString& text, const QString& okText, const QString& optionText = {},
                        bool* option = nullptr);
    void runRecallWorker(const QString& what, RecallWork work, bool verdict);
    void onRecallFinished();
    void buildLiveUi(QMenu* file);
    void refreshAfterLiveBatch();
    void onLiveCampaign(qint64 campaignId, const QString& label, qint64 detectedAt, qint64 alertId);
    void updateAlertText();
    void buildDetectionFilters(QWidget* parent, QHBoxLayout* row);
    void refreshDetectionFilters();
    void applyScope();
    void onDetectionFinished();
    void showEvidenceOf(qint64 messageId);
    void onSelectionChanged(int facets);

    // Case
    std::unique_ptr<CaseReader> m_reader;
    CaseCounts m_counts;
    QString m_lastError;
    bool m_interactive = true;
    bool m_persistSettings = true;

    // Widgets
    MessageTableModel* m_model = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_emptyLabel = nullptr;
    QLineEdit* m_filter = nullptr;
    QLabel* m_shownLabel = nullptr;
    QTimer m_filterTimer;
    QSplitter* m_splitter = nullptr;
    QTableView* m_table = nullptr;
    MessageDetailsView* m_details = nullptr;
    QLabel* m_countsLabel = nullptr;
    QLabel* m_busyLabel = nullptr; // "Sorting…" while the model's id query runs in the background
    QTimer m_busyTimer;            // shows it only when the query is not over at once
    QLabel* m_progressLabel = nullptr;
    QProgressBar* m_progressBar = nullptr;
    QPushButton* m_cancelButton = nullptr;
    bool m_autoSubjectWidth = true;
    bool m_adjustingColumns = false;

    // Actions
    QAction* m_newAct = nullptr;
    QAction* m_openAct = nullptr;
    QAction* m_importLogsAct = nullptr;
    QAction* m_importOrgAct = nullptr;
    QAction* m_filterAct = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_newDrillAct = nullptr;
    QAction* m_showTruthAct = nullptr;

    // Import
    QFutureWatcher<ImportReport> m_watcher;
    std::atomic_bool m_cancel{false};
    bool m_importing = false;
    ImportReport m_lastReport;
    QString m_lastSummary;

    // Drill (runs under m_importing too, so everything an import blocks is blocked)
    QFutureWatcher<DrillOutcome> m_drillWatcher;
    bool m_drillRunning = false;
    DrillOutcome m_lastDrill;
    bool m_drillCase = false;
    bool m_truthRevealed = false;
    QLabel* m_drillLabel = nullptr;     // status bar: "Drill · truth hidden"
    struct TruthLoad {
        bool ok = false;
        QString error, casePath;
        sim::Truth truth;
    };
    QFutureWatcher<TruthLoad> m_truthWatcher;
    QPointer<TruthDialog> m_truthDialog;

    // Detection
    struct DetectOutcome {
        bool ok = false;
        QString error;
        det::CaseDetectionReport report;
    };
    QFutureWatcher<DetectOutcome> m_detectWatcher;
    bool m_detecting = false;
    det::CaseDetectionReport m_lastDetection;
    QComboBox* m_campaignCombo = nullptr;
    QComboBox* m_ruleCombo = nullptr;
    QAction* m_runDetectAct = nullptr;
    QAction* m_fullDetectAct = nullptr;
    QAction* m_editRulesAct = nullptr;
    QAction* m_exportRulesAct = nullptr;
    QAction* m_importRulesAct = nullptr;
    QAction* m_autoDetectAct = nullptr;
    QAction* m_exportReportAct = nullptr;
    QMenu* m_exportDataMenu = nullptr;
    QHash<qint64, QString> m_campaignLabels;
    AnalysisSelection* m_selection = nullptr;
    QTabWidget* m_tabs = nullptr;
    CampaignPanel* m_campaignPanel = nullptr;
    TimelineView* m_timeline = nullptr;
    OrgMapPanel* m_orgMap = nullptr;
    QDockWidget* m_campaignDock = nullptr;
    QDockWidget* m_timelineDock = nullptr;
    QDockWidget* m_recallDock = nullptr;
    recall::RecallRequestModel* m_recallModel = nullptr;
    QLabel* m_recallCounts = nullptr;
    QLabel* m_recallServers = nullptr;
    QFutureWatcher<RecallOutcome> m_recallWatcher;
    bool m_recalling = false;
    bool m_recallIsVerdict = false;
    QString m_lastRecallSummary;
    qint64 m_lastProposed = 0;
    QMenu* m_recallMenu = nullptr;

    // Live monitoring
    std::unique_ptr<live::LiveIngest> m_live;
    QAction* m_followAct = nullptr;
    QAction* m_stopFollowAct = nullptr;
    QLabel* m_liveLabel = nullptr;
    QWidget* m_alertBar = nullptr;
    QLabel* m_alertLabel = nullptr;
    QTimer m_liveRefresh;             // coalesces batches: the views re-read at most every 2 s
    qint64 m_liveMessages = 0;
    bool m_liveCampaignsChanged = false;
    int m_keepScroll = -1;            // the list's scroll position to restore after a live reload
    qint64 m_alertId = 0, m_alertCampaign = 0, m_alertDetectedAt = 0, m_alertProposed = 0;
    QString m_alertLabelText, m_lastAlert;
    QSystemTrayIcon* m_tray = nullptr;
    QVBoxLayout* m_contentLayout = nullptr; // the message tab's layout (the alert bar goes on top)
    QWidget* m_selectionBar = nullptr;
    QLabel* m_selectionLabel = nullptr;

    // Id filter (a drill's worm messages)
    QWidget* m_idFilterBar = nullptr;
    QLabel* m_idFilterLabel = nullptr;
};

} // namespace mt::gui
