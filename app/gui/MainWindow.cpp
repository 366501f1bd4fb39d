#include "MainWindow.h"

#include "DrillDialog.h"
#include "importers/LogFormat.h"
#include "Settings.h"
#include "TruthDialog.h"
#include "model/AnalysisSelection.h"
#include "model/live/LiveIngest.h"
#include "model/MessageTableModel.h"
#include "views/MessageDetailsView.h"
#include "views/RuleSetEditor.h"
#include "views/campaign/CampaignPanel.h"
#include "views/orgmap/OrgMapPanel.h"
#include "views/timeline/TimelineView.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QTabWidget>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QTimeZone>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>
#include <QTextBrowser>
#include <QToolButton>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cstdio>

namespace mt::gui {

namespace {

constexpr int kMaxRecent = 8;
constexpr int kFilterDebounceMs = 250;
// The "Sorting…" indicator appears only for id queries still running after this long.
constexpr int kBusyIndicatorDelayMs = 150;
constexpr int kIssuesShownPerFile = 10;
constexpr const char* kEmptyText = "Open or create a case (Ctrl+O / Ctrl+N), then import logs (Ctrl+I)";


QString fileName(const std::string& path) { return QFileInfo(QString::fromStdString(path)).fileName(); }

QString num(qint64 n) { return QLocale().toString(n); }

// ---------------------------------------------------------------- worker

// Runs on a pool thread: its own CaseStore on the case file (the window keeps reading through
// its CaseReader meanwhile), progress emitted as a signal the window receives queued.
ImportReport runImport(const QString& casePath, const QStringList& logs, const QStringList& orgCharts,
                       const OrgColumnMap& orgColumns, const std::string& timeZone, const std::atomic_bool* cancel,
                       MainWindow* window) {
    ImportReport all;
    CaseStore store;
    try {
        store.open(casePath, false);
    } catch (const std::exception& e) {
        for (const QString& p : logs + orgCharts) {
            FileReport fr;
            fr.figures.path = p.toStdString();
            fr.error = std::string("could not open the case for writing: ") + e.what();
            all.files.push_back(std::move(fr));
        }
        return all;
    }
    qint64 logBytes = 0, orgBytes = 0;
    for (const QString& p : logs) logBytes += QFileInfo(p).size();
    for (const QString& p : orgCharts) orgBytes += QFileInfo(p).size();
    const qint64 total = logBytes + orgBytes;

    auto append = [&all](ImportReport&& r) {
        for (FileReport& f : r.files) all.files.push_back(std::move(f));
        all.cancelled = all.cancelled || r.cancelled;
    };
    ImportOptions options;
    options.orgColumns = orgColumns;
    options.timeZone = timeZone;
    // Each log's format from its content (Postfix, Exim, Zeek, Exchange, M365, our CSV/JSONL).
    options.format = LogFormat::Auto;
    // Org charts first, as the CLI does, so users seen in the logs land in their units at once.
    if (!orgCharts.isEmpty()) {
        ImportJob job(store, options);
        job.setCancelFlag(cancel);
        job.setProgress([window, total](std::int64_t done, std::int64_t, const QString& file) {
            emit window->workerProgress(done, total, file);
        });
        append(job.importOrgCharts(orgCharts));
    }
    if (!logs.isEmpty()) {
        ImportJob job(store, options);
        job.setCancelFlag(cancel);
        job.setProgress([window, total, orgBytes](std::int64_t done, std::int64_t, const QString& file) {
            emit window->workerProgress(orgBytes + done, total, file);
        });
        append(job.importLogs(logs));
    }
    return all;
}

// ---------------------------------------------------------------- org chart column mapping

// The field table (keys, labels, header aliases) is the importer's: importers/OrgChart.h.

// The headers pre-selected for each field: the first alias (in alias order) naming an unused header.
QVector<int> guessOrgColumnIndexes(const QStringList& headers) {
    std::vector<std::string> keys;
    for (const QString& h : headers) keys.push_back(orgHeaderKey(h.toStdString()));
    QVector<bool> used(headers.size(), false);
    QVector<int> pick;
    for (const OrgFieldInfo& f : orgFields()) {
        int found = -1;
        for (const std::string& alias : f.aliases) {
            for (int i = 0; i < int(keys.size()) && found < 0; ++i)
                if (!used[i] && keys[std::size_t(i)] == alias) found = i;
            if (found >= 0) break;
        }
        if (found >= 0) used[found] = true;
        pick << found;
    }
    return pick;
}

} // namespace

bool MainWindow::askOrgColumns(QWidget* parent, const QString& path, const QStringList& headers, OrgColumnMap& out) {
    QDialog dlg(parent);
    dlg.setWindowTitle(MainWindow::tr("Org chart columns"));
    auto* layout = new QVBoxLayout(&dlg);
    auto* intro = new QLabel(MainWindow::tr("Which column of <b>%1</b> holds what? E-mail address and unit are "
                                            "required; the rest is optional. A manager column may hold the person id "
                                            "of another row.")
                                 .arg(QFileInfo(path).fileName().toHtmlEscaped()));
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout;
    layout->addLayout(form);
    const QVector<int> guess = guessOrgColumnIndexes(headers);
    QVector<QComboBox*> combos;
    for (int i = 0; i < int(orgFields().size()); ++i) {
        const OrgFieldInfo& f = orgFields()[std::size_t(i)];
        auto* cb = new QComboBox;
        cb->addItem(f.required ? MainWindow::tr("(choose a column)") : MainWindow::tr("(not in this file)"), QString());
        for (const QString& h : headers) cb->addItem(h, h);
        cb->setCurrentIndex(guess[i] + 1);
        QString label = MainWindow::tr(f.label);
        if (f.required) label += QStringLiteral(" *");
        form->addRow(label + QLatin1Char(':'), cb);
        combos << cb;
    }
    // Real exports hold user names (SKING), not addresses: the domain makes them addresses.
    auto* domain = new QLineEdit;
    domain->setObjectName(QStringLiteral("orgDomain"));
    domain->setPlaceholderText(MainWindow::tr("e.g. corp.example (when the e-mail column holds user names)"));
    if (auto it = out.find("domain"); it != out.end()) domain->setText(QString::fromStdString(it->second));
    form->addRow(MainWindow::tr("Mail domain of user names:"), domain);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(MainWindow::tr("Import"));
    layout->addWidget(buttons);
    auto validate = [&] {
        bool ok = true;
        for (int i = 0; i < combos.size(); ++i)
            if (orgFields()[std::size_t(i)].required && combos[i]->currentData().toString().isEmpty()) ok = false;
        const QString d = domain->text().trimmed();
        if (!d.isEmpty() && !validOrgDomain(d.toStdString())) ok = false;
        buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
    };
    QObject::connect(domain, &QLineEdit::textChanged, &dlg, validate);
    for (QComboBox* cb : combos) QObject::connect(cb, &QComboBox::currentIndexChanged, &dlg, validate);
    validate();
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    if (dlg.exec() != QDialog::Accepted) return false;
    out.clear();
    for (int i = 0; i < combos.size(); ++i) {
        const QString h = combos[i]->currentData().toString();
        if (!h.isEmpty()) out[orgFields()[std::size_t(i)].key] = h.toStdString();
    }
    QString d = domain->text().trimmed().toLower();
    if (d.startsWith(QLatin1Char('@'))) d.remove(0, 1);
    if (!d.isEmpty()) out["domain"] = d.toStdString();
    return true;
}


// ---------------------------------------------------------------- window

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    m_model = new MessageTableModel(this);
    m_selection = new AnalysisSelection(this);
    buildUi();
    buildMenus();
    setAcceptDrops(true);

    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(kFilterDebounceMs);
    connect(&m_filterTimer, &QTimer::timeout, this, &MainWindow::applyFilter);
    connect(m_filter, &QLineEdit::textChanged, this, [this] { m_filterTimer.start(); });
    connect(m_filter, &QLineEdit::returnPressed, this, &MainWindow::applyFilter);
    connect(m_model, &MessageTableModel::idsReloaded, this, &MainWindow::onIdsReloaded);
    // Sort, filter and reload re-query the ids on a worker thread (a second or two on a
    // million messages sorted by a computed column); the table keeps its rows meanwhile and
    // the status bar says what is going on.
    m_busyTimer.setSingleShot(true);
    m_busyTimer.setInterval(kBusyIndicatorDelayMs);
    connect(&m_busyTimer, &QTimer::timeout, this, [this] {
        if (!m_model->isBusy()) return;
        switch (m_model->busyQuery()) {
        case MessageTableModel::SortQuery: m_busyLabel->setText(tr("Sorting…")); break;
        case MessageTableModel::FilterQuery: m_busyLabel->setText(tr("Filtering…")); break;
        default: m_busyLabel->setText(tr("Loading messages…")); break;
        }
        m_busyLabel->show();
    });
    connect(m_model, &MessageTableModel::busyChanged, this, &MainWindow::onModelBusy);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) { onCurrentRowChanged(current.isValid() ? current.row() : -1); });
    connect(this, &MainWindow::workerProgress, this, &MainWindow::onImportProgress, Qt::QueuedConnection);
    connect(&m_watcher, &QFutureWatcher<ImportReport>::finished, this, &MainWindow::onImportFinished);
    connect(this, &MainWindow::drillProgress, this, &MainWindow::onDrillProgress, Qt::QueuedConnection);
    connect(&m_drillWatcher, &QFutureWatcher<DrillOutcome>::finished, this, &MainWindow::onDrillFinished);
    connect(&m_truthWatcher, &QFutureWatcher<TruthLoad>::finished, this, &MainWindow::onTruthLoaded);
    connect(&m_detectWatcher, &QFutureWatcher<DetectOutcome>::finished, this, &MainWindow::onDetectionFinished);
    connect(m_selection, &AnalysisSelection::changed, this, [this](AnalysisSelection::Facets f) { onSelectionChanged(int(f)); });

    updateTitle();
    updateCounts();
    updateEmptyState();
    updateActions();
    resize(1280, 800);
}

