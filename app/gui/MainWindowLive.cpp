// The main window's live monitoring (issue 10): File > Follow logs… starts a LiveIngest that
// tails log files and/or listens for syslog, appends to the open case about once a second and
// detects after each batch. A new campaign raises a desktop notification and a banner with
// its pending recall plan (never recalled without a person, unless the analyst switches on
// auto-suspend for it). The views re-read the case at most every two seconds, keeping the
// selected message and the list's scroll position.
#include "MainWindow.h"
#include "Settings.h"

#include "model/AnalysisSelection.h"
#include "model/MessageTableModel.h"
#include "model/live/LiveIngest.h"

#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QToolButton>
#include <QRegularExpression>
#include <QSettings>
#include <QTimer>
#include <QVBoxLayout>

namespace mt::gui {

namespace {
QString num(qint64 n) { return QLocale().toString(n); }
} // namespace

void MainWindow::buildLiveUi(QMenu* file) {
    m_followAct = file->addAction(tr("&Follow logs…"), this, &MainWindow::followLogsDialog);
    m_followAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    m_followAct->setStatusTip(tr("Watch growing log files and syslog from the mail servers; detect as mail arrives"));
    m_stopFollowAct = file->addAction(tr("S&top following"), this, &MainWindow::stopLive);
    m_stopFollowAct->setEnabled(false);

    m_liveLabel = new QLabel(this);
    m_liveLabel->setObjectName(QStringLiteral("liveIndicator"));
    statusBar()->addPermanentWidget(m_liveLabel);
    m_liveLabel->hide();

    // "New campaign #3 … detected at …: recall plan with N copies waits  [Review] [Auto-suspend] [x]"
    m_alertBar = new QWidget(this);
    m_alertBar->setObjectName(QStringLiteral("liveAlert"));
    m_alertBar->setStyleSheet(QStringLiteral("#liveAlert { background:#fde2e1; } QLabel { color:#7a1c1c; font-weight:600; }"));
    auto* bar = new QHBoxLayout(m_alertBar);
    bar->setContentsMargins(8, 4, 8, 4);
    m_alertLabel = new QLabel(m_alertBar);
    m_alertLabel->setWordWrap(true);
    auto* review = new QPushButton(tr("Review recall plan"), m_alertBar);
    connect(review, &QPushButton::clicked, this, [this] {
        if (m_alertCampaign > 0) m_selection->setCampaign(m_alertCampaign);
        refreshRecall();
        showRecallPanel();
    });
    auto* autoSuspend = new QPushButton(tr("Auto-suspend this campaign…"), m_alertBar);
    autoSuspend->setToolTip(tr("Approve its recall as it grows, in your name: copies are suspended (never deleted) without asking"));
    connect(autoSuspend, &QPushButton::clicked, this, [this] {
        if (!m_live || m_alertId <= 0) return;
        const QString who = askApprover(tr("Auto-suspend"),
                                        tr("<p>Every copy of this campaign that arrives from now on will be suspended without asking, "
                                           "approved in your name. Nothing is deleted without a verdict.</p>"),
                                        tr("&Auto-suspend"));
        if (who.isEmpty()) return;
        m_live->setAutoSuspend(m_alertId, who, true);
        statusBar()->showMessage(tr("Auto-suspend on for this campaign, approved by %1.").arg(who), 8000);
    });
    auto* close = new QToolButton(m_alertBar);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Hide this alert (the plan stays in the Recall panel)"));
    connect(close, &QToolButton::clicked, m_alertBar, &QWidget::hide);
    bar->addWidget(m_alertLabel, 1);
    bar->addWidget(review);
    bar->addWidget(autoSuspend);
    bar->addWidget(close);
    m_alertBar->hide();
    if (m_contentLayout) m_contentLayout->insertWidget(0, m_alertBar);

    m_liveRefresh.setSingleShot(true);
    m_liveRefresh.setInterval(2000);
    connect(&m_liveRefresh, &QTimer::timeout, this, &MainWindow::refreshAfterLiveBatch);
}

bool MainWindow::startLive(const live::LiveConfig& config) {
    m_lastError.clear();
    if (!m_reader) {
        m_lastError = tr("Open or create a case to follow logs into.");
        return false;
    }
    if (m_live || m_importing) {
        m_lastError = m_live ? tr("Already following.") : tr("The case is busy; try again when it is done.");
        return false;
    }
    auto ingest = std::make_unique<live::LiveIngest>(m_reader->path(), config);
    connect(ingest.get(), &live::LiveIngest::appended, this, [this](qint64 messages) {
        m_liveMessages = messages;
        if (!m_liveRefresh.isActive()) m_liveRefresh.start();
    });
    connect(ingest.get(), &live::LiveIngest::campaignsUpdated, this, [this] {
        m_liveCampaignsChanged = true;
        if (!m_liveRefresh.isActive()) m_liveRefresh.start();
    });
    connect(ingest.get(), &live::LiveIngest::newCampaign, this, &MainWindow::onLiveCampaign);
    connect(ingest.get(), &live::LiveIngest::planProposed, this, [this](qint64 alertId, qint64 campaignId, qint64 proposed) {
        if (alertId == m_alertId) {
            m_alertProposed = proposed;
            m_alertCampaign = campaignId;
            updateAlertText();
        }
        refreshRecall();
    });
    connect(ingest.get(), &live::LiveIngest::stats, this, [this](const live::LiveStats& s) {
        m_liveLabel->setText(tr("● Live: %1 lines, %2 messages, lag %3 ms").arg(num(s.lines), num(s.messages)).arg(s.lagMs));
        m_liveLabel->setToolTip(tr("Last batch: %1 lines (%2 rejected) in %3 ms; %4 queued, %5 dropped; syslog: %6 received, "
                                   "%7 malformed, %8 oversized, %9 refused")
                                    .arg(num(s.batchLines), num(s.rejected)).arg(s.batchMs)
                                    .arg(num(s.queued), num(s.dropped), num(s.listener.received), num(s.listener.malformed),
                                         num(s.listener.oversized), num(s.listener.refused)));
    });
    connect(ingest.get(), &live::LiveIngest::notice, this, [this](const QString& what) { statusBar()->showMessage(what, 8000); });
    if (!ingest->start()) {
        m_lastError = tr("Could not start following: %1").arg(ingest->error());
        return false;
    }
    m_live = std::move(ingest);
    if (!m_live->previousSessionNote().isEmpty()) statusBar()->showMessage(m_live->previousSessionNote(), 15000);
    m_liveLabel->setText(tr("● Live"));
    m_liveLabel->show();
    m_followAct->setEnabled(false);
    m_stopFollowAct->setEnabled(true);
    updateActions();
    emit liveStarted();
    return true;
}

void MainWindow::stopLive() {
    if (!m_live) return;
    m_live->stop();
    m_live.reset();
    m_liveLabel->hide();
    m_followAct->setEnabled(true);
    m_stopFollowAct->setEnabled(false);
    refreshAfterLiveBatch();
    updateActions();
    statusBar()->showMessage(tr("Stopped following; everything received is in the case."), 8000);
}

void MainWindow::refreshAfterLiveBatch() {
    if (!m_reader) return;
    // Keep where the analyst is: the selected message (onIdsReloaded re-selects it) and the
    // list's scroll position.
    m_keepScroll = m_table->verticalScrollBar()->value();
    m_counts = m_reader->counts();
    m_countsLabel->setText(countsText());
    m_model->reload();
    updateEmptyState();
    if (m_liveCampaignsChanged) {
        m_liveCampaignsChanged = false;
        refreshDetectionFilters();
        reloadViews();
    }
    emit liveRefreshed();
}

void MainWindow::onLiveCampaign(qint64 campaignId, const QString& label, qint64 detectedAt, qint64 alertId) {
    m_alertId = alertId;
    m_alertCampaign = campaignId;
    m_alertLabelText = label;
    m_alertDetectedAt = detectedAt;
    m_alertProposed = 0;
    updateAlertText();
    m_alertBar->show();
    m_lastAlert = tr("New campaign: %1").arg(label);
    // The desktop notification, and the taskbar's attention when the window is behind.
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(windowIcon(), this);
            connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
                showNormal();
                raise();
                activateWindow();
            });
        }
        m_tray->show();
        m_tray->showMessage(tr("MailTriage: worm-like mail detected"),
                            tr("%1, detected at %2. A recall plan waits for your approval.")
                                .arg(label, MessageTableModel::formatTime(detectedAt)),
                            QSystemTrayIcon::Warning, 15000);
    }
    QApplication::alert(this);
    if (!m_interactive) std::fprintf(stderr, "mailtriage: %s\n", qPrintable(m_lastAlert));
    refreshAfterLiveBatch();
    emit liveAlert(campaignId, label);
}