MainWindow::~MainWindow() {
    stopLive();
    m_cancel = true;
    waitForWorkers();
    m_watcher.disconnect(this);
    m_drillWatcher.disconnect(this);
    m_truthWatcher.disconnect(this);
    m_detectWatcher.disconnect(this);
    m_recallWatcher.disconnect(this);
    m_table->viewport()->removeEventFilter(this);
    m_model->disconnect(this);
    m_model->setReader(nullptr);
}

void MainWindow::buildUi() {
    m_stack = new QStackedWidget(this);

    m_emptyLabel = new QLabel(tr(kEmptyText), m_stack);
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setMargin(24);
    {
        QFont f = m_emptyLabel->font();
        f.setPointSizeF(f.pointSizeF() * 1.3);
        m_emptyLabel->setFont(f);
        QPalette p = m_emptyLabel->palette();
        p.setColor(QPalette::WindowText, p.color(QPalette::PlaceholderText));
        m_emptyLabel->setPalette(p);
    }
    m_stack->addWidget(m_emptyLabel);

    auto* content = new QWidget(m_stack);
    auto* layout = new QVBoxLayout(content);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->setSpacing(4);

    auto* filterRow = new QHBoxLayout;
    auto* filterLabel = new QLabel(tr("&Filter:"), content);
    m_filter = new QLineEdit(content);
    m_filter->setPlaceholderText(tr("sender, subject, client, Message-ID, attachment or recipient (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMinimumWidth(m_filter->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 24);
    m_filter->setAcceptDrops(false); // files dropped here go to the window's import
    filterLabel->setBuddy(m_filter);
    m_shownLabel = new QLabel(content);
    m_shownLabel->setMinimumWidth(m_shownLabel->fontMetrics().horizontalAdvance(QStringLiteral("1,000,000 of 1,000,000 messages")));
    m_shownLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    // "Showing only the worm messages (n)  [Show all]": an id filter from the truth dialog.
    m_idFilterBar = new QWidget(content);
    m_idFilterBar->setObjectName(QStringLiteral("idFilterBar"));
    {
        auto* bar = new QHBoxLayout(m_idFilterBar);
        bar->setContentsMargins(0, 0, 0, 0);
        bar->setSpacing(4);
        m_idFilterLabel = new QLabel(m_idFilterBar);
        m_idFilterLabel->setStyleSheet(QStringLiteral("QLabel { background:#fde2e1; color:#7a1c1c; border-radius:3px; "
                                                      "padding:1px 8px; }"));
        auto* clear = new QToolButton(m_idFilterBar);
        clear->setObjectName(QStringLiteral("showAllMessages"));
        clear->setText(tr("Show all"));
        clear->setToolTip(tr("Lift this filter: list every message again"));
        connect(clear, &QToolButton::clicked, this, &MainWindow::showAllMessages);
        bar->addWidget(m_idFilterLabel);
        bar->addWidget(clear);
    }
    m_idFilterBar->hide();
    filterRow->addWidget(filterLabel);
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_idFilterBar);
    buildDetectionFilters(content, filterRow);
    filterRow->addWidget(m_shownLabel);
    m_contentLayout = layout;
    layout->addLayout(filterRow);

    m_splitter = new QSplitter(Qt::Vertical, content);
    m_splitter->setChildrenCollapsible(false);
    m_table = new QTableView(m_splitter);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->setShowGrid(false);
    m_table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    // Uniform row heights: a fixed section size lets the view skip measuring a million rows.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setSectionsMovable(true);
    m_table->horizontalHeader()->setSortIndicator(MessageTableModel::Time, Qt::AscendingOrder);
    m_table->setSortingEnabled(true); // the header's clicks call MessageTableModel::sort (a re-query)
    setupTableColumns();

    m_details = new MessageDetailsView(m_splitter);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setSizes({480, 320});
    layout->addWidget(m_splitter, 1);
    // The message list is the first tab; the org map sits beside it (issue 5).
    m_tabs = new QTabWidget(m_stack);
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(content, tr("&Messages"));
    m_stack->addWidget(m_tabs);
    setCentralWidget(m_stack);
    buildViews();

    m_countsLabel = new QLabel(this);
    statusBar()->addWidget(m_countsLabel, 1);
    m_busyLabel = new QLabel(this);
    m_busyLabel->setObjectName(QStringLiteral("busyIndicator"));
    statusBar()->addPermanentWidget(m_busyLabel);
    m_busyLabel->hide();
    m_drillLabel = new QLabel(this);
    m_drillLabel->setObjectName(QStringLiteral("drillIndicator"));
    statusBar()->addPermanentWidget(m_drillLabel);
    m_drillLabel->hide();
    m_progressLabel = new QLabel(this);
    m_progressBar = new QProgressBar(this);
    m_progressBar->setRange(0, 1000);
    m_progressBar->setFixedWidth(220);
    m_progressBar->setTextVisible(true);
    m_progressBar->setFormat(QStringLiteral("%p%"));
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setToolTip(tr("Stop the import; the file being imported is rolled back"));
    connect(m_cancelButton, &QPushButton::clicked, this, &MainWindow::cancelImport);
    statusBar()->addPermanentWidget(m_progressLabel);
    statusBar()->addPermanentWidget(m_progressBar);
    statusBar()->addPermanentWidget(m_cancelButton);
    m_progressLabel->hide();
    m_progressBar->hide();
    m_cancelButton->hide();
}

void MainWindow::setupTableColumns() {
    QHeaderView* h = m_table->horizontalHeader();
    const QFontMetrics fm = m_table->fontMetrics();
    const int pad = 24;
    auto w = [&](const QString& s) { return fm.horizontalAdvance(s) + pad; };
    m_adjustingColumns = true;
    h->setSectionResizeMode(QHeaderView::Interactive);
    h->setStretchLastSection(false);
    h->setMinimumSectionSize(w(QStringLiteral("Size")));
    h->resizeSection(MessageTableModel::Time, w(QStringLiteral("0000-00-00 00:00:00")));
    h->resizeSection(MessageTableModel::Sender, w(QStringLiteral("firstname.lastname@corp.com")));
    h->resizeSection(MessageTableModel::Client, w(QStringLiteral("ws-000-00.corp.example[10.10.10.10]")));
    h->resizeSection(MessageTableModel::Subject, 320);
    h->resizeSection(MessageTableModel::Attachments, w(QStringLiteral("invoice_2026_11.pdf.exe")));
    h->resizeSection(MessageTableModel::Size, w(QStringLiteral("999.9 MB")));
    h->resizeSection(MessageTableModel::Recipients, w(QStringLiteral("Recipients")) + 8);
    h->resizeSection(MessageTableModel::Server, w(QStringLiteral("mx-server-00")));
    // Detection's verdict right after the time: the first thing to look at in a flagged row.
    h->resizeSection(MessageTableModel::Flag, w(QStringLiteral("⚑ #00 burst type")));
    h->moveSection(h->visualIndex(MessageTableModel::Flag), 1);
    m_adjustingColumns = false;
    connect(h, &QHeaderView::sectionResized, this, [this] {
        if (!m_adjustingColumns) m_autoSubjectWidth = false;
    });
    m_table->viewport()->installEventFilter(this);
}

void MainWindow::fitSubjectColumn() {
    if (!m_autoSubjectWidth) return;
    QHeaderView* h = m_table->horizontalHeader();
    int others = 0;
    for (int c = 0; c < MessageTableModel::ColumnCount; ++c)
        if (c != MessageTableModel::Subject && !h->isSectionHidden(c)) others += h->sectionSize(c);
    const int minimum = m_table->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 36;
    const int width = std::max(minimum, m_table->viewport()->width() - others);
    if (width == h->sectionSize(MessageTableModel::Subject)) return;
    m_adjustingColumns = true;
    h->resizeSection(MessageTableModel::Subject, width);
    m_adjustingColumns = false;
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table->viewport() && event->type() == QEvent::Resize) fitSubjectColumn();
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::chooseLogTimeZone() {
    // Classic syslog and maillog_file stamps are the servers' local time without a zone.
    QStringList zones{QStringLiteral("UTC")};
    for (const QByteArray& id : QTimeZone::availableTimeZoneIds()) zones << QString::fromLatin1(id);
    zones.removeDuplicates();
    const QString current = settings().value(QStringLiteral("import/timeZone"), QStringLiteral("UTC")).toString();
    bool ok = false;
    const QString zone = QInputDialog::getItem(this, tr("Time zone of log stamps"),
                                               tr("Zone of the mail servers' clocks, for stamps such as\n"
                                                  "\"Nov 22 09:00:01\" that carry none (used by the next imports):"),
                                               zones, std::max<int>(0, int(zones.indexOf(current))), false, &ok);
    if (!ok) return;
    settings().setValue(QStringLiteral("import/timeZone"), zone == QLatin1String("UTC") ? QString() : zone);
    statusBar()->showMessage(tr("Log stamps without a zone are read as %1 from now on.").arg(zone), 5000);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    m_newAct = file->addAction(tr("&New case…"), this, &MainWindow::newCaseDialog);
    m_newAct->setShortcut(QKeySequence::New);
    m_newDrillAct = file->addAction(tr("New &drill…"), this, &MainWindow::newDrillDialog);
    m_newDrillAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    m_newDrillAct->setStatusTip(tr("Simulate an outbreak into a new case and investigate it without knowing the answer"));
    m_openAct = file->addAction(tr("&Open case…"), this, &MainWindow::openCaseDialog);
    m_openAct->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("&Recent cases"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    file->addSeparator();
    m_importLogsAct = file->addAction(tr("&Import logs…"), this, &MainWindow::importLogsDialog);
    m_importLogsAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_importLogsAct->setStatusTip(tr("Import mail server logs: Postfix, Exim, Zeek, Exchange, Microsoft 365, CSV/JSONL (plain or .gz); "
                                     "you can also drop files onto the window"));
    m_importOrgAct = file->addAction(tr("Import &org chart…"), this, &MainWindow::importOrgChartDialog);
    m_importOrgAct->setStatusTip(tr("Import an organisation chart (CSV or LDIF)"));
    file->addSeparator();
    buildLiveUi(file);
    file->addSeparator();
    buildExportMenu(file);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    quit->setMenuRole(QAction::QuitRole);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    m_filterAct = edit->addAction(tr("&Filter messages"), this, &MainWindow::focusFilter);
    m_filterAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    edit->addSeparator();
    QAction* zoneAct = edit->addAction(tr("Time &zone of log stamps…"), this, &MainWindow::chooseLogTimeZone);
    zoneAct->setStatusTip(tr("The zone of classic syslog stamps, which carry none (RFC 3339 stamps carry their own)"));

    buildDetectionMenu();
    buildRecallMenu();
    buildViewMenu();

    QMenu* drill = menuBar()->addMenu(tr("&Drill"));
    drill->addAction(m_newDrillAct);
    drill->addSeparator();
    m_showTruthAct = drill->addAction(tr("Show &truth…"), this, &MainWindow::showTruth);
    m_showTruthAct->setStatusTip(tr("Reveal the drill's answer: the worm, patient zero and the infection chain"));
    m_showTruthAct->setEnabled(false);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* aboutAct = help->addAction(tr("&About MailTriage"), this, &MainWindow::about);
    aboutAct->setMenuRole(QAction::AboutRole);
}

// ---------------------------------------------------------------- case

QString MainWindow::casePath() const { return m_reader ? m_reader->path() : QString(); }

bool MainWindow::openCase(const QString& path, bool create) {
    m_lastError.clear();
    stopLive(); // it writes into the case being left
    if (m_importing) {
        m_lastError = tr("An import is running; wait for it or cancel it first.");
        return false;
    }
    if (path.isEmpty()) {
        m_lastError = tr("No case file given.");
        return false;
    }
    const QString abs = QFileInfo(path).absoluteFilePath();
    if (QFileInfo(abs).isDir()) {
        m_lastError = tr("%1 is a folder, not a case file.").arg(QDir::toNativeSeparators(abs));
        return false;
    }
    if (create && !QFileInfo::exists(abs)) {
        try {
            CaseStore store;
            store.open(abs, true); // creates the schema
        } catch (const std::exception& e) {
            m_lastError = tr("Could not create the case %1: %2").arg(QDir::toNativeSeparators(abs), QString::fromUtf8(e.what()));
            return false;
        }
    } else if (!QFileInfo::exists(abs)) {
        m_lastError = tr("No such case file: %1").arg(QDir::toNativeSeparators(abs));
        return false;
    }
    auto reader = std::make_unique<CaseReader>(abs);
    if (!reader->isOpen()) {
        m_lastError = tr("Could not open the case: %1").arg(reader->error());
        return false;
    }

    m_model->setReader(nullptr);
    m_reader = std::move(reader);
    m_filterTimer.stop();
    {
        const QSignalBlocker block(m_filter);
        m_filter->clear();
    }
    m_model->setFilter(QString()); // no reader yet: no query
    m_model->clearIdFilter();
    m_idFilterBar->hide();
    if (m_truthDialog) m_truthDialog->close(); // the previous case's answer
    m_truthDialog = nullptr;
    m_truthRevealed = false;
    m_selection->clear();
    m_model->setScope(MessageScope{});
    m_model->setReader(m_reader.get());
    refreshDetectionFilters();
    reloadViews();
    updateDrillState();
    updateCounts();
    updateTitle();
    updateEmptyState();
    if (m_stack->currentIndex() == 1) m_table->setFocus(Qt::OtherFocusReason);
    addRecentCase(abs);
    emit caseOpened(abs);
    return true;
}

void MainWindow::closeCase() {
    if (m_importing) return;
    stopLive();
    m_model->setReader(nullptr);
    m_reader.reset();
    m_details->clear();
    m_model->clearIdFilter();
    m_selection->clear();
    m_model->setScope(MessageScope{});
    refreshDetectionFilters();
    reloadViews();
    m_idFilterBar->hide();
    if (m_truthDialog) m_truthDialog->close();
    m_truthDialog = nullptr;
    m_truthRevealed = false;
    updateDrillState();
    updateCounts();
    updateTitle();
    updateEmptyState();
}

void MainWindow::newCaseDialog() {
    if (m_importing) return;
    QSettings s = settings();
    const QString dir = s.value(QStringLiteral("lastDir"), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(this, tr("New case"), dir, tr("MailTriage cases (*.mtcase)"), nullptr,
                                                QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".mtcase");
    s.setValue(QStringLiteral("lastDir"), QFileInfo(path).absolutePath());
    if (QFileInfo::exists(path)) {
        // Never overwrite a case: it may hold days of an investigation.
        showError(tr("New case"), tr("%1 already exists. Choose another name, or open it with File > Open case.")
                                      .arg(QDir::toNativeSeparators(path)));
        return;
    }
    if (!openCase(path, true)) showError(tr("New case"), m_lastError);
}

void MainWindow::openCaseDialog() {
    if (m_importing) return;
    QSettings s = settings();
    const QString dir = s.value(QStringLiteral("lastDir"), QDir::homePath()).toString();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open case"), dir,
                                                      tr("MailTriage cases (*.mtcase);;All files (*)"));
    if (path.isEmpty()) return;
    s.setValue(QStringLiteral("lastDir"), QFileInfo(path).absolutePath());
    if (!openCase(path, false)) showError(tr("Open case"), m_lastError);
}

QStringList MainWindow::recentCases() {
    return settings().value(QStringLiteral("recentCases")).toStringList();
}

void MainWindow::addRecentCase(const QString& path) {
    QSettings s = settings();
    QStringList list = s.value(QStringLiteral("recentCases")).toStringList();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > kMaxRecent) list.removeLast();
    s.setValue(QStringLiteral("recentCases"), list);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = recentCases();
    int n = 0;
    for (const QString& path : list) {
        ++n;
        const QString text = QStringLiteral("&%1  %2  (%3)")
                                 .arg(n)
                                 .arg(QFileInfo(path).fileName(), QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
        QAction* a = m_recentMenu->addAction(text, this, [this, path] {
            if (openCase(path, false)) return;
            showError(tr("Open case"), m_lastError);
            QSettings s = settings();
            QStringList l = s.value(QStringLiteral("recentCases")).toStringList();
            l.removeAll(path);
            s.setValue(QStringLiteral("recentCases"), l);
        });
        a->setToolTip(path);
    }
    if (list.isEmpty()) {
        m_recentMenu->addAction(tr("(none yet)"))->setEnabled(false);
        return;
    }
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(tr("Clear list"), this, [] { settings().remove(QStringLiteral("recentCases")); });
}

// ---------------------------------------------------------------- presentation

void MainWindow::updateTitle() {
    if (m_reader && m_drillCase)
        setWindowTitle(tr("Drill — %1 — MailTriage").arg(QFileInfo(m_reader->path()).completeBaseName()));
    else if (m_reader && !m_reader->readOnlyNote().isEmpty())
        setWindowTitle(tr("%1 (read-only) — MailTriage").arg(QFileInfo(m_reader->path()).completeBaseName()));
    else if (m_reader)
        setWindowTitle(tr("%1 — MailTriage").arg(QFileInfo(m_reader->path()).completeBaseName()));
    else
        setWindowTitle(QStringLiteral("MailTriage"));
}

QString MainWindow::countsText() const {
    if (!m_reader) return tr("No case open");
    const QString counts = tr("Messages: %1    Deliveries: %2    Servers: %3    Users: %4    Units: %5    Rejected attempts: %6")
        .arg(num(m_counts.messages), num(m_counts.deliveries), num(m_counts.servers), num(m_counts.users),
             num(m_counts.units), num(m_counts.rejectedAttempts));
    // Evidence on a read-only mount: shown as it is, and the user told why nothing can change
    // (the whole note in the label's tooltip).
    if (!m_reader->readOnlyNote().isEmpty()) return tr("Read-only case (opened immutable)    ") + counts;
    return counts;
}

void MainWindow::updateCounts() {
    m_counts = m_reader ? m_reader->counts() : CaseCounts{};
    m_countsLabel->setToolTip(m_reader ? m_reader->readOnlyNote() : QString());
    m_countsLabel->setText(countsText());
    onIdsReloaded();
}

bool MainWindow::showsEmptyState() const { return m_stack->currentWidget() == m_emptyLabel; }

void MainWindow::updateEmptyState() {
    if (!m_reader) {
        m_emptyLabel->setText(tr(kEmptyText));
        m_stack->setCurrentWidget(m_emptyLabel);
    } else if (m_counts.messages == 0) {
        m_emptyLabel->setText(tr("The case “%1” has no messages yet.\nImport logs (Ctrl+I) or drop log files and org "
                                 "charts onto this window.")
                                  .arg(QFileInfo(m_reader->path()).completeBaseName()));
        m_stack->setCurrentIndex(0);
    } else {
        m_stack->setCurrentIndex(1);
    }
}

void MainWindow::updateActions() {
    for (QAction* a : {m_newAct, m_openAct, m_importLogsAct, m_importOrgAct, m_newDrillAct}) a->setEnabled(!m_importing);
    m_recentMenu->setEnabled(!m_importing);
    // Live monitoring detects by itself after every batch.
    for (QAction* a : {m_runDetectAct, m_fullDetectAct, m_editRulesAct, m_importRulesAct})
        a->setEnabled(m_reader && !m_importing && !m_live);
    m_exportRulesAct->setEnabled(m_reader != nullptr);
    m_exportReportAct->setEnabled(m_reader && !m_importing);
    m_exportDataMenu->setEnabled(m_reader != nullptr);
    m_showTruthAct->setEnabled(m_reader && m_drillCase && !m_truthWatcher.isRunning());
}

void MainWindow::showError(const QString& title, const QString& text) {
    m_lastError = text;
    if (m_interactive)
        QMessageBox::warning(this, title, text);
    else
        std::fprintf(stderr, "mailtriage: %s\n", qPrintable(text));
}

void MainWindow::focusFilter() {
    if (m_stack->currentIndex() != 1) return;
    m_filter->setFocus(Qt::ShortcutFocusReason);
    m_filter->selectAll();
}

void MainWindow::applyFilter() {
    m_filterTimer.stop();
    const QString text = m_filter->text().trimmed();
    if (text == m_model->filter()) return;
    m_model->setFilter(text);
}

void MainWindow::onIdsReloaded() {
    const int shown = m_model->rowCount();
    if (!m_reader)
        m_shownLabel->clear();
    else if (m_model->filter().isEmpty() && !m_model->hasIdFilter() && m_model->scope().isEmpty())
        m_shownLabel->setText(tr("%1 messages").arg(num(shown)));
    else
        m_shownLabel->setText(tr("%1 of %2 messages").arg(num(shown), num(m_counts.messages)));
    // Keep the message the details show, when it is still listed, and after a live batch the
    // place the analyst was looking at.
    const qint64 keep = m_details ? m_details->messageId() : -1;
    const int scroll = m_keepScroll;
    m_keepScroll = -1;
    const bool kept = keep > 0 && selectMessage(keep);
    if (scroll >= 0) m_table->verticalScrollBar()->setValue(scroll);
    if (kept) return;
    if (m_details) m_details->clear();
}

void MainWindow::onModelBusy(bool busy) {
    if (busy) {
        if (!m_busyTimer.isActive() && m_busyLabel->isHidden()) m_busyTimer.start();
        return;
    }
    m_busyTimer.stop();
    m_busyLabel->hide();
}

bool MainWindow::selectMessage(qint64 messageId) {
    const int row = m_model->rowOfMessage(messageId);
    if (row < 0) return false;
    const QModelIndex idx = m_model->index(row, 0);
    m_table->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(idx);
    if (m_details->messageId() != messageId) onCurrentRowChanged(row);
    return true;
}

qint64 MainWindow::selectedMessageId() const {
    const QModelIndex cur = m_table->selectionModel()->currentIndex();
    return cur.isValid() ? m_model->messageIdAt(cur.row()) : -1;
}

void MainWindow::onCurrentRowChanged(int row) {
    const MessageView* mv = m_model->messageAt(row);
    if (!m_reader || !mv || mv->id <= 0) {
        m_details->clear();
        return;
    }
    const MessageView message = *mv; // the page cache may move on while copies() runs
    m_selection->setMessage(message.id);
    m_details->showMessage(message, m_reader->copies(message.id));
    showEvidenceOf(message.id);
}

void MainWindow::about() {
    QMessageBox::about(
        this, tr("About MailTriage"),
        tr("<h3>MailTriage %1</h3>"
           "<p>Triage of mass-mailing worm outbreaks from mail server logs: which messages went where, "
           "through which servers, to whom, and from which workstation.</p>"
           "<p>Imports Postfix logs and organisation charts (CSV, LDIF) into a case file (SQLite).</p>")
            .arg(QCoreApplication::applicationVersion().isEmpty() ? QStringLiteral("0.1.0")
                                                                  : QCoreApplication::applicationVersion()));
}

// ---------------------------------------------------------------- settings

void MainWindow::restoreSettings() {
    if (!m_persistSettings) return;
    QSettings s = settings();
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) resize(1280, 800);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_splitter->restoreState(s.value(QStringLiteral("window/splitter")).toByteArray());
    m_adjustingColumns = true;
    if (m_table->horizontalHeader()->restoreState(s.value(QStringLiteral("window/messageColumns")).toByteArray()))
        m_autoSubjectWidth = s.value(QStringLiteral("window/autoSubjectWidth"), true).toBool();
    m_adjustingColumns = false;
}

void MainWindow::saveSettings() {
    if (!m_persistSettings) return;
    QSettings s = settings();
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    s.setValue(QStringLiteral("window/messageColumns"), m_table->horizontalHeader()->saveState());
    s.setValue(QStringLiteral("window/autoSubjectWidth"), m_autoSubjectWidth);
}

// ---------------------------------------------------------------- import

void MainWindow::classifyFiles(const QStringList& files, QStringList& logs, QStringList& orgCharts) {
    for (const QString& f : files) {
        const QString suffix = QFileInfo(f).suffix().toLower();
        if (suffix == QLatin1String("ldif")) {
            orgCharts << f;
        } else if (suffix == QLatin1String("csv") || suffix == QLatin1String("tsv")) {
            // A CSV is an org chart unless its content says traffic (a Microsoft 365 trace,
            // Exchange tracking, Zeek TSV or our own CSV schema).
            const LogFormat kind = sniffFile(f).format;
            const bool traffic = kind == LogFormat::M365 || kind == LogFormat::Csv || kind == LogFormat::Exchange ||
                                 kind == LogFormat::Zeek || kind == LogFormat::ZeekFiles;
            (traffic ? logs : orgCharts) << f;
        } else {
            logs << f;
        }
    }
}

OrgColumnMap MainWindow::guessOrgColumns(const QStringList& headers) {
    OrgColumnMap map;
    const QVector<int> guess = guessOrgColumnIndexes(headers);
    for (int i = 0; i < guess.size(); ++i)
        if (guess[i] >= 0) map[orgFields()[std::size_t(i)].key] = headers[guess[i]].toStdString();
    return map;
}

bool MainWindow::ensureCase() {
    if (m_reader) return true;
    if (!m_interactive) {
        m_lastError = tr("No case is open: open or create one first.");
        return false;
    }
    const auto answer = QMessageBox::question(this, tr("Import"),
                                              tr("No case is open. Create a new case for these files?"),
                                              QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Yes);
    if (answer != QMessageBox::Yes) return false;
    newCaseDialog();
    return m_reader != nullptr;
}

void MainWindow::importLogsDialog() {
    if (m_importing) return;
    QSettings s = settings();
    const QString dir = s.value(QStringLiteral("lastImportDir"), QDir::homePath()).toString();
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Import logs"), dir, tr("All files (*);;Mail logs (*.log *.log.* *.gz mail* maillog*)"));
    if (files.isEmpty()) return;
    s.setValue(QStringLiteral("lastImportDir"), QFileInfo(files.first()).absolutePath());
    importFiles(files, {}, true);
}

void MainWindow::importOrgChartDialog() {
    if (m_importing) return;
    QSettings s = settings();
    const QString dir = s.value(QStringLiteral("lastImportDir"), QDir::homePath()).toString();
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Import org chart"), dir, tr("Org charts (*.csv *.tsv *.txt *.ldif);;All files (*)"));
    if (files.isEmpty()) return;
    s.setValue(QStringLiteral("lastImportDir"), QFileInfo(files.first()).absolutePath());
    importFiles({}, files, true);
}

void MainWindow::importFiles(const QStringList& logs, const QStringList& orgCharts, bool askMapping) {
    if (logs.isEmpty() && orgCharts.isEmpty()) return;
    if (m_importing) {
        showError(tr("Import"), tr("An import is already running."));
        return;
    }
    if (!ensureCase()) {
        if (!m_interactive) showError(tr("Import"), m_lastError);
        return;
    }
    OrgColumnMap map;
    if (askMapping && m_interactive) {
        // One mapping for the CSV files of this import, asked with the first one's header.
        for (const QString& p : orgCharts) {
            if (QFileInfo(p).suffix().compare(QLatin1String("ldif"), Qt::CaseInsensitive) == 0) continue;
            const QStringList headers = orgCsvHeaders(p);
            if (headers.isEmpty()) break; // not readable as CSV: the importer says why
            if (!askOrgColumns(this, p, headers, map)) return;
            break;
        }
    }
    if (!startImport(logs, orgCharts, map)) showError(tr("Import"), m_lastError);
}

bool MainWindow::startImport(const QStringList& logs, const QStringList& orgCharts, const OrgColumnMap& orgColumns) {
    m_lastError.clear();
    if (!m_reader) {
        m_lastError = tr("No case is open: open or create one first.");
        return false;
    }
    if (m_importing) {
        m_lastError = tr("An import is already running.");
        return false;
    }
    if (logs.isEmpty() && orgCharts.isEmpty()) {
        m_lastError = tr("Nothing to import.");
        return false;
    }
    m_importing = true;
    m_cancel = false;
    showWorkerProgress(tr("Importing %n file(s)…", nullptr, int(logs.size() + orgCharts.size())));
    m_cancelButton->setToolTip(tr("Stop the import; the file being imported is rolled back"));
    updateActions();

    const QString path = m_reader->path();
    const std::string zone = settings().value(QStringLiteral("import/timeZone")).toString().toStdString();
    m_watcher.setFuture(QtConcurrent::run([path, logs, orgCharts, orgColumns, zone, cancel = &m_cancel, this] {
        return runImport(path, logs, orgCharts, orgColumns, zone, cancel, this);
    }));
    emit importStarted();
    return true;
}

void MainWindow::cancelImport() {
    // Imports, drills and data exports share the progress bar and its Cancel.
    if (!m_importing && m_progressBar->isHidden()) return;
    m_cancel = true;
    m_cancelButton->setEnabled(false);
    m_progressLabel->setText(tr("Cancelling…"));
}

void MainWindow::showWorkerProgress(const QString& text) {
    m_progressBar->setValue(0);
    m_progressLabel->setText(text);
    m_progressLabel->show();
    m_progressBar->show();
    m_cancelButton->setEnabled(true);
    m_cancelButton->show();
}

void MainWindow::hideWorkerProgress() {
    m_progressLabel->hide();
    m_progressBar->hide();
    m_cancelButton->hide();
}

void MainWindow::waitForWorkers() {
    m_watcher.waitForFinished();
    m_drillWatcher.waitForFinished();
    m_truthWatcher.waitForFinished();
    m_detectWatcher.waitForFinished();
    m_recallWatcher.waitForFinished();
}

void MainWindow::onImportProgress(qint64 done, qint64 total, const QString& file) {
    if (!m_importing) return;
    m_progressBar->setValue(total > 0 ? int(std::min<qint64>(1000, done * 1000 / total)) : 0);
    if (!m_cancel) m_progressLabel->setText(tr("Importing %1…").arg(QFileInfo(file).fileName()));
}

void MainWindow::onImportFinished() {
    if (!m_importing) return;
    m_importing = false;
    m_lastReport = m_watcher.result();
    hideWorkerProgress();
    updateActions();

    // Counts first (the "n of m" label uses them), then the ids; onIdsReloaded keeps the
    // selected message when it is still listed.
    m_counts = m_reader ? m_reader->counts() : CaseCounts{};
    m_countsLabel->setText(countsText());
    m_model->reload();
    reloadViews();
    updateEmptyState();
    if (m_stack->currentIndex() == 1 && !m_filter->hasFocus()) m_table->setFocus(Qt::OtherFocusReason);
    // New messages: judge them now (incremental when they only extend the case in time).
    if (m_reader && m_counts.messages > 0 && detectsAfterImport() && !m_lastReport.cancelled) runDetection(false);

    m_lastSummary = buildSummary(m_lastReport, false);
    if (m_interactive) {
        auto* dlg = new QDialog(this);
        dlg->setAttribute(Qt::WA_DeleteOnClose);
        dlg->setWindowTitle(m_lastReport.cancelled ? tr("Import cancelled")
                            : m_lastReport.anyFailed() ? tr("Import finished with failures")
                                                       : tr("Import finished"));
        auto* layout = new QVBoxLayout(dlg);
        auto* text = new QTextBrowser(dlg);
        text->setHtml(buildSummary(m_lastReport, true));
        layout->addWidget(text);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dlg);
        connect(buttons, &QDialogButtonBox::rejected, dlg, &QDialog::close);
        layout->addWidget(buttons);
        dlg->resize(720, 420);
        dlg->show();
    }
    emit importFinished(m_lastReport.cancelled);
}