void MainWindow::updateAlertText() {
    m_alertLabel->setText(tr("⚠ New campaign #%1 “%2”, detected at %3 UTC. %4")
                              .arg(m_alertCampaign)
                              .arg(m_alertLabelText, MessageTableModel::formatTime(m_alertDetectedAt),
                                   m_alertProposed > 0 ? tr("A recall plan of %1 copies waits for your approval.").arg(num(m_alertProposed))
                                                       : tr("Its recall plan is being prepared.")));
}

void MainWindow::followLogsDialog() {
    if (!ensureCase()) return;
    QDialog dlg(this);
    dlg.setWindowTitle(tr("Follow logs"));
    auto* form = new QFormLayout(&dlg);
    auto* files = new QListWidget(&dlg);
    const QStringList last = settings().value(QStringLiteral("live/files")).toStringList();
    for (const QString& f : last) files->addItem(f);
    auto* add = new QPushButton(tr("&Add files…"), &dlg);
    auto* remove = new QPushButton(tr("&Remove"), &dlg);
    connect(add, &QPushButton::clicked, &dlg, [&] {
        for (const QString& f : QFileDialog::getOpenFileNames(&dlg, tr("Log files to follow"), QStringLiteral("/var/log")))
            if (files->findItems(f, Qt::MatchExactly).isEmpty()) files->addItem(f);
    });
    connect(remove, &QPushButton::clicked, &dlg, [&] { qDeleteAll(files->selectedItems()); });
    auto* fileButtons = new QHBoxLayout;
    fileButtons->addWidget(add);
    fileButtons->addWidget(remove);
    fileButtons->addStretch();
    form->addRow(tr("Files (rotation followed):"), files);
    form->addRow(QString(), fileButtons);
    auto port = [&](const QString& key) {
        auto* s = new QSpinBox(&dlg);
        s->setRange(0, 65535);
        s->setSpecialValueText(tr("off"));
        s->setValue(settings().value(key, 0).toInt());
        return s;
    };
    QSpinBox* udp = port(QStringLiteral("live/udpPort"));
    QSpinBox* tcp = port(QStringLiteral("live/tcpPort"));
    form->addRow(tr("Syslog over &UDP, port:"), udp);
    form->addRow(tr("Syslog over &TCP, port:"), tcp);
    auto* allow = new QLineEdit(settings().value(QStringLiteral("live/allow")).toString(), &dlg);
    allow->setPlaceholderText(tr("10.0.0.25, 10.0.1.0/24, mx1.corp.example (empty: this machine only)"));
    form->addRow(tr("&Accept syslog from:"), allow);
    auto* note = new QLabel(tr("Lines are committed to the case at least once a second and detection runs after each batch. "
                               "A new campaign raises a notification and a recall plan that waits for your approval."), &dlg);
    note->setWordWrap(true);
    form->addRow(note);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, &dlg);
    buttons->addButton(tr("&Start following"), QDialogButtonBox::AcceptRole);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    dlg.resize(640, 460);
    if (dlg.exec() != QDialog::Accepted) return;
    live::LiveConfig config;
    for (int i = 0; i < files->count(); ++i) config.files << files->item(i)->text();
    config.syslog.udpPort = udp->value() > 0 ? udp->value() : -1;
    config.syslog.tcpPort = tcp->value() > 0 ? tcp->value() : -1;
    for (const QString& a : allow->text().split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts))
        config.syslog.allow << a;
    config.timeZone = settings().value(QStringLiteral("import/timeZone")).toString().toStdString();
    const QString servers = serverDirectorySetting();
    config.serversFile = servers == QLatin1String("demo") ? QString() : servers;
    QSettings s = settings();
    s.setValue(QStringLiteral("live/files"), QStringList(config.files));
    s.setValue(QStringLiteral("live/udpPort"), udp->value());
    s.setValue(QStringLiteral("live/tcpPort"), tcp->value());
    s.setValue(QStringLiteral("live/allow"), allow->text());
    if (config.files.isEmpty() && config.syslog.udpPort < 0 && config.syslog.tcpPort < 0) {
        showError(tr("Follow logs"), tr("Nothing to follow: add files or a syslog port."));
        return;
    }
    if (!startLive(config)) showError(tr("Follow logs"), m_lastError);
}

} // namespace mt::gui