QString MainWindow::buildSummary(const ImportReport& report, bool html) const {
    struct Line {
        int indent;
        QString text;
        int tone; // 0 plain, 1 ok, 2 failure, 3 muted
    };
    QVector<Line> lines;
    int ok = 0, failed = 0, cancelled = 0;
    for (const FileReport& f : report.files) {
        if (f.ok) ++ok;
        else if (f.cancelled) ++cancelled;
        else ++failed;
    }
    QString head = tr("%n file(s) imported", nullptr, ok);
    if (failed) head += tr(", %n failed", nullptr, failed);
    if (cancelled) head += tr(", %n cancelled", nullptr, cancelled);
    lines.push_back({0, head + QLatin1Char('.'), 0});

    for (const FileReport& f : report.files) {
        const QString name = fileName(f.figures.path);
        const auto& g = f.figures;
        const bool org = g.kind != "postfix" && !g.kind.empty();
        if (f.ok) {
            QString t = tr("%1: imported — %2 lines, %3 accepted, %4 rejected, %5 skipped; %6 %7 in %8 s")
                            .arg(name, num(g.lines), num(g.accepted), num(g.rejected), num(g.skipped), num(f.messages),
                                 org ? tr("people") : tr("message copies"),
                                 QString::number(double(g.durationMs) / 1000.0, 'f', 1));
            lines.push_back({0, t, 1});
        } else if (f.cancelled) {
            lines.push_back({0, tr("%1: cancelled — nothing from this file was imported.").arg(name), 2});
        } else {
            QString why = QString::fromStdString(f.error);
            if (why.isEmpty()) why = tr("unknown error");
            lines.push_back({0, tr("%1: FAILED — %2. Nothing from this file was imported.").arg(name, why), 2});
        }
        int shown = 0;
        for (const ParseIssue& i : f.issues) {
            if (shown++ == kIssuesShownPerFile) {
                lines.push_back({1, tr("… and %1 more listed (%2 rejected lines in all)")
                                        .arg(num(qint64(f.issues.size()) - kIssuesShownPerFile), num(g.rejected)), 3});
                break;
            }
            const QString where = i.line > 0 ? QStringLiteral("%1:%2").arg(fileName(i.file.empty() ? g.path : i.file)).arg(i.line)
                                             : fileName(i.file.empty() ? g.path : i.file);
            lines.push_back({1, where + QStringLiteral(": ") + QString::fromStdString(i.reason), 0});
        }
        for (const std::string& n : f.notices) lines.push_back({1, tr("note: %1").arg(QString::fromStdString(n)), 3});
    }
    if (report.cancelled)
        lines.push_back({0, tr("The import was cancelled. Files finished before the cancel were kept; the file in progress "
                               "was rolled back."), 3});

    QString out;
    if (!html) {
        for (const Line& l : lines) out += QString(l.indent * 4, QLatin1Char(' ')) + l.text + QLatin1Char('\n');
        return out;
    }
    for (const Line& l : lines) {
        QString t = l.text.toHtmlEscaped();
        if (l.tone == 1) t = QStringLiteral("<span style=\"color:#1b7a1b\">✔</span> ") + t;
        else if (l.tone == 2) t = QStringLiteral("<span style=\"color:#b00020; font-weight:600\">✖ ") + t + QStringLiteral("</span>");
        else if (l.tone == 3) t = QStringLiteral("<span style=\"color:gray\">") + t + QStringLiteral("</span>");
        if (l.indent) t = QStringLiteral("<span style=\"font-family:monospace\">") + t + QStringLiteral("</span>");
        out += QStringLiteral("<p style=\"margin:2px 0 2px %1px\">%2</p>").arg(l.indent * 24).arg(t);
    }
    return out;
}

// ---------------------------------------------------------------- drills

void MainWindow::newDrillDialog() {
    if (m_importing) return;
    DrillDialog dlg(this);
    if (dlg.exec() != QDialog::Accepted) return;
    if (!startDrill(dlg.request())) showError(tr("New drill"), m_lastError);
}

bool MainWindow::startDrill(const DrillRequest& request) {
    m_lastError.clear();
    if (m_importing) {
        m_lastError = m_drillRunning ? tr("A drill is being prepared already.")
                                     : tr("An import is running; wait for it or cancel it first.");
        return false;
    }
    if (request.casePath.trimmed().isEmpty()) {
        m_lastError = tr("No case file given for the drill.");
        return false;
    }
    DrillRequest r = request;
    r.casePath = QFileInfo(request.casePath.trimmed()).absoluteFilePath();
    if (QFileInfo::exists(r.casePath)) {
        m_lastError = tr("%1 already exists. A drill never overwrites a case: choose another name.")
                          .arg(QDir::toNativeSeparators(r.casePath));
        return false;
    }
    if (r.options.outDir.isEmpty()) r.options.outDir = drillLogsDir(r.casePath);

    m_importing = true;
    m_drillRunning = true;
    m_cancel = false;
    showWorkerProgress(tr("Generating the drill’s mail…"));
    m_cancelButton->setToolTip(tr("Stop the drill; nothing of it is kept"));
    updateActions();
    m_drillWatcher.setFuture(QtConcurrent::run([r, cancel = &m_cancel, this] {
        return runDrill(r, cancel, [this](DrillPhase phase, int permille, const QString& what) {
            emit drillProgress(int(phase), permille, what);
        });
    }));
    emit drillStarted();
    return true;
}

void MainWindow::onDrillProgress(int phase, int permille, const QString& what) {
    if (!m_drillRunning) return;
    m_progressBar->setValue(permille);
    if (!m_cancel && !what.isEmpty()) m_progressLabel->setText(what);
}

void MainWindow::onDrillFinished() {
    if (!m_drillRunning) return;
    m_drillRunning = false;
    m_importing = false;
    m_lastDrill = m_drillWatcher.result();
    hideWorkerProgress();
    updateActions();
    m_lastReport = m_lastDrill.report;
    m_lastSummary = buildSummary(m_lastReport, false);

    if (m_lastDrill.cancelled) {
        m_lastError = tr("The drill was cancelled.");
        statusBar()->showMessage(tr("Drill cancelled: nothing of it was kept."), 15000);
        emit drillFinished(false, true);
        return;
    }
    if (!m_lastDrill.ok) {
        showError(tr("New drill"), m_lastDrill.error);
        emit drillFinished(false, false);
        return;
    }
    if (!openCase(m_lastDrill.casePath, false)) {
        showError(tr("New drill"), m_lastError);
        emit drillFinished(false, false);
        return;
    }
    if (m_stack->currentIndex() == 1) m_table->setFocus(Qt::OtherFocusReason);
    statusBar()->showMessage(tr("Drill ready: %1 messages. The truth is hidden; Drill › Show truth… reveals it when "
                                "you are done.")
                                 .arg(num(m_counts.messages)),
                             60000);
    emit drillFinished(true, false);
}

void MainWindow::updateDrillState() {
    m_drillCase = m_reader && QFileInfo::exists(drillTruthPath(m_reader->path()));
    if (!m_drillCase) {
        m_drillLabel->hide();
    } else {
        m_drillLabel->setText(m_truthRevealed ? tr("Drill · truth revealed") : tr("Drill · truth hidden"));
        m_drillLabel->setToolTip(m_truthRevealed ? tr("Drill › Show truth… shows the answer again")
                                                 : tr("This case is a drill. Drill › Show truth… reveals the answer."));
        m_drillLabel->setStyleSheet(m_truthRevealed
                                        ? QStringLiteral("QLabel { background:#fde2e1; color:#7a1c1c; border-radius:3px; padding:1px 8px; }")
                                        : QStringLiteral("QLabel { background:#fff3cd; color:#664d03; border-radius:3px; padding:1px 8px; }"));
        m_drillLabel->show();
    }
    updateTitle();
    updateActions();
}

void MainWindow::showTruth() {
    if (!m_reader || !m_drillCase) return;
    if (m_truthDialog) {
        m_truthDialog->show();
        m_truthDialog->raise();
        m_truthDialog->activateWindow();
        return;
    }
    if (m_truthWatcher.isRunning()) return;
    if (m_interactive && !m_truthRevealed) {
        const auto answer = QMessageBox::question(
            this, tr("Show truth"),
            tr("This reveals the answer to the drill: the worm, patient zero, who infected whom and which messages "
               "are the worm’s.\n\nIf you are still investigating, stop here. Reveal the truth now?"),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Yes) return;
    }
    const QString casePath = m_reader->path();
    const QString truthPath = drillTruthPath(casePath);
    m_truthWatcher.setFuture(QtConcurrent::run([casePath, truthPath] {
        TruthLoad t;
        t.casePath = casePath;
        t.ok = sim::readTruth(truthPath, t.truth, &t.error);
        if (!t.ok && t.error.isEmpty()) t.error = tr("unreadable");
        return t;
    }));
    updateActions();
}

void MainWindow::onTruthLoaded() {
    const TruthLoad t = m_truthWatcher.result();
    updateActions();
    if (!m_reader || t.casePath != m_reader->path()) return; // another case was opened meanwhile
    if (!t.ok) {
        showError(tr("Show truth"), tr("Could not read the drill’s truth %1: %2")
                                        .arg(QDir::toNativeSeparators(drillTruthPath(t.casePath)), t.error));
        return;
    }
    m_truthRevealed = true;
    statusBar()->clearMessage(); // "the truth is hidden" no longer holds
    updateDrillState();
    auto* dlg = new TruthDialog(t.truth, t.casePath, this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    connect(dlg, &TruthDialog::showMessagesRequested, this, &MainWindow::showOnlyMessages);
    m_truthDialog = dlg;
    dlg->show();
    emit truthShown();
}

void MainWindow::showOnlyMessages(const QSet<QString>& messageIds, const QString& what) {
    if (!m_reader) return;
    QSet<QString> ids;
    ids.reserve(messageIds.size());
    for (const QString& id : messageIds) ids.insert(TruthDialog::bareMessageId(id));
    m_idFilterLabel->setText(tr("Only the %1 (%2)").arg(what, num(ids.size())));
    m_idFilterBar->show();
    m_model->setIdFilter(ids);
}

void MainWindow::showAllMessages() {
    m_idFilterBar->hide();
    m_model->clearIdFilter();
}

TruthDialog* MainWindow::truthDialog() const { return m_truthDialog.data(); }

bool MainWindow::showsOnlySomeMessages() const { return m_model->hasIdFilter(); }

// ---------------------------------------------------------------- window events

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_importing) {
        if (m_interactive) {
            const auto answer = QMessageBox::question(
                this, tr("Quit"),
                m_drillRunning ? tr("A drill is being prepared. Cancel it and quit? Nothing of it is kept.")
                               : tr("An import is running. Cancel it and quit? The file being imported is rolled back."),
                QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
            if (answer != QMessageBox::Yes) {
                event->ignore();
                return;
            }
        }
        m_cancel = true;
    }
    waitForWorkers();
    saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (m_importing || !event->mimeData()->hasUrls()) return;
    for (const QUrl& u : event->mimeData()->urls()) {
        if (u.isLocalFile()) {
            event->acceptProposedAction();
            return;
        }
    }
}

void MainWindow::dropEvent(QDropEvent* event) {
    QStringList files;
    for (const QUrl& u : event->mimeData()->urls()) {
        if (!u.isLocalFile()) continue;
        const QFileInfo fi(u.toLocalFile());
        if (fi.isDir()) {
            for (const QFileInfo& child : QDir(fi.absoluteFilePath()).entryInfoList(QDir::Files, QDir::Name))
                files << child.absoluteFilePath();
        } else {
            files << fi.absoluteFilePath();
        }
    }
    if (files.isEmpty()) return;
    event->acceptProposedAction();
    QStringList logs, orgs;
    classifyFiles(files, logs, orgs);
    // Not from inside the drop handler: dialogs (mapping, new case) would run inside the drag.
    QTimer::singleShot(0, this, [this, logs, orgs] { importFiles(logs, orgs, true); });
}

// ---------------------------------------------------------------- entry point

namespace {

int takeScreenshot(MainWindow& w, const QString& out) {
    w.show();
    QCoreApplication::processEvents();
    if (w.isDetecting()) {
        QEventLoop loop;
        QObject::connect(&w, &MainWindow::detectionFinished, &loop, &QEventLoop::quit);
        loop.exec();
    }
    // The ids are read on a worker thread: the picture wants them in the table.
    if (!w.messageModel()->waitForIdle(10 * 60 * 1000)) {
        std::fprintf(stderr, "mailtriage: the messages did not load in time for the screenshot\n");
        return 1;
    }
    // The views load on workers; the picture wants them drawn.
    w.campaignPanel()->loadNow();
    w.timelineView()->loadNow();
    if (w.hasCase()) w.orgMapPanel()->openCase(w.casePath());
    if (w.hasCase() && !w.reader()->recallStateCounts().isEmpty()) {
        w.refreshRecall();
        w.showRecallPanel();
    }
    // A campaign's patient zero when there is one (the list shows the campaign, the panel its
    // tree, the details the evidence), else the first message.
    const QVector<CampaignView> campaigns = w.hasCase() ? w.reader()->campaigns() : QVector<CampaignView>{};
    if (!campaigns.isEmpty()) {
        w.setCampaignFilter(campaigns.first().id);
        w.messageModel()->waitForIdle(10 * 60 * 1000);
        w.campaignPanel()->loadNow();
        w.selectMessage(campaigns.first().patientZeroMessage);
    } else if (w.messageModel()->rowCount() > 0) w.selectMessage(w.messageModel()->messageIdAt(0));
    else if (w.messageModel()->rowCount() > 0) w.selectMessage(w.messageModel()->messageIdAt(0));
    for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
    const QPixmap pm = w.grab();
    if (pm.isNull() || !pm.save(out)) {
        std::fprintf(stderr, "mailtriage: could not write the screenshot to %s\n", qPrintable(out));
        return 1;
    }
    return 0;
}

} // namespace

int runGui(QApplication& app) {
    QCoreApplication::setOrganizationName(QStringLiteral("MailTriage"));
    QCoreApplication::setApplicationName(QStringLiteral("MailTriage"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("MailTriage: investigate mass-mailing worms from mail server logs."));
    const QCommandLineOption helpOpt = parser.addHelpOption();
    const QCommandLineOption versionOpt = parser.addVersionOption();
    const QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Open the case FILE (created when LOGS are given and it does not exist)."),
                                     QStringLiteral("FILE"));
    const QCommandLineOption shotOpt(QStringLiteral("screenshot"),
                                     QStringLiteral("Render the main window to OUT.png (after loading --case and importing LOGS) and exit."),
                                     QStringLiteral("OUT.png"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1280x800)."),
                                     QStringLiteral("WxH"));
    const QCommandLineOption viewOpt(QStringLiteral("view"),
                                     QStringLiteral("What --screenshot renders: main (the window, default), map, timeline, campaign, or rules (the rule editor)."),
                                     QStringLiteral("VIEW"), QStringLiteral("main"));
    parser.addOption(caseOpt);
    parser.addOption(shotOpt);
    parser.addOption(sizeOpt);
    parser.addOption(viewOpt);
    parser.addPositionalArgument(QStringLiteral("LOGS"),
                                 QStringLiteral("Log files to import into the case (.csv, .tsv and .ldif files are imported as org charts)."),
                                 QStringLiteral("[LOGS...]"));
    if (!parser.parse(app.arguments())) {
        std::fprintf(stderr, "mailtriage: %s\n\n%s", qPrintable(parser.errorText()), qPrintable(parser.helpText()));
        return 2;
    }
    if (parser.isSet(helpOpt)) parser.showHelp(0);
    if (parser.isSet(versionOpt)) parser.showVersion();

    const bool shot = parser.isSet(shotOpt);
    QSize size(1280, 800);
    if (parser.isSet(sizeOpt)) {
        const QRegularExpressionMatch m =
            QRegularExpression(QStringLiteral("^(\\d{3,4})[xX](\\d{3,4})$")).match(parser.value(sizeOpt));
        if (!m.hasMatch()) {
            std::fprintf(stderr, "mailtriage: --size wants WxH, e.g. 1280x800 (got \"%s\")\n", qPrintable(parser.value(sizeOpt)));
            return 2;
        }
        size = QSize(m.captured(1).toInt(), m.captured(2).toInt());
    }
    if (shot && parser.value(shotOpt).isEmpty()) {
        std::fprintf(stderr, "mailtriage: --screenshot needs a file name\n");
        return 2;
    }
    const QString view = parser.value(viewOpt);
    if (!QStringList{QStringLiteral("main"), QStringLiteral("rules"), QStringLiteral("timeline"), QStringLiteral("campaign"), QStringLiteral("map")}.contains(view)) {
        std::fprintf(stderr, "mailtriage: --view wants main, map, timeline, campaign or rules (got \"%s\")\n", qPrintable(view));
        return 2;
    }

    QStringList logs, orgs;
    MainWindow::classifyFiles(parser.positionalArguments(), logs, orgs);
    const bool haveFiles = !logs.isEmpty() || !orgs.isEmpty();

    MainWindow w;
    w.setInteractive(!shot);
    w.setPersistSettings(!shot);
    if (shot) w.resize(size);
    else w.restoreSettings();

    QString openError;
    if (parser.isSet(caseOpt)) {
        const QString path = parser.value(caseOpt);
        if (!w.openCase(path, haveFiles)) openError = w.lastError();
    }

    if (shot) {
        if (!openError.isEmpty()) {
            std::fprintf(stderr, "mailtriage: %s\n", qPrintable(openError));
            return 1;
        }
        const QString out = parser.value(shotOpt);
        if (view == QLatin1String("timeline") || view == QLatin1String("campaign") || view == QLatin1String("map")) {
            QString error;
            const bool ok = view == QLatin1String("timeline")   ? renderTimelineScreenshot(w.casePath(), out, size, &error)
                            : view == QLatin1String("campaign") ? renderCampaignScreenshot(w.casePath(), out, size, &error)
                                                                : renderOrgMapScreenshot(w.casePath(), out, size, &error);
            if (!ok) std::fprintf(stderr, "mailtriage: %s\n", qPrintable(error));
            return ok ? 0 : 1;
        }
        if (view == QLatin1String("rules")) {
            RuleSetEditor editor;
            editor.setRuleSet(w.caseRuleSet());
            editor.resize(size);
            editor.show();
            for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
            return editor.grab().save(out) ? 0 : 1;
        }
        if (!haveFiles) return takeScreenshot(w, out);
        if (!w.startImport(logs, orgs)) {
            std::fprintf(stderr, "mailtriage: %s\n", qPrintable(w.lastError()));
            return 1;
        }
        QObject::connect(&w, &MainWindow::importFinished, &app, [&] {
            QTimer::singleShot(0, &app, [&] { QCoreApplication::exit(takeScreenshot(w, out)); });
        });
        return app.exec();
    }

    w.show();
    if (!openError.isEmpty()) QMessageBox::warning(&w, MainWindow::tr("Open case"), openError);
    if (haveFiles) {
        if (w.hasCase())
            w.startImport(logs, orgs);
        else
            QTimer::singleShot(0, &w, [&w, logs, orgs] { w.importFiles(logs, orgs, true); });
    }
    return app.exec();
}

} // namespace mt::gui
